"""What WebSocket subscribers add to making a block: the node's fan-out of ``newHeads`` and
``logs`` notifications, against producing the same blocks with nobody subscribed.

    python benchmarks/ws_fanout.py [--connections 256] [--blocks 200] [--txs 20]

Each block carries ``--txs`` transfers; every connection holds one ``newHeads`` and one
``logs`` subscription (the hub's own connection objects; nothing is sent over a network, so
this is the fan-out's CPU alone). Prints ms per block for both and the difference.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from chain_fixtures import ECHO, KEYS, make_app, sign
from moderntensor.chain.log_query import parse_log_query
from moderntensor.chain.node import Node
from moderntensor.chain.ws import WebSocketHub, _Connection


def ms_per_block(connections: int, blocks: int, txs: int) -> float:
    app = make_app(Path(tempfile.mkdtemp()))
    node = Node(app, block_time=1, clock=lambda: 1_700_000_000)
    hub = WebSocketHub(node, lambda payload: None, ("*",))
    query = parse_log_query({"address": "0x" + ECHO.hex()}, 0)
    for _ in range(connections):
        connection = _Connection(socket=None)  # type: ignore[arg-type]
        connection.subscriptions = {"0x1": ("newHeads", None), "0x2": ("logs", query)}
        hub.connections.add(connection)
    nonce = 0
    elapsed = 0.0
    for _ in range(blocks):
        for _ in range(txs):
            node.submit(sign(KEYS[0], nonce, to=ECHO, gas=100_000, data=b"bench"))
            nonce += 1
        started = time.perf_counter()
        node.produce_block()
        elapsed += time.perf_counter() - started
        for connection in hub.connections:  # a reader that keeps up
            while not connection.outbox.empty():
                connection.outbox.get_nowait()
    app.store.close()
    return elapsed / blocks * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--blocks", type=int, default=200)
    parser.add_argument("--txs", type=int, default=20)
    args = parser.parse_args()
    baseline = ms_per_block(0, args.blocks, args.txs)
    loaded = ms_per_block(args.connections, args.blocks, args.txs)
    print(f"block with {args.txs} echo txs, no subscribers (baseline): {baseline:.2f} ms")
    print(f"same, {args.connections} connections x (newHeads + logs): {loaded:.2f} ms "
          f"(+{loaded - baseline:.2f} ms, {loaded / baseline:.2f}x)")


if __name__ == "__main__":
    main()
