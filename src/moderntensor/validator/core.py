"""The Validator: sync the metagraph, challenge every miner, score, remember, write weights.

>>> validator = Validator(wallet, StaticChainView(miners))          # doctest: +SKIP
>>> report = await validator.run_round()                            # doctest: +SKIP
>>> [(m.uid, round(m.score.total, 2)) for m in report.stats]        # doctest: +SKIP

Or against a node, with the wallet and network from the config rules::

    validator = Validator.from_config(netuid=1)
    await validator.run(interval=12)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from moderntensor.errors import ModernTensorError
from moderntensor.protocol.auth import Signer
from moderntensor.scoring import DEFAULT_EMA_ALPHA, ema
from moderntensor.subnets import TaskSuite, load_suite
from moderntensor.validator.chainview import (
    ChainView,
    ClientChainView,
    MinerEndpoint,
    SubnetSettings,
    WeightSubmission,
)
from moderntensor.validator.metrics import ValidatorMetrics
from moderntensor.validator.query import DEFAULT_CONCURRENCY, MinerQuerier, Outcome, QueryResult
from moderntensor.validator.rounds import (
    DEFAULT_CHALLENGES_PER_MINER,
    DEFAULT_REPEAT_SHARE,
    MinerPlan,
    MinerRound,
    plan_miner,
    round_rng,
    score_miner,
)
from moderntensor.validator.store import MinerStats, ValidatorStore, default_store_path
from moderntensor.validator.weight_rows import build_submission

log = logging.getLogger("moderntensor.validator")

DEFAULT_INTERVAL_S = 12.0           # one production block between rounds
_CHAIN_ERRORS = (ModernTensorError, httpx.HTTPError, OSError)


class ValidatorError(ModernTensorError):
    code = "validator_error"


@dataclass(frozen=True)
class RoundReport:
    """What one round did: per-miner verdicts, the moving statistics after it, any submission."""

    round: int
    netuid: int
    duration_s: float
    query_s: float
    miners: list[MinerRound]
    stats: list[MinerStats]
    outcomes: Counter[str] = field(default_factory=Counter)
    submission: WeightSubmission | None = None
    tx_hash: str | None = None
    submit_error: str | None = None
    sandbox: str = ""      # how the suite isolates untrusted code ("" when it runs none)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (what ``moderntensor validator run --json`` prints)."""
        verdicts = {m.miner.uid: m for m in self.miners}
        miners = []
        for stats in self.stats:
            row: dict[str, Any] = stats.as_dict()
            verdict = verdicts.get(stats.uid)
            if verdict is not None:
                row["round"] = {"total": round(verdict.score.total, 6), "valid": verdict.valid,
                                "queries": verdict.queries, "outcomes": dict(verdict.outcomes)}
            miners.append(row)
        return {
            "round": self.round, "netuid": self.netuid,
            "duration_s": round(self.duration_s, 4), "query_s": round(self.query_s, 4),
            "requests": sum(self.outcomes.values()), "outcomes": dict(self.outcomes),
            "weights_submitted": self.submission is not None, "tx_hash": self.tx_hash,
            "submit_error": self.submit_error, "sandbox": self.sandbox, "miners": miners,
        }


