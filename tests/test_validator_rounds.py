"""Round planning (seeded, secret, with repeats) and per-miner scoring."""

from __future__ import annotations

from typing import Any

import pytest

from moderntensor.subnets.base import Challenge
from moderntensor.validator import MinerEndpoint, Outcome, QueryResult
from moderntensor.validator.rounds import plan_miner, round_rng, score_miner
from validator_suite import SumSuite

MINER = MinerEndpoint(4, "0x" + "ab" * 20, "127.0.0.1", 5000)
SUITE = SumSuite()


def plan(secret: bytes = b"s" * 32, round_number: int = 1, count: int = 4,
         share: float = 0.25, miner: MinerEndpoint = MINER):
    rng = round_rng(secret, 1, round_number, miner)
    return plan_miner(SUITE, rng, miner, count=count, repeat_share=share)


def test_plans_are_reproducible_only_with_the_secret() -> None:
    assert plan().challenges == plan().challenges
    assert plan(secret=b"t" * 32).challenges != plan().challenges
    assert plan(round_number=2).challenges != plan().challenges
    other = MinerEndpoint(5, "0x" + "cd" * 20, "127.0.0.1", 5001)
    assert plan(miner=other).challenges != plan().challenges


@pytest.mark.parametrize(("count", "share", "pairs"),
                         [(1, 0.25, 0), (2, 0.25, 1), (4, 0.25, 1), (8, 0.25, 2), (6, 0.5, 3),
                          (4, 0.0, 0), (4, 1.0, 2)])
def test_a_share_of_challenges_is_asked_twice(count: int, share: float, pairs: int) -> None:
    p = plan(count=count, share=share)
    assert len(p.challenges) == count and len(p.repeats) == pairs
    for first, second in p.repeats:
        assert first != second and p.challenges[first] == p.challenges[second]
    unique = {repr(c.input) for c in p.challenges}
    assert len(unique) == count - pairs


def ok(text: str, latency: float = 0.1) -> QueryResult:
    return QueryResult(Outcome.OK, latency, {"text": text})


def answers_for(p: Any, wrong: set[int] = frozenset(), fail: set[int] = frozenset(),
                latency: float = 0.1) -> list[QueryResult]:
    results = []
    for index, challenge in enumerate(p.challenges):
        if index in fail:
            results.append(QueryResult(Outcome.TIMEOUT))
        else:
            value = challenge.expected + (1 if index in wrong else 0)
            results.append(ok(str(value), latency))
    return results


def test_a_perfect_fast_miner_scores_one() -> None:
    p = plan()
    verdict = score_miner(SUITE, p, answers_for(p))
    assert verdict.score.total == 1.0
    assert (verdict.valid, verdict.queries, verdict.outcomes["ok"]) == (4, 4, 4)


def test_a_failure_costs_availability_and_accuracy_but_not_consistency() -> None:
    p = plan(count=4, share=0.5)            # two pairs: every challenge is in one
    fail = {p.repeats[0][0]}
    verdict = score_miner(SUITE, p, answers_for(p, fail=fail))
    assert verdict.score.availability == 0.75
    assert verdict.score.accuracy == 0.75
    assert verdict.score.consistency == 1.0  # the one whole pair agreed
    assert verdict.score.latency == 1.0      # latency is judged on the answers that came
    assert verdict.outcomes == {"ok": 3, "timeout": 1}


def test_repeats_with_no_whole_pair_score_zero_consistency() -> None:
    p = plan(count=4, share=0.5)
    fail = {first for first, _ in p.repeats}
    assert score_miner(SUITE, p, answers_for(p, fail=fail)).score.consistency == 0.0


def test_latency_is_linear_between_target_and_timeout() -> None:
    p = plan()
    midway = (SUITE.latency_target_s + SUITE.timeout_s) / 2
    assert score_miner(SUITE, p, answers_for(p, latency=midway)).score.latency == \
        pytest.approx(0.5)


def test_different_answers_to_a_repeat_cost_consistency() -> None:
    p = plan(count=4, share=0.25)
    ((_, second),) = p.repeats
    results = answers_for(p)
    results[second] = ok(results[second].output["text"] + " again")
    verdict = score_miner(SUITE, p, results)
    assert verdict.score.consistency == 0.0 and verdict.score.accuracy == 1.0


def test_nothing_answered_scores_zero_and_a_raising_suite_costs_only_the_answer() -> None:
    p = plan()
    silent = score_miner(SUITE, p, [QueryResult(Outcome.UNREACHABLE)] * 4)
    assert silent.score.total == 0.0 and silent.latency_s is None

    class Broken(SumSuite):
        def accuracy(self, challenge: Challenge, output: Any) -> float:
            raise ZeroDivisionError

    verdict = score_miner(Broken(), p, answers_for(p))
    # every answer came back (the round goes on) but scored 0, so none is a valid answer
    assert verdict.outcomes["ok"] == 4 and verdict.queries == 4
    assert verdict.score.accuracy == 0.0 and verdict.score.availability == 0.0
