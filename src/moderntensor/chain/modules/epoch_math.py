"""Epoch: turn the validators' weights of one subnet into scores and MDT rewards.

Pure, deterministic, integer only (numpy ``int64`` plus Python ints for amounts), vectorised.
The procedure (docs/validator.md, "How validators are paid"):

1. ``weights`` is the matrix W of the active validators' latest weights, u16 fixed point
   (``65535`` = 1.0), one row per validator, one column per miner uid; ``present`` says which
   entries a validator actually gave. A validator that gave no weight at all (an empty row) is
   left out: it dilutes nobody. In a row that gave some, a miner it did not score counts 0, so
   a minority of the stake (one random validator, say) can never vouch for a miner alone.
2. Consensus per miner = the stake-weighted kappa-quantile of its column among the validators
   with a row: the largest weight that validators holding **more than** ``kappa`` of their
   stake gave at least. Every weight is clipped to it, so a minority cannot inflate a miner.
3. Score = stake-weighted mean of the clipped column over the validators with a row, in ppb
   (``10**9`` = 1.0), rounded down (``raw_scores``); scores under ``min_score`` become 0.
   Then steps 2-3 run once more without the rows that agree (step 5) no more than
   :data:`AGREEMENT_FLOOR` with that consensus, if some but not all rows do: a row the pool
   pays nothing for is noise (random, say) and moves no honest miner's score up or down.
4. ``MinerReward = EpochEmission x (score / TotalScores) x SubnetWeight`` through
   :func:`moderntensor.scoring.split_rewards` (the validator uses the same function); rounding
   is down and the dust is returned, never minted.
5. Validators are paid for agreeing with consensus (our vtrust, docs/incentives.md):
   ``agreement_i = sum_j min(w_ij, c_j) / sum_j max(w_ij, c_j)`` over every miner (a weight not
   given counts 0 here: leaving miners out costs agreement), in ppb; its excess over
   :data:`AGREEMENT_FLOOR` is ``e_i = max(0, agreement_i - 0.5) / 0.5``, and validator *i* gets
   ``validator_emission x stake_i e_i**2 / sum_k stake_k e_k**2``. An empty row agrees 0 and
   earns 0; a random row agrees ~0.2-0.45 (it shares half the mass with consensus at best) and
   earns ~0; a copied row agrees 0; the square widens every gap in agreement, so a stale,
   perturbed copy of an honest row, which agrees less with the *current* consensus whenever
   scores move, earns less than the row it copied.

Validator emission: validators are paid from their own stream, ``BlockReward`` per block, so an
epoch of one subnet pays :func:`validator_emission` ``= block_reward x tempo x subnet_weight``.

>>> r = epoch_rewards([[65535, 0]], [10**18], epoch_emission=100, subnet_weight=PPB)
>>> r.scores, r.miner_rewards, r.miner_dust
((1000000000, 0), (100, 0), 0)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import numpy as np
import numpy.typing as npt

from moderntensor.errors import InvalidInputError
from moderntensor.scoring import PPB, U16_MAX, split_rewards

DEFAULT_KAPPA = PPB // 2        # consensus needs more than half of the stake: a weighted median
DEFAULT_MIN_SCORE = 0           # subnets opt in to a cut; 0 pays every miner with a score
AGREEMENT_FLOOR = PPB // 2      # a row agreeing on no more than half the mass is noise: no pay
STAKE_SHARE_BITS = 31           # stakes enter the matrix math as shares of 2**31 (fits a u32)


class EpochInputError(InvalidInputError):
    """The epoch was given inputs that can never be valid (shape, range, type)."""

    code = "invalid_epoch_input"


@dataclass(frozen=True)
class EpochResult:
    """Everything one epoch of one subnet decided; indices follow the input rows/columns.

    ``miner_rewards`` sum with ``miner_dust`` to ``miner_emission``; ``validator_rewards`` sum
    with ``validator_dust`` to ``validator_emission``. Dust is never minted. A payout record is
    (epoch, subnet, address, ``scores[i]``, ``total_score``, ``subnet_weight``,
    ``miner_emission``, ``miner_rewards[i]``), the caller adding epoch, subnet and address.
    """

    consensus: tuple[int, ...]          # u16, per miner
    raw_scores: tuple[int, ...]         # ppb, per miner, before the min_score cut
    scores: tuple[int, ...]             # ppb, per miner, after the min_score cut
    total_score: int                    # ppb, sum of scores
    subnet_weight: int                  # ppb
    miner_emission: int                 # base units: EpochEmission x SubnetWeight, rounded down
    miner_rewards: tuple[int, ...]      # base units, per miner
    miner_dust: int
    validator_emission: int             # base units, the validators' pool of this epoch
    validator_rewards: tuple[int, ...]  # base units, per validator row
    validator_dust: int
    agreement: tuple[int, ...] = ()     # ppb, per validator row (step 5)
    validator_weights: tuple[int, ...] = ()   # ppb share of the validator pool, per row

    @property
    def minted(self) -> int:
        """Base units credited to accounts by this epoch (rewards only, never dust)."""
        return sum(self.miner_rewards) + sum(self.validator_rewards)

    @property
    def dust(self) -> int:
        """Base units of the pools left unpaid by rounding (or for want of scores/stake)."""
        return self.miner_dust + self.validator_dust


def to_ppb(value: str | int | Decimal) -> int:
    """Exact decimal -> ppb fixed point: ``to_ppb("0.15") == 150_000_000``.

    Floats are refused (``0.15`` is not exact in binary); more than 9 decimals is an error.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise EpochInputError(f"give a fraction as a string, int or Decimal, got {value!r}")
    try:
        scaled = Decimal(value) * PPB
    except InvalidOperation:
        raise EpochInputError(f"{value!r} is not a decimal number") from None
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise EpochInputError(f"{value!r} is not exact in ppb (at most 9 decimals)")
    return int(scaled)


