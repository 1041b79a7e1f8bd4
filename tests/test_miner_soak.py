"""Long run: memory stays flat over tens of thousands of signed requests (run with -m slow)."""

from __future__ import annotations

import asyncio
import gc
import json
import tracemalloc
from typing import Any

import pytest

from miner_support import FAST_LIMITS, Echo, accounts
from moderntensor.protocol.auth import KeySigner, sign_request
from moderntensor.protocol.messages import INFERENCE_PATH

pytestmark = pytest.mark.slow


def test_memory_is_flat_over_many_requests() -> None:
    # a 1 s freshness window keeps the replay cache's steady size small, so what is left to
    # grow would be a leak (30 bytes a request fails the bound below)
    validator, miner = accounts()
    signer = KeySigner.wrap(validator)
    app = Echo(wallet=miner, netuid=1, metagraph_source=[validator.address],
               cache_size=256, nonce_max_age_s=1.0, **FAST_LIMITS).build_app()
    statuses: dict[int, int] = {}

    async def one(index: int) -> None:
        body = json.dumps({"subnet": 1, "task": "echo", "input": f"prompt {index}"}).encode()
        headers = sign_request(signer, "POST", INFERENCE_PATH, body, receiver=miner.address)
        scope: dict[str, Any] = {
            "type": "http", "method": "POST", "path": INFERENCE_PATH, "client": ("127.0.0.1", 1),
            "headers": [(b"content-type", b"application/json"),
                        *((k.lower().encode(), v.encode()) for k, v in headers.items())]}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses[message["status"]] = statuses.get(message["status"], 0) + 1

        await app(scope, receive, send)

    async def run(start: int, count: int) -> None:
        for base in range(start, start + count, 16):
            await asyncio.gather(*(one(i) for i in range(base, base + 16)))

    async def main() -> tuple[int, int]:
        lifespan_in: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        lifespan_out: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await lifespan_in.put({"type": "lifespan.startup"})
        lifespan = asyncio.ensure_future(app({"type": "lifespan", "state": {}},
                                             lifespan_in.get, lifespan_out.put))
        await lifespan_out.get()
        await run(0, 4_800)  # warm-up: caches and pools reach their steady size
        gc.collect()
        tracemalloc.start()
        await run(10_000, 9_600)
        gc.collect()
        middle = tracemalloc.get_traced_memory()[0]
        await run(20_000, 19_200)
        gc.collect()
        end = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        await lifespan_in.put({"type": "lifespan.shutdown"})
        await lifespan
        return middle, end

    middle, end = asyncio.run(main())
    assert statuses == {200: 33_600}
    assert end - middle < 512 * 1024, f"grew {end - middle} bytes over 19,200 requests"
