"""How the code sandbox is walled off from the validator: bubblewrap, probed once per policy.

>>> launcher = sandbox_launcher(SandboxPolicy())  # doctest: +SKIP
>>> launcher.isolated, launcher.description  # doctest: +SKIP
(True, 'bubblewrap 0.8.0 as nobody, /usr/bin/python3.11')

The boundary is the operating system, not the interpreter: `bubblewrap
<https://github.com/containers/bubblewrap>`_ starts the system Python in new user, pid, net,
mount, ipc and uts namespaces with every capability dropped, a new session, ``--die-with-parent``,
a fresh ``/proc``, a small private tmpfs as ``/tmp`` (the only writable place: ``/`` and the
minimal ``/dev`` are remounted read-only, so no tmpfs can grow without bound) and, read-only,
only the interpreter, its standard library and the system's shared libraries. There is no
``/etc``, ``/home``, ``/root`` or validator file to read, no network interface but a down
loopback, no process outside to see or signal. A validator running as root starts bubblewrap
as an unprivileged account (``nobody`` by default): the kernel does not apply RLIMIT_NPROC to
root.

Where bubblewrap cannot run, :func:`sandbox_launcher` raises :class:`SandboxUnavailableError`
naming the fix; only an explicit ``SandboxPolicy(unsafe=True)`` (``--unsafe-code-sandbox``)
falls back to a plain process with ``unshare --net --pid`` where it works, resource limits, a
drop to ``nobody`` and the audit hook: the weaker mode is always named, never silent.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache

from moderntensor.errors import ModernTensorError

SYSTEM_PYTHON = "/usr/bin/python3"
SANDBOX_USER = "nobody"
NOBODY_UID = 65534            # the unsafe mode's child drops to this uid when started as root
TMPFS_BYTES = 16 * 1024**2
SANDBOX_TMP = "/tmp"  # noqa: S108 (inside the sandbox: its own private tmpfs)
NAMESPACES = ("--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
              "--unshare-uts", "--unshare-cgroup-try")
UNSHARE_ARGS = ("--net", "--pid", "--fork", "--kill-child")
FIX = ("install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) and allow unprivileged "
       "user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu also "
       "kernel.apparmor_restrict_unprivileged_userns=0), or run the validator with "
       "--unsafe-code-sandbox to accept running miners' code without OS isolation")
# What the probe may see at "/" inside the sandbox: anything more means a leaky bind.
SANDBOX_ROOT = frozenset({"usr", "lib", "lib64", "proc", "dev", "tmp"})
PROBE = "import os, sys; print(os.getpid(), ','.join(sorted(os.listdir('/'))))"


class SandboxUnavailableError(ModernTensorError):
    """The code sandbox cannot be isolated here; the message names the fix."""

    code = "sandbox_unavailable"


@dataclass(frozen=True)
class SandboxPolicy:
    """Where and as whom miners' code runs.

    ``bwrap``: the bubblewrap binary (default: ``bwrap`` on PATH). ``python``: the interpreter
    run inside, a system one whose standard library lives outside any user's home (default
    ``/usr/bin/python3``). ``user``: the account bubblewrap runs as when the validator is root.
    ``unsafe``: the operator's explicit choice to run without bubblewrap.
    """

    bwrap: str | None = None
    python: str = SYSTEM_PYTHON
    user: str = SANDBOX_USER
    unsafe: bool = False


@dataclass(frozen=True)
class Launcher:
    """How to start one sandboxed interpreter: ``argv`` then ``-c SOURCE``, as ``uid:gid``."""

    argv: tuple[str, ...]
    uid: int | None           # None: as the validator's own user
    gid: int | None
    workdir: str | None       # inside the sandbox; None: the caller makes a private directory
    isolated: bool            # False only for the operator's explicit unsafe mode
    description: str


@cache
def sandbox_launcher(policy: SandboxPolicy) -> Launcher:
    """The launcher for ``policy``, probed once; raises :class:`SandboxUnavailableError`."""
    if policy.unsafe:
        return _unsafe_launcher()
    bwrap = policy.bwrap or shutil.which("bwrap")
    if bwrap is None or not os.access(bwrap, os.X_OK):
        raise SandboxUnavailableError(
            f"the code sandbox needs bubblewrap, not found ({policy.bwrap or 'bwrap on PATH'}): "
            + FIX)
    uid, gid, user = _sandbox_account(policy.user)
    python, binds = _interpreter_binds(policy.python)
    argv = (bwrap, *NAMESPACES, "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            *binds, "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev",
            "--size", str(TMPFS_BYTES), "--tmpfs", SANDBOX_TMP, "--remount-ro", "/",
            "--chdir", SANDBOX_TMP, "--clearenv", "--setenv", "LANG", "C.UTF-8",
            "--setenv", "PATH", "/usr/bin", "--hostname", "sandbox", python, "-I", "-S")
    _probe(argv, uid, gid)
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True,
                             timeout=10, check=False).stdout.strip() or "bubblewrap"
    return Launcher(argv, uid, gid, SANDBOX_TMP, True, f"{version} as {user}, {python}")


def _sandbox_account(name: str) -> tuple[int | None, int | None, str]:
    if os.geteuid() != 0:
        return None, None, pwd.getpwuid(os.geteuid()).pw_name
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        raise SandboxUnavailableError(
            f"the validator runs as root, so the code sandbox runs as the unprivileged user "
            f"{name!r}, which does not exist: create it or choose another one") from None
    if account.pw_uid == 0:
        raise SandboxUnavailableError(f"the sandbox user {name!r} is root: choose another one")
    return account.pw_uid, account.pw_gid, name


def _interpreter_binds(python: str) -> tuple[str, tuple[str, ...]]:
    """The interpreter's real path and read-only binds of it, its stdlib and shared libraries."""
    real = os.path.realpath(python)
    if not os.access(real, os.X_OK):
        raise SandboxUnavailableError(
            f"the code sandbox runs {python}, which is missing: install python3 "
            "(Debian/Ubuntu: apt-get install python3-minimal)")
    try:
        paths = subprocess.run(
            [real, "-I", "-S", "-c", "import sysconfig; print(sysconfig.get_path('stdlib')); "
             "print(sysconfig.get_config_var('MULTIARCH') or '')"],
            capture_output=True, text=True, timeout=10, check=True).stdout.split("\n")
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxUnavailableError(f"cannot start {python} for the sandbox: {exc}") from None
    stdlib, multiarch = paths[0], paths[1]
    if not stdlib.startswith("/usr/"):
        raise SandboxUnavailableError(
            f"{python}'s standard library is at {stdlib}, not under /usr: the sandbox binds only "
            "system files; point it at the system python3")
    mounts = [real, stdlib]
    mounts += [path for path in (f"/usr/lib/{multiarch}" if multiarch else "/usr/lib",
                                 "/usr/lib64") if os.path.isdir(path)]
    binds: list[str] = []
    for path in dict.fromkeys(mounts):
        binds += ["--ro-bind", path, path]
    return real, tuple(binds)


