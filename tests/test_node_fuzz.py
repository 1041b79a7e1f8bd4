"""Fuzz: thousands of malformed JSON-RPC payloads and raw transactions against a real node.

Bounded in count and time, loopback only. Nothing may answer HTTP 5xx, every answer must be a
well-formed JSON-RPC response, and no balance, nonce or mempool entry may change.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chain_support import DEV, NodeProcess, running_node, sign_transfer
from moderntensor.chain.eth_api import METHODS

SEED = 4
TIME_BUDGET = 25  # seconds for the whole fuzz run, whatever the machine
ODD_VALUES: list[Any] = [None, True, 0, -1, 1.5, 2**70, "", "0x", "0x0", "0xzz", "latest",
                         "pending", "0x" + "ff" * 40, "x" * 300, [], {}, [None], {"a": 1},
                         DEV[0].address, "0x" + "00" * 32, "0x" + "12" * 20]


def odd(rng: random.Random) -> Any:
    value = rng.choice(ODD_VALUES)
    if rng.random() < 0.2:
        return [value, rng.choice(ODD_VALUES)]
    return value


def request_payloads(rng: random.Random, count: int) -> Iterator[bytes]:
    methods = [*METHODS, "eth_nope", "", "mt_", "rpc.discover"]
    for i in range(count):
        kind = i % 6
        if kind == 0:  # a known method with odd parameters
            body: Any = {"jsonrpc": "2.0", "id": i, "method": rng.choice(methods),
                         "params": [odd(rng) for _ in range(rng.randint(0, 4))]}
        elif kind == 1:  # a broken envelope
            body = {rng.choice(["jsonrpc", "id", "method", "params", "x"]): odd(rng)
                    for _ in range(rng.randint(0, 4))}
        elif kind == 2:  # a batch of odd things
            body = [odd(rng) if rng.random() < 0.5 else {"jsonrpc": "2.0", "id": 1,
                                                          "method": rng.choice(methods),
                                                          "params": odd(rng)}
                    for _ in range(rng.randint(0, 5))]
        elif kind == 3:  # not JSON at all, or truncated JSON
            text = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"})
            yield (rng.randbytes(rng.randint(0, 64)) if rng.random() < 0.5
                   else text[: rng.randint(0, len(text) - 1)].encode())
            continue
        elif kind == 4:  # a call object with odd fields
            body = {"jsonrpc": "2.0", "id": i, "method": rng.choice(["eth_call", "eth_estimateGas",
                                                                      "eth_getLogs"]),
                    "params": [{rng.choice(["to", "from", "data", "value", "address", "topics",
                                            "fromBlock", "blockHash", "gas"]): odd(rng)
                                for _ in range(3)}]}
        else:  # params that are not an array
            body = {"jsonrpc": "2.0", "id": i, "method": "eth_getBalance", "params": odd(rng)}
        yield json.dumps(body).encode()


def mutated_transactions(rng: random.Random, count: int) -> Iterator[str]:
    valid = [sign_transfer(i % 10, DEV[(i + 1) % 10].address, 10**18, 0, eip1559=i % 2 == 1)
             for i in range(20)]
    originals = set(valid)
    produced = 0
    while produced < count:
        raw = bytearray(rng.choice(valid))
        action = rng.randrange(4)
        if action == 0:
            for _ in range(rng.randint(1, 3)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
        elif action == 1:
            raw = raw[: rng.randrange(len(raw))]
        elif action == 2:
            raw += rng.randbytes(rng.randint(1, 8))
        else:
            raw[0] = rng.choice([0x00, 0x01, 0x02, 0x03, 0x04, 0x7F, 0xC0, 0xF8])
        if bytes(raw) in originals:  # a mutation that changed nothing is not malformed
            continue
        produced += 1
        yield "0x" + raw.hex()


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeProcess]:
    with running_node(tmp_path / "chain", block_time=0.5) as process:
        yield process


def check_response(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code == 204:
        return
    body = response.json()
    for item in body if isinstance(body, list) else [body]:
        assert item["jsonrpc"] == "2.0"
        assert ("result" in item) != ("error" in item)
        if "error" in item:
            assert isinstance(item["error"]["code"], int)
            assert item["error"]["message"]


def test_malformed_input_never_crashes_or_changes_state(node: NodeProcess) -> None:
    rng = random.Random(SEED)
    accounts = [[a.address, "latest"] for a in DEV]
    balances = node.rpc_batch("eth_getBalance", accounts)
    nonces = node.rpc_batch("eth_getTransactionCount", accounts)
    deadline = time.monotonic() + TIME_BUDGET
    sent = 0
    with httpx.Client(timeout=10, headers={"content-type": "application/json"}) as client:
        for body in request_payloads(rng, 2_000):
            check_response(client.post(node.url, content=body))
            sent += 1
            if time.monotonic() > deadline:
                break
        transactions = list(mutated_transactions(rng, 3_000))
        for start in range(0, len(transactions), 100):
            batch = [{"jsonrpc": "2.0", "id": j, "method": "eth_sendRawTransaction",
                      "params": [raw]} for j, raw in enumerate(transactions[start:start + 100])]
            response = client.post(node.url, json=batch)
            check_response(response)
            assert all("error" in item for item in response.json())
            sent += len(batch)
        big = client.post(node.url, content=b"[" + b"1," * (3 * 1024 * 1024) + b"1]")
        assert big.status_code == 413
    assert sent >= 3_000
    node.wait_for_block(int(node.rpc("eth_blockNumber"), 16) + 1)
    health = httpx.get(f"{node.url}/health").json()
    assert health["status"] == "ok" and health["mempool_size"] == 0
    assert node.rpc_batch("eth_getBalance", accounts) == balances
    assert node.rpc_batch("eth_getTransactionCount", accounts) == nonces
