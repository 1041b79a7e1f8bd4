"""Miners' code cannot reach the validator's files, processes or network, nor outlive its task.

Every probe runs with the audit hook switched off (or switched off by the probe itself): the
operating system's isolation alone must hold, as root and as an unprivileged validator.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from moderntensor.subnets.sandbox import SandboxLimits
from security.harness import UNPRIVILEGED, USERS, evaluate_as, processes_named

NOBODY_UID = 65534
READ_ANYTHING = """
import os
VALIDATOR = VALIDATOR_PID
def f(paths):
    seen = {}
    for path in [*paths, '/proc/%d/environ' % VALIDATOR, '/proc/%d/mem' % VALIDATOR]:
        try:
            if os.path.isdir(path):
                seen[path] = 'listed %d' % len(os.listdir(path))
            else:
                with open(path, 'rb') as handle:
                    seen[path] = 'read %d' % len(handle.read(64))
        except OSError as exc:
            seen[path] = type(exc).__name__
    return seen
"""
SEE_PROCESSES = """
import os
def f():
    return sorted(int(entry) for entry in os.listdir('/proc') if entry.isdigit())
"""
SOCKET_WITH_HOOK_DISABLED = """
import __main__
def f(port):
    __main__.DENIED_EVENTS = frozenset()
    __main__.BLOCKED_IMPORTS = frozenset()
    import socket
    probe = socket.socket()          # the audit hook would refuse this: it is off now
    probe.close()
    try:
        socket.create_connection(('127.0.0.1', port), timeout=1).close()
        return ['hook off', 'connected']
    except OSError as exc:
        return ['hook off', type(exc).__name__]
"""
SIGNAL_OUTSIDE = """
import os, signal
VALIDATOR = VALIDATOR_PID
def f(sleeper):
    seen = []
    for pid, sig in ((sleeper, signal.SIGKILL), (VALIDATOR, 0)):
        try:
            os.kill(pid, sig)
            seen.append('signalled')
        except OSError as exc:
            seen.append(type(exc).__name__)
    return seen
"""
WRITE_OUTSIDE = """
import ctypes, os
def f(paths):
    seen = {}
    for path in paths:
        try:
            with open(path, 'w') as handle:
                handle.write('escaped')
            seen[path] = 'wrote'
        except OSError as exc:
            seen[path] = type(exc).__name__
    for directory in ('/usr/lib', '/'):
        try:
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            os.close(os.open('mt-escape', os.O_WRONLY | os.O_CREAT, dir_fd=fd))
            seen['dir_fd ' + directory] = 'wrote'
        except OSError as exc:
            seen['dir_fd ' + directory] = type(exc).__name__
    libc = ctypes.CDLL(None, use_errno=True)
    MS_REMOUNT, MS_BIND = 32, 4096
    failed = libc.mount(b'none', b'/usr', None, MS_REMOUNT | MS_BIND, None)
    seen['remount /usr read-write'] = 'errno %d' % ctypes.get_errno() if failed else 'remounted'
    return seen
"""
# Children rename themselves (prctl PR_SET_NAME) so that this run can find its own leftovers.
FORK_BOMB = """
import ctypes, os, time
def f(name):
    children = 0
    for _ in range(500):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)
            time.sleep(60)
            os._exit(0)
        children += 1
    return children
"""
DAEMON = """
import ctypes, os, time
def f(name):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)
            time.sleep(60)
        os._exit(0)
    return 'left a daemon behind'