def _probe(argv: tuple[str, ...], uid: int | None, gid: int | None) -> None:
    try:
        probe = subprocess.run([*argv, "-c", PROBE], capture_output=True, text=True, timeout=20,
                               check=False, cwd="/", user=uid, group=gid,
                               extra_groups=[] if uid is not None else None)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxUnavailableError(f"bubblewrap did not start ({exc}): {FIX}") from None
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["no message"])[-1]
        raise SandboxUnavailableError(f"bubblewrap cannot create the sandbox ({reason}): {FIX}")
    pid, _, root = probe.stdout.strip().partition(" ")
    if not pid.isdigit() or int(pid) > 3 or not set(root.split(",")) <= SANDBOX_ROOT:
        raise SandboxUnavailableError(
            f"the sandbox probe saw pid {pid} and / = {root}: isolation is not what it should "
            f"be; {FIX}")


@cache
def _unsafe_launcher() -> Launcher:
    unshare = shutil.which("unshare")
    prefix: tuple[str, ...] = ()
    if unshare is not None and sys.platform.startswith("linux"):
        try:
            works = subprocess.run([unshare, *UNSHARE_ARGS, "true"], capture_output=True,
                                   timeout=10, check=False).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            works = False
        prefix = (unshare, *UNSHARE_ARGS) if works else ()
    namespaces = "unshare --net --pid" if prefix else "no namespaces"
    return Launcher((*prefix, sys.executable, "-I", "-S"), None, None, None, False,
                    f"UNSAFE (--unsafe-code-sandbox): no bubblewrap; {namespaces}, rlimits, "
                    "audit hook")

