"""Sustained transfer throughput of a real dev node: signed transfers submitted with
``eth_sendRawTransaction`` (JSON-RPC batches) at a fixed rate, committed in 1 s blocks.

    python benchmarks/chain_throughput.py [--rate 1100] [--seconds 30] [--batch 110]

Prints the committed transfers/s over the run, submit->receipt latency p50/p99 (the receipt is
available when its block is visible over RPC), rejections, node CPU and RSS. Baseline, in the
same run: the same transactions decoded, verified and executed in-process with no RPC (the
state machine's own ceiling on one core).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import Pool
from pathlib import Path

import httpx
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from chain_harness import rpc, start_node
from moderntensor.chain.app import App
from moderntensor.chain.genesis import dev_accounts, dev_spec
from moderntensor.chain.store import Store

LANES = 2  # concurrent submitters (threads), each with its own senders and connection
RECIPIENTS = [to_checksum_address(f"0x{i:040x}") for i in range(1, 51)]


def _sign_range(args: tuple[int, int, int]) -> list[str]:
    account_index, first_nonce, count = args
    key = dev_accounts()[account_index].private_key
    signed = []
    # a fee cap far above the base fee: sustained full blocks raise it 12.5% a block (EIP-1559)
    for nonce in range(first_nonce, first_nonce + count):
        tx = {"to": RECIPIENTS[nonce % len(RECIPIENTS)], "value": 1 + nonce % 7, "gas": 21_000,
              "maxFeePerGas": 500 * 10**9, "maxPriorityFeePerGas": 10**9, "nonce": nonce,
              "chainId": 1337}
        signed.append("0x" + bytes(Account.sign_transaction(tx, key).raw_transaction).hex())
    return signed


def presign(total: int, senders: int) -> list[str]:
    """``total`` transfers round-robin over ``senders`` dev accounts, in submission order."""
    per_sender = -(-total // senders)
    with Pool(2) as pool:
        chunks = pool.map(_sign_range, [(i, 0, per_sender) for i in range(senders)])
    return [chunks[i % senders][i // senders] for i in range(total)]


def baseline(raws: list[str]) -> float:
    """Transfers/s of decode + verify + execute + commit in-process (no RPC, no HTTP)."""
    app = App(dev_spec(), Store(Path(tempfile.mkdtemp(prefix="luxtensor-baseline-"))))
    started = time.perf_counter()
    for raw in raws:
        app.check_tx(bytes.fromhex(raw[2:]))
    result = app.finalize_block(timestamp=1)
    app.commit(result)
    assert len(result.block.transactions) == len(raws), result.rejected[:1]
    return len(raws) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=1100, help="submitted transfers per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--batch", type=int, default=110, help="transactions per JSON-RPC batch")
    parser.add_argument("--senders", type=int, default=10)
    args = parser.parse_args()
    total = int(args.rate * args.seconds)
    started = time.perf_counter()
    raws = presign(total, args.senders)
    print(f"signed {total} transfers in {time.perf_counter() - started:.1f} s")
    base_rate = baseline(raws[:2000])

    # lanes own disjoint senders, so each lane sends its batches in nonce order
    lanes = [[raw for i, raw in enumerate(raws) if i % args.senders % LANES == lane]
             for lane in range(LANES)]
    lane_bodies = [[json.dumps([{"jsonrpc": "2.0", "id": j, "method": "eth_sendRawTransaction",
                                 "params": [raw]} for j, raw in enumerate(chunk[i:i + args.batch])])
                    .encode() for i in range(0, len(chunk), args.batch)] for chunk in lanes]
    lane_hashes = [["0x" + keccak(bytes.fromhex(raw[2:])).hex() for raw in chunk]
                   for chunk in lanes]

    node = start_node(block_time=1.0)
    submitted: dict[str, float] = {}
    seen: dict[str, float] = {}
    rejected: list[str] = []
    rss: list[float] = []
    done = threading.Event()

    def watch() -> None:  # block by block: every tx in a visible block has its receipt
        with httpx.Client(timeout=30) as client:
            number = int(rpc(node.url, "eth_blockNumber"), 16)
            while not (done.is_set() and len(seen) >= len(submitted) - len(rejected)):
                head = int(client.post(node.url, json={"jsonrpc": "2.0", "id": 1,
                                                       "method": "eth_blockNumber",
                                                       "params": []}).json()["result"], 16)
                while number < head:
                    number += 1
                    block = client.post(node.url, json={
                        "jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber",
                        "params": [hex(number), False]}).json()["result"]
                    now = time.perf_counter()
                    for tx_hash in block["transactions"]:
                        seen[tx_hash] = now
                    if number % 5 == 0:
                        rss.append(node.rss_mb())
                time.sleep(0.02)

    def lane(index: int) -> None:
        interval = args.batch * LANES / args.rate
        with httpx.Client(timeout=30, headers={"content-type": "application/json"}) as client:
            for i, body in enumerate(lane_bodies[index]):
                delay = t0 + i * interval - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                now = time.perf_counter()
                for j, item in enumerate(client.post(node.url, content=body).json()):
                    if "error" in item:
                        rejected.append(item["error"]["message"])
                    else:
                        submitted[lane_hashes[index][i * args.batch + j]] = now

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    rss_start, cpu_start = node.rss_mb(), node.cpu_seconds()
    t0 = time.perf_counter()
    try:
        with ThreadPoolExecutor(LANES) as pool:
            for future in [pool.submit(lane, k) for k in range(LANES)]:
                future.result()
        submit_seconds = time.perf_counter() - t0
        done.set()
        watcher.join(timeout=60)
        elapsed = max(seen.values()) - t0 if seen else float("nan")
        rss_end, cpu = node.rss_mb(), node.cpu_seconds() - cpu_start
    finally:
        node.stop()
    latencies = sorted(seen[h] - submitted[h] for h in seen if h in submitted)
    committed = len(latencies)
    print(f"baseline (in-process decode+verify+execute+commit): {base_rate:8,.0f} transfers/s")
    print(f"submitted {len(submitted)} in {submit_seconds:.1f} s "
          f"({len(submitted) / submit_seconds:,.0f}/s), rejected {len(rejected)}"
          + (f" e.g. {rejected[0]}" if rejected else ""))
    print(f"committed {committed} in {elapsed:.1f} s: {committed / elapsed:8,.0f} transfers/s")
    if latencies:
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"submit->receipt latency: p50 {statistics.median(latencies) * 1000:.0f} ms, "
              f"p99 {p99 * 1000:.0f} ms")
    print(f"node CPU {cpu:.1f} s ({cpu / elapsed * 100:.0f}% of one core, "
          f"{cpu / max(committed, 1) * 1e6:.0f} us per transfer); "
          f"RSS {rss_start:.1f} MB -> {rss_end:.1f} MB")
    print("RSS every 5 blocks (MB): " + " ".join(f"{value:.0f}" for value in rss))


if __name__ == "__main__":
    main()
