"""Prometheus metrics of one miner, the piece that records them, and ``GET /metrics``.

Each server has its own registry, so several servers (and tests) in one process never
share counters.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

from moderntensor.miner.responses import Responder, context

log = logging.getLogger("moderntensor.miner")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


class MinerMetrics:
    """Requests by status and code, latency, queue depth, batch sizes, cache hits."""

    def __init__(self, queue_depth: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("mt_miner_requests", "Inference requests answered",
                                ["status", "code"], registry=self.registry)
        self.latency = Histogram("mt_miner_request_seconds", "Time from arrival to answer",
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.model_seconds = Histogram("mt_miner_model_seconds", "Time inside the model",
                                       buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch_size = Histogram("mt_miner_batch_size", "Requests per model call",
                                    buckets=BATCH_BUCKETS, registry=self.registry)
        self.cache_hits = Counter("mt_miner_cache_hits", "Answers served from the cache",
                                  registry=self.registry)
        self.in_flight = Gauge("mt_miner_in_flight", "Requests being handled",
                               registry=self.registry)
        queue = Gauge("mt_miner_queue_depth", "Requests waiting for a worker",
                      registry=self.registry)
        queue.set_function(queue_depth)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class Instrument:
    """Outermost piece: counts and times every request; turns a crash into a JSON 500."""

    def __init__(self, app: ASGIApp, metrics: MinerMetrics, responder: Responder) -> None:
        self.app = app
        self.metrics = metrics
        self.responder = responder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = context(scope)
        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send)
        except Exception:
            # a bug of ours, never the caller's input: log it and still answer in JSON
            log.exception("unhandled error in the inference pipeline")
            if ctx.status == 0:
                await self.responder.error(scope, send, 500, "internal_error",
                                           "the miner hit an internal error")
        finally:
            self.metrics.in_flight.dec()
            if ctx.status:
                self.metrics.requests.labels(str(ctx.status), ctx.code).inc()
                self.metrics.latency.observe((time.perf_counter_ns() - ctx.arrived_ns) / 1e9)
                if ctx.model_ns:
                    self.metrics.model_seconds.observe(ctx.model_ns / 1e9)


class MetricsApp:
    """``GET /metrics``: Prometheus text; loopback clients only unless ``public``."""

    def __init__(self, metrics: MinerMetrics, responder: Responder, *, public: bool) -> None:
        self.metrics = metrics
        self.responder = responder
        self.public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if not self.public and not (client and _is_loopback(client[0])):
            await self.responder.error(scope, send, 403, "metrics_forbidden",
                                       "/metrics answers loopback clients only on this miner")
            return
        body = self.metrics.render()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", CONTENT_TYPE_LATEST.encode()),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
