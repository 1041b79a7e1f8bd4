"""Filters (eth_newFilter & co.): what each kind reports, once; bounds, expiry and fuzzing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from chain_fixtures import ECHO, ECHO_TOPIC, KEYS, sign
from moderntensor.chain import filters
from moderntensor.chain.blocks import end_block_tx_hash
from moderntensor.chain.node import Node

FILTER_METHODS = sorted(filters.FILTER_METHODS)


def rpc(echo_client: TestClient, method: str, *params: Any) -> Any:
    body = echo_client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": method,
                                  "params": list(params)}).json()
    assert "error" not in body, body
    return body["result"]


def rpc_error(echo_client: TestClient, method: str, *params: Any) -> dict[str, Any]:
    response = echo_client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": method,
                                      "params": list(params)})
    assert response.status_code == 200
    return response.json()["error"]


def test_block_filter_reports_each_new_block_hash_once(echo_client: TestClient,
                                                       echo_node: Node) -> None:
    filter_id = rpc(echo_client, "eth_newBlockFilter")
    assert rpc(echo_client, "eth_getFilterChanges", filter_id) == []
    made = [echo_node.produce_block(), echo_node.produce_block()]
    hashes = ["0x" + b.hash.hex() for b in made]
    assert rpc(echo_client, "eth_getFilterChanges", filter_id) == hashes
    assert rpc(echo_client, "eth_getFilterChanges", filter_id) == []


def test_log_filter_reports_tx_logs_and_end_block_logs_with_the_pseudo_tx_hash(
        echo_client: TestClient, echo_node: Node) -> None:
    filter_id = rpc(echo_client, "eth_newFilter", {"address": "0x" + ECHO.hex(),
                                              "topics": ["0x" + ECHO_TOPIC.hex()]})
    echo_node.submit(sign(KEYS[0], 0, to=ECHO, gas=100_000, data=b"hello"))
    block = echo_node.produce_block()  # block 1: the tx's log
    even = echo_node.produce_block()  # block 2: an end-block log
    logs = rpc(echo_client, "eth_getFilterChanges", filter_id)
    assert [entry["data"] for entry in logs] == ["0x" + b"hello".hex(), "0x" + b"even".hex()]
    assert logs[0]["transactionHash"] == "0x" + block.transactions[0].hash.hex()
    assert logs[1]["transactionHash"] == "0x" + end_block_tx_hash(even.hash).hex()
    assert logs[1]["transactionIndex"] == "0x0"  # one past the block's (zero) transactions
    assert rpc(echo_client, "eth_getFilterChanges", filter_id) == []
    assert rpc(echo_client, "eth_getFilterLogs", filter_id) == [logs[1]]  # "latest": the head
    assert rpc(echo_client, "eth_getLogs", {"fromBlock": "0x2", "toBlock": "0x2"}) == [logs[1]]


def test_pending_filter_reports_admitted_transaction_hashes(echo_client: TestClient,
                                                            echo_node: Node) -> None:
    filter_id = rpc(echo_client, "eth_newPendingTransactionFilter")
    tx_hash = echo_node.submit(sign(KEYS[1], 0))
    assert rpc(echo_client, "eth_getFilterChanges", filter_id) == ["0x" + tx_hash.hex()]
    assert rpc(echo_client, "eth_getFilterChanges", filter_id) == []


def test_uninstalled_filter_is_not_found(echo_client: TestClient) -> None:
    filter_id = rpc(echo_client, "eth_newBlockFilter")
    assert rpc(echo_client, "eth_uninstallFilter", filter_id) is True
    assert rpc(echo_client, "eth_uninstallFilter", filter_id) is False
    assert rpc_error(echo_client, "eth_getFilterChanges", filter_id)["data"]["reason"] \
        == "filter_not_found"


def test_filter_expires_after_its_ttl_without_a_poll(echo_node: Node) -> None:
    now = [0.0]
    registry = filters.FilterRegistry(echo_node, clock=lambda: now[0])
    kept, dropped = registry.install("blocks"), registry.install("blocks")
    now[0] = filters.FILTER_TTL_S - 1
    registry.changes(kept)
    now[0] = filters.FILTER_TTL_S + 1
    registry.expire()
    assert len(registry) == 1
    with pytest.raises(Exception, match="filter not found"):
        registry.changes(dropped)


def test_filter_count_is_bounded_by_evicting_the_least_recently_polled(
        echo_node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filters, "MAX_FILTERS", 3)
    now = [0.0]
    registry = filters.FilterRegistry(echo_node, clock=lambda: now[0])
    ids = []
    for step in range(3):
        now[0] = step
        ids.append(registry.install("pending"))
    now[0] = 10
    registry.changes(ids[0])
    registry.install("pending")
    assert len(registry) == 3
    with pytest.raises(Exception, match="filter not found"):
        registry.changes(ids[1])


def test_pending_filter_buffer_is_bounded(echo_node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = filters.FilterRegistry(echo_node)
    filter_id = registry.install("pending")
    for nonce in range(5):
        echo_node.submit(sign(KEYS[2], nonce))
    assert len(registry.changes(filter_id)) == 5
    assert registry._filters[filter_id].pending.maxlen == filters.MAX_PENDING_HASHES


def test_log_filter_rejects_unknown_fields_with_a_stable_reason(echo_client: TestClient) -> None:
    assert rpc_error(echo_client, "eth_newFilter", {"form": "0x1"})["data"]["reason"] \
        == "invalid_params"


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from([*FILTER_METHODS, "eth_subscribe", "eth_getBlockReceipts",
                               "eth_getTransactionByBlockNumberAndIndex"]),
       params=st.lists(st.recursive(
           st.none() | st.booleans() | st.integers() | st.text(max_size=70)
           | st.sampled_from(["latest", "0x1", "0x" + "ab" * 32, "0x" + "00" * 20]),
           lambda inner: st.lists(inner, max_size=3)
           | st.dictionaries(st.sampled_from(["fromBlock", "toBlock", "address", "topics",
                                              "blockHash"]), inner, max_size=3),
           max_leaves=8), max_size=3))
def test_fuzzed_filter_calls_answer_json_rpc_never_a_5xx(echo_client: TestClient, method: str,
                                                         params: list) -> None:
    response = echo_client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": method,
                                      "params": params})
    assert response.status_code == 200
    body = response.json()
    assert "result" in body or body["error"]["code"] != -32603
