"""Choosing miners for one subnet: on-chain score, live latency, retries, a circuit breaker.

Each request tries the best-ranked miner first and, when it fails (unreachable, timed out,
an error status, a bad signature, an answer outside the task's schema), the next one, until one
answers, ``attempts`` miners were tried or the request's deadline passes. The rank of a miner is
its on-chain score divided by ``1 + latency / target``, where latency is a moving average of
what the gateway itself measured (the subnet's latency target until it has measured any), so a
well-scored but currently slow miner yields to a quick one. ``breaker_failures`` failures in a
row open a miner's breaker: it gets no traffic for ``breaker_cooldown_s``, then one trial
request (half-open) decides whether it closes again. With ``hedge_after_s`` a request that has
no answer by then is also sent to the next miner (a hedged request, for tail latency). A miner
that answers 429 (it rate-limits each validator, the gateway included) is skipped for that
request but not held against it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moderntensor.subnets.base import Challenge, TaskSuite
from moderntensor.validator.chainview import MinerEndpoint
from moderntensor.validator.query import MinerQuerier, QueryResult

LATENCY_SMOOTHING = 0.3   # weight of the newest latency in the moving average
BUSY_STATUS = 429         # the miner's per-validator rate limit: not a fault of the miner
SCORE_FLOOR = 0.01        # an unscored miner still ranks (by latency) behind scored ones


@dataclass(frozen=True)
class RoutingPolicy:
    """How hard the gateway tries for one request."""

    attempts: int = 3                 # miners tried per request
    timeout_s: float = 30.0           # the whole request, over all attempts
    breaker_failures: int = 3         # failures in a row that open a miner's breaker
    breaker_cooldown_s: float = 30.0  # how long an open breaker keeps a miner out
    hedge_after_s: float | None = None  # also ask the next miner when none answered by then


@dataclass
class MinerHealth:
    """What the gateway has seen of one miner."""

    latency_s: float | None = None
    failures_in_row: int = 0
    open_until: float = 0.0
    answered: int = 0
    failed: int = 0

    def observe(self, result: QueryResult, policy: RoutingPolicy, now: float) -> None:
        if result.ok:
            assert result.latency_s is not None
            self.latency_s = result.latency_s if self.latency_s is None else (
                LATENCY_SMOOTHING * result.latency_s
                + (1 - LATENCY_SMOOTHING) * self.latency_s)
            self.failures_in_row, self.open_until = 0, 0.0
            self.answered += 1
            return
        self.failed += 1
        if result.status == BUSY_STATUS:
            return  # a healthy miner pacing this validator: try another, keep it in rotation
        self.failures_in_row += 1
        if self.failures_in_row >= policy.breaker_failures:
            self.open_until = now + policy.breaker_cooldown_s


@dataclass(frozen=True)
class RoutedAnswer:
    """The output of the miner that answered, and what it took."""

    miner: MinerEndpoint
    output: Any
    latency_s: float
    attempts: int


class NoMinerAnswered(Exception):  # noqa: N818 (an outcome, caught by the app)
    """Every attempt failed; ``failures`` says how, per miner uid."""

    def __init__(self, failures: dict[int, str]) -> None:
        super().__init__(", ".join(f"uid {u}: {why}" for u, why in failures.items())
                         or "no miner of this subnet serves an endpoint")
        self.failures = failures


@dataclass
class Router:
    """Routes the requests of one subnet to its miners."""

    netuid: int
    suite: TaskSuite
    querier: MinerQuerier
    policy: RoutingPolicy = field(default_factory=RoutingPolicy)
    clock: Callable[[], float] = time.monotonic
    miners: list[MinerEndpoint] = field(default_factory=list)
    scores: dict[int, float] = field(default_factory=dict)
    health: dict[int, MinerHealth] = field(default_factory=dict)

    def update(self, miners: list[MinerEndpoint], scores: dict[int, float]) -> None:
        """A fresh metagraph: miners without an endpoint are left out; health is kept."""
        self.miners = [m for m in miners if m.url is not None]
        self.scores = dict(scores)
        self.health = {m.uid: self.health.get(m.uid, MinerHealth()) for m in self.miners}

    def rank(self, miner: MinerEndpoint) -> float:
        health = self.health[miner.uid]
        latency = (self.suite.latency_target_s if health.latency_s is None
                   else health.latency_s)
        score = max(self.scores.get(miner.uid, 0.0), SCORE_FLOOR)
        return score / (1.0 + latency / self.suite.latency_target_s)

    def ranked(self) -> list[MinerEndpoint]:
        """Closed breakers best first, then those whose cooldown is over (half-open)."""
        now = self.clock()
        usable = [m for m in self.miners if self.health[m.uid].open_until <= now]
        return sorted(usable, key=lambda m: (self.health[m.uid].failures_in_row > 0,
                                             -self.rank(m), m.uid))

    async def ask(self, task: str, input: Any, params: dict[str, Any]) -> RoutedAnswer:
        """The first valid answer of the best miners; NoMinerAnswered when none gave one.

        Miners are asked one after another; with ``hedge_after_s`` the next one is also asked
        when the current ones have not answered by then, and the first valid answer wins.
        """
        deadline = self.clock() + self.policy.timeout_s
        failures: dict[int, str] = {}
        challenge = Challenge(task=task, input=input, params=params)
        waiting = self.ranked()[:self.policy.attempts]
        running: dict[asyncio.Future[QueryResult], MinerEndpoint] = {}

        def launch() -> bool:
            remaining = min(deadline - self.clock(), self.suite.timeout_s)
            if remaining <= 0:
                return False
            miner = waiting.pop(0)
            running[asyncio.ensure_future(self.querier.query(
                miner, challenge, timeout_s=remaining,
                max_response_bytes=self.suite.max_response_bytes,
                output_model=self.suite.output_model))] = miner
            return True

        try:
            while waiting or running:
                if not running and not launch():
                    break
                hedge = self.policy.hedge_after_s if waiting else None
                done, _ = await asyncio.wait(running, timeout=hedge,
                                             return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    launch()   # the miners asked are slow: ask the next one as well
                    continue
                for finished in done:
                    miner, result = running.pop(finished), finished.result()
                    self.health[miner.uid].observe(result, self.policy, self.clock())
                    if result.ok:
                        assert result.latency_s is not None
                        tried = len(failures) + len(running) + 1
                        return RoutedAnswer(miner, result.output, result.latency_s, tried)
                    failures[miner.uid] = f"{result.outcome.value} {result.detail}".strip()
        finally:
            for pending in running:
                pending.cancel()
        raise NoMinerAnswered(failures)

    def snapshot(self) -> list[dict[str, Any]]:
        """Per miner: score, measured latency, breaker state (for ``/v1/models`` and logs)."""
        now = self.clock()
        return [{"uid": m.uid, "score": round(self.scores.get(m.uid, 0.0), 4),
                 "latency_ms": None if self.health[m.uid].latency_s is None
                 else round(self.health[m.uid].latency_s * 1000, 1),
                 "breaker_open": self.health[m.uid].open_until > now}
                for m in self.miners]
