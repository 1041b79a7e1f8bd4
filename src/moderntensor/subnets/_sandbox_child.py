"""Runs inside the sandbox: confine itself, run a program on inputs, write its outputs as JSON.

:mod:`moderntensor.subnets.sandbox` passes this file's source to ``python -I -S -c`` and a marshal
payload on stdin. This process judges nothing: it never sees an expected value and writes one
JSON line per case (``{"v": output}`` or ``{"e": "error"}``) to the parent's output file; the
parent parses, caps and compares in its own process. Everything here is untrusted once the
program runs (it may rewrite any of it); the OS sandbox around it is the boundary.

Mode ``record`` (used when a task set is converted, on reference solutions) runs check code
with ``candidate`` wrapped so that each call's arguments (as a Python literal) and output are
written out, tagged with the check step it belongs to.
"""

from __future__ import annotations

import marshal
import os
import resource
import sys

# Deliberately no json, re, ast or collections here: each import costs milliseconds per run,
# and throughput is what makes sandboxed scoring affordable. The payload comes as marshal data.
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
MAX_DEPTH = 64


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
    # Only without bubblewrap (unsafe mode): there a root validator's child is still root.
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


def _string(text: str) -> str:
    """A JSON string, ASCII only (lone surrogates included), without importing json."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            code -= 0x10000
            out.append(f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}")
    out.append('"')
    return "".join(out)


def _plain(value: object, depth: int = 0) -> str:
    """``value`` as JSON if it is plain data (exact types only), else ``TypeError``."""
    kind = type(value)
    if depth > MAX_DEPTH:
        raise ValueError("output nested too deeply")
    if value is None or kind is bool:
        return "null" if value is None else "true" if value else "false"
    if kind is int or kind is float:
        # x - x is 0 for every finite number, nan for nan and the infinities
        if value - value != 0:  # type: ignore[operator]
            raise ValueError("output is not a finite number")
        return kind.__repr__(value)
    if kind is str:
        return _string(value)  # type: ignore[arg-type]
    if kind is list or kind is tuple:
        return "[" + ",".join(_plain(item, depth + 1) for item in value) + "]"  # type: ignore[attr-defined]
    if kind is dict:
        return _object(value, depth)  # type: ignore[arg-type]
    raise TypeError(f"output of type {kind.__name__} is not plain data")


def _object(value: dict, depth: int) -> str:
    items = dict.items(value)
    if any(type(key) is not str for key, _ in items):
        raise TypeError("output dict has a key that is not a string")
    return "{" + ",".join(_string(key) + ":" + _plain(item, depth + 1)
                          for key, item in items) + "}"


def _error(exc: BaseException) -> str:
    return _string(f"{type(exc).__name__}: {exc}"[:200])


def _load(payload: dict, write: object) -> tuple[dict[str, object], object] | None:
    """The program's namespace and entry point; ``None``, after saying why, if it fails."""
    namespace: dict[str, object] = {"__name__": "candidate"}
    try:
        exec(compile(payload["program"], "<candidate>", "exec"), namespace)  # noqa: S102 (the sandbox's job)
        return namespace, namespace[payload["entry_point"]]
    except BaseException as exc:
        write('{"program":' + _error(exc) + "}\n")  # type: ignore[operator]
        return None


def _run_cases(payload: dict, write: object) -> None:
    loaded = _load(payload, write)
    if loaded is None:
        return
    candidate = loaded[1]
    for args in payload["cases"]:
        try:
            line = '{"v":' + _plain(candidate(*args)) + "}\n"  # type: ignore[operator]
        except BaseException as exc:
            line = '{"e":' + _error(exc) + "}\n"
        write(line)  # type: ignore[operator]


def _record(payload: dict, write: object) -> None:
    loaded = _load(payload, write)
    if loaded is None:
        return
    scope, reference = loaded
    step = [-1]

    def candidate(*args: object) -> object:
        head = '{"step":' + str(step[0]) + ',"args":' + _string(repr(args))
        try:
            value = reference(*args)  # type: ignore[operator]
        except BaseException as exc:
            write(head + ',"e":' + _error(exc) + "}\n")  # type: ignore[operator]
            raise
        try:
            write(head + ',"v":' + _plain(value) + "}\n")  # type: ignore[operator]
        except (TypeError, ValueError, RecursionError) as exc:
            write(head + ',"e":' + _error(exc) + "}\n")  # type: ignore[operator]
        return value

    scope["candidate"] = candidate
    for index, (source, counted) in enumerate(payload["steps"]):
        step[0] = index if counted else -1
        try:
            exec(compile(str(source), "<check>", "exec"), scope)  # noqa: S102
        except BaseException as exc:
            write('{"failed":' + str(index) + ',"error":' + _error(exc) + "}\n")  # type: ignore[operator]


def main() -> None:
    """Read the payload, confine this process, run, and write one JSON line per output."""
    payload = marshal.loads(sys.stdin.buffer.read())  # noqa: S302 (written by our parent)
    # The modules the program imports (from an allowlist), loaded while we may still read the
    # interpreter's files: without bubblewrap, dropping to nobody may hide them.
    for name in payload["preload"]:
        try:  # noqa: SIM105 (contextlib would import collections: startup time)
            __import__(name)
        except ImportError:
            pass
    out = os.fdopen(os.dup(1), "w", encoding="ascii")  # the parent's output file
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    os.chdir(payload["workdir"])
    _set_limits(payload["limits"])
    _drop_privileges()
    if payload["limits"]["audit_hook"]:
        _install_audit_hook(payload["workdir"])
    write = out.write
    (_record if payload["mode"] == "record" else _run_cases)(payload, write)
    out.flush()
    os._exit(0)  # skip interpreter teardown: untrusted atexit hooks and finalizers never run


if __name__ == "__main__":
    main()
