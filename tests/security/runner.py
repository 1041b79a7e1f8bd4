"""Runs sandbox requests as whatever user starts it; a script, so a test can start it as nobody.

Reads a JSON list of requests on stdin and prints a JSON list of results:

- ``{"kind": "score", "task_id": ..., "code": ...}`` -> ``{"score": float}``: the code suite's
  accuracy for a miner answering ``code`` to that HumanEval problem;
- ``{"kind": "run", "program": ..., "cases": "<Python literal list of argument tuples>",
  "audit_hook": bool}`` -> ``{"status": ..., "outputs": [[ok, value or error], ...]}``.
- ``{"kind": "task_cases", "task_id": ..., "program": ...}``: ``run`` on the problem's cases.

``VALIDATOR_PID`` in a program is replaced by this process's pid (the "validator" attacked).
"""

from __future__ import annotations

import ast
import json
import os
import sys
from typing import Any

from moderntensor.subnets.base import Challenge
from moderntensor.subnets.code import CodeSuite, problems_by_id
from moderntensor.subnets.sandbox import SandboxLimits, run_cases

LIMITS = SandboxLimits(cpu_s=2, wall_s=5.0)


def evaluate(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run each request in order; see the module docstring for their shapes."""
    return [_one(request) for request in requests]


def _one(request: dict[str, Any]) -> dict[str, Any]:
    if request["kind"] == "score":
        challenge = Challenge(task="code-generation", input={}, expected=request["task_id"])
        return {"score": CodeSuite().accuracy(challenge, {"code": request["code"]})}
    program = request["program"].replace("VALIDATOR_PID", str(os.getpid()))
    if request["kind"] == "task_cases":
        problem = problems_by_id()[request["task_id"]]
        program = problem.prompt + program
        entry, cases = problem.entry_point, problem.cases().args
    else:
        entry, cases = "f", ast.literal_eval(request["cases"])
    limits = SandboxLimits(cpu_s=2, wall_s=5.0, audit_hook=request.get("audit_hook", True))
    run = run_cases(program, entry, cases, limits)
    return {"status": run.status,
            "outputs": [[case.ok, case.value if case.ok else case.error]
                        for case in run.outputs(len(cases))]}


if __name__ == "__main__":
    json.dump(evaluate(json.load(sys.stdin)), sys.stdout)
