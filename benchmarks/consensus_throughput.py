"""Committed transfers/s and time to finality: 4 CometBFT validators vs the single-node default,
the same client against both, in the same run.

    python benchmarks/consensus_throughput.py [--seconds 15] [--block-time 1.0]

For each network: (1) finality at low load: one transfer at a time, ``eth_sendRawTransaction``
to node 0 until its receipt is served (polled every 10 ms), 20 times; (2) throughput: signed
transfers flooded into node 0 in JSON-RPC batches of 100 (one batch in flight) for
``--seconds``, then committed transfers/s counted from node 0's blocks, first submit to last
commit. The single node is ``node start --dev`` (embedded producer, ``--block-time``); the
testnet is ``testnet up --nodes 4`` with ``timeout_commit`` = ``--block-time``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from eth_utils import keccak

from chain_harness import rpc, start_node
from chain_throughput import presign
from moderntensor.localnet.testnet import Testnet

BATCH = 100
FINALITY_SAMPLES = 20


def finality_ms(url: str, raws: list[str]) -> list[float]:
    """Submit each tx alone and wait for its receipt: submit -> committed and readable."""
    samples = []
    with httpx.Client(timeout=30) as client:
        for raw in raws:
            started = time.perf_counter()
            tx_hash = client.post(url, json={"jsonrpc": "2.0", "id": 1, "method":
                                             "eth_sendRawTransaction", "params": [raw]}).json()
            assert "result" in tx_hash, tx_hash
            while not client.post(url, json={"jsonrpc": "2.0", "id": 1, "method":
                                             "eth_getTransactionReceipt",
                                             "params": [tx_hash["result"]]}).json()["result"]:
                time.sleep(0.01)
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def flood(url: str, raws: list[str], seconds: float) -> dict:
    """Submit batches back to back for ``seconds``; count what node 0's blocks commit."""
    wanted: set[str] = set()
    rejected: Counter[str] = Counter()
    first_block = int(rpc(url, "eth_blockNumber"), 16) + 1
    t0 = time.perf_counter()
    with httpx.Client(timeout=60, headers={"content-type": "application/json"}) as client:
        for i in range(0, len(raws), BATCH):
            if time.perf_counter() - t0 > seconds:
                break
            chunk = raws[i:i + BATCH]
            body = json.dumps([{"jsonrpc": "2.0", "id": j, "method": "eth_sendRawTransaction",
                                "params": [raw]} for j, raw in enumerate(chunk)])
            for raw, item in zip(chunk, client.post(url, content=body).json(), strict=True):
                if "error" in item:
                    rejected[(item["error"].get("data") or {}).get("reason", "?")] += 1
                else:
                    wanted.add("0x" + keccak(bytes.fromhex(raw[2:])).hex())
        submit_s = time.perf_counter() - t0
        committed, last_commit, number = 0, t0, first_block
        deadline = time.perf_counter() + 60
        while committed < len(wanted) and time.perf_counter() < deadline:
            head = int(rpc(url, "eth_blockNumber"), 16)
            while number <= head:
                block = rpc(url, "eth_getBlockByNumber", hex(number), False)
                hits = sum(1 for h in block["transactions"] if h in wanted)
                if hits:
                    committed += hits
                    last_commit = time.perf_counter()
                number += 1
            time.sleep(0.05)
    return {"submitted": len(wanted), "rejected": dict(rejected), "submit_s": submit_s,
            "committed": committed, "rate": committed / max(last_commit - t0, 1e-9)}


def report(name: str, finality: list[float], load: dict) -> None:
    ordered = sorted(finality)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{name:<28} finality p50 {statistics.median(ordered):6.0f} ms  p99 {p99:6.0f} ms"
          f" | committed {load['committed']:>6.0f}/{load['submitted']:.0f} "
          f"-> {load['rate']:7,.0f} transfers/s; rejected at submit: {load['rejected'] or 0}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--block-time", type=float, default=1.0)
    parser.add_argument("--total", type=int, default=30_000, help="transfers signed per network")
    args = parser.parse_args()
    senders = 10
    raws = presign(args.total + FINALITY_SAMPLES * senders, senders)
    # presign is round-robin (tx i: sender i % senders, nonce i // senders): sender 0's first
    # nonces probe finality; the load then starts where each sender's nonces continue
    head = raws[:FINALITY_SAMPLES * senders]
    probe = head[::senders]
    load = [r for i, r in enumerate(head) if i % senders] + raws[FINALITY_SAMPLES * senders:]

    single = start_node(block_time=args.block_time)
    try:
        results = [("1 node, embedded producer", finality_ms(single.url, probe),
                    flood(single.url, load, args.seconds))]
    finally:
        single.stop()
    net = Testnet.create(Path(tempfile.mkdtemp(prefix="luxtensor-bench-")) / "testnet", 4,
                         timeout_commit=f"{round(args.block_time * 1000)}ms")
    try:
        net.start()
        url = net.nodes[0].url
        results.append(("4 validators, CometBFT", finality_ms(url, probe),
                        flood(url, load, args.seconds)))
    finally:
        net.stop()
    print(f"block time / timeout_commit {args.block_time:g} s, flood {args.seconds:g} s, "
          f"batches of {BATCH}")
    for name, finality, stats in results:
        report(name, finality, stats)


if __name__ == "__main__":
    main()
