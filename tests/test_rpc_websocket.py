"""JSON-RPC over WebSocket: plain calls, eth_subscribe pushes, and its bounds."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient, WebSocketTestSession

from chain_fixtures import ECHO, KEYS, sign
from moderntensor.chain import ws
from moderntensor.chain.blocks import end_block_tx_hash
from moderntensor.chain.node import Node


def subscribe(socket: WebSocketTestSession, *params: object) -> str:
    socket.send_json({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe",
                      "params": list(params)})
    return socket.receive_json()["result"]


def test_plain_calls_work_over_the_socket(echo_client: TestClient) -> None:
    with echo_client.websocket_connect("/") as socket:
        socket.send_json({"jsonrpc": "2.0", "id": 5, "method": "eth_chainId", "params": []})
        assert socket.receive_json() == {"jsonrpc": "2.0", "id": 5, "result": "0x539"}


def test_new_heads_and_logs_subscriptions_push_each_block(echo_client: TestClient,
                                                          echo_node: Node) -> None:
    with echo_client.websocket_connect("/ws") as socket:
        heads = subscribe(socket, "newHeads")
        logs = subscribe(socket, "logs", {"address": "0x" + ECHO.hex()})
        echo_node.produce_block()
        even = echo_node.produce_block()  # the echo module logs at the end of even blocks
        first = socket.receive_json()["params"]
        assert first["subscription"] == heads and first["result"]["number"] == "0x1"
        second = socket.receive_json()["params"]
        assert second["result"]["hash"] == "0x" + even.hash.hex()
        pushed = socket.receive_json()["params"]
        assert pushed["subscription"] == logs
        assert pushed["result"]["transactionHash"] == "0x" + end_block_tx_hash(even.hash).hex()


def test_pending_transactions_subscription_pushes_hashes(echo_client: TestClient,
                                                         echo_node: Node) -> None:
    with echo_client.websocket_connect("/") as socket:
        sub = subscribe(socket, "newPendingTransactions")
        tx_hash = echo_node.submit(sign(KEYS[0], 0))
        assert socket.receive_json()["params"] == {"subscription": sub,
                                                   "result": "0x" + tx_hash.hex()}
        socket.send_json({"jsonrpc": "2.0", "id": 2, "method": "eth_unsubscribe",
                          "params": [sub]})
        assert socket.receive_json()["result"] is True


def test_subscriptions_per_connection_are_bounded(echo_client: TestClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws, "MAX_SUBSCRIPTIONS", 2)
    with echo_client.websocket_connect("/") as socket:
        subscribe(socket, "newHeads")
        subscribe(socket, "newHeads")
        socket.send_json({"jsonrpc": "2.0", "id": 3, "method": "eth_subscribe",
                          "params": ["newHeads"]})
        assert socket.receive_json()["error"]["data"]["reason"] == "too_many_subscriptions"
        socket.send_json({"jsonrpc": "2.0", "id": 4, "method": "eth_subscribe",
                          "params": ["syncing"]})
        assert socket.receive_json()["error"]["data"]["reason"] == "unknown_subscription"
        socket.send_text("{not json")
        assert socket.receive_json()["error"]["code"] == -32700


def test_a_reader_that_falls_behind_is_disconnected(echo_client: TestClient, echo_node: Node,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws, "MAX_QUEUED", 0)
    with echo_client.websocket_connect("/") as socket:
        subscribe(socket, "newHeads")
        echo_node.produce_block()
        closed = socket.receive()
        assert closed["type"] == "websocket.close" and closed["code"] == 1008


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40)
    | st.sampled_from(["eth_subscribe", "eth_unsubscribe", "logs", "newHeads", "2.0"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["jsonrpc", "id", "method", "params", "address", "topics"]), inner,
        max_size=4), max_leaves=10))
def test_fuzzed_socket_messages_get_an_answer_and_keep_the_connection(
        echo_client: TestClient, payload: object) -> None:
    with echo_client.websocket_connect("/") as socket:
        socket.send_json(payload)
        socket.send_json({"jsonrpc": "2.0", "id": "ping", "method": "eth_blockNumber",
                          "params": []})
        answers = [socket.receive_json()]
        while not (isinstance(answers[-1], dict) and answers[-1].get("id") == "ping"):
            answers.append(socket.receive_json())
        assert all("internal error" not in json.dumps(answer) for answer in answers)
