"""A tiny checkable task suite and miner behaviours for the validator tests and benchmark.

Task "sum": input ``{"a": int, "b": int}``, output ``{"text": "<a+b> [anything]"}``. Accuracy
reads the first word, so a miner can be exactly right yet inconsistent (it adds noise words);
consistency is exact equality of the two outputs.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from moderntensor.subnets.base import Challenge, ReferenceModel, TaskSuite


class SumInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: int
    b: int


class SumOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


class SumSuite(TaskSuite):
    task_type: ClassVar[str] = "sum"
    tasks: ClassVar[tuple[str, ...]] = ("sum",)
    latency_target_s: ClassVar[float] = 0.5   # generous: tests share two busy CPUs
    timeout_s: ClassVar[float] = 4.0
    input_model = SumInput
    output_model = SumOutput

    def make_challenge(self, rng: random.Random) -> Challenge:
        a, b = rng.randrange(10**6), rng.randrange(10**6)
        return Challenge(task="sum", input={"a": a, "b": b}, expected=a + b, kind="sum")

    def accuracy(self, challenge: Challenge, output: Any) -> float:
        try:
            first = str(output["text"]).split()[0]
            return 1.0 if int(first) == challenge.expected else 0.0
        except (KeyError, TypeError, ValueError, IndexError):
            return 0.0

    def consistency(self, a: Any, b: Any) -> float:
        return 1.0 if a == b else 0.0

    def reference_models(self) -> dict[str, type[ReferenceModel]]:
        return {}


class EchoSuite(SumSuite):
    """Accepts any output (the benchmark's echo miners): accuracy 1 for any answer."""

    output_model = None  # type: ignore[assignment]
    latency_target_s: ClassVar[float] = 1.0
    timeout_s: ClassVar[float] = 5.0

    def accuracy(self, challenge: Challenge, output: Any) -> float:
        return 1.0