class Validator:
    """Challenges the miners of one subnet and writes their scores on chain.

    ``wallet`` signs requests (and, through ``chain``, the weights). ``suite`` defaults to the
    subnet's task type (or its custom suite); ``store`` is a path or a
    :class:`ValidatorStore` (default ``<MT_HOME>/validator/subnet-<n>-<address>.sqlite``).
    ``owns_chain``: close the chain view's client when the validator closes.
    ``unsafe_code_sandbox``: score code without OS isolation where bubblewrap is unavailable
    (the operator's explicit choice; reports and logs then say "UNSAFE").
    """

    def __init__(
        self,
        wallet: Signer,
        chain: ChainView,
        *,
        suite: TaskSuite | None = None,
        store: ValidatorStore | str | Path | None = None,
        challenges_per_miner: int = DEFAULT_CHALLENGES_PER_MINER,
        repeat_share: float = DEFAULT_REPEAT_SHARE,
        concurrency: int = DEFAULT_CONCURRENCY,
        ema_alpha: float = DEFAULT_EMA_ALPHA,
        metrics: ValidatorMetrics | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        home: str | Path | None = None,
        owns_chain: bool = False,
        unsafe_code_sandbox: bool = False,
    ) -> None:
        if challenges_per_miner < 1 or concurrency < 1:
            raise ValidatorError("challenges_per_miner and concurrency must be at least 1")
        self.wallet = wallet
        self.chain = chain
        self.suite = suite
        self.challenges_per_miner = challenges_per_miner
        self.repeat_share = repeat_share
        self.concurrency = concurrency
        self.ema_alpha = ema_alpha
        self.metrics = metrics or ValidatorMetrics()
        self._store_arg = store
        self._home = home
        self._transport = transport
        self.store: ValidatorStore | None = store if isinstance(store, ValidatorStore) else None
        self._querier: MinerQuerier | None = None
        self.info: SubnetSettings | None = None
        self.miners: list[MinerEndpoint] = []
        self._stop = asyncio.Event()
        self._owns_chain = owns_chain   # close the chain's client with the validator
        self.unsafe_code_sandbox = unsafe_code_sandbox
        self.sandbox: str | None = None  # set when the suite is prepared, before round one

    @classmethod
    def from_config(cls, netuid: int | None = None, *, network: str | None = None,
                    wallet: Any = None, subnet: int | None = None, **kwargs: Any) -> Validator:
        """A validator of ``netuid`` on ``network`` with the config's wallet (explicit > env >
        config.toml > default). ``subnet=`` is the former name of ``netuid``, still accepted."""
        from moderntensor.client import AsyncLuxtensorClient
        from moderntensor.config import resolve_config
        from moderntensor.wallet import Wallet

        config = resolve_config(network=network, netuid=netuid, subnet=subnet)
        netuid = config.netuid.value
        if netuid is None:
            raise ValidatorError("no subnet given: pass --netuid, set MT_NETUID or config netuid",
                                 code="no_subnet")
        wallet = wallet or Wallet.from_config(config)
        client = AsyncLuxtensorClient(config.network.value, wallet=wallet, config=config)
        kwargs.setdefault("home", config.home.value)
        return cls(wallet, ClientChainView(client, int(netuid)), owns_chain=True, **kwargs)

    # -- lifecycle ------------------------------------------------------------------------
    async def aclose(self) -> None:
        if self._querier is not None:
            await self._querier.aclose()
        if self.store is not None:
            self.store.close()
        close = getattr(getattr(self.chain, "client", None), "aclose", None)
        if self._owns_chain and close is not None:
            await close()

    async def __aenter__(self) -> Validator:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def stop(self) -> None:
        """Ask :meth:`run` to finish after the current round."""
        self._stop.set()

    # -- one round ------------------------------------------------------------------------
    async def sync(self) -> list[MinerEndpoint]:
        """Refresh subnet parameters and miners; keep the last good view if the chain fails."""
        try:
            info = await self.chain.subnet_info()
            miners = await self.chain.miners()
        except _CHAIN_ERRORS as exc:
            self.metrics.sync_errors.inc()
            if self.info is None:
                raise ValidatorError(f"cannot read subnet from the chain: {exc}",
                                     code="sync_failed") from exc
            log.warning("metagraph sync failed (%s); using the last view", exc)
            return self.miners
        if self.info is not None and info.netuid != self.info.netuid:
            raise ValidatorError(f"subnet changed from {self.info.netuid} to {info.netuid}")
        self.info = info
        self.miners = sorted(miners, key=lambda m: m.uid)
        self.metrics.miners.set(len(self.miners))
        if self.suite is None:
            self.suite = load_suite(info.suite or info.task_type)
        if self.sandbox is None:
            self.sandbox = await asyncio.to_thread(self._prepare_suite, self.suite)
        if self.store is None:
            self.store = ValidatorStore(self._store_arg or self._default_store_path(info.netuid))
            self.store.set_sandbox(self.sandbox or "")
        if self._querier is None:
            self._querier = MinerQuerier(self.wallet, info.netuid, concurrency=self.concurrency,
                                         transport=self._transport)
        await self._querier.forget({m.url for m in self.miners if m.url is not None})
        return self.miners

    def _prepare_suite(self, suite: TaskSuite) -> str:
        """Probe what scoring needs; a missing sandbox stops the validator with the fix."""
        sandbox = suite.prepare(unsafe_code_sandbox=self.unsafe_code_sandbox)
        if sandbox.startswith("UNSAFE"):
            log.warning("miners' code runs WITHOUT OS isolation: %s", sandbox)
        elif sandbox:
            log.info("miners' code runs in %s", sandbox)
        return sandbox

    def _default_store_path(self, netuid: int) -> Path:
        from moderntensor.config import resolve_home

        home = Path(self._home) if self._home else resolve_home().value
        return default_store_path(home, netuid, self.wallet.address)

    async def run_round(self) -> RoundReport:
        """Sync, query every miner concurrently, score, store, and submit weights when due."""
        started = time.perf_counter()
        miners = await self.sync()
        assert self.info is not None and self.store is not None and self.suite is not None
        netuid, suite = self.info.netuid, self.suite
        round_number = self.store.next_round(netuid)
        secret = self.store.challenge_secret()
        # a miner that has published no endpoint yet is not asked, so not scored: registering
        # while validators run costs a newcomer nothing (its first round is its first answer)
        plans = [plan_miner(suite, round_rng(secret, netuid, round_number, miner), miner,
                            count=self.challenges_per_miner, repeat_share=self.repeat_share)
                 for miner in miners if miner.url is not None]
        query_started = time.perf_counter()
        results = await asyncio.gather(*(self._ask_all(plan) for plan in plans))
        query_s = time.perf_counter() - query_started
        # Scoring may execute code (sandboxes); keep it off the event loop.
        verdicts = await asyncio.to_thread(
            lambda: [score_miner(suite, plan, res) for plan, res in zip(plans, results,
                                                                         strict=True)])
        stats = self._remember(netuid, round_number, verdicts)
        outcomes: Counter[str] = Counter()
        for verdict in verdicts:
            outcomes.update(verdict.outcomes)
        submission, tx_hash, submit_error = await self.maybe_submit_weights(round_number, stats)
        duration = time.perf_counter() - started
        self.metrics.rounds.inc()
        self.metrics.round_seconds.observe(duration)
        return RoundReport(round_number, netuid, duration, query_s, verdicts, stats, outcomes,
                           submission, tx_hash, submit_error, self.sandbox or "")

    async def _ask_all(self, plan: MinerPlan) -> list[QueryResult]:
        assert self._querier is not None and self.suite is not None
        suite = self.suite
        results = await asyncio.gather(*(
            self._querier.query(plan.miner, challenge, timeout_s=suite.timeout_s,
                                max_response_bytes=suite.max_response_bytes,
                                output_model=getattr(suite, "output_model", None))
            for challenge in plan.challenges))
        for result in results:
            self.metrics.requests.labels(outcome=result.outcome.value).inc()
            if result.ok and result.latency_s is not None:
                self.metrics.latency.observe(result.latency_s)
        return results

    def _remember(self, netuid: int, round_number: int, verdicts: list[MinerRound]
                  ) -> list[MinerStats]:
        """Fold this round into the moving statistics and persist them in one transaction."""
        assert self.store is not None
        previous = self.store.load(netuid)
        stats = []
        for verdict in verdicts:
            miner = verdict.miner
            before = previous.get((miner.uid, miner.address.lower()))
            if before is None and not verdict.outcomes.get(Outcome.OK.value):
                continue   # a moving average starts at the miner's first answered round
            latency_s = before.latency_s if before else None
            if verdict.latency_s is not None:
                latency_s = ema(latency_s, verdict.latency_s, self.ema_alpha)
            stats.append(MinerStats(
                uid=miner.uid, address=miner.address.lower(),
                score=verdict.score.ema(before.score if before else None, self.ema_alpha),
                latency_s=latency_s,
                rounds=(before.rounds if before else 0) + 1,
                queries=(before.queries if before else 0) + verdict.queries,
                valid=(before.valid if before else 0) + verdict.valid,
                last_round=round_number,
            ))
            self.metrics.miner_score.labels(uid=str(miner.uid)).set(stats[-1].score.total)
        self.store.save(netuid, stats)
        self.store.forget_others(netuid, [(s.uid, s.address) for s in stats])
        return stats

    # -- weights --------------------------------------------------------------------------
    async def maybe_submit_weights(self, round_number: int, stats: list[MinerStats]
                                   ) -> tuple[WeightSubmission | None, str | None, str | None]:
        """Submit when the subnet's rate limit allows; returns (submission, tx hash, error)."""
        assert self.info is not None and self.store is not None
        if not stats:
            return None, None, None
        try:
            block = await self.chain.block_number()
        except _CHAIN_ERRORS as exc:
            self.metrics.submissions.labels(result="error").inc()
            return None, None, f"cannot read the block number: {exc}"
        last = self.store.last_submission_block(self.info.netuid)
        # A block below the last submission means a new chain (localnet restart): submit.
        if last is not None and 0 <= block - last < self.info.weights_rate_limit:
            self.metrics.submissions.labels(result="rate_limited").inc()
            return None, None, None
        submission = build_submission(self.info.netuid, stats)
        try:
            tx_hash = await self.chain.submit_weights(submission)
        except _CHAIN_ERRORS as exc:
            self.metrics.submissions.labels(result="error").inc()
            log.warning("weight submission failed: %s", exc)
            return None, None, str(exc)
        self.store.record_submission(self.info.netuid, block, round_number, tx_hash,
                                     len(submission.uids))
        self.metrics.submissions.labels(result="ok").inc()
        return submission, tx_hash, None

    # -- the loop -------------------------------------------------------------------------
    async def run(
        self,
        *,
        interval: float = DEFAULT_INTERVAL_S,
        rounds: int | None = None,
        on_round: Callable[[RoundReport], Awaitable[None] | None] | None = None,
    ) -> None:
        """Run rounds every ``interval`` seconds until :meth:`stop` (or ``rounds`` are done).

        A failed round (chain down before the first sync, ...) is logged and retried next
        interval; the loop itself never dies of a miner's or the chain's fault.
        """
        done = 0
        while not self._stop.is_set() and (rounds is None or done < rounds):
            started = time.monotonic()
            try:
                report = await self.run_round()
            except ValidatorError as exc:
                log.error("round failed: %s", exc)
            else:
                if on_round is not None:
                    maybe = on_round(report)
                    if asyncio.iscoroutine(maybe):
                        await maybe
            done += 1
            if rounds is not None and done >= rounds:
                break
            remaining = interval - (time.monotonic() - started)
            if remaining > 0 and not math.isinf(remaining):
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), remaining)

    def current_stats(self) -> list[MinerStats]:
        """The stored statistics of the miners in the last synced metagraph, by uid."""
        if self.store is None or self.info is None:
            return []
        stored = self.store.load(self.info.netuid)
        return [stored[key] for key in sorted(stored)]
