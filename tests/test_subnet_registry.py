"""Suites load by task type or, for custom subnets (5+), by "package.module:ClassName"."""

from __future__ import annotations

import random
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from moderntensor.errors import InvalidInputError
from moderntensor.subnets import SUITES, TaskSuite, load_suite

CUSTOM_SUITE = '''
import random
from typing import Any, ClassVar

from pydantic import BaseModel

from moderntensor.subnets import Challenge, ReferenceModel, TaskSuite


class Numbers(BaseModel):
    values: list[int]


class Total(BaseModel):
    total: int


class Adder(ReferenceModel):
    name: ClassVar[str] = "adder"

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        return {"total": sum(input["values"])}


class SumSuite(TaskSuite):
    task_type: ClassVar[str] = "sum"
    tasks: ClassVar[tuple[str, ...]] = ("sum",)
    latency_target_s: ClassVar[float] = 0.1
    timeout_s: ClassVar[float] = 1.0
    input_model: ClassVar[type[BaseModel]] = Numbers
    output_model: ClassVar[type[BaseModel]] = Total

    def make_challenge(self, rng: random.Random) -> Challenge:
        values = [rng.randint(0, 9) for _ in range(3)]
        return Challenge(task="sum", input={"values": values}, expected=sum(values))

    def accuracy(self, challenge: Challenge, output: Any) -> float:
        return float(isinstance(output, dict) and output.get("total") == challenge.expected)

    def consistency(self, a: Any, b: Any) -> float:
        return float(a == b)

    def reference_models(self) -> dict[str, type[ReferenceModel]]:
        return {"adder": Adder}
'''


@pytest.fixture
def custom_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    package = tmp_path / "acme_suites"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "sums.py").write_text(textwrap.dedent(CUSTOM_SUITE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "acme_suites.sums:SumSuite"
    for name in ("acme_suites", "acme_suites.sums"):
        sys.modules.pop(name, None)


def test_genesis_text_and_code_suites_are_registered() -> None:
    assert SUITES["text-generation"] == "moderntensor.subnets.text:TextSuite"
    assert SUITES["code-generation"] == "moderntensor.subnets.code:CodeSuite"


def test_a_custom_subnet_names_its_suite_as_module_and_class(custom_package: str) -> None:
    suite = load_suite(custom_package)
    assert isinstance(suite, TaskSuite)
    challenge = suite.make_challenge(random.Random(1))
    model = suite.reference_models()["adder"]()
    assert suite.accuracy(challenge, model.generate("sum", challenge.input, {})) == 1.0


def test_a_registered_suite_also_loads_by_its_path() -> None:
    assert load_suite("moderntensor.subnets.text:TextSuite").task_type == "text-generation"


@pytest.mark.parametrize("name", ["no-such-task", "no_such_module:Suite",
                                  "moderntensor.subnets.text:normalize"])
def test_unknown_or_wrong_suites_are_typed_errors(name: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        load_suite(name)
    assert caught.value.code == "unknown_task_type"
