"""The epoch's incentive rules: empty rows dilute nobody and earn nothing, validators are paid
by stake x agreement**2, and the score before the min_score cut is kept."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from moderntensor.chain.modules.epoch_math import agreement, epoch_rewards
from moderntensor.scoring import PPB, U16_MAX

MDT = 10**18
HONEST = [62_000, 45_000, 3_000, 1_000, 2_000, 500, 0, 4_000]


def run(rows: list[list[int]], present: list[list[bool]] | None = None, **kwargs: int):
    stakes = kwargs.pop("stakes", [MDT] * len(rows))
    return epoch_rewards(np.array(rows, dtype=np.uint16), stakes, epoch_emission=1000 * MDT,
                         subnet_weight=PPB, validator_emission=100 * MDT,
                         present=None if present is None else np.array(present), **kwargs)


def test_an_empty_row_does_not_lower_any_miner_score() -> None:
    alone = run([HONEST])
    with_empty = run([HONEST, [0] * len(HONEST)],
                     [[True] * len(HONEST), [False] * len(HONEST)])
    assert with_empty.scores == alone.scores


def test_an_empty_row_earns_nothing() -> None:
    result = run([HONEST, [0] * len(HONEST)], [[True] * len(HONEST), [False] * len(HONEST)])
    assert result.agreement == (PPB, 0)
    assert result.validator_rewards == (100 * MDT, 0)


def test_a_random_row_earns_under_a_tenth_of_an_honest_one() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        rows = [HONEST, HONEST, rng.integers(0, U16_MAX + 1, len(HONEST)).tolist()]
        paid = run(rows).validator_rewards
        assert paid[2] < paid[0] / 10


def test_a_stale_copy_agrees_less_than_the_current_honest_row() -> None:
    current = [min(U16_MAX, w + 3_000) for w in HONEST]   # the miners improved since
    result = run([current, current, HONEST])              # two honest, one stale copier
    assert result.validator_rewards[2] < result.validator_rewards[0]


def test_a_miner_only_a_minority_of_the_stake_scored_gets_no_consensus() -> None:
    result = run([[U16_MAX, 32_768], [U16_MAX, 0]], [[True, True], [True, False]],
                 stakes=[MDT, 2 * MDT])
    assert result.consensus == (U16_MAX, 0)
    assert result.scores == (PPB, 0)


def test_a_miner_a_majority_of_the_stake_scored_is_scored_by_it() -> None:
    result = run([[U16_MAX, 32_768], [U16_MAX, 0]], [[True, True], [True, False]],
                 stakes=[2 * MDT, MDT])
    assert result.consensus == (U16_MAX, 32_768)
    assert result.scores == (PPB, 2 * 32_768 * PPB // (3 * U16_MAX))


def test_the_score_before_the_min_score_cut_is_kept() -> None:
    result = run([[U16_MAX, 6_553]], min_score=200_000_000)
    assert result.scores[1] == 0 and result.raw_scores[1] == 6_553 * PPB // U16_MAX


def test_leaving_miners_out_costs_agreement() -> None:
    weights = np.array([HONEST], dtype=np.uint16)
    half = np.array([[True] * 4 + [False] * 4])
    full = agreement(weights, np.ones_like(half), np.array(HONEST))
    assert agreement(weights, half, np.array(HONEST))[0] < full[0] == PPB


rows = st.lists(st.integers(0, U16_MAX), min_size=4, max_size=4)


@settings(max_examples=100, deadline=None)
@given(st.lists(rows, min_size=1, max_size=5), st.lists(st.integers(1, 10**24), min_size=5,
                                                        max_size=5))
def test_adding_an_empty_row_changes_no_score_and_is_paid_nothing(
        matrix: list[list[int]], stakes: list[int]) -> None:
    base = run(matrix, stakes=stakes[:len(matrix)])
    given_all = [[True] * 4] * len(matrix)
    more = run([*matrix, [0] * 4], [*given_all, [False] * 4],
               stakes=[*stakes[:len(matrix)], stakes[-1]])
    assert more.scores == base.scores and more.validator_rewards[-1] == 0


def test_a_row_of_zeros_is_paid_nothing_even_against_an_all_zero_consensus() -> None:
    result = run([[0, 0]])
    assert result.agreement == (0,) and result.validator_rewards == (0,)
