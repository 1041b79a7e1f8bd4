"""The one small interface every subnet task type implements.

A suite knows its wire schema and limits, makes seeded challenges whose answers can be
checked, scores outputs (accuracy) and pairs of outputs (consistency), and names a reference
model a miner can serve. Adding a task type means writing one module with a ``TaskSuite``
subclass and listing it in ``moderntensor.subnets.SUITES`` (or naming it in a custom subnet's
metadata as ``"package.module:ClassName"``).
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel


@dataclass(frozen=True)
class Challenge:
    """One question for a miner; ``expected`` never leaves the validator."""

    task: str                      # wire task name, e.g. "text-generation", "speech-to-text"
    input: Any                     # JSON-serialisable, validated by the suite's input model
    params: dict[str, Any] = field(default_factory=dict)
    expected: Any = None           # what accuracy() checks against (answer, tests, sentence...)
    kind: str = ""                 # category inside the suite, for reports ("arithmetic", ...)


class ReferenceModel(ABC):
    """A model a reference miner serves: plain computation, no HTTP (the miner layer adds that)."""

    name: ClassVar[str] = "reference"

    @abstractmethod
    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        """Answer one request's input; returns the task's output JSON."""

    def serve_as(self, address: str) -> None:  # noqa: B027 (optional hook, empty by design)
        """Called once with the serving miner's address, for models whose answers are bound
        to it (verified sampling); others ignore it."""


class TaskSuite(ABC):
    """What a validator needs to challenge and score miners of one task type."""

    task_type: ClassVar[str]               # the subnet's task type, matched by model_info.type
    tasks: ClassVar[tuple[str, ...]]       # wire task names this suite serves
    latency_target_s: ClassVar[float]      # at or under: latency score 1
    timeout_s: ClassVar[float]             # at: latency score 0, and the request deadline
    max_request_bytes: ClassVar[int] = 64 * 1024
    max_response_bytes: ClassVar[int] = 256 * 1024
    input_model: ClassVar[type[BaseModel]]     # validates request["input"] on the miner
    output_model: ClassVar[type[BaseModel]]    # validates response["output"] on the validator

    def prepare(self, *, unsafe_code_sandbox: bool = False) -> str:
        """Check once, before the first round, that this machine can score the suite.

        Returns how scoring is isolated ("" when the suite runs no untrusted code); raises a
        :class:`~moderntensor.errors.ModernTensorError` naming the fix when it cannot score.
        ``unsafe_code_sandbox``: the operator accepts running untrusted code without OS
        isolation (suites that run none ignore it).
        """
        return ""

    @abstractmethod
    def make_challenge(self, rng: random.Random) -> Challenge:
        """A new challenge drawn from ``rng`` (seeded by the validator, unpredictable to miners)."""

    def for_miner(self, challenge: Challenge, miner: str) -> Challenge:
        """``challenge`` as asked of the miner at address ``miner``.

        Suites whose answers are bound to the miner that computes them (verified sampling)
        record the address here; by default a challenge is the same for every miner.
        """
        return challenge

    @abstractmethod
    def accuracy(self, challenge: Challenge, output: Any) -> float:
        """Score in [0, 1] of one output; malformed output scores 0, never raises."""

    @abstractmethod
    def consistency(self, a: Any, b: Any) -> float:
        """Similarity in [0, 1] of two outputs to the same challenge."""

    @abstractmethod
    def reference_models(self) -> dict[str, type[ReferenceModel]]:
        """Models miners can serve for this task type, by name (e.g. "smollm2", "canonical")."""
