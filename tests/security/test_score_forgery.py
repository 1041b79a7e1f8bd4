"""Code that tries to forge its score scores 0, as root and as an unprivileged validator.

The sandbox only returns plain JSON outputs and the validator compares them in its own
process, so there is no verdict, report or checker inside the sandbox to forge.
"""

from __future__ import annotations

from typing import Any

import pytest

from moderntensor.subnets.code import problems_by_id
from security.harness import USERS, evaluate_as

TASK = "HumanEval/53"   # add(x, y): five fixed checks and one loop of 100 random sums
HONEST = "def add(x: int, y: int):\n    return x + y\n"
ATTACKS = {
    "always_equal": (
        "class Anything:\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    __hash__ = object.__hash__\n"
        "def add(x: int, y: int):\n    return Anything()\n"),
    "always_equal_int": (
        "class Int(int):\n"
        "    def __eq__(self, other):\n        return True\n"
        "    __hash__ = int.__hash__\n"
        "def add(x: int, y: int):\n    return Int(0)\n"),
    "frame_walk": (
        "import sys, os\n"
        "def add(x: int, y: int):\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None:\n"
        "        for name in ('write', 'out', 'report'):\n"
        "            forge = frame.f_locals.get(name)\n"
        "            if callable(forge):\n"
        "                forge('{\"v\": true}\\n' * 200)\n"
        "            elif hasattr(forge, 'write'):\n"
        "                forge.write('{\"v\": true}\\n' * 200)\n"
        "        for name in ('passed', 'counted'):\n"
        "            frame.f_locals[name] = 10**6\n"
        "        frame = frame.f_back\n"
        "    return True\n"),
    "system_exit": "raise SystemExit(0)\ndef add(x: int, y: int):\n    return x + y\n",
    "os_exit_during_a_call": ("import os\n"
                              "def add(x: int, y: int):\n    os._exit(0)\n"),
    "fake_report": (
        "import os\n"
        "print('{\"passed\": 6, \"counted\": 6}')\n"
        "for fd in range(1, 20):\n"
        "    try:\n"
        "        os.write(fd, b'{\"passed\": 6, \"counted\": 6}\\nok 6 6\\n' * 200)\n"
        "    except OSError:\n"
        "        pass\n"
        "def add(x: int, y: int):\n    os._exit(0)\n"),
    "patched_builtins": (
        "import builtins\n"
        "builtins.isinstance = lambda *args: True\n"
        "builtins.type = lambda *args: int\n"
        "builtins.AssertionError = type('Never', (BaseException,), {})\n"
        "builtins.all = builtins.any = lambda *args: True\n"
        "def add(x: int, y: int):\n    return None\n"),
    "patched_checker": (
        "import __main__\n"
        "__main__._plain = lambda value, depth=0: 'true'\n"
        "__main__._error = lambda exc: 'true'\n"
        "__main__.same = __main__.case_passes = lambda *args: True\n"
        "def add(x: int, y: int):\n    return 'right'\n"),
}


@pytest.fixture(scope="module", params=USERS)
def scores(request: pytest.FixtureRequest) -> dict[str, Any]:
    names = ["honest", *ATTACKS]
    codes = [HONEST, *ATTACKS.values()]
    results = evaluate_as(request.param, [{"kind": "score", "task_id": TASK, "code": code}
                                          for code in codes])
    return {name: result["score"] for name, result in zip(names, results, strict=True)}


def test_the_honest_answer_scores_one_in_the_same_harness(scores: dict[str, float]) -> None:
    assert scores["honest"] == 1.0


@pytest.mark.parametrize("attack", ["always_equal", "always_equal_int"])
def test_an_object_that_equals_everything_scores_zero(scores: dict[str, float],
                                                      attack: str) -> None:
    assert scores[attack] == 0.0


def test_walking_frames_to_forge_the_report_scores_zero(scores: dict[str, float]) -> None:
    assert scores["frame_walk"] == 0.0


@pytest.mark.parametrize("attack", ["system_exit", "os_exit_during_a_call"])
def test_exiting_before_the_checks_scores_zero(scores: dict[str, float], attack: str) -> None:
    assert scores[attack] == 0.0


def test_printing_a_fake_report_scores_zero(scores: dict[str, float]) -> None:
    # (a forged *output* is only an answer: it passes where it is the right one, like any)
    assert scores["fake_report"] == 0.0


def test_patching_builtins_scores_zero(scores: dict[str, float]) -> None:
    assert scores["patched_builtins"] == 0.0


def test_monkey_patching_the_checker_scores_zero(scores: dict[str, float]) -> None:
    assert scores["patched_checker"] == 0.0


DUMP_EVERYTHING_REACHABLE = (
    "import sys, __main__\n"
    "def encrypt(s):\n"
    "    seen, frame = [repr(sorted(vars(__main__)))], sys._getframe()\n"
    "    while frame is not None:\n"
    "        seen.append(repr(frame.f_locals))\n"
    "        frame = frame.f_back\n"
    "    return ''.join(seen)[-60000:]\n")


@pytest.mark.parametrize("user", USERS)
def test_the_sandbox_never_holds_an_expected_output(user: str) -> None:
    problem = problems_by_id()["HumanEval/89"]     # encrypt(s): rotated letters
    cases = problem.cases()
    secret = [expected for expected in cases.expected if isinstance(expected, str)
              and len(expected) >= 8 and expected not in problem.prompt]
    (result,) = evaluate_as(user, [{"kind": "task_cases", "task_id": problem.task_id,
                                    "program": DUMP_EVERYTHING_REACHABLE}])
    dumps = [got for ok, got in result["outputs"] if ok]
    assert secret and len(dumps) == len(cases.args)
    assert all(repr(cases.args[0][0]) in dump for dump in dumps)   # the dump does see inputs
    assert not any(expected in dump for dump in dumps for expected in secret)
