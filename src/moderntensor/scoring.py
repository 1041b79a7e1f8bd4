"""Scoring: pure functions shared by validators and the chain.

A validator measures four components per miner, each in [0, 1], and combines them as the miner
guide says::

    MinerScore = 0.4 Accuracy + 0.2 Latency + 0.2 Availability + 0.2 Consistency

>>> MinerScore(accuracy=1.0, latency=0.5, availability=1.0, consistency=1.0).total
0.9

Chain state holds integers only, so two fixed-point forms exist:

* **u16 weights** (``0 .. 65535``, 65535 = 1.0): what a validator writes on chain per miner,
  for the total and each component. :func:`to_u16` rounds to nearest, ties to even.
* **ppb** (parts per billion, ``10**9`` = 1.0): subnet weights in :func:`miner_reward`, so that
  decimal shares such as 0.15 are exact.

Rewards are integer base units of MDT (see :mod:`moderntensor.units`); division rounds down and
the exact remainder is returned, so dust is accounted for and never created.

>>> miner_reward(1000 * 10**18, 85, 1000, 150_000_000).amount  # 1000 MDT x 0.085 x 0.15
12750000000000000000
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from moderntensor.errors import InvalidInputError

# The four components, in the order of every column, tuple and ABI argument list.
COMPONENTS = ("accuracy", "latency", "availability", "consistency")
# The miner guide's weights of each component, in tenths (they sum to 10): integers, so the
# chain combines u16 components exactly; the float weights below are derived from them.
COMPONENT_TENTHS = (4, 2, 2, 2)
ACCURACY_WEIGHT, LATENCY_WEIGHT, AVAILABILITY_WEIGHT, CONSISTENCY_WEIGHT = (
    tenths / 10 for tenths in COMPONENT_TENTHS)

U16_MAX = 65_535            # on-chain weights: u16 fixed point, U16_MAX = 1.0
PPB = 1_000_000_000         # subnet weights: parts per billion, PPB = 1.0 (0.15 is exact)
DEFAULT_EMA_ALPHA = 0.1     # weight of the newest sample: ~10 samples of memory
# The validity gate (docs/incentives.md): latency, availability and consistency measure how
# well a miner serves *right* answers, so they only count answers that are right enough.
ANSWER_FLOOR = 0.5          # an answer whose suite accuracy is under this is not valid
ACCURACY_FLOOR = 0.2        # a miner whose accuracy is under this gets no latency/consistency


def _check_unit(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{name} must be a number in [0, 1], got {value!r}")
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise InvalidInputError(f"{name} must be in [0, 1], got {value!r}", data={name: value})
    return float(value)


def _clamp_unit(value: float) -> float:
    if math.isnan(value):
        return 0.0
    return min(1.0, max(0.0, value))


def latency_score(latency_s: float, target_s: float, timeout_s: float) -> float:
    """1 at or under ``target_s``, 0 at or over ``timeout_s``, linear in between.

    A NaN latency (nothing measured) scores 0. ``latency_score(1.5, 1.0, 2.0) == 0.5``.
    """
    if not 0 <= target_s < timeout_s or math.isinf(timeout_s):
        raise InvalidInputError(
            f"need 0 <= target ({target_s!r}) < timeout ({timeout_s!r}), both finite",
            data={"target_s": target_s, "timeout_s": timeout_s},
        )
    if math.isnan(latency_s):
        return 0.0
    if latency_s <= target_s:
        return 1.0
    if latency_s >= timeout_s:
        return 0.0
    return (timeout_s - latency_s) / (timeout_s - target_s)


def availability_score(valid: int, queried: int) -> float:
    """Share of queries answered validly; a miner never queried scores 0 (nothing shown)."""
    if valid < 0 or queried < 0 or valid > queried:
        raise InvalidInputError(
            f"need 0 <= valid ({valid}) <= queried ({queried})",
            data={"valid": valid, "queried": queried},
        )
    return valid / queried if queried else 0.0


def mean_score(values: Iterable[float], *, empty: float = 0.0) -> float:
    """Mean of scores in [0, 1] (each is checked); ``empty`` when there are none."""
    checked = [_check_unit("score", value) for value in values]
    if not checked:
        return _check_unit("empty", empty)
    # math.fsum: exactly rounded, so the mean does not depend on the order of the values.
    return _clamp_unit(math.fsum(checked) / len(checked))


def accuracy_score(scores: Iterable[float]) -> float:
    """Accuracy over a round: mean of the suite's per-output scores (failed requests count 0)."""
    return mean_score(scores, empty=0.0)


