"""Scoring rules of docs/validator.md and the miner guide's formulas, as specifications."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderntensor.errors import InvalidInputError
from moderntensor.scoring import (
    PPB,
    U16_MAX,
    MinerScore,
    accuracy_score,
    availability_score,
    combine_u16,
    consistency_score,
    ema,
    from_u16,
    latency_score,
    miner_reward,
    split_rewards,
    to_u16,
)
from moderntensor.units import format_mdt, to_base

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
NO_DEADLINE = settings(deadline=None)  # speed on a shared machine is not the property


# --- the miner guide's formula and example -------------------------------------------------

def test_guide_weights_accuracy_40_latency_availability_consistency_20_each() -> None:
    assert MinerScore(1.0, 0.0, 0.0, 0.0).total == 0.4
    assert MinerScore(0.0, 1.0, 0.0, 0.0).total == 0.2
    assert MinerScore(0.0, 0.0, 1.0, 0.0).total == 0.2
    assert MinerScore(0.0, 0.0, 0.0, 1.0).total == 0.2


def test_guide_example_rating_of_a_good_miner() -> None:
    # accuracy 0.9, latency 0.8, availability 1.0 (99.9%+ uptime), consistency 0.7
    assert MinerScore(0.9, 0.8, 1.0, 0.7).total == pytest.approx(0.86)


def test_a_perfect_miner_scores_one_and_a_silent_one_zero() -> None:
    assert MinerScore(1.0, 1.0, 1.0, 1.0).total == 1.0
    assert MinerScore(0.0, 0.0, 0.0, 0.0).total == 0.0


def test_guide_reward_example_is_exactly_12_75_mdt() -> None:
    share = miner_reward(to_base("1000"), score=850_000_000, total_scores=10_000_000_000,
                         subnet_weight=150_000_000)
    assert format_mdt(share.amount) == "12.75 MDT"
    assert share.remainder == 0


def test_reward_with_u16_scores_rounds_down_and_reports_the_remainder() -> None:
    share = miner_reward(to_base("1000"), to_u16(0.85), 10 * U16_MAX, 150_000_000)
    exact = to_base("1000") * to_u16(0.85) * 150_000_000
    assert share.amount * share.denominator + share.remainder == exact
    assert 0 <= share.remainder < share.denominator


def test_reward_is_zero_when_nobody_scored() -> None:
    assert miner_reward(to_base("1000"), 0, 0, PPB).amount == 0


@pytest.mark.parametrize(("score", "total", "weight"), [(2, 1, PPB), (1, 2, PPB + 1), (-1, 2, 1)])
def test_reward_rejects_impossible_inputs(score: int, total: int, weight: int) -> None:
    with pytest.raises(InvalidInputError):
        miner_reward(1000, score, total, weight)


def test_reward_rejects_float_amounts() -> None:
    with pytest.raises(InvalidInputError):
        miner_reward(1000.0, 1, 2, PPB)  # type: ignore[arg-type]


def test_split_accounts_for_dust_and_never_creates_mdt() -> None:
    split = split_rewards(100, [1, 1, 1], PPB)
    assert split.rewards == (33, 33, 33)
    assert (split.paid, split.dust, split.subnet_emission) == (99, 1, 100)


# --- the four components -------------------------------------------------------------------

@pytest.mark.parametrize(("latency", "expected"), [
    (0.2, 1.0), (1.0, 1.0), (1.5, 0.5), (2.0, 0.0), (9.0, 0.0), (math.nan, 0.0),
])
def test_latency_is_one_at_target_zero_at_timeout_linear_between(latency: float,
                                                                 expected: float) -> None:
    assert latency_score(latency, target_s=1.0, timeout_s=2.0) == expected


def test_latency_needs_target_below_timeout() -> None:
    with pytest.raises(InvalidInputError):
        latency_score(1.0, target_s=2.0, timeout_s=2.0)


def test_availability_is_valid_answers_over_queries() -> None:
    assert availability_score(9, 10) == 0.9
    assert availability_score(0, 0) == 0.0
    with pytest.raises(InvalidInputError):
        availability_score(3, 2)


def test_accuracy_is_the_mean_and_nothing_answered_is_zero() -> None:
    assert accuracy_score([1.0, 0.0, 0.5]) == 0.5
    assert accuracy_score([]) == 0.0


def test_consistency_is_the_mean_similarity_and_one_without_repeats() -> None:
    assert consistency_score([1.0, 0.5]) == 0.75
    assert consistency_score([]) == 1.0


def test_scores_outside_unit_interval_are_rejected() -> None:
    with pytest.raises(InvalidInputError):
        MinerScore(1.1, 0.0, 0.0, 0.0)
    with pytest.raises(InvalidInputError):
        accuracy_score([math.nan])


def test_ema_starts_at_first_sample_then_moves_by_alpha() -> None:
    assert ema(None, 0.8) == 0.8
    assert ema(0.8, 0.0, alpha=0.25) == pytest.approx(0.6)


def test_miner_score_ema_is_component_wise() -> None:
    old = MinerScore(1.0, 1.0, 1.0, 1.0)
    new = MinerScore(0.0, 1.0, 0.0, 1.0).ema(old, alpha=0.5)
    assert new == MinerScore(0.5, 1.0, 0.5, 1.0)


# --- fixed point for the chain -------------------------------------------------------------

def test_u16_ends_and_clamping() -> None:
    assert (to_u16(0.0), to_u16(1.0), to_u16(1.0000001), to_u16(-0.1)) == (0, U16_MAX, U16_MAX, 0)
    assert to_u16(math.nan) == 0
    with pytest.raises(InvalidInputError):
        from_u16(U16_MAX + 1)


def test_chain_recomputes_the_same_total_from_stored_components() -> None:
    a, lat, av, c, total = MinerScore(0.9, 0.8, 1.0, 0.7).to_u16()
    assert combine_u16(a, lat, av, c) == total
    assert combine_u16(U16_MAX, U16_MAX, U16_MAX, U16_MAX) == U16_MAX


# --- properties ----------------------------------------------------------------------------

@NO_DEADLINE
@given(unit, unit, unit, unit)
def test_total_is_within_bounds(a: float, lat: float, av: float, c: float) -> None:
    assert 0.0 <= MinerScore(a, lat, av, c).total <= 1.0


@NO_DEADLINE
@given(unit, unit, unit, unit, unit)
def test_total_is_monotone_in_every_component(a: float, lat: float, av: float, c: float,
                                              bump: float) -> None:
    base = MinerScore(a, lat, av, c)
    for better in (MinerScore(max(a, bump), lat, av, c), MinerScore(a, max(lat, bump), av, c),
                   MinerScore(a, lat, max(av, bump), c), MinerScore(a, lat, av, max(c, bump))):
        assert better.total >= base.total


@NO_DEADLINE
@given(st.floats(0, 100), st.floats(0, 100), st.floats(0.001, 50), st.floats(0.001, 50))
def test_latency_is_bounded_and_non_increasing(x: float, y: float, target: float,
                                               span: float) -> None:
    timeout = target + span
    fast, slow = sorted((x, y))
    assert 1.0 >= latency_score(fast, target, timeout) >= latency_score(slow, target, timeout) >= 0


@NO_DEADLINE
@given(unit)
def test_u16_round_trip_loses_at_most_half_a_step(value: float) -> None:
    assert abs(from_u16(to_u16(value)) - value) <= 0.5 / U16_MAX + 1e-12


@NO_DEADLINE
@given(st.integers(0, 10**30), st.lists(st.integers(0, U16_MAX), max_size=64),
       st.integers(0, PPB))
def test_split_pays_at_most_the_subnet_emission(emission: int, scores: list[int],
                                                weight: int) -> None:
    split = split_rewards(emission, scores, weight)
    assert split.paid + split.dust == split.subnet_emission
    assert 0 <= split.dust <= len(scores)
    assert split.subnet_emission <= emission


@NO_DEADLINE
@given(st.integers(0, 10**30), st.integers(0, U16_MAX), st.integers(0, U16_MAX),
       st.integers(0, PPB))
def test_higher_score_never_earns_less(emission: int, x: int, y: int, weight: int) -> None:
    low, high = sorted((x, y))
    total = low + high
    assert (miner_reward(emission, low, total, weight).amount
            <= miner_reward(emission, high, total, weight).amount)
