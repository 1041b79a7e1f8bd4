"""Prometheus metrics of one validator, in its own registry (several validators, one process).

>>> metrics = ValidatorMetrics()
>>> metrics.requests.labels(outcome="ok").inc()
>>> b"mt_validator_requests_total" in metrics.render()
True
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
ROUND_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class ValidatorMetrics:
    """Rounds, requests by outcome, measured latency, weight submissions, miner scores."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.rounds = Counter("mt_validator_rounds", "Rounds completed", registry=r)
        self.round_seconds = Histogram("mt_validator_round_seconds",
                                       "Wall time of a round (query + score + store)",
                                       buckets=ROUND_BUCKETS, registry=r)
        self.requests = Counter("mt_validator_requests", "Requests to miners by outcome",
                                ["outcome"], registry=r)
        self.latency = Histogram("mt_validator_request_latency_seconds",
                                 "Latency of valid answers, measured by the validator",
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.miners = Gauge("mt_validator_miners", "Miners in the last synced metagraph",
                            registry=r)
        self.submissions = Counter("mt_validator_weight_submissions",
                                   "Weight submissions by result", ["result"], registry=r)
        self.sync_errors = Counter("mt_validator_sync_errors", "Failed metagraph syncs",
                                   registry=r)
        self.miner_score = Gauge("mt_validator_miner_score", "Moving MinerScore total per uid",
                                 ["uid"], registry=r)

    def render(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)
