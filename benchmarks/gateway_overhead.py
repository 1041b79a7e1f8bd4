"""Gateway overhead: latency and throughput through the gateway against calling the miner directly.

Starts a real text miner process (the oracle fixture model, rate limits opened for one busy
validator) and a real gateway process in front of it (a static one-miner directory, signing
as that validator), both on 127.0.0.1. Then, in the same run and from this process:

- direct: the validator's own ``MinerQuerier`` (signs, sends, verifies the miner's signature,
  validates the output), the baseline;
- gateway: ``POST /v1/completions`` with an API key (auth, rate limit, routing, the same signed
  query, the OpenAI response, usage written to SQLite).

Each path is measured one request at a time (latency p50/p99) and with ``--concurrency``
requests in flight (requests per second); the difference is what the gateway adds.

    python benchmarks/gateway_overhead.py [--requests 2000] [--concurrency 16] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account

from moderntensor.gateway.keys import KeyStore
from moderntensor.subnets import Challenge, load_suite
from moderntensor.validator.chainview import MinerEndpoint
from moderntensor.validator.query import MinerQuerier

PROMPT = "What is 17 + 25? Reply with the number only."
SUITE = load_suite("text-generation")


def serve_miner(port: int) -> None:
    from moderntensor.miner import MinerServer
    from moderntensor.subnets.text_models import OracleText

    class OracleMiner(MinerServer):
        def inference(self, request: Any) -> Any:
            return OracleText().generate(request.task, request.input, request.params)

    OracleMiner(wallet=Account.from_key(os.environ["BENCH_MINER_KEY"]), netuid=1,
                metagraph_source=[os.environ["BENCH_VALIDATOR"]], rate_per_s=1e9,
                rate_burst=1e9, queue_size=1024).run(port=port)


def serve_gateway(port: int, miner_port: int, db: str) -> None:
    from moderntensor.gateway import Gateway, StaticDirectory, serve

    miner = MinerEndpoint(0, os.environ["BENCH_MINER"], "127.0.0.1", miner_port)
    gateway = Gateway(Account.from_key(os.environ["BENCH_VALIDATOR_KEY"]),
                      StaticDirectory({1: ("text-generation", [miner])}), KeyStore(db))
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(gateway, port=port))
    else:
        uvloop.run(serve(gateway, port=port))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1]


async def measure(call: Callable[[], Awaitable[None]], requests: int,
                  concurrency: int) -> dict[str, float]:
    """Sequential latency p50/p99 (ms), then throughput with ``concurrency`` in flight."""
    for _ in range(50):  # warm-up: connections, caches
        await call()
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        await call()
        latencies.append((time.perf_counter() - started) * 1000)
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"p50_ms": round(percentile(latencies, 0.5), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "req_per_s": round(requests / elapsed)}


async def direct(validator: Any, miner: MinerEndpoint, requests: int,
                 concurrency: int) -> dict[str, float]:
    querier = MinerQuerier(validator, 1)
    challenge = Challenge(task="text-generation", input={"prompt": PROMPT})

    async def call() -> None:
        result = await querier.query(miner, challenge, timeout_s=10,
                                     max_response_bytes=SUITE.max_response_bytes,
                                     output_model=SUITE.output_model)
        assert result.ok, result

    try:
        return await measure(call, requests, concurrency)
    finally:
        await querier.aclose()


async def through_gateway(url: str, key: str, requests: int,
                          concurrency: int) -> dict[str, float]:
    body = {"model": "sn1-text-generation", "prompt": PROMPT}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10,
                                 headers={"Authorization": f"Bearer {key}"}) as client:
        async def call() -> None:
            response = await client.post("/completions", json=body)
            assert response.status_code == 200, response.text

        return await measure(call, requests, concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve-miner", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-gateway", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_miner:
        serve_miner(args.serve_miner)
        return
    if args.serve_gateway:
        serve_gateway(int(args.serve_gateway[0]), int(args.serve_gateway[1]),
                      args.serve_gateway[2])
        return

    validator, miner_key = Account.create(), Account.create()
    miner_port, gateway_port = free_port(), free_port()
    folder = Path(tempfile.mkdtemp(prefix="mt-gateway-bench-"))
    db = str(folder / "gateway.sqlite")
    key = KeyStore(db).create("bench", requests_per_minute=1_000_000)[0]
    env = {**os.environ, "BENCH_MINER_KEY": miner_key.key.hex(),
           "BENCH_MINER": miner_key.address, "BENCH_VALIDATOR": validator.address,
           "BENCH_VALIDATOR_KEY": validator.key.hex()}
    processes = [subprocess.Popen([sys.executable, __file__, "--serve-miner", str(miner_port)],
                                  env=env, stderr=subprocess.DEVNULL),
                 subprocess.Popen([sys.executable, __file__, "--serve-gateway",
                                   str(gateway_port), str(miner_port), db], env=env,
                                  stderr=subprocess.DEVNULL)]
    try:
        wait_healthy(f"http://127.0.0.1:{miner_port}/health")
        wait_healthy(f"http://127.0.0.1:{gateway_port}/health")
        miner = MinerEndpoint(0, miner_key.address, "127.0.0.1", miner_port)
        base = asyncio.run(direct(validator, miner, args.requests, args.concurrency))
        via = asyncio.run(through_gateway(f"http://127.0.0.1:{gateway_port}/v1", key,
                                          args.requests, args.concurrency))
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    added = {"p50_ms": round(via["p50_ms"] - base["p50_ms"], 2),
             "p99_ms": round(via["p99_ms"] - base["p99_ms"], 2),
             "req_per_s_ratio": round(via["req_per_s"] / base["req_per_s"], 2)}
    report = {"requests": args.requests, "concurrency": args.concurrency,
              "direct": base, "gateway": via, "added_by_gateway": added}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{args.requests} requests, sequential latency, then {args.concurrency} in flight")
    print(f"{'':10} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for name, row in (("direct", base), ("gateway", via)):
        print(f"{name:10} {row['p50_ms']:>8} {row['p99_ms']:>8} {row['req_per_s']:>8}")
    print(f"added by the gateway: p50 +{added['p50_ms']} ms, p99 +{added['p99_ms']} ms, "
          f"throughput x{added['req_per_s_ratio']}")


if __name__ == "__main__":
    main()
