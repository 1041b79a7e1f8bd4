"""Code sandbox cost: a validator round of 64 HumanEval tasks (target < 50 ms overhead/task).

One task = one problem's program (prompt + canonical solution) run on all its stored cases in a
fresh sandboxed process, outputs judged in this process. The same 64 tasks run in the same
session four ways, so the figures compare on one machine under one load:

- ``in-process``: the program and its cases in this interpreter, no sandbox (the compute floor);
- ``python3 -c pass``: a bare interpreter start per task (the floor of any process sandbox);
- ``unsafe``: the ``--unsafe-code-sandbox`` path (``unshare`` + rlimits + audit hook);
- ``bubblewrap``: the default isolation.

Overhead per task = median sandboxed latency - median in-process time of the same tasks.
Run: ``python benchmarks/code_sandbox.py [--tasks 64] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import statistics
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from moderntensor.subnets.base import Challenge
from moderntensor.subnets.code import CodeSuite, Problem, assemble, problems
from moderntensor.subnets.isolation import SYSTEM_PYTHON, SandboxPolicy, sandbox_launcher


def in_process(problem: Problem) -> float:
    """Seconds to run the task's program and cases in this interpreter (no isolation)."""
    started = time.perf_counter()
    scope: dict[str, object] = {"__name__": "candidate"}
    program = assemble(problem.prompt, problem.canonical_solution)   # trusted reference code
    exec(compile(program, "<task>", "exec"), scope)
    function = scope[problem.entry_point]
    for args in copy.deepcopy(problem.cases().args):   # a solution may sort its input in place
        function(*args)  # type: ignore[operator]
    return time.perf_counter() - started


def bare_interpreter(_: Problem) -> float:
    started = time.perf_counter()
    subprocess.run([SYSTEM_PYTHON, "-c", "pass"], check=True)
    return time.perf_counter() - started


def sandboxed(suite: CodeSuite) -> Callable[[Problem], float]:
    def run(problem: Problem) -> float:
        challenge = Challenge(task="code-generation", input={}, expected=problem.task_id)
        verdict = suite.run(challenge, {"code": problem.canonical_solution})
        assert verdict is not None and verdict.score == 1.0, (problem.task_id, verdict)
        return verdict.elapsed_s
    return run


def measure(name: str, task: Callable[[Problem], float], work: list[Problem], workers: int,
            floor_ms: float) -> None:
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        latencies = sorted(pool.map(task, work))
    round_s = time.perf_counter() - started
    median_ms = statistics.median(latencies) * 1000
    print(f"{name:<18} round {round_s * 1000:7.0f} ms  per task: median {median_ms:6.1f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:6.1f} ms, "
          f"overhead {median_ms - floor_ms:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    work = random.Random(7).choices(problems(), k=args.tasks)
    bubblewrap, unsafe = CodeSuite(), CodeSuite(SandboxPolicy(unsafe=True))
    for suite in (bubblewrap, unsafe):   # probe once, warm the page cache
        print(f"sandbox: {suite.prepare(unsafe_code_sandbox=suite.policy.unsafe)}")
        sandboxed(suite)(work[0])
    floor_ms = statistics.median(in_process(problem) for problem in work) * 1000
    print(f"{args.tasks} tasks, {args.workers} workers, {os.cpu_count()} cores; in-process "
          f"median {floor_ms:.2f} ms per task (the compute floor)")
    measure("python3 -c pass", bare_interpreter, work, args.workers, floor_ms)
    measure("unsafe (unshare)", sandboxed(unsafe), work, args.workers, floor_ms)
    measure("bubblewrap", sandboxed(bubblewrap), work, args.workers, floor_ms)
    print(f"bubblewrap launcher: {' '.join(sandbox_launcher(bubblewrap.policy).argv[:8])} ...")


if __name__ == "__main__":
    main()
