"""Committed transfers/s: a Luxtensor dev node against anvil (Foundry's dev chain), same run.

Both chains get the same load: 10 senders (the dev mnemonic's accounts, funded on both),
each keeping up to --window (1,900) signed transfers in flight in JSON-RPC batches of --batch,
0.2 s blocks, the same block gas limit and chain id. A transfer counts when it is in a block; the
rate is committed transfers over the time from the first submission to the last inclusion.

    npm install --prefix benchmarks/js      # anvil, from npm @foundry-rs/anvil
    python benchmarks/chain_vs_anvil.py [--transfers 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import Pool
from pathlib import Path

import httpx
from eth_account import Account

from chain_harness import cpu_seconds, free_port, start_node
from chain_throughput import _sign_range
from moderntensor.chain.genesis import DEFAULT_GAS_LIMIT

SENDERS = 10
BLOCK_TIME_S = 0.2
FOUNDRY = Path(__file__).resolve().parent / "js" / "node_modules" / "@foundry-rs"


def anvil_binary() -> str | None:
    """The platform binary npm installed (not the Node.js launcher in .bin, so the CPU
    measured is anvil's own), else an ``anvil`` on PATH."""
    found = sorted(FOUNDRY.glob("anvil-*/bin/anvil"))
    return str(found[0]) if found else shutil.which("anvil")


def presign(per_sender: int) -> list[list[str]]:
    with Pool(2) as pool:
        return pool.map(_sign_range, [(i, 0, per_sender) for i in range(SENDERS)])


def call(client: httpx.Client, url: str, method: str, *params: object) -> object:
    return client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                  "params": list(params)}).json()["result"]


def load(url: str, signed: list[list[str]], batch: int, window: int,
         chain_pids: Callable[[], list[int]]) -> dict[str, float]:
    """Drive every sender's transfers through ``url``; committed transfers/s, rejections and
    the CPU the chain (processes ``chain_pids()``, which may start workers on the way) and
    this driver spent per committed transfer."""
    total = sum(len(s) for s in signed)
    chain_cpu, driver_cpu = {pid: cpu_seconds(pid) for pid in chain_pids()}, time.process_time()
    senders = [Account.recover_transaction(raws[0]) for raws in signed]
    rejected: list[str] = []
    first_sent = time.perf_counter()

    def committed_of(client: httpx.Client, sender: str) -> int:
        return int(str(call(client, url, "eth_getTransactionCount", sender, "latest")), 16)

    def lane(raws: list[str], sender: str) -> None:
        # bodies encoded up front: the driver shares the machine with the chain it measures
        bodies = [json.dumps([{"jsonrpc": "2.0", "id": j, "method": "eth_sendRawTransaction",
                               "params": [raw]} for j, raw in enumerate(raws[i:i + batch])]
                             ).encode() for i in range(0, len(raws), batch)]
        with httpx.Client(timeout=60, headers={"content-type": "application/json"}) as client:
            sent, committed = 0, 0
            for body in bodies:
                while sent - committed >= window:
                    time.sleep(BLOCK_TIME_S / 2)
                    committed = committed_of(client, sender)
                replies = json.loads(client.post(url, content=body).content)
                errors = [item["error"]["message"] for item in replies if "error" in item]
                if errors:  # a refused nonce leaves a gap: this sender's later ones cannot land
                    rejected.extend(errors + ["not sent"] * (len(raws) - sent - len(replies)))
                    return
                sent += len(replies)

    with ThreadPoolExecutor(SENDERS) as pool:
        for future in [pool.submit(lane, raws, sender)
                       for raws, sender in zip(signed, senders, strict=True)]:
            future.result()
    committed = 0
    with httpx.Client(timeout=60) as client:
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline:
            committed = sum(committed_of(client, sender) for sender in senders)
            if committed >= total - len(rejected):
                break
            time.sleep(BLOCK_TIME_S / 4)
    elapsed = time.perf_counter() - first_sent
    per_transfer_us = 1e6 / max(committed, 1)
    return {"committed_per_s": committed / elapsed, "committed": committed,
            "rejected": len(rejected),
            "chain_cpu_us": sum(cpu_seconds(pid) - chain_cpu.get(pid, 0)
                                for pid in chain_pids()) * per_transfer_us,
            "driver_cpu_us": (time.process_time() - driver_cpu) * per_transfer_us}


def luxtensor(signed: list[list[str]], batch: int, window: int) -> dict[str, float]:
    node = start_node(block_time=BLOCK_TIME_S)
    try:
        return load(node.url, signed, batch, window, node.pids)
    finally:
        node.stop()


def anvil(binary: str, signed: list[list[str]], batch: int, window: int) -> dict[str, float]:
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--block-time", str(BLOCK_TIME_S),
                             "--gas-limit", str(DEFAULT_GAS_LIMIT), "--chain-id", "1337",
                             "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId",
                                      "params": []}, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("anvil did not start") from None
                time.sleep(0.1)
        return load(url, signed, batch, window, lambda: [proc.pid])
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transfers", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--window", type=int, default=1900,
                        help="in flight per sender (under the mempool's 2,048 per sender)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    signed = presign(args.transfers // SENDERS)
    results: dict[str, list[dict[str, float]]] = {"luxtensor": [], "anvil": []}
    binary = anvil_binary()
    for _ in range(args.runs):   # interleaved, so background load hits both alike
        results["luxtensor"].append(luxtensor(signed, args.batch, args.window))
        if binary:
            results["anvil"].append(anvil(binary, signed, args.batch, args.window))
    if not binary:
        print(f"no anvil under {FOUNDRY}: npm install --prefix benchmarks/js")
    print(f"{args.transfers} transfers, {SENDERS} senders, {BLOCK_TIME_S} s blocks, "
          f"gas limit {DEFAULT_GAS_LIMIT:,}, median of {args.runs} runs")
    medians = {}
    for name, runs in results.items():
        if runs:
            medians[name] = statistics.median(r["committed_per_s"] for r in runs)
            print(f"{name:<10} {medians[name]:>9,.0f} committed transfers/s  "
                  f"(runs: {json.dumps([round(r['committed_per_s']) for r in runs])}, "
                  f"rejected {sum(r['rejected'] for r in runs)}; CPU per transfer: chain "
                  f"{statistics.median(r['chain_cpu_us'] for r in runs):.0f} us, driver "
                  f"{statistics.median(r['driver_cpu_us'] for r in runs):.0f} us)")
    if len(medians) == 2:
        print(f"ratio: {medians['luxtensor'] / medians['anvil']:.2f}x anvil")


if __name__ == "__main__":
    main()
