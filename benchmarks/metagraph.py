"""mt_getMetagraph for N neurons (default 4,096), end to end through JSON-RPC.

Starts a real node (its own genesis: one subnet of 4,096 miner slots, proof-of-work
difficulty 1 so setup is quick), registers N zero-MDT miners and serves their endpoints with
signed fee-free transactions, then times ``mt_getMetagraph``: HTTP request, server build, JSON
parse and conversion of every column to numpy. Also times the Python client when it has
``get_metagraph``. Usage: ``python benchmarks/metagraph.py [--neurons 4096] [--runs 20]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
from eth_account import Account

from moderntensor.protocol import syscalls

CHAIN_ID = 7777
TO = syscalls.SYSTEM_ADDRESS
PER_BLOCK = 256


def rpc(client: httpx.Client, url: str, method: str, *params: Any) -> Any:
    body = client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                  "params": list(params)}).json()
    if "error" in body:
        raise RuntimeError(f"{method}: {body['error']}")
    return body["result"]


def batch(client: httpx.Client, url: str, raws: list[bytes]) -> None:
    payload = [{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction",
                "params": ["0x" + raw.hex()]} for i, raw in enumerate(raws)]
    for item in client.post(url, content=orjson.dumps(payload)).json():
        if "error" in item:
            raise RuntimeError(item["error"])


def wait_block(client: httpx.Client, url: str, number: int) -> None:
    while int(rpc(client, url, "eth_blockNumber"), 16) < number:
        time.sleep(0.02)


def sign(key: bytes, name: str, args: dict[str, Any], nonce: int) -> bytes:
    tx = {"to": TO, "value": 0, "gas": 200_000, "gasPrice": 0, "nonce": nonce,
          "chainId": CHAIN_ID, "data": syscalls.encode_call(name, **args)}
    return bytes(Account.sign_transaction(tx, key).raw_transaction)


def populate(client: httpx.Client, url: str, neurons: int) -> None:
    keys = [(i + 1).to_bytes(32, "big") for i in range(neurons)]
    for start in range(0, neurons, PER_BLOCK):
        chunk = keys[start:start + PER_BLOCK]
        challenge = rpc(client, url, "mt_getRegistrationChallenge", 1, "0x" + "11" * 20)
        raws = [sign(k, "registerMiner", {
            "netuid": 1, "modelName": "bench", "modelType": "text-generation",
            "modelVersion": "1.0.0", "powNonce": 0, "powBlock": challenge["blockNumber"]}, 0)
            for k in chunk]
        batch(client, url, raws)
        head = int(rpc(client, url, "eth_blockNumber"), 16)
        wait_block(client, url, head + 2)
        raws = [sign(k, "serveEndpoint", {"netuid": 1, "host": f"10.0.{(start + i) // 250}."
                                          f"{(start + i) % 250 + 1}", "port": 5000,
                                          "protocol": "http"}, 1)
                for i, k in enumerate(chunk)]
        batch(client, url, raws)
    head = int(rpc(client, url, "eth_blockNumber"), 16)
    wait_block(client, url, head + 2)


def to_numpy(graph: dict[str, Any]) -> dict[str, np.ndarray]:
    return {"uids": np.asarray(graph["uids"], dtype=np.int64),
            "stakes": np.array([int(s) for s in graph["stakes"]], dtype=object),
            "scores": np.asarray(graph["scores"], dtype=np.int64),
            "consensus": np.asarray(graph["consensus"], dtype=np.int64),
            "permits": np.asarray(graph["validatorPermits"], dtype=bool),
            "registered": np.asarray(graph["registeredBlocks"], dtype=np.int64),
            "last_update": np.asarray(graph["lastUpdates"], dtype=np.int64)}


def time_runs(fn: Any, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def report(label: str, times: list[float]) -> str:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return (f"{label}: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
            f"min {times[0]:.1f} ms ({len(times)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--neurons", type=int, default=4096)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-metagraph-"))
    genesis = {"chainId": CHAIN_ID, "alloc": {}, "modules": {"moderntensor": {"subnets": [{
        "netuid": 1, "name": "bench", "taskType": "text-generation", "weight": 10**9,
        "difficulty": 1, "params": {"maxMiners": max(args.neurons, 1), "tempo": 100_000,
                                    "maxRegistrationsPerBlock": PER_BLOCK, "minDifficulty": 1,
                                    "servingRateLimit": 0}}]}}}
    (data_dir / "genesis.json").write_text(json.dumps(genesis))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log = (data_dir / "node.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from moderntensor.cli.main import run; run()", "node", "start",
         "--data-dir", str(data_dir), "--rpc-port", str(port), "--block-time", "0.2"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    try:
        with httpx.Client(timeout=60) as client:
            for _ in range(300):
                try:
                    if client.get(f"{url}/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            wait_block(client, url, 2)
            started = time.perf_counter()
            populate(client, url, args.neurons)
            print(f"setup: {args.neurons} miners registered and served in "
                  f"{time.perf_counter() - started:.1f} s")
            graph = rpc(client, url, "mt_getMetagraph", 1)
            assert graph["n"] == args.neurons, graph["n"]
            size = len(orjson.dumps(graph))

            def raw() -> None:
                response = client.post(url, content=orjson.dumps({
                    "jsonrpc": "2.0", "id": 1, "method": "mt_getMetagraph", "params": [1]}))
                to_numpy(orjson.loads(response.content)["result"])

            print(f"mt_getMetagraph: {args.neurons} neurons, {size / 1e6:.2f} MB of JSON")
            print(report("JSON-RPC + parse + numpy (httpx)", time_runs(raw, args.runs)))
            try:
                from moderntensor.client import LuxtensorClient

                lux = LuxtensorClient(url)
                lux.get_metagraph(1)
                print(report("LuxtensorClient.get_metagraph", time_runs(
                    lambda: lux.get_metagraph(1), args.runs)))
            except (ImportError, AttributeError, TypeError) as exc:
                print(f"client: not measured ({type(exc).__name__}: {exc})")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