def consistency_score(similarities: Iterable[float]) -> float:
    """Consistency over a round: mean similarity of answers to repeated identical challenges.

    With no repeated pair measured yet there is no evidence against the miner, so it is 1.0;
    a validator should count a repeat that failed as similarity 0.
    """
    return mean_score(similarities, empty=1.0)


def ema(previous: float | None, value: float, alpha: float = DEFAULT_EMA_ALPHA) -> float:
    """Exponential moving average: ``alpha * value + (1 - alpha) * previous``.

    The first sample (``previous is None``) starts the average at ``value``.
    """
    if not 0.0 < alpha <= 1.0:
        raise InvalidInputError(f"alpha must be in (0, 1], got {alpha!r}")
    if previous is None:
        return value
    return alpha * value + (1.0 - alpha) * previous


@dataclass(frozen=True)
class MinerScore:
    """The four measured components of one miner, each in [0, 1], and their weighted total.

    >>> MinerScore(0.9, 0.8, 1.0, 0.7).to_u16()
    (58982, 52428, 65535, 45874, 56360)
    """

    accuracy: float
    latency: float
    availability: float
    consistency: float

    def __post_init__(self) -> None:
        for item in fields(self):
            _check_unit(item.name, getattr(self, item.name))

    @property
    def total(self) -> float:
        """``0.4 A + 0.2 L + 0.2 Av + 0.2 C``, in [0, 1]."""
        # fsum: exactly rounded, so 0.4 * 1 + 0.2 * 0.5 + 0.2 + 0.2 is 0.9, not 0.8999...
        return _clamp_unit(math.fsum((
            ACCURACY_WEIGHT * self.accuracy,
            LATENCY_WEIGHT * self.latency,
            AVAILABILITY_WEIGHT * self.availability,
            CONSISTENCY_WEIGHT * self.consistency,
        )))

    def ema(self, previous: MinerScore | None, alpha: float = DEFAULT_EMA_ALPHA) -> MinerScore:
        """This round's score folded into the moving average ``previous`` (component-wise)."""
        if previous is None:
            return self
        return MinerScore(*(
            _clamp_unit(ema(getattr(previous, item.name), getattr(self, item.name), alpha))
            for item in fields(self)
        ))

    def gated(self) -> MinerScore:
        """This score with latency and consistency zeroed when accuracy is under the floor.

        Why: a miner that is fast and says the same thing every time without being right
        would otherwise earn 0.4 of the formula; speed and consistency of wrong answers are
        worth nothing. Validators write gated scores, so the chain shows the gate.
        """
        if self.accuracy >= ACCURACY_FLOOR:
            return self
        return MinerScore(self.accuracy, 0.0, self.availability, 0.0)

    def to_u16(self) -> tuple[int, int, int, int, int]:
        """``(accuracy, latency, availability, consistency, total)`` as u16 for the chain.

        The total is combined from the rounded components by :func:`combine_u16`, so the chain
        can recompute it from the components it stores and get the same integer.
        """
        parts = tuple(to_u16(getattr(self, item.name)) for item in fields(self))
        a, lat, av, c = parts
        return a, lat, av, c, combine_u16(a, lat, av, c)

    @classmethod
    def from_u16(cls, accuracy: int, latency: int, availability: int, consistency: int
                 ) -> MinerScore:
        """Read components back from u16 (``x / 65535``); the inverse of :meth:`to_u16`."""
        return cls(from_u16(accuracy), from_u16(latency), from_u16(availability),
                   from_u16(consistency))


