"""Per-validator token buckets: each sender may spend ``burst`` at once, refilled at ``rate``/s."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_BUCKETS = 4096  # only permitted validators reach the limiter; this just bounds memory


class RateLimiter:
    """``take(key)`` returns 0.0 when allowed, else the seconds until a token is available.

    >>> limiter = RateLimiter(rate=1.0, burst=1.0, clock=lambda: 0.0)
    >>> limiter.take("a"), limiter.take("a")
    (0.0, 1.0)
    """

    def __init__(self, rate: float, burst: float, *, max_buckets: int = MAX_BUCKETS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.max_buckets = max_buckets
        self._clock = clock
        # key -> (tokens, last refill time); ordered by last use so the stalest leaves first
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        now = self._clock()
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate
        if len(self._buckets) > self.max_buckets:
            self._buckets.popitem(last=False)
        return wait


def retry_after_header(wait_s: float) -> str:
    """Retry-After takes whole seconds; round up so a polite client is never early."""
    return str(max(1, math.ceil(wait_s)))
