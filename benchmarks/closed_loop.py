"""A closed-loop load: CONCURRENCY workers, each sending its next request when the last one
answered. Standard library only: benchmarks/axon_peer.py runs it in Bittensor's environment,
benchmarks/hotpath_vs_axon.py in ours, so both sides are measured the same way."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def closed_loop(call: Callable[[], Awaitable[bool]], requests: int,
                      concurrency: int) -> dict[str, float]:
    """req/s, p50/p99 latency (ms) and failures over ``requests`` calls (after a warm-up of
    10 per worker); ``call`` returns whether its answer was right."""
    latencies: list[float] = []
    failed = 0

    async def worker(count: int) -> None:
        nonlocal failed
        for _ in range(count):
            started = time.perf_counter()
            ok = await call()
            latencies.append(time.perf_counter() - started)
            failed += not ok

    await asyncio.gather(*(worker(10) for _ in range(concurrency)))
    latencies.clear()
    failed = 0
    started = time.perf_counter()
    await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"req_per_s": len(latencies) / elapsed,
            "p50_ms": latencies[len(latencies) // 2] * 1e3,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1e3, "failed": failed}
