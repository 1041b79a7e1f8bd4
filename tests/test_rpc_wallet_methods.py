"""What wallets and pages need: failing calls as Error(string) reverts, by-index block reads,
block receipts, and CORS (any origin on the dev chain, listed ones elsewhere)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from chain_fixtures import ECHO, KEYS, sign, spec
from moderntensor.chain.app import App
from moderntensor.chain.eth_api import methods_for
from moderntensor.chain.node import Node
from moderntensor.chain.rpc import build_rpc_app
from moderntensor.chain.store import Store
from moderntensor.protocol.revert import decode_revert, encode_revert

ECHO_HEX = "0x" + ECHO.hex()
PAGE = "http://localhost:5173"


def post(echo_client: TestClient, method: str, *params: Any) -> dict[str, Any]:
    return echo_client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": method,
                                  "params": list(params)}).json()


def test_estimate_gas_of_a_failing_call_answers_the_revert_instead_of_a_figure(
        echo_client: TestClient) -> None:
    failing = {"to": ECHO_HEX, "data": "0x" + b"fail".hex()}
    error = post(echo_client, "eth_estimateGas", failing)["error"]
    assert error["code"] == 3
    assert error["message"] == "execution reverted: asked to fail"
    assert decode_revert(bytes.fromhex(error["data"][2:])) == ("echo_failed", "asked to fail")
    assert post(echo_client, "eth_estimateGas", {"to": ECHO_HEX, "data": "0x01"})["result"] == hex(
        21_000 + 16 + 5_000)


def test_revert_data_is_abi_encoded_error_string_with_the_code() -> None:
    data = encode_revert("unknown_subnet", "subnet 9 does not exist")
    assert data[:4].hex() == "08c379a0"
    assert decode_revert(data) == ("unknown_subnet", "subnet 9 does not exist")
    assert decode_revert(encode_revert("x", "y")[:4] + b"\x00") is None


def test_block_reads_by_index_count_and_receipts(echo_client: TestClient, echo_node: Node) -> None:
    echo_node.submit(sign(KEYS[0], 0))
    echo_node.submit(sign(KEYS[1], 0))
    block = echo_node.produce_block()
    block_hash = "0x" + block.hash.hex()
    assert post(echo_client, "eth_getBlockTransactionCountByNumber", "0x1")["result"] == "0x2"
    assert post(echo_client, "eth_getBlockTransactionCountByHash", block_hash)["result"] == "0x2"
    second = post(echo_client, "eth_getTransactionByBlockHashAndIndex", block_hash, "0x1")["result"]
    assert second["hash"] == "0x" + block.transactions[1].hash.hex()
    assert post(echo_client, "eth_getTransactionByBlockNumberAndIndex", "latest", "0x0")["result"][
        "hash"] == "0x" + block.transactions[0].hash.hex()
    past_end = post(echo_client, "eth_getTransactionByBlockNumberAndIndex", "0x1", "0x2")
    assert past_end["result"] is None
    receipts = post(echo_client, "eth_getBlockReceipts", "0x1")["result"]
    assert [r["transactionHash"] for r in receipts] == [
        "0x" + tx.hash.hex() for tx in block.transactions]
    assert post(echo_client, "eth_getBlockReceipts", block_hash)["result"] == receipts
    assert post(echo_client, "eth_getBlockReceipts", "0x63")["result"] is None


def test_dev_chain_lets_any_browser_origin_call_the_rpc(echo_client: TestClient) -> None:
    preflight = echo_client.options("/", headers={"origin": PAGE, "access-control-request-method":
                                             "POST", "access-control-request-headers":
                                             "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", PAGE)
    answer = echo_client.post("/", headers={"origin": PAGE}, json={
        "jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    assert answer.headers["access-control-allow-origin"] == "*"


def test_other_chains_allow_only_the_listed_origins(tmp_path: Path) -> None:
    app = App(spec(chain_id=4242), Store(tmp_path))
    echo_node = Node(app, block_time=1)
    try:
        closed = TestClient(build_rpc_app(echo_node, methods_for({})))
        answer = closed.post("/", headers={"origin": PAGE}, json={
            "jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
        assert "access-control-allow-origin" not in answer.headers
        listed = TestClient(build_rpc_app(echo_node, methods_for({}), cors_origins=[PAGE]))
        allowed = listed.post("/", headers={"origin": PAGE}, json={
            "jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
        assert allowed.headers["access-control-allow-origin"] == PAGE
        refused = listed.options("/", headers={"origin": "http://evil.test",
                                               "access-control-request-method": "POST"})
        assert refused.status_code == 400
    finally:
        app.store.close()
