"""Run untrusted Python on inputs in an isolated, killable process; get plain data back.

>>> run = run_cases("def inc(x):\\n    return x + 1\\n", "inc", [(1,), (2,)])  # doctest: +SKIP
>>> run.status, [case.value for case in run.outputs]  # doctest: +SKIP
('ok', [2, 3])

The sandboxed process only runs the program on each case's arguments and writes its outputs
as JSON lines; it never receives an expected value, and this process decides what passed
(:mod:`.verdict`). Anything that is not plain JSON data, arrives late, malformed or over the
size cap is a failed case. Layers, outermost first:

1. **Operating system** (:mod:`.isolation`): bubblewrap namespaces, no capabilities, only the
   interpreter and its standard library visible, a private tmpfs; as an unprivileged user.
2. **Process**: ``python -I -S`` with an empty environment in its own session; a wall-clock
   deadline kills the whole group with SIGKILL; the output file is capped (RLIMIT_FSIZE) and
   read up to :data:`MAX_OUTPUT_BYTES`.
3. **Resource limits**: RLIMIT_CPU, RLIMIT_AS (memory), RLIMIT_NPROC (forks), RLIMIT_FSIZE,
   RLIMIT_NOFILE, no core files.
4. **Audit hook** (:pep:`578`): sockets, fork/exec, ctypes and writes outside the work
   directory raise early with a clear error. Not a boundary (code can switch it off); layers
   1-3 hold without it.
"""

from __future__ import annotations

import ast
import contextlib
import json
import marshal
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from moderntensor.subnets.isolation import NOBODY_UID, SandboxPolicy, sandbox_launcher

CHILD_SOURCE = (Path(__file__).with_name("_sandbox_child.py")).read_text(encoding="utf-8")
MAX_OUTPUT_BYTES = 1024**2    # everything a run may send back; the rest is ignored
# Standard modules a program may import; only those it names are loaded (each costs startup).
ALLOWED_IMPORTS = frozenset({
    "abc", "array", "bisect", "cmath", "collections", "copy", "dataclasses", "datetime",
    "decimal", "enum", "fractions", "functools", "hashlib", "heapq", "itertools", "json", "math",
    "numbers", "operator", "random", "re", "statistics", "string", "sys", "textwrap", "time",
    "typing", "unicodedata",
})


@dataclass(frozen=True)
class SandboxLimits:
    """What one run may use; defaults fit a HumanEval problem with a wide margin."""

    cpu_s: int = 5                       # RLIMIT_CPU, seconds of CPU time
    wall_s: float = 10.0                 # killed after this many seconds, whatever it does
    memory_bytes: int = 512 * 1024**2    # RLIMIT_AS: address space, so a memory bomb fails
    processes: int = 8                   # RLIMIT_NPROC (per user; the child itself is one)
    file_bytes: int = MAX_OUTPUT_BYTES   # RLIMIT_FSIZE: largest file it may write
    open_files: int = 32                 # RLIMIT_NOFILE
    core_bytes: int = 0                  # RLIMIT_CORE: never dump core
    audit_hook: bool = True              # off only to test that the OS layers hold alone


@dataclass(frozen=True)
class CaseOutput:
    """What the program returned for one case: plain JSON ``value``, or an ``error``."""

    value: Any = None
    error: str | None = None     # None: the case returned ``value``

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class SandboxRun:
    """Outcome of one run: the parsed output lines and why it ended."""

    status: str          # "ok" | "timeout" | "killed"
    lines: tuple[Any, ...]   # each line the program's process wrote, parsed as JSON (or None)
    elapsed_s: float

    def outputs(self, count: int) -> tuple[CaseOutput, ...]:
        """One output per case, in order; a missing, malformed or late line is an error."""
        if self.status != "ok":
            return (CaseOutput(error=self.status),) * count
        if self.lines and isinstance(self.lines[0], dict) and "program" in self.lines[0]:
            return (CaseOutput(error=f"program: {self.lines[0]['program']}"),) * count
        parsed = [_case_output(line) for line in self.lines[:count]]
        return (*parsed, *(CaseOutput(error="no output"),) * (count - len(parsed)))

    @property
    def error(self) -> str:
        """The first error the run reported, "" if none."""
        for line in self.lines:
            if isinstance(line, dict):
                for key in ("program", "e", "error"):
                    if isinstance(line.get(key), str):
                        return str(line[key])
        return "" if self.status == "ok" else self.status


