"""Run untrusted Python and its hidden tests in a confined, killable process.

>>> result = run_tests("def inc(x):\\n    return x + 1\\n", ["assert candidate(1) == 2"], "inc")
>>> (result.passed, result.counted, result.score)
(1, 1, 1.0)

Layers, outermost first (each one alone should contain the usual attacks):

1. **Separate process** ``python -I -S`` (isolated: no environment, no site-packages) with a
   scrubbed environment, in a new session so the whole process group can be killed; a
   **wall-clock** deadline kills it with SIGKILL.
2. **Namespaces** where the platform allows (``unshare --net --pid``, probed once): no network
   interface but a down loopback, and every process it starts dies with it.
3. **Resource limits**: RLIMIT_CPU, RLIMIT_AS (memory), RLIMIT_NPROC (fork bombs), RLIMIT_FSIZE,
   RLIMIT_NOFILE, no core files; when started as root it drops to ``nobody`` so that NPROC binds
   and files outside its private directory are not writable.
4. **Audit hook** (:pep:`578`) installed before untrusted code runs: sockets, fork/exec/spawn,
   ctypes and writes outside the private temp dir raise ``PermissionError``.

The child reports one line tagged with a random token to a file only the parent reads; no
report (crash, ``os._exit``, kill) scores 0. Known limit: code that walks the interpreter's own
frames could find the token and forge its report; layers 1-3 still contain it.
"""

from __future__ import annotations

import ast
import contextlib
import marshal
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

CHILD_SOURCE = (Path(__file__).with_name("_sandbox_child.py")).read_text(encoding="utf-8")
NOBODY = 65534
MAX_REPORT_BYTES = 64 * 1024   # the report is one short line; more is the candidate's noise
UNSHARE_ARGS = ("--net", "--pid", "--fork", "--kill-child")
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
    file_bytes: int = 1024**2            # RLIMIT_FSIZE: largest file it may write
    open_files: int = 32                 # RLIMIT_NOFILE
    core_bytes: int = 0                  # RLIMIT_CORE: never dump core
    audit_hook: bool = True              # off only to test that the OS layers hold alone


@dataclass(frozen=True)
class SandboxResult:
    """Outcome of one run: how many counted checks passed, and why it ended."""

    passed: int
    counted: int
    status: str        # "ok" | "timeout" | "killed" | "no_report"
    error: str         # first error of the program or a check, "" if none
    elapsed_s: float

    @property
    def score(self) -> float:
        """Share of counted checks passed; 0 when nothing was counted or the run failed."""
        return self.passed / self.counted if self.counted and self.status == "ok" else 0.0


@cache
def namespace_prefix() -> tuple[str, ...]:
    """``unshare`` argv prefix if network and pid namespaces work here, else ``()``."""
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return ()
    try:
        probe = subprocess.run([unshare, *UNSHARE_ARGS, "true"], capture_output=True,
                               timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return (unshare, *UNSHARE_ARGS) if probe.returncode == 0 else ()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_tests(program: str, steps: list[str] | list[tuple[str, bool]], entry_point: str,
              limits: SandboxLimits | None = None) -> SandboxResult:
    """Run ``program``, then each check step against ``candidate = program's entry_point``.

    ``steps`` are source snippets executed in order in one scope; a plain string counts as a
    test, a ``(source, False)`` pair is setup that is run but not counted. Never raises for
    anything the program does.
    """
    limits = limits or SandboxLimits()
    pairs = [(step, True) if isinstance(step, str) else (step[0], bool(step[1])) for step in steps]
    token = secrets.token_hex(16)
    base = Path(tempfile.mkdtemp(prefix="mt-sandbox-"))   # 0700, owned by us
    try:
        workdir = base / "work"
        workdir.mkdir(mode=0o700)
        if os.getuid() == 0:  # the child becomes nobody; only its own directory is writable
            os.chown(workdir, NOBODY, NOBODY)
            base.chmod(0o711)
        payload = marshal.dumps({"token": token, "program": program, "steps": pairs,
                                 "entry_point": entry_point, "workdir": str(workdir),
                                 "limits": asdict(limits),
                                 "preload": imported_modules(program, pairs)})
        report_path = base / "report"
        with report_path.open("wb") as report:
            started = time.monotonic()
            process = subprocess.Popen(
                [*namespace_prefix(), sys.executable, "-I", "-S", "-c", CHILD_SOURCE],
                stdin=subprocess.PIPE, stdout=report, stderr=subprocess.DEVNULL,
                cwd=workdir, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                start_new_session=True, close_fds=True,
            )
            status = _wait(process, payload, limits.wall_s)
            elapsed = time.monotonic() - started
        counted = sum(is_test for _, is_test in pairs)
        return _read_report(report_path, token, status, elapsed, counted)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def imported_modules(program: str, steps: list[tuple[str, bool]]) -> list[str]:
    """Allowed top-level modules that the program or the checks import, sorted."""
    names: set[str] = set()
    for source in (program, *(step for step, _ in steps)):
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


def _wait(process: subprocess.Popen[bytes], payload: bytes, wall_s: float) -> str:
    try:
        process.communicate(payload, timeout=wall_s)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        return "timeout"
    except BaseException:
        _kill_group(process)
        raise
    # Anything it left behind in its group goes too (the pid namespace already did, if any).
    _kill_group(process)
    return "ok" if process.returncode == 0 else "killed"


def _read_report(path: Path, token: str, status: str, elapsed: float, counted: int
                 ) -> SandboxResult:
    # ``counted`` comes from the parent: the child only says how many passed.
    if status != "ok":
        return SandboxResult(0, counted, status, "", elapsed)
    with path.open("rb") as report:
        text = report.read(MAX_REPORT_BYTES).decode("utf-8", "replace")
    for line in reversed(text.splitlines()):
        fields = line.split(" ", 3)
        if len(fields) >= 3 and fields[0] == token and fields[1].isdigit():
            passed = min(int(fields[1]), counted)
            error = fields[3] if len(fields) == 4 else ""
            return SandboxResult(passed, counted, "ok", error, elapsed)
    return SandboxResult(0, counted, "no_report", "", elapsed)
