"""The code sandbox contains hostile programs, scores them 0 and leaves the caller unharmed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moderntensor.subnets.sandbox import SandboxLimits, namespace_prefix, run_tests

TIGHT = SandboxLimits(cpu_s=1, wall_s=2.0)
OS_LAYERS_ONLY = SandboxLimits(cpu_s=1, wall_s=2.0, audit_hook=False)
CHECK = ["assert candidate() == 1"]


def test_a_correct_program_passes_every_check() -> None:
    result = run_tests("def inc(x):\n    return x + 1\n",
                       ["assert candidate(1) == 2", "assert candidate(-1) == 0"], "inc", TIGHT)
    assert (result.status, result.passed, result.counted, result.score) == ("ok", 2, 2, 1.0)


def test_score_is_the_share_of_checks_passed() -> None:
    result = run_tests("def f(x):\n    return 2\n",
                       ["assert candidate(1) == 2", "assert candidate(2) == 3"], "f", TIGHT)
    assert result.score == 0.5


def test_setup_steps_run_but_are_not_counted() -> None:
    result = run_tests("def f():\n    return 1\n", [("import math", False), *CHECK], "f", TIGHT)
    assert (result.passed, result.counted) == (1, 1)


@pytest.mark.parametrize("limits", [TIGHT, OS_LAYERS_ONLY], ids=["all", "os-layers"])
def test_infinite_loop_is_killed_and_scores_zero(limits: SandboxLimits) -> None:
    started = time.monotonic()
    result = run_tests("def f():\n    while True:\n        pass\n", CHECK, "f", limits)
    assert result.score == 0.0
    assert result.status in ("killed", "timeout")
    assert time.monotonic() - started < limits.wall_s + 2


def test_wall_clock_kills_a_sleeper_that_uses_no_cpu() -> None:
    limits = SandboxLimits(cpu_s=5, wall_s=1.0)
    result = run_tests("import time\ndef f():\n    time.sleep(60)\n", CHECK, "f", limits)
    assert (result.status, result.score) == ("timeout", 0.0)


FORK_BOMB = """
import os
def f():
    while True:
        try:
            os.fork()
        except OSError:
            pass
"""


@pytest.mark.parametrize("limits", [TIGHT, OS_LAYERS_ONLY], ids=["all", "os-layers"])
def test_fork_bomb_is_contained(limits: SandboxLimits) -> None:
    result = run_tests(FORK_BOMB, CHECK, "f", limits)
    assert result.score == 0.0
    time.sleep(0.2)
    assert _sandbox_processes() == []  # nothing it started outlives it


@pytest.mark.parametrize("limits", [TIGHT, OS_LAYERS_ONLY], ids=["all", "os-layers"])
def test_memory_bomb_fails_inside_the_sandbox(limits: SandboxLimits) -> None:
    result = run_tests("def f():\n    blob = bytearray(8 * 1024**3)\n    return 1\n",
                       CHECK, "f", limits)
    assert result.score == 0.0
    assert "MemoryError" in result.error


def test_socket_connect_is_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        program = ("import socket\ndef f():\n"
                   f"    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
                   "    return 1\n")
        result = run_tests(program, CHECK, "f", TIGHT)
    assert result.score == 0.0


@pytest.mark.skipif(not namespace_prefix(), reason="network namespaces unavailable here")
def test_network_namespace_alone_has_no_route_to_the_host(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=1)"
        probe = subprocess.run([*namespace_prefix(), sys.executable, "-c", code],
                               capture_output=True, text=True, timeout=10, check=False)
    assert probe.returncode != 0
    assert "OSError" in probe.stderr or "Error" in probe.stderr


def test_writing_outside_the_temp_dir_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "escaped.txt"
    shared = Path("/tmp") / f"mt-escape-{os.getpid()}.txt"
    program = ("def f():\n"
               f"    for path in ({str(target)!r}, {str(shared)!r}):\n"
               "        try:\n"
               "            open(path, 'w').write('x')\n"
               "        except OSError:\n"
               "            pass\n"
               "    return 1\n")
    result = run_tests(program, CHECK, "f", TIGHT)
    assert result.score == 1.0   # the program ran on...
    assert not target.exists()   # ...but wrote nothing outside its directory
    assert not shared.exists()


def test_writing_inside_the_private_temp_dir_works() -> None:
    program = ("def f():\n    with open('scratch.txt', 'w') as out:\n        out.write('x')\n"
               "    return len(open('scratch.txt').read())\n")
    assert run_tests(program, CHECK, "f", TIGHT).score == 1.0


def test_exiting_early_to_skip_the_checks_scores_zero() -> None:
    result = run_tests("import os\nos._exit(0)\n", CHECK, "f", TIGHT)
    assert (result.status, result.score) == ("no_report", 0.0)


def test_printing_a_fake_report_scores_zero() -> None:
    program = ('print(\'{"token": "x", "passed": 1, "counted": 1}\')\n'
               "def f():\n    return 0\n")
    assert run_tests(program, CHECK, "f", TIGHT).score == 0.0


def test_environment_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_WALLET_PASSWORD", "secret")
    program = "import os\ndef f():\n    return int('MT_WALLET_PASSWORD' not in os.environ)\n"
    assert run_tests(program, CHECK, "f", TIGHT).score == 1.0


def _sandbox_processes() -> list[int]:
    """Live processes running the sandbox child (its source is on their command line)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if b"moderntensor.subnets.sandbox` passes this file" in cmdline:
            found.append(int(entry))
    return found
