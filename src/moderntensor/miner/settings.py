"""The limits and knobs of one MinerServer, with defaults that suit one model on one machine."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from moderntensor.errors import InvalidInputError
from moderntensor.protocol.http_edges import EdgeLimits

_EDGE = EdgeLimits()

DEFAULT_MAX_BODY_BYTES = 64 * 1024  # the body limit when no registered suite asks for more


@dataclass(frozen=True)
class MinerSettings:
    """Every tunable of a miner; pass any of them to ``MinerServer(...)`` as keyword arguments.

    >>> MinerSettings().with_overrides(max_batch=16).max_batch
    16
    """

    max_body_bytes: int | None = None     # 413 above it; None: the largest registered suite's
    max_response_bytes: int = 4 * 1024 * 1024
    workers: int = 1                      # models are rarely thread-safe; batching gives throughput
    queue_size: int = 64                  # waiting requests beyond the workers; more -> 503
    max_batch: int = 8                    # only used when the miner defines inference_batch
    batch_wait_ms: float = 5.0            # how long a batch may wait to fill up
    cache_size: int = 0                   # LRU answers kept; 0 turns caching off (opt-in)
    rate_per_s: float = 20.0              # per-validator token bucket refill rate
    rate_burst: float = 40.0              # and its capacity
    default_timeout_s: float = 30.0       # deadline when a request carries no X-MT-Timeout
    nonce_max_age_s: float = 10.0         # mtauth/1 freshness: oldest nonce accepted
    nonce_max_skew_s: float = 2.0         # and how far ahead of our clock a nonce may be
    permit_refresh_s: float = 12.0        # metagraph view refresh (one block)
    permit_retry_s: float = 2.0           # retry delay while the first sync keeps failing
    grace_s: float = 10.0                 # SIGTERM: drain in-flight requests this long
    metrics_public: bool = False          # /metrics answers only loopback clients unless True
    server_timing: bool = False           # add a Server-Timing header (benchmarks use it)
    fast: bool | None = None              # uvloop/orjson/httptools: None = when installed
    # replicas: processes of one miner identity on one port share its replay memory here
    replay_store: str | None = None       # a SQLite path; None keeps it in this process
    # the HTTP edge, before any request reaches the pipeline (protocol/http_edges.py)
    max_header_bytes: int = _EDGE.max_header_bytes    # request line + headers; 431 above
    max_headers: int = _EDGE.max_headers              # header fields; 431 above
    header_timeout_s: float = _EDGE.header_timeout_s  # slow heads (slowloris): 408 + close
    body_timeout_s: float = _EDGE.body_timeout_s      # slow bodies: 408 + close
    max_connections_per_peer: int = _EDGE.max_connections_per_peer  # per IP; 503 above

    def with_overrides(self, **overrides: Any) -> MinerSettings:
        """A copy with ``overrides`` applied; an unknown name raises InvalidInputError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise InvalidInputError(
                f"unknown MinerServer settings {unknown}; known: {sorted(known)}",
                code="unknown_setting",
            )
        settings = replace(self, **overrides)
        settings.check()
        return settings

    def edge_limits(self) -> EdgeLimits:
        """The HTTP edge limits these settings ask for."""
        return EdgeLimits(max_header_bytes=self.max_header_bytes, max_headers=self.max_headers,
                          header_timeout_s=self.header_timeout_s,
                          body_timeout_s=self.body_timeout_s,
                          max_connections_per_peer=self.max_connections_per_peer)

    def check(self) -> None:
        """Raise InvalidInputError for values that cannot work (zero workers, negative sizes)."""
        if self.max_body_bytes is not None and self.max_body_bytes <= 0:
            raise InvalidInputError(f"max_body_bytes must be > 0, got {self.max_body_bytes!r}",
                                    code="invalid_setting")
        positive = ("max_response_bytes", "workers", "max_batch",
                    "rate_per_s", "rate_burst", "default_timeout_s", "nonce_max_age_s",
                    "permit_refresh_s", "permit_retry_s", "max_header_bytes", "max_headers",
                    "header_timeout_s", "body_timeout_s", "max_connections_per_peer")
        for name in positive:
            if not getattr(self, name) > 0:
                raise InvalidInputError(f"{name} must be > 0, got {getattr(self, name)!r}",
                                        code="invalid_setting")
        for name in ("queue_size", "cache_size", "batch_wait_ms", "grace_s", "nonce_max_skew_s"):
            if getattr(self, name) < 0:
                raise InvalidInputError(f"{name} must be >= 0, got {getattr(self, name)!r}",
                                        code="invalid_setting")