def _case_output(line: Any) -> CaseOutput:
    if isinstance(line, dict) and set(line) == {"v"}:
        return CaseOutput(value=line["v"])
    if isinstance(line, dict) and set(line) == {"e"} and isinstance(line["e"], str):
        return CaseOutput(error=line["e"][:200])
    return CaseOutput(error="malformed output")


def run_cases(program: str, entry_point: str, cases: Sequence[tuple[Any, ...]],
              limits: SandboxLimits | None = None, policy: SandboxPolicy | None = None
              ) -> SandboxRun:
    """Run ``program``, then ``entry_point(*args)`` for each case's argument tuple.

    Raises :class:`~.isolation.SandboxUnavailableError` if the policy's isolation is missing;
    never raises for anything the program does.
    """
    return _launch({"mode": "run", "program": program, "entry_point": entry_point,
                    "cases": [tuple(args) for args in cases],
                    "preload": imported_modules(program)}, limits, policy)


def record_calls(program: str, entry_point: str, steps: Sequence[tuple[str, bool]],
                 limits: SandboxLimits | None = None, policy: SandboxPolicy | None = None
                 ) -> SandboxRun:
    """Run check ``steps`` against a trusted reference ``program``; lines name each call of
    ``candidate`` (its step, arguments as a Python literal, output) and each failing step."""
    return _launch({"mode": "record", "program": program, "entry_point": entry_point,
                    "steps": [(source, bool(counted)) for source, counted in steps],
                    "preload": imported_modules(program, *(source for source, _ in steps))},
                   limits, policy)


def imported_modules(*sources: str) -> list[str]:
    """Allowed top-level modules that the sources import, sorted."""
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.partition(".")[0])
    return sorted(names & ALLOWED_IMPORTS)


def _launch(payload: dict[str, Any], limits: SandboxLimits | None,
            policy: SandboxPolicy | None) -> SandboxRun:
    limits = limits or SandboxLimits()
    launcher = sandbox_launcher(policy or SandboxPolicy())
    base = Path(tempfile.mkdtemp(prefix="mt-sandbox-"))   # 0700, owned by us
    try:
        workdir = launcher.workdir or _private_workdir(base)
        payload = {**payload, "workdir": workdir, "limits": asdict(limits)}
        output_path = base / "output"
        with output_path.open("wb") as output:
            started = time.monotonic()
            process = subprocess.Popen(
                [*launcher.argv, "-c", CHILD_SOURCE], stdin=subprocess.PIPE, stdout=output,
                stderr=subprocess.DEVNULL, cwd="/" if launcher.workdir else workdir,
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, start_new_session=True,
                close_fds=True, user=launcher.uid, group=launcher.gid,
                extra_groups=[] if launcher.uid is not None else None)
            status = _wait(process, marshal.dumps(payload), limits.wall_s)
            elapsed = time.monotonic() - started
        with output_path.open("rb") as output:
            data = output.read(MAX_OUTPUT_BYTES)
        return SandboxRun(status, tuple(_parse_line(line) for line in data.splitlines()),
                          elapsed)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _private_workdir(base: Path) -> str:
    """Without bubblewrap: a directory only the (dropped) child may write."""
    workdir = base / "work"
    workdir.mkdir(mode=0o700)
    if os.getuid() == 0:  # the child becomes nobody; only its own directory is writable
        os.chown(workdir, NOBODY_UID, NOBODY_UID)
        base.chmod(0o711)
    return str(workdir)


def _parse_line(line: bytes) -> Any:
    """One JSON line, strictly: no NaN or Infinity, no huge ints, no deep nesting; else None."""
    try:
        return json.loads(line, parse_constant=_reject)
    except (ValueError, RecursionError):
        return None


def _reject(constant: str) -> None:
    raise ValueError(f"{constant} is not plain data")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _wait(process: subprocess.Popen[bytes], payload: bytes, wall_s: float) -> str:
    try:
        process.communicate(payload, timeout=wall_s)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        return "timeout"
    except BaseException:
        _kill_group(process)
        raise
    # Anything it left behind in its group goes too (its pid namespace already did).
    _kill_group(process)
    return "ok" if process.returncode == 0 else "killed"
