"""Validator -> miner signed round trips: ModernTensor's querier and MinerServer against
Bittensor's Dendrite and Axon, in the same run, on this machine.

Each side: the miner in its own process on 127.0.0.1 answering a small echo request, the
validator in another process sending REQUESTS through CONCURRENCY concurrent workers. Ours goes
through the real ``MinerQuerier`` (mtauth/1 signing, response signature verification, answer
validation) and the real ``MinerServer`` (auth, permits, rate limit, validation, signing);
theirs through ``bittensor.Dendrite.call`` and ``bittensor.Axon`` (signing and verifying
their way). Prints req/s and client latency p50/p99 per side (median of --runs) and the ratio.

Bittensor lives in its own virtual environment (its pins clash with ours):

    python3 -m venv ~/venvs/bittensor && ~/venvs/bittensor/bin/pip install 'bittensor>=10,<11'
    BITTENSOR_PYTHON=~/venvs/bittensor/bin/python python benchmarks/hotpath_vs_axon.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from eth_account import Account

from closed_loop import closed_loop
from miner_overhead import free_port, wait_listening
from moderntensor.subnets.base import Challenge
from moderntensor.validator import MinerEndpoint
from moderntensor.validator.query import MinerQuerier

HERE = Path(__file__).resolve().parent


async def drive(querier: MinerQuerier, miner: MinerEndpoint, requests: int,
                concurrency: int) -> dict[str, float]:
    challenge = Challenge(task="echo", input={"prompt": "hello world"})

    async def call() -> bool:
        result = await querier.query(miner, challenge, timeout_s=12, max_response_bytes=1 << 20)
        return result.ok

    return await closed_loop(call, requests, concurrency)


def ours(requests: int, concurrency: int) -> dict[str, float]:
    validator, miner = Account.create(), Account.create()
    port = free_port()
    env = {**os.environ, "BENCH_MINER_KEY": miner.key.hex(), "BENCH_VALIDATOR": validator.address}
    proc = subprocess.Popen([sys.executable, str(HERE / "miner_overhead.py"), "--serve",
                             str(port), "--fast"], env=env, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port)

        async def main() -> dict[str, float]:
            querier = MinerQuerier(validator, 1, concurrency=concurrency)
            try:
                return await drive(querier, MinerEndpoint(0, miner.address, "127.0.0.1", port),
                                   requests, concurrency)
            finally:
                await querier.aclose()
        return _run(main())
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _run(main: Any) -> Any:
    try:
        import uvloop  # the validator runs on uvloop when installed
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def theirs(python: str, requests: int, concurrency: int) -> dict[str, float]:
    port = free_port()
    peer = str(HERE / "axon_peer.py")
    with tempfile.TemporaryDirectory() as wallets:
        server = subprocess.Popen([python, peer, "serve", str(port), wallets],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert server.stdout is not None
            hotkey = next(line.split()[1] for line in server.stdout
                          if line.startswith("HOTKEY"))
            wait_listening(port)
            out = subprocess.run([python, peer, "query", str(port), hotkey, wallets,
                                  str(requests), str(concurrency)], capture_output=True,
                                 text=True, check=True, timeout=600)
            return json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            server.terminate()
            server.wait(timeout=20)


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bittensor-python", default=os.environ.get("BITTENSOR_PYTHON"),
                        help="a Python with bittensor 10.x (default: $BITTENSOR_PYTHON)")
    args = parser.parse_args()
    rows = {"moderntensor MinerQuerier -> MinerServer":
            median([ours(args.requests, args.concurrency) for _ in range(args.runs)])}
    if args.bittensor_python:
        rows["bittensor Dendrite -> Axon"] = median(
            [theirs(args.bittensor_python, args.requests // 4, args.concurrency)
             for _ in range(args.runs)])
    else:
        print("no bittensor: set BITTENSOR_PYTHON (see this file's docstring) for its column")
    print(f"{args.concurrency} concurrent, {os.cpu_count()} cores, median of {args.runs} runs")
    print(f"{'path':<44}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}")
    for name, row in rows.items():
        print(f"{name:<44}{row['req_per_s']:>9.0f}{row['p50_ms']:>9.1f}{row['p99_ms']:>9.1f}"
              f"{row['failed']:>8.0f}")
    if len(rows) == 2:
        mine, other = rows.values()
        print(f"ratio: {mine['req_per_s'] / other['req_per_s']:.1f}x the requests/s")


if __name__ == "__main__":
    main()
