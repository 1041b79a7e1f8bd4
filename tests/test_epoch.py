"""The epoch: consensus clipping, scores, min_score, the guide's reward, exact accounting."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderntensor.chain.modules.epoch_math import (
    AGREEMENT_FLOOR,
    EpochInputError,
    check_subnet_weights,
    consensus,
    epoch_rewards,
    stake_shares,
    to_ppb,
    validator_emission,
)
from moderntensor.scoring import PPB, U16_MAX
from moderntensor.units import to_base

MDT = 10**18


def run(weights: list[list[int]], stakes: list[int], **kwargs: int):
    kwargs.setdefault("epoch_emission", 1000 * MDT)
    kwargs.setdefault("subnet_weight", PPB)
    return epoch_rewards(np.array(weights, dtype=np.uint16), stakes, **kwargs)


def test_guide_example_holds_exactly_when_set_up_through_weights() -> None:
    # Two validators, stakes 3:1; 3 x 55705 + 55704 = 4 x 0.85 x 65535, so the stake-weighted
    # mean is exactly 0.85; the 0.15 miner likewise; nine miners at 1.0 make TotalScores 10.0.
    weights = [[55705, 9831] + [U16_MAX] * 9, [55704, 9828] + [U16_MAX] * 9]
    result = run(weights, [3 * MDT, 1 * MDT], subnet_weight=to_ppb("0.15"))
    assert result.scores[0] == to_ppb("0.85")
    assert result.scores[1] == to_ppb("0.15")
    assert result.total_score == to_ppb("10.0")
    assert result.miner_rewards[0] == to_base("12.75") == 12_750_000_000_000_000_000


def test_one_validator_alone_cannot_inflate_a_miner() -> None:
    honest, liar = 32768, U16_MAX
    result = run([[honest, 0], [honest, 0], [liar, liar]], [MDT, MDT, MDT])
    assert result.consensus == (honest, 0)
    assert result.scores[0] == honest * PPB // U16_MAX     # the liar is clipped to consensus
    assert result.scores[1] == 0                           # alone, it cannot lift a zero miner


def test_exactly_half_the_stake_is_not_a_majority() -> None:
    result = run([[U16_MAX], [0]], [5 * MDT, 5 * MDT])
    assert result.consensus == (0,)
    assert result.scores == (0,)


def test_a_stake_majority_sets_consensus_and_stake_weights_the_mean() -> None:
    result = run([[U16_MAX], [40_000], [40_000]], [10 * MDT, MDT, MDT])
    assert result.consensus == (U16_MAX,)
    # the stake-weighted mean, up to the quantisation of stake shares (2**31)
    assert result.scores[0] == pytest.approx((10 * U16_MAX + 2 * 40_000) * PPB / (12 * U16_MAX),
                                             abs=2)


def test_rows_that_agree_with_no_more_than_half_shape_no_score() -> None:
    # the two small validators disagree entirely (agreement 0): they are paid nothing and
    # lower nobody; the majority's judgment stands
    result = run([[U16_MAX], [0], [0]], [10 * MDT, MDT, MDT])
    assert result.scores == (PPB,)
    assert result.validator_rewards[1:] == (0, 0)


def test_when_every_row_disagrees_they_all_still_count() -> None:
    result = run([[U16_MAX, 0], [0, U16_MAX]], [MDT, MDT])
    assert result.consensus == (0, 0) and result.scores == (0, 0)


def test_kappa_is_the_stake_quantile() -> None:
    weights = np.array([[100], [200], [300], [400]], dtype=np.uint16)
    shares = stake_shares([1, 1, 1, 1])
    # Support of each value: 400 by 1/4 of the stake, 300 by 2/4, 200 by 3/4, 100 by all.
    assert consensus(weights, shares, to_ppb("0.8")).tolist() == [100]
    assert consensus(weights, shares, to_ppb("0.7")).tolist() == [200]
    assert consensus(weights, shares, to_ppb("0.3")).tolist() == [300]
    assert consensus(weights, shares, 0).tolist() == [400]


def test_scores_under_min_score_are_cut_and_others_share_the_pool() -> None:
    result = run([[U16_MAX, 6553]], [MDT], min_score=to_ppb("0.2"))
    assert result.scores == (PPB, 0)
    assert result.miner_rewards == (1000 * MDT, 0)
    assert result.miner_dust == 0


def test_validators_are_paid_by_stake_share_with_dust_accounted() -> None:
    result = run([[1], [1], [1]], [1, 1, 1], validator_emission=100)
    assert result.validator_rewards == (33, 33, 33)
    assert result.validator_dust == 1
    assert validator_emission(block_reward=MDT, tempo=75, subnet_weight=to_ppb("0.15")) == (
        MDT * 75 * 15 // 100
    )


def test_no_validators_or_no_stake_pays_nothing_and_mints_nothing() -> None:
    for weights, stakes in ((np.zeros((0, 3), dtype=np.uint16), []), ([[U16_MAX] * 3], [0])):
        result = epoch_rewards(weights, stakes, epoch_emission=1000, subnet_weight=PPB,
                               validator_emission=10)
        assert result.scores == (0, 0, 0)
        assert result.minted == 0
        assert result.dust == 1010


@pytest.mark.parametrize(("weights", "stakes", "kwargs"), [
    ([[1, 2]], [1, 2], {}),                          # stakes do not match rows
    ([[U16_MAX + 1]], [1], {}),                      # not u16
    ([[-1]], [1], {}),
    ([[0.5]], [1], {}),                              # floats never enter consensus
    ([1, 2], [1], {}),                               # not a matrix
    ([[1]], [-1], {}),
    ([[1]], [1], {"kappa": PPB}),
    ([[1]], [1], {"subnet_weight": PPB + 1}),
    ([[1]], [1], {"epoch_emission": -1}),
])
def test_bad_inputs_raise_a_typed_error(weights: list, stakes: list[int], kwargs: dict) -> None:
    with pytest.raises(EpochInputError):
        epoch_rewards(np.array(weights), stakes, **{"epoch_emission": 1, "subnet_weight": 1,
                                                    **kwargs})


def test_subnet_weights_must_sum_to_one_and_fractions_must_be_exact() -> None:
    check_subnet_weights([to_ppb("0.4"), to_ppb("0.3"), to_ppb("0.15"), to_ppb("0.15")])
    with pytest.raises(EpochInputError):
        check_subnet_weights([to_ppb("0.5"), to_ppb("0.4")])
    with pytest.raises(EpochInputError):
        to_ppb("0.1234567891")
    with pytest.raises(EpochInputError):
        to_ppb(0.15)  # type: ignore[arg-type]


def reference_scores(weights: list[list[int]], stakes: list[int], kappa: int) -> list[int]:
    """The definition, one miner at a time, in exact rationals (stakes quantised as the chain):
    scores over every row, then again over the rows that agree more than the floor, if some
    but not all do."""
    agreed, scores = _reference_pass(weights, stakes, kappa)
    kept = [_agreement(row, agreed) > AGREEMENT_FLOOR for row in weights]
    if any(kept) and not all(kept):
        _, scores = _reference_pass(weights, [s if k else 0 for s, k in zip(stakes, kept,
                                                                           strict=True)], kappa)
    return scores


def _agreement(row: list[int], agreed: list[int]) -> int:
    high = sum(max(w, c) for w, c in zip(row, agreed, strict=True))
    low = sum(min(w, c) for w, c in zip(row, agreed, strict=True))
    return low * PPB // high if high else 0


def _reference_pass(weights: list[list[int]], stakes: list[int], kappa: int
                    ) -> tuple[list[int], list[int]]:
    total = sum(stakes)
    shares = [(s << 31) // total if total else 0 for s in stakes]
    agreed_all, out = [], []
    for column in zip(*weights, strict=True):
        support = [x for x in column
                   if Fraction(sum(sh for sh, y in zip(shares, column, strict=True) if y >= x))
                   > Fraction(kappa, PPB) * sum(shares)]
        agreed = max(support, default=0)
        agreed_all.append(agreed)
        mean = Fraction(sum(sh * min(x, agreed) for sh, x in zip(shares, column, strict=True)),
                        sum(shares) * U16_MAX) if sum(shares) else Fraction(0)
        out.append(int(mean * PPB))
    return agreed_all, out


matrices = st.integers(1, 6).flatmap(lambda v: st.integers(0, 8).flatmap(lambda m: st.tuples(
    st.lists(st.lists(st.integers(0, U16_MAX), min_size=m, max_size=m), min_size=v, max_size=v),
    st.lists(st.integers(0, 10**27), min_size=v, max_size=v))))


@settings(max_examples=200, deadline=None)
@given(matrix=matrices, emission=st.integers(0, 10**27), subnet_weight=st.integers(0, PPB),
       kappa=st.integers(0, PPB - 1), min_score=st.integers(0, PPB),
       v_emission=st.integers(0, 10**24))
def test_accounting_is_exact_deterministic_and_matches_the_definition(
        matrix: tuple[list[list[int]], list[int]], emission: int, subnet_weight: int, kappa: int,
        min_score: int, v_emission: int) -> None:
    weights, stakes = matrix
    array = np.array(weights, dtype=np.uint16).reshape(len(stakes), len(weights[0]))
    kwargs = {"epoch_emission": emission, "subnet_weight": subnet_weight, "kappa": kappa,
              "min_score": min_score, "validator_emission": v_emission}
    result = epoch_rewards(array, stakes, **kwargs)
    assert sum(result.miner_rewards) + result.miner_dust == emission * subnet_weight // PPB
    assert sum(result.validator_rewards) + result.validator_dust == v_emission
    assert result.miner_dust >= 0 and result.validator_dust >= 0
    values = (*result.scores, *result.miner_rewards, *result.validator_rewards, result.dust)
    assert all(type(x) is int for x in values)
    expected = [s if s >= min_score else 0 for s in reference_scores(weights, stakes, kappa)]
    assert list(result.scores) == expected
    assert epoch_rewards(array.copy(), list(stakes), **kwargs) == result
    flipped = epoch_rewards(array[::-1], stakes[::-1], **kwargs)   # validator order is irrelevant
    assert flipped.scores == result.scores and flipped.miner_rewards == result.miner_rewards
