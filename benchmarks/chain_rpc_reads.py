"""eth_getBalance throughput of a real dev node, against eth_chainId (no state) as the baseline.

    python benchmarks/chain_rpc_reads.py [--seconds 10] [--connections 8]

Prints requests/s unbatched (one JSON-RPC call per HTTP request, keep-alive connections) and
batched (100 calls per request), and the node's RSS before and after.
"""

from __future__ import annotations

import argparse
import asyncio

from chain_harness import hammer, hammer_processes, jsonrpc_body, start_node

ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BATCH = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--clients", type=int, default=2, help="load-generator processes")
    args = parser.parse_args()
    node = start_node()
    try:
        rss_before = node.rss_mb()
        asyncio.run(hammer(node.port, jsonrpc_body("eth_chainId", []), 1, 2))  # warm-up
        rows = []
        for label, method, params in (("eth_chainId (baseline)", "eth_chainId", []),
                                      ("eth_getBalance", "eth_getBalance", [ADDRESS, "latest"])):
            for batch, connections in ((0, args.connections), (BATCH, 4)):
                body = jsonrpc_body(method, params, batch=batch)
                cpu = node.cpu_seconds()
                count = hammer_processes(node.port, body, args.seconds, connections, args.clients)
                calls = count * max(batch, 1)
                cpu_us = (node.cpu_seconds() - cpu) / calls * 1e6
                shape = f"batches of {batch}" if batch else "unbatched"
                rows.append((f"{label}, {shape}", calls / args.seconds, cpu_us))
        rss_after = node.rss_mb()
    finally:
        node.stop()
    print(f"{'':45s} {'calls/s':>10s} {'node CPU/call':>14s} {'=> calls/s per core':>20s}")
    for label, rate, cpu_us in rows:
        print(f"{label:45s} {rate:10,.0f} {cpu_us:11.1f} us {1e6 / cpu_us:20,.0f}")
    print(f"node RSS: {rss_before:.1f} MB before, {rss_after:.1f} MB after")


if __name__ == "__main__":
    main()
