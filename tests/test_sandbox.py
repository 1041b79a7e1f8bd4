"""The code sandbox runs a program on inputs, returns plain data only, and refuses to run weaker.

Attacks (score forgery, escapes) are specified in ``tests/security``; this file specifies the
sandbox's own contract: outputs, limits, the isolation probe and the explicit unsafe mode.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from moderntensor.subnets.isolation import (
    TMPFS_BYTES,
    SandboxPolicy,
    SandboxUnavailableError,
    sandbox_launcher,
)
from moderntensor.subnets.sandbox import (
    MAX_OUTPUT_BYTES,
    CaseOutput,
    SandboxLimits,
    run_cases,
)

TIGHT = SandboxLimits(cpu_s=1, wall_s=2.0)
OS_LAYERS_ONLY = SandboxLimits(cpu_s=1, wall_s=2.0, audit_hook=False)
UNSAFE = SandboxPolicy(unsafe=True)
ONE_CASE = [()]


def outputs(program: str, cases: list[tuple], limits: SandboxLimits = TIGHT,
            policy: SandboxPolicy | None = None) -> tuple[CaseOutput, ...]:
    return run_cases(program, "f", cases, limits, policy).outputs(len(cases))


def test_outputs_come_back_as_plain_data_in_case_order() -> None:
    got = outputs("def f(x):\n    return [x, {'k': (x, None)}, x > 1, 0.5]\n", [(1,), (2,)])
    assert [case.value for case in got] == [[1, {"k": [1, None]}, False, 0.5],
                                            [2, {"k": [2, None]}, True, 0.5]]


def test_arguments_keep_their_python_types() -> None:
    got = outputs("def f(x):\n    return type(x).__name__\n", [((1, 2),), ([1],), ({1},)])
    assert [case.value for case in got] == ["tuple", "list", "set"]


@pytest.mark.parametrize("value", ["object()", "float('nan')", "{1: 2}", "{1}", "b'x'",
                                   "type('I', (int,), {})(3)", "[1, ...]"])
def test_an_output_that_is_not_plain_data_is_a_failed_case(value: str) -> None:
    (case,) = outputs(f"def f():\n    return {value}\n", ONE_CASE)
    assert not case.ok


def test_an_exception_fails_only_its_own_case() -> None:
    got = outputs("def f(x):\n    return 10 // x\n", [(0,), (5,)])
    assert not got[0].ok and "ZeroDivisionError" in (got[0].error or "")
    assert got[1] == CaseOutput(value=2)


def test_a_program_that_does_not_compile_fails_every_case() -> None:
    got = outputs("def f(:\n", [(), ()])
    assert all(not case.ok and "SyntaxError" in (case.error or "") for case in got)


@pytest.mark.parametrize("limits", [TIGHT, OS_LAYERS_ONLY], ids=["all", "os-layers"])
def test_an_infinite_loop_is_killed_and_fails_every_case(limits: SandboxLimits) -> None:
    started = time.monotonic()
    run = run_cases("def f():\n    while True:\n        pass\n", "f", ONE_CASE, limits)
    assert run.status in ("killed", "timeout")
    assert not run.outputs(1)[0].ok
    assert time.monotonic() - started < limits.wall_s + 2


def test_the_wall_clock_kills_a_sleeper_that_uses_no_cpu() -> None:
    run = run_cases("import time\ndef f():\n    time.sleep(60)\n", "f", ONE_CASE,
                    SandboxLimits(cpu_s=5, wall_s=1.0))
    assert run.status == "timeout"


@pytest.mark.parametrize("limits", [TIGHT, OS_LAYERS_ONLY], ids=["all", "os-layers"])
def test_a_memory_bomb_fails_inside_the_sandbox(limits: SandboxLimits) -> None:
    (case,) = outputs("def f():\n    return len(bytearray(8 * 1024**3))\n", ONE_CASE, limits)
    assert "MemoryError" in (case.error or "")


def test_output_beyond_the_cap_ends_the_run_and_fails_every_case() -> None:
    run = run_cases("def f(n):\n    return 'x' * n\n", "f", [(10,), (MAX_OUTPUT_BYTES,)], TIGHT)
    assert run.status == "killed"          # RLIMIT_FSIZE: SIGXFSZ at the cap
    assert not any(case.ok for case in run.outputs(2))


def test_forged_lines_written_to_the_output_only_shift_its_own_outputs() -> None:
    program = ("import os\ndef f():\n    os.write(3, b'not json\\n{\"v\": NaN}\\n')\n"
               "    return 1\n")
    got = outputs(program, [(), ()], OS_LAYERS_ONLY)
    assert not got[0].ok and not got[1].ok    # the junk took their places, as failures


def test_the_environment_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_WALLET_PASSWORD", "secret")
    (case,) = outputs("import os\ndef f():\n    return sorted(os.environ)\n", ONE_CASE)
    assert "MT_WALLET_PASSWORD" not in case.value


def test_the_program_may_write_scratch_files_in_its_private_tmp() -> None:
    program = ("def f():\n    with open('scratch.txt', 'w') as out:\n        out.write('x')\n"
               "    return open('scratch.txt').read()\n")
    assert outputs(program, ONE_CASE)[0] == CaseOutput(value="x")


def test_the_private_tmpfs_is_the_only_writable_place_and_it_is_small() -> None:
    program = ("def f():\n    written = 0\n    try:\n        for n in range(64):\n"
               "            with open(f'/tmp/{n}', 'wb') as out:\n"
               "                out.write(bytes(1000 * 1000))\n"
               "            written += 1\n"
               "    except OSError as exc:\n        return [written, exc.strerror]\n")
    (case,) = outputs(program, ONE_CASE, OS_LAYERS_ONLY)
    assert case.value == [TMPFS_BYTES // 1000**2, "No space left on device"]


def test_isolation_is_bubblewrap_in_every_namespace_without_capabilities() -> None:
    launcher = sandbox_launcher(SandboxPolicy())
    assert launcher.isolated and launcher.description.startswith("bubblewrap")
    for flag in ("--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                 "--unshare-uts", "--die-with-parent", "--new-session"):
        assert flag in launcher.argv
    assert launcher.argv[launcher.argv.index("--cap-drop") + 1] == "ALL"
    if os.geteuid() == 0:
        assert launcher.uid not in (None, 0)     # root starts it as an unprivileged user


def test_a_missing_bubblewrap_is_refused_with_the_fix() -> None:
    with pytest.raises(SandboxUnavailableError) as refused:
        run_cases("def f():\n    return 1\n", "f", ONE_CASE, TIGHT,
                  SandboxPolicy(bwrap="/nonexistent/bwrap"))
    assert refused.value.code == "sandbox_unavailable"
    assert "apt-get install bubblewrap" in refused.value.message
    assert "unprivileged user namespaces" in refused.value.message
    assert "--unsafe-code-sandbox" in refused.value.message


def test_bubblewrap_hidden_from_path_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxUnavailableError, match="install bubblewrap"):
        sandbox_launcher.__wrapped__(SandboxPolicy())   # probed afresh, not the cached one


@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox account is only used by root")
def test_a_missing_sandbox_account_is_refused() -> None:
    with pytest.raises(SandboxUnavailableError, match="does not exist"):
        sandbox_launcher(SandboxPolicy(user="mt-no-such-user"))


def test_the_unsafe_mode_is_explicit_and_says_so() -> None:
    launcher = sandbox_launcher(UNSAFE)
    assert not launcher.isolated and launcher.description.startswith("UNSAFE")
    assert outputs("def f(x):\n    return x * 2\n", [(21,)], TIGHT, UNSAFE)[0].value == 42


def test_the_unsafe_mode_still_keeps_writes_in_its_private_directory(tmp_path: Path) -> None:
    target = tmp_path / "escaped.txt"
    program = (f"def f():\n    try:\n        open({str(target)!r}, 'w').write('x')\n"
               "    except OSError as exc:\n        return type(exc).__name__\n")
    assert outputs(program, ONE_CASE, TIGHT, UNSAFE)[0].value == "PermissionError"
    assert not target.exists()
