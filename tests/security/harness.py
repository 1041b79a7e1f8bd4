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


def processes_named(name: str) -> list[int]:
    """Live processes on this machine whose name (``/proc/<pid>/comm``) is ``name``."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{entry}/comm").read_text().strip() == name:
                found.append(int(entry))
        except OSError:
            continue
    return found
