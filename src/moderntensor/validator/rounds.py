"""One round's questions and its verdicts: planning challenges and scoring what came back.

Planning is seeded by the validator's secret, the round number and the miner, so every miner
gets its own challenges that no one outside the validator can predict, and a replay of the
same round (tests) plans the same questions. A share of each miner's challenges is asked twice
(identical requests, separately signed) to measure consistency.

Scoring follows docs/incentives.md, from the validator's own measurements only, through
:func:`moderntensor.scoring.round_score` (the validity gate: latency, availability and
consistency count only answers whose accuracy passes the floor).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from moderntensor.scoring import Answer, MinerScore, latency_score, round_score
from moderntensor.subnets.base import Challenge, TaskSuite
from moderntensor.validator.chainview import MinerEndpoint
from moderntensor.validator.query import QueryResult

log = logging.getLogger("moderntensor.validator")

DEFAULT_CHALLENGES_PER_MINER = 4
DEFAULT_REPEAT_SHARE = 0.25        # of each miner's challenges, asked a second time


@dataclass(frozen=True)
class MinerPlan:
    """The challenges one miner gets this round; ``repeats`` pairs indices of identical ones."""

    miner: MinerEndpoint
    challenges: tuple[Challenge, ...]
    repeats: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class MinerRound:
    """One miner's verdict for one round."""

    miner: MinerEndpoint
    score: MinerScore
    queries: int
    valid: int
    latency_s: float | None                # mean measured latency of valid answers
    outcomes: Counter[str] = field(default_factory=Counter)


def round_rng(secret: bytes, netuid: int, round_number: int, miner: MinerEndpoint
              ) -> random.Random:
    """A generator only this validator can reproduce: HMAC(secret, subnet|round|uid|address)."""
    message = f"{netuid}|{round_number}|{miner.uid}|{miner.address.lower()}".encode()
    # Not a key: a reproducible stream whose seed is a secret HMAC, reseeded every round.
    return random.Random(hmac.new(secret, message, hashlib.sha256).digest())  # noqa: S311


def plan_miner(suite: TaskSuite, rng: random.Random, miner: MinerEndpoint, *,
               count: int = DEFAULT_CHALLENGES_PER_MINER,
               repeat_share: float = DEFAULT_REPEAT_SHARE) -> MinerPlan:
    """``count`` challenges for ``miner``, ``round(count * repeat_share)`` of them repeats.

    With ``count >= 2`` and a positive share there is at least one repeated pair.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    repeats = round(count * repeat_share) if count >= 2 else 0
    if repeat_share > 0 and count >= 2:
        repeats = max(1, repeats)
    repeats = min(repeats, count // 2)
    fresh = [suite.for_miner(suite.make_challenge(rng), miner.address)
             for _ in range(count - repeats)]
    originals = rng.sample(range(len(fresh)), repeats)
    order = list(range(len(fresh))) + originals      # positions in ``fresh``
    rng.shuffle(order)
    challenges = tuple(fresh[i] for i in order)
    pairs = []
    for original in originals:
        where = [pos for pos, i in enumerate(order) if i == original]
        pairs.append((where[0], where[1]))
    return MinerPlan(miner, challenges, tuple(sorted(pairs)))


def score_miner(suite: TaskSuite, plan: MinerPlan, results: Sequence[QueryResult]
                ) -> MinerRound:
    """Turn one miner's results (in plan order) into its :class:`MinerRound`."""
    answers, latencies = [], []
    outcomes: Counter[str] = Counter()
    for challenge, result in zip(plan.challenges, results, strict=True):
        outcomes[result.outcome.value] += 1
        if not result.ok:
            answers.append(Answer(0.0, 0.0, answered=False))
            continue
        assert result.latency_s is not None
        answer = Answer(_safe_unit(suite.accuracy, challenge, result.output),
                        latency_score(result.latency_s, suite.latency_target_s,
                                      suite.timeout_s), answered=True)
        answers.append(answer)
        if answer.valid:
            latencies.append(result.latency_s)
    repeats = [(first, second,
                _safe_unit(suite.consistency, results[first].output, results[second].output)
                if results[first].ok and results[second].ok else 0.0)
               for first, second in plan.repeats]
    score = round_score(answers, repeats)
    valid = len(latencies)
    mean_latency = math.fsum(latencies) / valid if valid else None
    return MinerRound(plan.miner, score, len(results), valid, mean_latency, outcomes)


def _safe_unit(function, *args) -> float:  # type: ignore[no-untyped-def]
    """A suite's score, clamped to [0, 1]; a suite that raises or returns junk gives 0."""
    try:
        value = float(function(*args))
    except Exception:  # a suite bug must cost one miner one answer, not the round
        log.exception("suite %s raised; scoring the answer 0", getattr(function, "__name__", "?"))
        return 0.0
    if math.isnan(value):
        return 0.0
    return min(1.0, max(0.0, value))