"""


@dataclass
class Host:
    """What the validator's machine holds that miners' code must not reach."""

    keystore: Path
    secret_dir: Path
    port: int
    server: socket.socket
    sleeper: subprocess.Popen[bytes]
    escape: Path           # must never appear on the host
    host_tmp_escape: Path
    leftover_name: str     # what the probes' child processes call themselves


@pytest.fixture(scope="module", params=USERS)
def user(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def host(user: str) -> Iterator[Host]:
    secret_dir = Path(tempfile.mkdtemp(prefix="mt-validator-"))
    keystore = secret_dir / "validator.json"
    keystore.write_text('{"crypto": "the validator key"}')
    keystore.chmod(0o600)
    as_nobody = os.geteuid() == 0
    if as_nobody:   # the unprivileged validator owns them: only isolation can hide them
        os.chown(secret_dir, NOBODY_UID, NOBODY_UID)
        os.chown(keystore, NOBODY_UID, NOBODY_UID)
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    sleeper = subprocess.Popen(["sleep", "300"], user=UNPRIVILEGED if as_nobody else None)
    yield Host(keystore, secret_dir, server.getsockname()[1], server, sleeper,
               secret_dir / "escaped.txt", Path("/tmp") / f"mt-escape-{os.getpid()}-{user}",
               f"mt-{secrets.token_hex(5)}")
    sleeper.kill()
    sleeper.wait()
    server.close()
    shutil.rmtree(secret_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def seen(user: str, host: Host) -> dict[str, Any]:
    """Every probe's answer, and what the host looked like after them."""
    paths = [str(host.keystore), str(host.secret_dir), "/etc/passwd", "/etc/shadow", "/root",
             "/home", pwd.getpwuid(os.getuid()).pw_dir, "/work", str(Path(__file__)), "/usr/local",
             "/usr/share", "/var"]
    probes = {
        "read": (READ_ANYTHING, [(paths,)]),
        "processes": (SEE_PROCESSES, [()]),
        "socket": (SOCKET_WITH_HOOK_DISABLED, [(host.port,)]),
        "signal": (SIGNAL_OUTSIDE, [(host.sleeper.pid,)]),
        "write": (WRITE_OUTSIDE, [([str(host.escape), str(host.host_tmp_escape),
                                    "/usr/lib/mt-escape", "/mt-escape", "/dev/mt-escape",
                                    "/dev/shm/mt-escape"],)]),
        "fork_bomb": (FORK_BOMB, [(host.leftover_name,)]),
        "daemon": (DAEMON, [(host.leftover_name,)]),
    }
    requests = [{"kind": "run", "program": program, "cases": repr(cases),
                 "audit_hook": name == "socket"} for name, (program, cases) in probes.items()]
    results = evaluate_as(user, requests)
    time.sleep(0.3)
    answers: dict[str, Any] = {name: result for name, result in zip(probes, results,
                                                                    strict=True)}
    try:
        host.server.accept()[0].close()
        answers["server_accepted"] = True
    except TimeoutError:
        answers["server_accepted"] = False
    answers["sleeper_alive"] = host.sleeper.poll() is None
    answers["survivors"] = processes_named(host.leftover_name)
    return answers


def value(answers: dict[str, Any], probe: str) -> Any:
    result = answers[probe]
    assert result["status"] == "ok", result
    (ok, got), = result["outputs"]
    assert ok, got
    return got


def test_no_file_outside_the_interpreter_and_stdlib_can_be_read(seen: dict[str, Any]) -> None:
    readable = {path: what for path, what in value(seen, "read").items()
                if what.startswith(("read", "listed"))}
    assert readable == {}


def test_the_validators_processes_are_invisible(seen: dict[str, Any]) -> None:
    pids = value(seen, "processes")
    assert pids and max(pids) <= 3      # the sandbox's own pid namespace: init and itself


def test_no_socket_reaches_the_host_even_with_the_audit_hook_disabled(
        seen: dict[str, Any]) -> None:
    hook, connect = value(seen, "socket")
    assert hook == "hook off"           # the probe did switch the hook off...
    assert connect != "connected"       # ...and still had no route
    assert seen["server_accepted"] is False


def test_no_process_outside_can_be_signalled(seen: dict[str, Any]) -> None:
    assert value(seen, "signal") == ["ProcessLookupError", "ProcessLookupError"]
    assert seen["sleeper_alive"]


def test_nothing_outside_the_private_tmpfs_can_be_written(seen: dict[str, Any],
                                                          host: Host) -> None:
    wrote = value(seen, "write")
    assert wrote.pop(str(host.host_tmp_escape)) == "wrote"    # its own /tmp, a tmpfs...
    assert not host.host_tmp_escape.exists()                   # ...not the host's
    assert not host.escape.exists()
    assert not Path("/usr/lib/mt-escape").exists() and not Path("/mt-escape").exists()
    assert wrote.pop("remount /usr read-write").startswith("errno")
    assert all(what != "wrote" for what in wrote.values()), wrote


def test_forks_are_bounded(seen: dict[str, Any]) -> None:
    assert value(seen, "fork_bomb") < SandboxLimits().processes


def test_no_process_it_starts_survives_the_task(seen: dict[str, Any]) -> None:
    assert value(seen, "daemon") == "left a daemon behind"
    assert seen["survivors"] == []
