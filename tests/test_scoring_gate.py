"""The validity gate of ``scoring.round_score``: only right answers earn latency, availability
and consistency, and a miner under the accuracy floor earns neither latency nor consistency."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from moderntensor.scoring import (
    ACCURACY_FLOOR,
    ANSWER_FLOOR,
    Answer,
    MinerScore,
    round_score,
    score_reasons,
)

RIGHT = Answer(accuracy=1.0, latency=1.0, answered=True)
WRONG_FAST = Answer(accuracy=0.0, latency=1.0, answered=True)
FAILED = Answer(accuracy=0.0, latency=0.0, answered=False)

units = st.floats(min_value=0.0, max_value=1.0)
answers = st.builds(Answer, units, units, st.booleans()).map(
    lambda a: a if a.answered else Answer(0.0, 0.0, False))


def test_a_fast_constant_wrong_answer_scores_zero() -> None:
    # the same wrong answer every time, instantly: it used to earn L + Av + C = 0.6
    assert round_score([WRONG_FAST] * 4, [(0, 3, 1.0)]).total == 0.0


def test_an_honest_miner_keeps_the_full_formula() -> None:
    assert round_score([RIGHT] * 4, [(0, 3, 1.0)]).total == 1.0


def test_a_wrong_answer_costs_availability_latency_and_its_pair() -> None:
    score = round_score([RIGHT, RIGHT, RIGHT, WRONG_FAST], [(0, 3, 1.0), (1, 2, 1.0)])
    assert score == MinerScore(accuracy=0.75, latency=0.75, availability=0.75,
                               consistency=0.5)


def test_a_failed_query_is_charged_to_availability_not_to_latency_or_consistency() -> None:
    score = round_score([RIGHT, RIGHT, FAILED, RIGHT], [(0, 1, 1.0), (2, 3, 1.0)])
    assert (score.latency, score.availability, score.consistency) == (1.0, 0.75, 1.0)


def test_an_answer_just_under_the_answer_floor_is_not_valid() -> None:
    almost = Answer(ANSWER_FLOOR - 1e-9, 1.0, True)
    assert not almost.valid and Answer(ANSWER_FLOOR, 1.0, True).valid


def test_accuracy_under_the_floor_zeroes_latency_and_consistency() -> None:
    gated = MinerScore(ACCURACY_FLOOR / 2, 1.0, 1.0, 1.0).gated()
    assert (gated.latency, gated.consistency, gated.availability) == (0.0, 0.0, 1.0)


def test_the_gate_is_named_in_the_reasons() -> None:
    assert score_reasons(MinerScore(0.02, 0.0, 0.0, 0.0))[0] == (
        "accuracy 0.02 under floor 0.20: latency/consistency not counted")
    assert score_reasons(MinerScore(1.0, 1.0, 1.0, 1.0)) == []


@given(st.lists(answers, min_size=1, max_size=8), st.data())
def test_a_round_with_no_valid_answer_earns_at_most_the_accuracy_share(
        batch: list[Answer], data: st.DataObject) -> None:
    batch = [Answer(min(a.accuracy, ANSWER_FLOOR / 2), a.latency, a.answered) for a in batch]
    pairs = data.draw(st.lists(st.tuples(st.integers(0, len(batch) - 1),
                                         st.integers(0, len(batch) - 1), units), max_size=3))
    score = round_score(batch, pairs)
    assert score.latency == score.availability == score.consistency == 0.0
    assert score.total <= 0.4 * ANSWER_FLOOR / 2 + 1e-12


@given(st.lists(answers, min_size=1, max_size=8), st.data())
def test_raising_one_answer_to_right_never_lowers_the_score(
        batch: list[Answer], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(batch) - 1))
    better = [*batch[:i], RIGHT, *batch[i + 1:]]
    assert round_score(better, []).total >= round_score(batch, []).total - 1e-12
