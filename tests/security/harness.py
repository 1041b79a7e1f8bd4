"""Evaluate sandbox requests as root and as an unprivileged validator.

As root, requests run in this process (the sandbox then runs as ``nobody``); "unprivileged"
re-runs them through :mod:`security.runner` under ``setpriv --reuid=nobody`` when this process
is root, or in this process when it already is unprivileged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from security.runner import evaluate

USERS = ("root", "unprivileged")
UNPRIVILEGED = "nobody"
RUNNER = Path(__file__).with_name("runner.py")
# Only sandboxed interpreters carry this text on their command line (the child's docstring).
CHILD_MARKER = b"Runs inside the sandbox: confine itself"


def evaluate_as(user: str, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results of ``requests`` evaluated by a validator running as ``user``."""
    if user == "root" and os.geteuid() != 0:
        pytest.skip("the root leg needs root")
    if user == "root" or os.geteuid() != 0:
        return evaluate(requests)
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("setpriv (util-linux) is needed to run the unprivileged leg as root")
    done = subprocess.run(
        [setpriv, f"--reuid={UNPRIVILEGED}", "--regid=nogroup", "--clear-groups",
         sys.executable, str(RUNNER)],
        input=json.dumps(requests), capture_output=True, text=True, timeout=300, check=False,
        cwd="/", env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def sandbox_processes() -> list[int]:
    """Live sandboxed interpreters on this machine (their command line carries the marker)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if CHILD_MARKER in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
        except OSError:
            continue
    return found
