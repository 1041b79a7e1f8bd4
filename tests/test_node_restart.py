"""Persistence: a restart, clean or after kill -9, resumes with the same blocks and state."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from chain_support import DEV, running_node, sign_transfer, start_node

RECIPIENT = "0x000000000000000000000000000000000000bEEF"


def test_clean_restart_keeps_state_root_and_balances(tmp_path: Path) -> None:
    data_dir = tmp_path / "chain"
    with running_node(data_dir) as node:
        hashes = [node.rpc("eth_sendRawTransaction", "0x" + sign_transfer(2, RECIPIENT, 7, n)
                           .hex()) for n in range(5)]
        node.wait_for_block(int(node.rpc("eth_blockNumber"), 16) + 2)
        assert all(node.rpc("eth_getTransactionReceipt", h)["status"] == "0x1" for h in hashes)
        head = int(node.rpc("eth_blockNumber"), 16)
        before = node.rpc("eth_getBlockByNumber", hex(head), False)
        balance = node.rpc("eth_getBalance", DEV[2].address, "latest")
    with running_node(data_dir) as node:
        assert int(node.rpc("eth_blockNumber"), 16) >= head
        again = node.rpc("eth_getBlockByNumber", hex(head), False)
        assert again["stateRoot"] == before["stateRoot"]
        assert again["hash"] == before["hash"]
        assert node.rpc("eth_getBalance", DEV[2].address, "latest") == balance
        assert node.rpc("eth_getBalance", RECIPIENT, "latest") == hex(35)
        assert node.rpc("eth_getTransactionCount", DEV[2].address, "latest") == "0x5"
        assert node.rpc("eth_getTransactionReceipt", hashes[0])["status"] == "0x1"


def test_kill_9_loses_no_reported_block(tmp_path: Path) -> None:
    data_dir = tmp_path / "chain"
    node = start_node(data_dir, block_time=0.1)
    reported: dict[int, str] = {}
    receipts: list[str] = []
    stop = threading.Event()

    signed = ["0x" + sign_transfer(3, RECIPIENT, 1, nonce).hex() for nonce in range(600)]

    def load() -> None:  # keep blocks busy while we kill the node
        with httpx.Client(timeout=5) as client:
            for start in range(0, len(signed), 20):
                if stop.is_set():
                    return
                batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction",
                          "params": [raw]} for i, raw in enumerate(signed[start:start + 20])]
                try:
                    client.post(node.url, json=batch)
                except httpx.HTTPError:
                    return
                stop.wait(0.02)

    sender = threading.Thread(target=load, daemon=True)
    sender.start()
    try:
        node.wait_for_block(5)
        for _ in range(8):  # what RPC reports is what must survive
            head = int(node.rpc("eth_blockNumber"), 16)
            block = node.rpc("eth_getBlockByNumber", hex(head), False)
            reported[head] = block["hash"]
            receipts.extend(block["transactions"])
    finally:
        node.kill9()
        stop.set()
        sender.join(timeout=10)
    assert receipts, "the load generator got no transaction into a block"
    with running_node(data_dir) as node:
        assert int(node.rpc("eth_blockNumber"), 16) >= max(reported)
        for number, block_hash in reported.items():
            assert node.rpc("eth_getBlockByNumber", hex(number), False)["hash"] == block_hash
        found = node.rpc_batch("eth_getTransactionReceipt", [[h] for h in receipts])
        assert all(receipt["status"] == "0x1" for receipt in found)
        nonce = int(node.rpc("eth_getTransactionCount", DEV[3].address, "latest"), 16)
        assert node.rpc("eth_getBalance", RECIPIENT, "latest") == hex(nonce)


@pytest.mark.slow
def test_repeated_kill_9_at_random_instants(tmp_path: Path) -> None:
    """Five kill -9s at random moments under load; every restart resumes consistently."""
    data_dir = tmp_path / "chain"
    rng = random.Random(9)
    nonce = 0
    reported: dict[int, str] = {}
    for _ in range(5):
        node = start_node(data_dir, block_time=0.1)
        try:
            for number, block_hash in reported.items():  # nothing reported was lost
                assert node.rpc("eth_getBlockByNumber", hex(number), False)["hash"] == block_hash
            nonce = int(node.rpc("eth_getTransactionCount", DEV[4].address, "latest"), 16)
            assert node.rpc("eth_getBalance", RECIPIENT, "latest") == hex(nonce)
            batch = [["0x" + sign_transfer(4, RECIPIENT, 1, n).hex()]
                     for n in range(nonce, nonce + 200)]
            node.rpc_batch("eth_sendRawTransaction", batch)
            deadline = time.monotonic() + rng.uniform(0.1, 1.5)
            while time.monotonic() < deadline:
                head = int(node.rpc("eth_blockNumber"), 16)
                reported[head] = node.rpc("eth_getBlockByNumber", hex(head), False)["hash"]
        finally:
            node.kill9()
