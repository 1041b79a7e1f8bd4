"""The verdict on a program's outputs, computed in the validator's own process.

The sandbox sends back plain JSON data only (:mod:`.sandbox`); here each output is compared
with the reference output strictly: ``bool`` is not a number, ints agree exactly, a float
agrees with a number within :data:`FLOAT_TOLERANCE`, strings, ``None``, lists and dicts agree
exactly (tuples travel as lists, on both sides). A task whose checks accept many answers has
a trusted **oracle** instead (HumanEval/32 ``find_zero``: any root of the polynomial passes).

>>> same(1, 1.0), same(True, 1), same([0.1 + 0.2], [0.3])
(True, False, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from moderntensor.subnets.sandbox import CaseOutput

FLOAT_TOLERANCE = 1e-6    # absolute and relative; HumanEval's float checks use 1e-6
ROOT_TOLERANCE = 1e-4     # HumanEval/32: |poly(xs, x)| below this is a root


def same(expected: Any, got: Any) -> bool:
    """Whether ``got`` (parsed JSON) equals the reference output ``expected`` (parsed JSON)."""
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(map(same, expected, got))
    if isinstance(expected, dict) and isinstance(got, dict):
        return expected.keys() == got.keys() and all(same(expected[k], got[k]) for k in expected)
    if _is_number(expected) and _is_number(got) and float in (type(expected), type(got)):
        try:
            return math.isclose(expected, got, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
        except OverflowError:   # an int beyond any float
            return False
    return type(expected) is type(got) and expected == got


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def is_polynomial_root(args: Sequence[Any], got: Any) -> bool:
    """HumanEval/32's check, trusted: ``got`` is a root of the polynomial ``args[0]``."""
    if isinstance(got, bool) or not isinstance(got, int | float):
        return False
    try:
        value = math.fsum(coeff * math.pow(got, power) for power, coeff in enumerate(args[0]))
    except (OverflowError, ValueError, TypeError):
        return False
    return math.isfinite(value) and abs(value) < ROOT_TOLERANCE


Oracle = Callable[[Sequence[Any], Any], bool]
ORACLES: dict[str, Oracle] = {"HumanEval/32": is_polynomial_root}


@dataclass(frozen=True)
class Verdict:
    """How many of a task's checks passed, and why the run ended."""

    passed: int
    counted: int
    status: str        # the sandbox run's: "ok" | "timeout" | "killed"
    error: str         # the run's first error, "" if none
    elapsed_s: float

    @property
    def score(self) -> float:
        """Share of counted checks passed; 0 when nothing was counted or the run failed."""
        return self.passed / self.counted if self.counted and self.status == "ok" else 0.0


def case_passes(args: Sequence[Any], expected: Any, output: CaseOutput,
                oracle: Oracle | None = None) -> bool:
    """One case: the program returned plain data that the oracle or the reference accepts."""
    if not output.ok:
        return False
    return oracle(args, output.value) if oracle is not None else same(expected, output.value)


def checks_passed(checks: Sequence[Sequence[int]], passes: Sequence[bool]) -> int:
    """How many checks have every one of their cases (indexes into ``passes``) passing."""
    return sum(all(passes[index] for index in check) for check in checks)