@dataclass(frozen=True)
class Answer:
    """One query's measurements: the suite's accuracy (0 for a failed query), the latency
    score (:func:`latency_score`, 0 for a failed query) and whether an answer came back."""

    accuracy: float
    latency: float
    answered: bool

    @property
    def valid(self) -> bool:
        """An answer that came back and is right enough (accuracy >= :data:`ANSWER_FLOOR`)."""
        return self.answered and self.accuracy >= ANSWER_FLOOR


def round_score(answers: Sequence[Answer], repeats: Sequence[tuple[int, int, float]]
                ) -> MinerScore:
    """One round's gated :class:`MinerScore` from its answers (the rules of the miner page).

    accuracy = mean accuracy over every query (failures 0); availability = valid answers /
    queries; latency = mean over the answers that came back of their latency score if valid,
    else 0 (a fast wrong answer is worth nothing); consistency = mean similarity over the
    repeated pairs ``(first, second, similarity)`` that both came back, a pair counting 0
    unless both answers are valid (a constant wrong answer is not consistent), 0 if repeats
    were asked and no pair came back, 1.0 with no repeat asked and a valid answer. A failed
    query is charged once, to availability and accuracy. Then :meth:`MinerScore.gated`.

    >>> good, wrong = Answer(1.0, 1.0, True), Answer(0.0, 1.0, True)
    >>> round_score([good, good], [(0, 1, 1.0)]).total
    1.0
    >>> round_score([wrong, wrong], [(0, 1, 1.0)]).total
    0.0
    """
    if not answers:
        return MinerScore(0.0, 0.0, 0.0, 0.0)
    valid = [answer.valid for answer in answers]
    for first, second, _ in repeats:
        if not (0 <= first < len(answers) and 0 <= second < len(answers)):
            raise InvalidInputError(f"repeat pair ({first}, {second}) is out of range")
    whole = [(first, second, similarity) for first, second, similarity in repeats
             if answers[first].answered and answers[second].answered]
    if whole:
        consistency = mean_score(similarity if valid[first] and valid[second] else 0.0
                                 for first, second, similarity in whole)
    else:
        consistency = 1.0 if any(valid) and not repeats else 0.0
    return MinerScore(
        accuracy=accuracy_score(answer.accuracy for answer in answers),
        latency=mean_score((answer.latency if ok else 0.0
                            for answer, ok in zip(answers, valid, strict=True)
                            if answer.answered), empty=0.0),
        availability=availability_score(sum(valid), len(answers)),
        consistency=consistency,
    ).gated()


def score_reasons(score: MinerScore) -> list[str]:
    """Why components of a (gated) score are low, in words a miner can act on.

    >>> score_reasons(MinerScore(0.02, 0.0, 0.0, 0.0))[0]
    'accuracy 0.02 under floor 0.20: latency/consistency not counted'
    """
    reasons = []
    if score.accuracy < ACCURACY_FLOOR:
        reasons.append(f"accuracy {score.accuracy:.2f} under floor {ACCURACY_FLOOR:.2f}: "
                       "latency/consistency not counted")
    elif score.availability < 0.5:
        reasons.append(f"availability {score.availability:.2f}: most answers failed or scored "
                       f"under {ANSWER_FLOOR:.2f} (only valid answers count)")
    return reasons


def to_u16(value: float) -> int:
    """A score in [0, 1] as u16 fixed point: ``round(value * 65535)``, ties to even.

    Values outside [0, 1] are clamped first and NaN becomes 0, so a validator's float noise
    (1.0000000002) never makes an invalid weight.
    """
    return round(_clamp_unit(float(value)) * U16_MAX)


def from_u16(value: int) -> float:
    """A u16 fixed-point score as a float in [0, 1]."""
    _check_u16(value)
    return value / U16_MAX


