"""Code generation suite (subnet 3): HumanEval challenges scored by sandboxed hidden tests."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

from chain_support import free_port
from moderntensor.subnets import humaneval_cases, load_suite
from moderntensor.subnets.base import Challenge, ReferenceModel
from moderntensor.subnets.code import (
    _RANDOM_BODIES,
    RANDOM_CODE_MAX_ACCURACY,
    CodeInput,
    CodeOutput,
    CodeSuite,
    FlakyCode,
    SlowCode,
    problems,
    problems_by_id,
    split_checks,
    variable_problems,
)
from moderntensor.subnets.code_variants import Variant, draw_variant
from moderntensor.subnets.isolation import SandboxUnavailableError
from moderntensor.subnets.models import ModelUnavailableError
from moderntensor.subnets.sandbox import SandboxLimits
from moderntensor.subnets.verdict import is_polynomial_root, same
from moderntensor.wallet import Wallet

suite = CodeSuite()


def challenge_for(task_id: str) -> Challenge:
    problem = next(item for item in problems() if item.task_id == task_id)
    return Challenge(task="code-generation", expected=problem.task_id,
                     input={"prompt": problem.prompt, "entry_point": problem.entry_point})


def answer(model_name: str, challenge: Challenge) -> Any:
    model = suite.reference_models()[model_name]()
    return model.generate(challenge.task, challenge.input, challenge.params)


def test_registered_under_its_task_type() -> None:
    assert isinstance(load_suite("code-generation"), CodeSuite)


def test_all_164_humaneval_problems_are_loaded_from_the_package() -> None:
    assert len(problems()) == 164
    assert all(any(counted for _, counted in item.steps) for item in problems())


def test_challenges_are_seeded_and_hide_the_tests() -> None:
    first, again = suite.make_challenge(random.Random(7)), suite.make_challenge(random.Random(7))
    assert first == again
    CodeInput.model_validate(first.input)
    assert set(first.input) == {"prompt", "entry_point"}
    assert first.expected["task_id"] in {problem.task_id for problem in problems()}


def test_every_challenge_is_a_renamed_variant_asking_for_a_transformed_result() -> None:
    rng = random.Random(3)
    for challenge in (suite.make_challenge(rng) for _ in range(50)):
        original = problems_by_id()[challenge.expected["task_id"]]
        assert challenge.input["entry_point"] != original.entry_point
        assert f"def {challenge.input['entry_point']}(" in challenge.input["prompt"]
        assert "Variant: return" in challenge.input["prompt"]


def test_every_transform_changes_every_reference_output() -> None:
    for problem, transform in variable_problems():
        variant = Variant(problem.task_id, "f", transform, 3)
        expected = problem.cases().expected
        assert all(not same(a, b) for a, b in zip(expected, variant.apply(expected), strict=True))


def test_156_of_the_164_problems_can_be_varied() -> None:
    assert len(variable_problems()) == 156


def test_the_variant_reference_solves_a_variant_of_every_problem() -> None:
    rng = random.Random(5)
    failing = []
    for problem, transform in variable_problems():
        variant = draw_variant(problem.task_id, transform, rng)
        challenge = Challenge(task="code-generation", expected=variant.to_json(), input={
            "prompt": variant.prompt(problem.prompt, problem.entry_point),
            "entry_point": variant.entry_point})
        if suite.accuracy(challenge, answer("variant-reference", challenge)) != 1.0:
            failing.append(problem.task_id)
    assert failing == []


def test_the_public_answer_lookup_finds_the_problem_yet_scores_zero_on_variants() -> None:
    rng = random.Random(6)
    for challenge in (suite.make_challenge(rng) for _ in range(30)):
        code = answer("canonical", challenge)["code"]
        assert code == problems_by_id()[challenge.expected["task_id"]].canonical_solution
        assert suite.accuracy(challenge, {"code": code}) == 0.0


def test_a_malformed_variant_scores_zero() -> None:
    challenge = suite.make_challenge(random.Random(1))
    broken = Challenge(task="code-generation", input=challenge.input,
                       expected={**challenge.expected, "transform": "explode"})
    assert suite.accuracy(broken, answer("variant-reference", challenge)) == 0.0


def test_challenges_are_plain_json_so_a_validator_can_store_them() -> None:
    challenge = suite.make_challenge(random.Random(1))
    assert json.loads(json.dumps(dataclasses.asdict(challenge)))["expected"] == challenge.expected


def test_a_challenge_for_an_unknown_problem_scores_zero() -> None:
    challenge = Challenge(task="code-generation", input={}, expected="HumanEval/9999")
    assert suite.accuracy(challenge, {"code": "    return 1\n"}) == 0.0


@pytest.mark.parametrize("task_id", ["HumanEval/0", "HumanEval/32", "HumanEval/53"])
def test_canonical_fixture_reaches_full_accuracy(task_id: str) -> None:
    challenge = challenge_for(task_id)
    output = answer("canonical", challenge)
    CodeOutput.model_validate(output)
    assert suite.accuracy(challenge, output) == 1.0


def test_whole_function_definitions_are_accepted() -> None:
    code = "def add(x: int, y: int):\n    return x + y\n"
    assert suite.accuracy(challenge_for("HumanEval/53"), {"code": code}) == 1.0


def test_a_continuation_may_start_with_a_comment() -> None:
    code = "# add them\n    return x + y\n"
    assert suite.accuracy(challenge_for("HumanEval/53"), {"code": code}) == 1.0


def test_a_bare_string_output_is_accepted() -> None:
    assert suite.accuracy(challenge_for("HumanEval/53"), "    return x + y\n") == 1.0


def test_partly_right_code_gets_the_share_of_checks_passed() -> None:
    # right for the small examples of HumanEval/53, wrong for add(5, 7) and the random ones
    code = "    return x + y if x < 5 else 0\n"
    score = suite.accuracy(challenge_for("HumanEval/53"), {"code": code})
    assert 0.0 < score < 1.0


@pytest.mark.parametrize("model_name", ["echo", "random"])
def test_weak_models_score_low(model_name: str) -> None:
    challenge = challenge_for("HumanEval/0")
    assert suite.accuracy(challenge, answer(model_name, challenge)) < 1.0


@pytest.mark.parametrize("output", [None, 42, {"text": "x"}, {"code": 7}, {"code": "x" * 40_000}])
def test_malformed_output_scores_zero(output: Any) -> None:
    assert suite.accuracy(challenge_for("HumanEval/53"), output) == 0.0


def test_code_that_does_not_compile_scores_zero() -> None:
    assert suite.accuracy(challenge_for("HumanEval/53"), {"code": "    return (\n"}) == 0.0


def test_assert_true_lines_and_setup_are_not_counted() -> None:
    steps = split_checks("M = 1\n\ndef check(candidate):\n    assert True\n"
                         "    assert candidate(1) == 2\n")
    assert [counted for _, counted in steps] == [False, False, True]


def test_consistency_ignores_blank_lines_and_trailing_spaces() -> None:
    spaced, tight = {"code": "x = 1\n\nreturn x  \n"}, {"code": "x = 1\nreturn x\n"}
    assert suite.consistency(spaced, tight) == 1.0


def test_consistency_is_lower_for_different_code_and_zero_for_malformed() -> None:
    assert suite.consistency({"code": "return 1"}, {"code": "while True: pass"}) < 0.5
    assert suite.consistency({"code": "return 1"}, None) == 0.0


def test_reference_models_include_fixture_real_and_weak_ones() -> None:
    assert {"variant-reference", "canonical", "smollm2", "random", "echo", "slow",
            "flaky"} <= set(
        suite.reference_models())


def test_flaky_fixture_fails_every_other_request() -> None:
    model, challenge = FlakyCode(), challenge_for("HumanEval/53")
    model.generate(challenge.task, challenge.input, {})
    with pytest.raises(ModelUnavailableError):
        model.generate(challenge.task, challenge.input, {})


def test_slow_fixture_answers_correctly_but_late(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("moderntensor.subnets.models.time.sleep", slept.append)
    challenge = challenge_for("HumanEval/53")
    output = SlowCode().generate(challenge.task, challenge.input, {})
    assert slept == [SlowCode.delay_s]
    assert CodeSuite.latency_target_s < SlowCode.delay_s < CodeSuite.timeout_s
    assert suite.accuracy(challenge, output) == 1.0


class _Sleeper(ReferenceModel):
    name: ClassVar[str] = "sleeper"

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        return {"code": "    import time\n    time.sleep(60)\n"}


def test_hostile_output_scores_zero_through_the_suite() -> None:
    class QuickSuite(CodeSuite):
        sandbox_limits = SandboxLimits(cpu_s=1, wall_s=1.0)

    challenge = challenge_for("HumanEval/53")
    output = _Sleeper().generate(challenge.task, challenge.input, {})
    assert QuickSuite().accuracy(challenge, output) == 0.0


def test_every_problem_has_stored_cases_for_every_counted_check() -> None:
    for problem in problems():
        cases = problem.cases()
        counted = sum(is_check for _, is_check in problem.steps)
        assert 0 < len(cases.checks) <= counted, problem.task_id
        assert all(cases.checks), problem.task_id
        assert len(cases.args) == len(cases.expected)


@pytest.mark.parametrize("task_id", ["HumanEval/0", "HumanEval/8", "HumanEval/32"])
def test_recording_the_reference_in_the_sandbox_reproduces_the_stored_cases(task_id: str
                                                                            ) -> None:
    problem = problems_by_id()[task_id]
    recorded = humaneval_cases.record(problem.prompt, problem.canonical_solution,
                                      problem.entry_point, problem.steps)
    stored = json.loads(humaneval_cases.CASES_PATH.read_text())[task_id]
    assert recorded == stored


def test_stale_stored_cases_are_refused_with_the_command_that_remakes_them() -> None:
    with pytest.raises(humaneval_cases.TaskCasesError, match="record_humaneval"):
        humaneval_cases.load("HumanEval/0", "0" * 64)


def test_the_canonical_solution_passes_every_problem_under_the_strict_verdict() -> None:
    failing = [problem.task_id for problem in problems()
               if suite.accuracy(challenge_for(problem.task_id),
                                 {"code": problem.canonical_solution}) != 1.0]
    assert failing == []


@pytest.mark.parametrize(("expected", "got"), [(1, 1.0), (0.3, 0.1 + 0.2), ([1, "a"], [1, "a"]),
                                               ({"a": [None]}, {"a": [None]}), (True, True)])
def test_equal_plain_values_agree(expected: Any, got: Any) -> None:
    assert same(expected, got)


@pytest.mark.parametrize(("expected", "got"), [(1, True), (True, 1), (0, False), (1, 1.01),
                                               (10**20, 10**20 + 1), (1.0, 10**400),
                                               ("1", 1), ([1], [1, 1]), ({"a": 1}, {"b": 1}),
                                               (None, 0), ([], {})])
def test_different_or_differently_typed_values_do_not_agree(expected: Any, got: Any) -> None:
    assert not same(expected, got)


def test_find_zero_accepts_any_root_through_its_trusted_oracle() -> None:
    # (x - 1)(x + 2) = x^2 + x - 2: both 1 and -2 are right, 0 is not
    assert is_polynomial_root([[-2, 1, 1]], 1.0) and is_polynomial_root([[-2, 1, 1]], -2)
    assert not is_polynomial_root([[-2, 1, 1]], 0.0)
    assert not is_polynomial_root([[-2, 1, 1]], True)
    assert not is_polynomial_root([[-2, 1, 1]], 1e300)


def test_find_zero_by_bisection_scores_one_though_its_roots_differ_from_the_reference() -> None:
    code = ("    lo, hi = -1000.0, 1000.0\n"
            "    while hi - lo > 1e-10:\n"
            "        mid = (lo + hi) / 2\n"
            "        if (poly(xs, lo) > 0) == (poly(xs, mid) > 0):\n"
            "            lo = mid\n"
            "        else:\n"
            "            hi = mid\n"
            "    return lo\n")
    assert suite.accuracy(challenge_for("HumanEval/32"), {"code": code}) == 1.0


def test_a_list_where_a_tuple_was_returned_is_accepted_but_a_bool_for_an_int_is_not() -> None:
    as_list = "    return [sum(numbers), 1] if numbers else [0, 1]\n"   # HumanEval/8: a tuple
    assert suite.accuracy(challenge_for("HumanEval/8"), {"code": "    import math\n"
                          "    return [sum(numbers), math.prod(numbers)]\n"}) == 1.0
    assert suite.accuracy(challenge_for("HumanEval/8"), {"code": as_list}) < 1.0
    assert suite.accuracy(challenge_for("HumanEval/53"),
                          {"code": "    return bool(x + y) if x + y in (0, 1) else x + y\n"}
                          ) < 1.0


def test_prepare_refuses_a_suite_without_isolation_and_names_the_fix() -> None:
    from moderntensor.subnets.isolation import SandboxPolicy

    hidden = CodeSuite(SandboxPolicy(bwrap="/nonexistent/bwrap"))
    with pytest.raises(SandboxUnavailableError, match="install bubblewrap"):
        hidden.prepare()
    assert hidden.prepare(unsafe_code_sandbox=True).startswith("UNSAFE")
    assert hidden.accuracy(challenge_for("HumanEval/53"), {"code": "    return x + y\n"}) == 1.0


def test_prepare_reports_bubblewrap_when_it_is_available() -> None:
    assert CodeSuite().prepare().startswith("bubblewrap")


@pytest.mark.slow
def test_no_random_fixture_body_beats_its_documented_bound_on_any_problem() -> None:
    best = max(suite.accuracy(challenge_for(problem.task_id), {"code": body})
               for problem in problems() for body in _RANDOM_BODIES)
    assert best <= RANDOM_CODE_MAX_ACCURACY


def _validator_run(tmp_path: Path, mt_home: Path, path_env: str, *flags: str
                   ) -> subprocess.CompletedProcess[str]:
    """``moderntensor validator run`` of the code suite for one round against a dead miner."""
    wallet = Wallet.create(num_words=12)
    wallet.save("validator", "pw", home=mt_home, scrypt_n=2**10)
    listing = tmp_path / "miners.json"
    listing.write_text(json.dumps([{"uid": 0, "address": wallet.address, "host": "127.0.0.1",
                                    "port": free_port()}]))
    args = ["validator", "run", "--miners", str(listing), "--suite", "code-generation",
            "--wallet", "validator", "--password-env", "PW", "--interval", "0", "--subnet", "1",
            "--store", str(tmp_path / "v.sqlite"), "--rounds", "1", "--json", *flags]
    return subprocess.run([sys.executable, "-m", "moderntensor.cli", *args], capture_output=True,
                          text=True, timeout=120, check=False,
                          env={**os.environ, "PW": "pw", "PATH": path_env})


def test_the_validator_refuses_to_score_code_without_bubblewrap_and_names_the_fix(
        tmp_path: Path, mt_home: Path) -> None:
    done = _validator_run(tmp_path, mt_home, str(tmp_path))   # PATH without bwrap
    assert done.returncode != 0 and done.stdout == ""
    assert "install bubblewrap" in done.stderr and "--unsafe-code-sandbox" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_unsafe_flag_runs_without_bubblewrap_and_every_round_says_so(
        tmp_path: Path, mt_home: Path) -> None:
    done = _validator_run(tmp_path, mt_home, str(tmp_path), "--unsafe-code-sandbox")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sandbox"].startswith("UNSAFE")
    assert "WITHOUT OS isolation" in done.stderr


def test_validator_status_shows_how_the_last_run_isolated_miners_code(
        tmp_path: Path, mt_home: Path) -> None:
    assert _validator_run(tmp_path, mt_home, str(tmp_path), "--unsafe-code-sandbox"
                          ).returncode == 0
    status = subprocess.run([sys.executable, "-m", "moderntensor.cli", "validator", "status",
                             "--netuid", "1", "--store", str(tmp_path / "v.sqlite"), "--json"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["sandbox"].startswith("UNSAFE")


def test_a_validator_round_reports_the_bubblewrap_sandbox(tmp_path: Path, mt_home: Path) -> None:
    done = _validator_run(tmp_path, mt_home, os.environ["PATH"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sandbox"].startswith("bubblewrap")
