"""Localnet processes: each in its own process group, logged to a file, stopped as a group.

Each child starts a new session (``start_new_session``), so its pid is also its process group
id and a stop reaches whatever it spawned (uvicorn workers, sandboxes). In the foreground the
children also get ``PR_SET_PDEATHSIG`` (Linux), so even a ``kill -9`` of ``localnet up``
takes them down instead of leaving orphans. Liveness is read from ``/proc``, no psutil.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CLI = [sys.executable, "-m", "moderntensor.cli"]
STOP_GRACE_S = 10.0    # SIGTERM, then this long to drain, then SIGKILL
PR_SET_PDEATHSIG = 1   # linux/prctl.h


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(argv: list[str], log_path: Path, env: dict[str, str], *,
          die_with_parent: bool) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session with stdout+stderr appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True,
            # preexec_fn only calls prctl (async-signal-safe); localnet spawns from its main
            # thread with no other threads running
            preexec_fn=_die_with_parent if die_with_parent and sys.platform == "linux" else None,  # noqa: PLW1509
        )


def live_groups() -> dict[int, list[int]]:
    """Process group id -> pids of its live (non-zombie) processes, from one /proc scan."""
    groups: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # fields after the ")" closing the command name: state ppid pgrp ...
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) >= 3 and fields[0] != "Z":
            groups.setdefault(int(fields[2]), []).append(int(entry.name))
    return groups


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return _signal_alive(pid)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def is_localnet_process(pid: int) -> bool:
    """Whether ``pid`` still runs a moderntensor command (a recorded pid may have been reused)."""
    try:
        return b"moderntensor" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _signal_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_groups(pgids: list[int], *, grace_s: float = STOP_GRACE_S,
                children: dict[int, subprocess.Popen[bytes]] | None = None) -> list[int]:
    """SIGTERM every group, wait up to ``grace_s``, SIGKILL what is left; returns survivors.

    ``children`` are the Popen objects this process started (reaped so none stays a zombie).
    """
    for pgid in pgids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    pending = list(pgids)
    while pending and time.monotonic() < deadline:
        _reap(children)
        groups = live_groups()
        pending = [g for g in pending if g in groups]
        if pending:
            time.sleep(0.05)
    for pgid in pending:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    time.sleep(0.1 if pending else 0)
    _reap(children)
    groups = live_groups()
    return [g for g in pgids if g in groups]


def _reap(children: dict[int, subprocess.Popen[bytes]] | None) -> None:
    for child in (children or {}).values():
        child.poll()