def _check_u16(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= U16_MAX:
        raise InvalidInputError(f"{value!r} is not a u16 score (0..{U16_MAX})", data=value)
    return value


def combine_u16(accuracy: int, latency: int, availability: int, consistency: int) -> int:
    """The total in u16 from u16 components, integers only (what the chain recomputes).

    ``(4 A + 2 L + 2 Av + 2 C) / 10``, rounded to nearest with ties up (``+ 5 // 10``).
    """
    parts = (accuracy, latency, availability, consistency)
    return combine_u16_columns(*(_check_u16(part) for part in parts))


def combine_u16_columns(accuracy: Any, latency: Any, availability: Any, consistency: Any) -> Any:
    """:func:`combine_u16` without the range checks, for ints or whole numpy ``int64`` columns
    at once (the chain checks a validator's row with it; the caller checks the range)."""
    parts = (accuracy, latency, availability, consistency)
    weighted = sum(tenths * part for tenths, part in zip(COMPONENT_TENTHS, parts, strict=True))
    return (weighted + 5) // 10


@dataclass(frozen=True)
class RewardShare:
    """An exact reward: ``amount + remainder / denominator`` base units.

    ``amount`` is what is paid (rounded down); ``remainder / denominator`` (< 1 base unit) is
    the dust left unpaid, for the chain to account for.
    """

    amount: int
    remainder: int
    denominator: int


def _check_nonnegative_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(f"{name} must be a non-negative integer, got {value!r}",
                                data={name: value})
    return value


def miner_reward(epoch_emission: int, score: int, total_scores: int, subnet_weight: int
                 ) -> RewardShare:
    """``EpochEmission x (YourScore / TotalScores) x SubnetWeight`` in integer base units.

    ``score`` and ``total_scores`` are fixed-point integers of one same scale (u16, ppb, ...);
    ``subnet_weight`` is in ppb (``150_000_000`` = 0.15). The guide's example, exactly:

    >>> miner_reward(1000 * 10**18, 850_000_000, 10_000_000_000, 150_000_000).amount
    12750000000000000000

    A zero ``total_scores`` pays nothing (no miner earned a share).
    """
    _check_nonnegative_int("epoch_emission", epoch_emission)
    _check_nonnegative_int("score", score)
    _check_nonnegative_int("total_scores", total_scores)
    _check_nonnegative_int("subnet_weight", subnet_weight)
    if score > total_scores:
        raise InvalidInputError(f"score {score} exceeds total_scores {total_scores}",
                                data={"score": score, "total_scores": total_scores})
    if subnet_weight > PPB:
        raise InvalidInputError(f"subnet_weight {subnet_weight} exceeds {PPB} (1.0 in ppb)",
                                data={"subnet_weight": subnet_weight})
    if total_scores == 0:
        return RewardShare(amount=0, remainder=0, denominator=1)
    # One multiplication, one division: exact rational value, a single rounding (floor).
    numerator = epoch_emission * score * subnet_weight
    denominator = total_scores * PPB
    amount, remainder = divmod(numerator, denominator)
    return RewardShare(amount=amount, remainder=remainder, denominator=denominator)


@dataclass(frozen=True)
class EpochRewards:
    """Rewards of every miner of a subnet for one epoch, and the dust rounding left over.

    ``paid + dust == subnet_emission``, where ``subnet_emission`` is the subnet's share of the
    epoch emission rounded down (its own sub-unit fraction is below one base unit).
    """

    rewards: tuple[int, ...]
    paid: int
    dust: int
    subnet_emission: int


def split_rewards(epoch_emission: int, scores: Sequence[int], subnet_weight: int) -> EpochRewards:
    """Pay each miner :func:`miner_reward` of its score against the sum of all ``scores``.

    >>> split_rewards(100, [1, 1, 1], PPB)
    EpochRewards(rewards=(33, 33, 33), paid=99, dust=1, subnet_emission=100)
    """
    _check_nonnegative_int("subnet_weight", subnet_weight)
    total = sum(_check_nonnegative_int("score", score) for score in scores)
    rewards = tuple(
        miner_reward(epoch_emission, score, total, subnet_weight).amount for score in scores
    )
    subnet_emission = epoch_emission * subnet_weight // PPB if total else 0
    paid = sum(rewards)
    return EpochRewards(rewards=rewards, paid=paid, dust=subnet_emission - paid,
                        subnet_emission=subnet_emission)