def validator_emission(block_reward: int, tempo: int, subnet_weight: int) -> int:
    """Validators' pool of one subnet epoch: ``block_reward x tempo x subnet_weight``, floored."""
    for name, value in (("block_reward", block_reward), ("tempo", tempo),
                        ("subnet_weight", subnet_weight)):
        _check_int(name, value, 0, None)
    return block_reward * tempo * subnet_weight // PPB


def check_subnet_weights(weights: Iterable[int]) -> None:
    """Raise unless the subnet weights (ppb) are non-negative and sum to exactly 1.0."""
    values = list(weights)
    for value in values:
        _check_int("subnet weight", value, 0, PPB)
    if sum(values) != PPB:
        raise EpochInputError(f"subnet weights sum to {sum(values)} ppb, not {PPB} (1.0)",
                              data={"weights": values})


def _check_int(name: str, value: int, low: int, high: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise EpochInputError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        raise EpochInputError(f"{name} = {value} is outside [{low}, {high}]", data={name: value})
    return int(value)


def _as_weight_matrix(weights: npt.ArrayLike) -> npt.NDArray[np.uint16]:
    matrix = np.asarray(weights)
    if matrix.ndim != 2:
        raise EpochInputError(f"weights must be a validators x miners matrix, got {matrix.shape}")
    if matrix.size and not np.issubdtype(matrix.dtype, np.integer):
        raise EpochInputError(f"weights must be u16 integers, got dtype {matrix.dtype}")
    if matrix.size and (matrix.min() < 0 or matrix.max() > U16_MAX):
        raise EpochInputError(f"weights must be in [0, {U16_MAX}] (u16 fixed point)")
    return matrix.astype(np.uint16, copy=False)


def stake_shares(stakes: Sequence[int]) -> npt.NDArray[np.int64]:
    """Stakes (base units, any size) -> ``floor(stake x 2**31 / total)`` as int64.

    Why: base-unit stakes overflow int64; shares of 2**31 fit the low half of a sort key and
    keep every product in the matrix math below 2**63, while resolving 4.7e-10 of the stake.
    Computed with Python ints, so exact.
    """
    total = sum(stakes)
    if total == 0:
        return np.zeros(len(stakes), dtype=np.int64)
    return np.array([(s << STAKE_SHARE_BITS) // total for s in stakes], dtype=np.int64)


def _entry_shares(shares: npt.NDArray[np.int64], present: npt.NDArray[np.bool_]
                  ) -> npt.NDArray[np.int64]:
    """Each entry's stake share, 0 where the validator gave that miner no weight."""
    return np.where(present, shares[:, np.newaxis], 0)


def consensus(weights: npt.NDArray[np.uint16], shares: npt.NDArray[np.int64],
              kappa: int = DEFAULT_KAPPA, present: npt.NDArray[np.bool_] | None = None
              ) -> npt.NDArray[np.int64]:
    """Per miner: the largest weight given at least by validators with > kappa of the stake
    of the validators that scored it.

    ``weights`` is validators x miners (u16), ``shares`` the validators' integer stake weights
    in [0, 2**32) (:func:`stake_shares`), ``kappa`` in ppb, ``present`` which entries were
    given (default: all). A column where no value has that support gets consensus 0.
    """
    n_validators, n_miners = weights.shape
    if n_validators == 0 or n_miners == 0:
        return np.zeros(n_miners, dtype=np.int64)
    if shares.min() < 0 or shares.max() >> 32:
        raise EpochInputError("stake shares must be in [0, 2**32); use stake_shares()")
    dense = present is None or bool(present.all())
    # One uint64 key per entry, (65535 - weight) << 32 | stake share, miners as rows: sorting
    # the keys orders each column by weight descending and carries each entry's share along,
    # so no argsort and no gather (numpy's SIMD sort; ~2x faster). Equal weights may come in
    # any order: the first value whose running stake passes the threshold is the same.
    keys = np.empty((n_miners, n_validators), dtype=np.uint64)
    np.subtract(U16_MAX, weights.T, out=keys, dtype=np.uint64)
    keys <<= 32
    if dense:       # every validator scored every miner: one share per row, broadcast
        keys |= shares.astype(np.uint64)
        column_stake: npt.NDArray[np.int64] | int = int(shares.sum())
    else:
        entry = _entry_shares(shares, present)
        keys |= entry.T.astype(np.uint64)
        column_stake = entry.sum(axis=0)
    keys.sort(axis=1)
    running = keys & 0xFFFFFFFF
    np.cumsum(running, axis=1, out=running)
    # running x PPB > kappa x total  <=>  running > floor(kappa x total / PPB): integers.
    thresholds = np.asarray(kappa * column_stake // PPB, dtype=np.uint64)
    passed = running > (thresholds[:, np.newaxis] if thresholds.ndim else thresholds)
    first = np.argmax(passed, axis=1)
    rows = np.arange(n_miners)
    values = U16_MAX - (keys[rows, first] >> 32).astype(np.int64)
    return np.where(passed[rows, first], values, 0)


def _floor_scale(numerators: npt.NDArray[np.int64], multiplier_digits: int,
                 denominator: int | npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``floor(n x 10**digits / denominator)`` without overflow, by base-1000 long division.

    Why: n x 10**9 overflows int64 while n < 2**47; each step multiplies a remainder
    (< denominator < 2**47) by 1000 only.
    """
    quotient, remainder = np.divmod(numerators, denominator)
    for _ in range(multiplier_digits // 3):
        digit, remainder = np.divmod(remainder * 1000, denominator)
        quotient = quotient * 1000 + digit
    return quotient


def miner_scores(weights: npt.NDArray[np.uint16], shares: npt.NDArray[np.int64],
                 kappa: int = DEFAULT_KAPPA, present: npt.NDArray[np.bool_] | None = None
                 ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Consensus (u16) and scores before the ``min_score`` cut (ppb): steps 2 and 3."""
    given = np.ones(weights.shape, dtype=bool) if present is None else present
    agreed = consensus(weights, shares, kappa, given)
    if weights.shape[0] == 0 or weights.shape[1] == 0:
        return agreed, np.zeros(weights.shape[1], dtype=np.int64)
    clipped = np.minimum(weights, agreed[np.newaxis, :].astype(np.uint16))
    if given.all():     # the common case: one matmul, as without the rule
        column_stake = np.full(weights.shape[1], int(shares.sum()), dtype=np.int64)
    else:
        column_stake = shares @ given.astype(np.int64)
        clipped = np.where(given, clipped, 0).astype(np.uint16)
    weighted = shares @ clipped                      # <= 2**31 x 65535 < 2**47 per miner
    scores = _floor_scale(weighted, 9, np.maximum(column_stake, 1) * U16_MAX)
    return agreed, np.where(column_stake > 0, scores, 0)


def agreement(weights: npt.NDArray[np.uint16], present: npt.NDArray[np.bool_],
              agreed: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Per validator row, in ppb: ``sum_j min(w_ij, c_j) / sum_j max(w_ij, c_j)`` (step 5).

    A weight not given counts 0. A row without a positive weight (empty, or zeros) agrees 0,
    even with an all-zero consensus: it claims nothing anyone could check, so it is never paid.
    """
    given = weights if present.all() else np.where(present, weights, 0).astype(np.uint16)
    target = agreed.astype(np.uint16)[np.newaxis, :]     # u16 throughout: half the memory
    low = np.minimum(given, target).sum(axis=1, dtype=np.int64)
    high = np.maximum(given, target).sum(axis=1, dtype=np.int64)
    return _floor_scale(low, 9, np.maximum(high, 1))


def validator_pay_weights(stakes: Sequence[int], agreements: Sequence[int]) -> list[int]:
    """``stake x excess**2`` per validator, ``excess = max(0, agreement - AGREEMENT_FLOOR)``
    (exact Python ints): the validator pool's key (step 5)."""
    excess = [max(0, agree - AGREEMENT_FLOOR) for agree in agreements]
    return [stake * e * e for stake, e in zip(stakes, excess, strict=True)]


def _scores_of_rows(matrix: npt.NDArray[np.uint16], stakes: list[int],
                    rows: npt.NDArray[np.bool_], kappa: int
                    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Consensus and scores (steps 2-3) over the validator rows in ``rows`` only (the others
    take no part, not even in the quantisation of the stake shares)."""
    stakes_in = [stake if row else 0 for stake, row in zip(stakes, rows.tolist(), strict=True)]
    mask = np.repeat(rows[:, np.newaxis], matrix.shape[1], axis=1)
    return miner_scores(matrix, stake_shares(stakes_in), kappa, mask)


def epoch_rewards(weights: npt.ArrayLike, stakes: Sequence[int], *, epoch_emission: int,
                  subnet_weight: int, kappa: int = DEFAULT_KAPPA,
                  min_score: int = DEFAULT_MIN_SCORE, validator_emission: int = 0,
                  present: npt.ArrayLike | None = None,
                  copied: Sequence[bool] | None = None) -> EpochResult:
    """Run one epoch of one subnet (steps 1-5). See the module docstring.

    ``weights``: active validators x miners, u16; ``present``: which of them were given
    (booleans of the same shape, default all); ``copied``: per row, whether it copies another
    validator's row (``row_copies``): a copy agrees 0, so it is paid nothing (its values are
    another validator's honest judgment: they still count in consensus). ``stakes``: the
    active validators' stakes in base units. ``epoch_emission``, ``validator_emission``: base
    units. ``subnet_weight``, ``kappa``, ``min_score``: ppb. A lone miner scored 1.0 takes the
    subnet's whole share (1000 MDT x 0.15)::

        >>> r = epoch_rewards([[65535]], [1], epoch_emission=10**21, subnet_weight=150_000_000)
        >>> r.miner_rewards
        (150000000000000000000,)
    """
    matrix = _as_weight_matrix(weights)
    stake_list = [_check_int("stake", s, 0, None) for s in stakes]
    if len(stake_list) != matrix.shape[0]:
        raise EpochInputError(f"{len(stake_list)} stakes for {matrix.shape[0]} validator rows")
    _check_int("epoch_emission", epoch_emission, 0, None)
    _check_int("validator_emission", validator_emission, 0, None)
    _check_int("subnet_weight", subnet_weight, 0, PPB)
    _check_int("kappa", kappa, 0, PPB - 1)           # kappa = 1 would need > 100% of the stake
    _check_int("min_score", min_score, 0, PPB)

    given = (np.ones(matrix.shape, dtype=bool) if present is None
             else np.asarray(present, dtype=bool))
    if given.shape != matrix.shape:
        raise EpochInputError(f"present has shape {given.shape}, weights {matrix.shape}")
    # an empty row takes no part in consensus; in any other row a weight not given is a 0
    # (one validator alone cannot vouch for a miner)
    rows_given = given.any(axis=1)
    matrix = np.where(given, matrix, 0).astype(np.uint16)
    agreed, raw = _scores_of_rows(matrix, stake_list, rows_given, kappa)
    # a row the pool pays nothing for (agreement at or under the floor: noise, e.g. random) takes
    # no part in miners' scores either, unless every row is such (disagreeing validators must
    # not zero a subnet): a minority of noise cannot move honest miners' pay up or down
    copies = (np.zeros(len(stake_list), dtype=bool) if copied is None
              else np.asarray(copied, dtype=bool))
    if copies.shape != (len(stake_list),):
        raise EpochInputError(f"copied has {copies.size} entries for {len(stake_list)} rows")
    kept = rows_given & (agreement(matrix, given, agreed) > AGREEMENT_FLOOR)
    if kept.any() and not np.array_equal(kept, rows_given):
        agreed, raw = _scores_of_rows(matrix, stake_list, kept, kappa)
    score_list = np.where(raw >= min_score, raw, 0).tolist()
    split = split_rewards(epoch_emission, score_list, subnet_weight)
    miner_emission = epoch_emission * subnet_weight // PPB   # dust includes "nobody scored"

    agreements = np.where(copies, 0, agreement(matrix, given, agreed)).tolist()
    pay = validator_pay_weights(stake_list, agreements)
    total_pay = sum(pay)
    validator_rewards = tuple(validator_emission * p // total_pay if total_pay else 0
                              for p in pay)
    return EpochResult(
        consensus=tuple(agreed.tolist()),
        raw_scores=tuple(raw.tolist()),
        scores=tuple(score_list),
        total_score=sum(score_list),
        subnet_weight=subnet_weight,
        miner_emission=miner_emission,
        miner_rewards=split.rewards,
        miner_dust=miner_emission - split.paid,
        validator_emission=validator_emission,
        validator_rewards=validator_rewards,
        validator_dust=validator_emission - sum(validator_rewards),
        agreement=tuple(agreements),
        validator_weights=tuple(p * PPB // total_pay if total_pay else 0 for p in pay),
    )
