"""Runs inside the sandbox process: confine itself, run untrusted code and its tests, report.

:mod:`moderntensor.subnets.sandbox` passes this file's source to ``python -I -S -c`` and a marshal
payload on stdin. Everything here uses only the standard library, and the order matters:
limits and privileges are set before the first line of untrusted code runs.
"""

from __future__ import annotations

import marshal
import os
import resource
import sys

# Deliberately no json, re or collections here: each import costs milliseconds per run, and
# throughput is what makes sandboxed scoring affordable. The payload comes as marshal data.
BLOCKED_IMPORTS = frozenset({"ctypes", "_ctypes", "_posixsubprocess", "gc", "mmap", "_thread",
                             "threading", "multiprocessing", "socket", "_socket", "ssl"})
WRITE_EVENTS = frozenset({"os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.symlink",
                          "os.link", "os.chmod", "os.chown", "os.truncate", "os.utime",
                          "shutil.rmtree", "shutil.copyfile", "shutil.move"})
DENIED_EVENTS = frozenset({"os.fork", "os.forkpty", "os.posix_spawn", "os.exec", "os.spawn",
                           "os.system", "os.kill", "os.killpg", "subprocess.Popen", "pty.spawn",
                           "socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo",
                           "sys._current_frames", "ctypes.dlopen", "os.setuid", "os.chroot",
                           "resource.setrlimit", "resource.prlimit", "signal.pthread_kill"})
NOBODY = 65534
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _limit(which: int, soft: int, hard: int) -> None:
    # Never above the hard limit we inherited (a container may set one lower): raising it
    # would fail and leave this run scoring 0 for a reason that is not the program's.
    inherited = resource.getrlimit(which)[1]
    if inherited != resource.RLIM_INFINITY:
        soft, hard = min(soft, inherited), min(hard, inherited)
    resource.setrlimit(which, (soft, hard))


def _set_limits(limits: dict[str, int]) -> None:
    # Hard limit a little above the soft one: SIGXCPU first, then the kernel's SIGKILL.
    _limit(resource.RLIMIT_CPU, limits["cpu_s"], limits["cpu_s"] + 1)
    for name, key in (("RLIMIT_AS", "memory_bytes"), ("RLIMIT_FSIZE", "file_bytes"),
                      ("RLIMIT_NOFILE", "open_files"), ("RLIMIT_NPROC", "processes"),
                      ("RLIMIT_CORE", "core_bytes")):
        _limit(getattr(resource, name), limits[key], limits[key])


def _drop_privileges() -> None:
    # RLIMIT_NPROC does not bind root, and root could undo every other limit.
    if os.getuid() == 0:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)


def _install_audit_hook(workdir: str) -> None:
    root = os.path.realpath(workdir) + os.sep

    def inside(path: object) -> bool:
        if isinstance(path, int):  # an already-open descriptor
            return True
        text = os.fsdecode(path) if isinstance(path, str | bytes) else str(path)
        return os.path.realpath(os.path.join(root, text)).startswith(root)

    def writes(mode: object, flags: object) -> bool:
        if isinstance(mode, str):
            return any(letter in mode for letter in "wax+")
        return isinstance(flags, int) and bool(flags & WRITE_FLAGS)

    def hook(event: str, args: tuple[object, ...]) -> None:
        if event in DENIED_EVENTS:
            raise PermissionError(f"sandbox: {event} is not allowed")
        if event == "import" and str(args[0]).partition(".")[0] in BLOCKED_IMPORTS:
            raise ImportError(f"sandbox: import of {args[0]} is not allowed")
        if event == "open" and writes(args[1], args[2]) and not inside(args[0]):
            raise PermissionError(f"sandbox: writing {args[0]!r} outside the sandbox")
        if event in WRITE_EVENTS and not all(inside(arg) for arg in args[:2]
                                             if isinstance(arg, str | bytes)):
            raise PermissionError(f"sandbox: {event} outside the sandbox")

    sys.addaudithook(hook)


def _run(program: str, steps: list[list[object]], entry_point: str) -> tuple[int, int, str]:
    """Execute the program, then each check step; return (passed, counted, first error)."""
    namespace: dict[str, object] = {"__name__": "candidate"}
    try:
        exec(compile(program, "<candidate>", "exec"), namespace)  # noqa: S102 (the sandbox's job)
        candidate = namespace[entry_point]
    except BaseException as exc:
        return 0, 0, f"program: {type(exc).__name__}: {exc}"[:300]
    # One namespace, as HumanEval runs prompt + completion + test: checks may call helpers
    # the prompt defines (e.g. ``poly`` of HumanEval/32).
    scope = namespace
    scope["candidate"] = candidate
    passed = counted = 0
    error = ""
    for source, is_test in steps:
        counted += bool(is_test)
        try:
            exec(compile(str(source), "<check>", "exec"), scope)  # noqa: S102
        except BaseException as exc:
            error = error or f"check: {type(exc).__name__}: {exc}"[:300]
            continue
        passed += bool(is_test)
    return passed, counted, error


def main() -> None:
    """Read the payload, confine this process, run, and write one report line."""
    payload = marshal.loads(sys.stdin.buffer.read())  # noqa: S302 (written by our parent)
    # The modules the program imports (from an allowlist), loaded while we may still read the
    # interpreter's files: after dropping to nobody, /root/... may be unreadable.
    for name in payload["preload"]:
        try:  # noqa: SIM105 (contextlib would import collections: startup time)
            __import__(name)
        except ImportError:
            pass
    report = os.fdopen(os.dup(1), "w")  # the parent's report file; stdout goes to /dev/null
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    os.chdir(payload["workdir"])
    _set_limits(payload["limits"])
    _drop_privileges()
    if payload["limits"]["audit_hook"]:
        _install_audit_hook(payload["workdir"])
    token = payload.pop("token")
    passed, counted, error = _run(payload["program"], payload["steps"], payload["entry_point"])
    report.write(f"{token} {passed} {counted} {' '.join(error.split())}\n")
    report.flush()
    os._exit(0)  # skip interpreter teardown: untrusted atexit hooks and finalizers never run


if __name__ == "__main__":
    main()
