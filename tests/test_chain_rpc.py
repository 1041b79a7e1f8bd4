"""JSON-RPC in-process: error codes, batches, logs, extension routing, health and metrics."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from chain_fixtures import ADDRESSES, ECHO, ECHO_TOPIC, KEYS, sign
from moderntensor.chain.eth_api import methods_for
from moderntensor.chain.node import Node
from moderntensor.chain.rpc import MAX_BODY_BYTES

ECHO_HEX = "0x" + ECHO.hex()


def call(echo_client: TestClient, method: str, *params: Any) -> dict[str, Any]:
    return echo_client.post("/", json={"jsonrpc": "2.0", "id": 7, "method": method,
                                  "params": list(params)}).json()


def reason(body: dict[str, Any]) -> tuple[int, str]:
    return body["error"]["code"], body["error"]["data"]["reason"]


def test_standard_error_codes(echo_client: TestClient) -> None:
    assert reason(echo_client.post("/", content=b"{nope").json()) == (-32700, "parse_error")
    assert reason(echo_client.post("/", json=[]).json()) == (-32600, "invalid_request")
    no_version = echo_client.post("/", json={"id": 1, "method": "eth_chainId"}).json()
    assert reason(no_version)[0] == -32600
    assert reason(call(echo_client, "eth_nothing")) == (-32601, "method_not_found")
    bad = call(echo_client, "eth_getBalance", "0x1234", "latest")
    assert reason(bad) == (-32602, "invalid_params")
    assert "20 bytes" in bad["error"]["message"]
    assert call(echo_client, "eth_getBalance", "0x" + "11" * 20, "0x5")["error"]["data"]["reason"] \
        == "state_not_available"


def test_batches_and_notifications(echo_client: TestClient) -> None:
    body = echo_client.post("/", json=[{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, 5,
                                  {"jsonrpc": "2.0", "method": "eth_chainId"}]).json()
    assert body[0]["result"] == hex(1337)
    assert body[1]["error"]["code"] == -32600
    assert len(body) == 2  # the notification got no answer
    only = echo_client.post("/", json={"jsonrpc": "2.0", "method": "eth_chainId"})
    assert only.status_code == 204


def test_oversized_body_is_413(echo_client: TestClient) -> None:
    response = echo_client.post("/", content=b" " * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert response.json()["error"]["data"]["reason"] == "request_too_large"


def test_rejected_transaction_has_a_stable_reason(echo_client: TestClient) -> None:
    body = call(echo_client, "eth_sendRawTransaction", "0x" + sign(KEYS[0], 5).hex())
    assert reason(body) == (-32003, "nonce_too_high")
    assert reason(call(echo_client, "eth_sendRawTransaction", "0xc0")) == (-32003, "invalid_rlp")


def test_system_calls_logs_and_views(echo_client: TestClient, echo_node: Node) -> None:
    ok = call(echo_client, "eth_sendRawTransaction",
              "0x" + sign(KEYS[0], 0, to=ECHO, value=0, gas=30_000, data=b"hi").hex())["result"]
    bad = call(echo_client, "eth_sendRawTransaction",
               "0x" + sign(KEYS[1], 0, to=ECHO, value=0, gas=30_000, data=b"fail").hex())["result"]
    echo_node.produce_block()
    echo_node.produce_block()  # block 2: the end-block hook logs on even blocks
    mined = call(echo_client, "eth_getTransactionReceipt", ok)["result"]
    assert mined["logs"][0]["data"] == "0x6869"
    failed = call(echo_client, "eth_getTransactionReceipt", bad)["result"]
    assert failed["status"] == "0x0" and failed["error"]["code"] == "echo_failed"
    logs = call(echo_client, "eth_getLogs", {"fromBlock": "0x0", "address": ECHO_HEX,
                                        "topics": [["0x" + ECHO_TOPIC.hex()]]})["result"]
    assert [entry["data"] for entry in logs] == ["0x6869", "0x" + b"even".hex()]
    assert call(echo_client, "eth_getLogs", {"fromBlock": "0x2", "toBlock": "0x2"})["result"][0][
        "blockNumber"] == "0x2"
    assert call(echo_client, "eth_getLogs", {"address": "0x" + "00" * 20, "fromBlock": "0x0"}) \
        ["result"] == []
    view = call(echo_client, "eth_call", {"to": ECHO_HEX, "data": "0x" + ADDRESSES[0].hex()})
    assert view["result"] == "0x6869"
    assert call(echo_client, "mt_echo", "0x" + ADDRESSES[0].hex())["result"] == "hi"
    assert int(call(echo_client, "eth_estimateGas", {"to": ECHO_HEX, "data": "0x6869"})["result"],
               16) == 21_000 + 32 + 5_000


def test_pending_transaction_is_visible_before_its_block(echo_client: TestClient,
                                                           echo_node: Node) -> None:
    tx_hash = call(echo_client, "eth_sendRawTransaction", "0x" + sign(KEYS[2], 0).hex())["result"]
    pending = call(echo_client, "eth_getTransactionByHash", tx_hash)["result"]
    assert pending["blockNumber"] is None
    assert call(echo_client, "eth_getTransactionReceipt", tx_hash)["result"] is None
    assert call(echo_client, "eth_getTransactionCount", "0x" + ADDRESSES[2].hex(), "pending")[
        "result"] == "0x1"
    echo_node.produce_block()
    assert call(echo_client, "eth_getTransactionByHash", tx_hash)["result"]["blockNumber"] == "0x1"


def test_modules_cannot_replace_core_methods() -> None:
    with pytest.raises(ValueError, match="eth_chainId"):
        methods_for({"eth_chainId": lambda echo_node, params: "0x1"})


def test_health_and_metrics(echo_client: TestClient, echo_node: Node) -> None:
    echo_node.produce_block()
    health = echo_client.get("/health").json()
    assert health == {**health, "status": "ok", "block_height": 1, "syncing": False, "peers": 0}
    call(echo_client, "eth_blockNumber")
    text = echo_client.get("/metrics").text
    for name in ("luxtensor_block_height 1.0", "luxtensor_mempool_size",
                 "luxtensor_transactions_per_second", "luxtensor_rpc_latency_seconds_bucket"):
        assert name in text
