"""Attacks on the node's JSON-RPC edge: huge numbers are invalid params, never internal errors;
the HTTP limits of the miner hold here too, with JSON-RPC error bodies."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from chain_support import NodeProcess, free_port, running_node
from miner_support import serving_config
from moderntensor.chain.eth_api import methods_for
from moderntensor.chain.genesis import dev_spec
from moderntensor.chain.producer import open_node
from moderntensor.chain.rpc import build_rpc_app, edge_error_body
from moderntensor.protocol.http_edges import EdgeLimits, guarded_http
from security.edge_probes import connect, exchange, read_answer, request_head, trickle_until_closed
from security.rpc_fuzz_cases import HUGE_HEX, huge_number_request, internal_errors, node_methods

FUZZ_REQUESTS = 400  # benchmarks/rpc_huge_numbers.py sends 10,000
SEED = 19


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    with running_node(tmp_path_factory.mktemp("rpc-edges") / "chain", block_time=0.5) as process:
        yield process


def call(node: NodeProcess, method: str, *params: object) -> dict:
    return node.raw({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).json()


@pytest.mark.parametrize(("method", "params"), [
    ("mt_getSubnet", [HUGE_HEX]),
    ("mt_getMetagraph", ["9" * 5000]),
    ("mt_getNeuron", [1, HUGE_HEX]),
    ("mt_getRewards", [1, {"fromEpoch": HUGE_HEX}]),
    ("eth_getBlockByNumber", [HUGE_HEX, False]),
    ("eth_feeHistory", [HUGE_HEX, "latest", []]),
    ("eth_getBalance", ["0x" + "11" * 20, HUGE_HEX]),
    ("mt_getSubnet", [2**16]),
    ("eth_call", [{"to": "0x" + "11" * 20, "value": "0x1" + "0" * 64}]),
])
def test_a_huge_number_is_invalid_params_with_a_message(node: NodeProcess, method: str,
                                                        params: list) -> None:
    error = call(node, method, *params)["error"]
    assert error["code"] == -32602, error
    assert 0 < len(error["message"]) < 300


def test_fuzzed_huge_numbers_cause_no_internal_error_and_no_traceback(node: NodeProcess) -> None:
    rng = random.Random(SEED)
    methods = node_methods()
    internal = 0
    with httpx.Client(timeout=10, headers={"content-type": "application/json"}) as client:
        for index in range(FUZZ_REQUESTS):
            response = client.post(node.url, content=huge_number_request(rng, methods, index))
            assert response.status_code < 500, response.text
            internal += internal_errors(response.json())
    assert internal == 0
    log = node.log_path.read_text()
    assert "Traceback" not in log and "internal error" not in log


def test_a_64_kib_header_is_refused_with_431_and_a_json_rpc_error(node: NodeProcess) -> None:
    answer = exchange(node.url, request_head("/", extra=b"x-big: " + b"a" * 64 * 1024 + b"\r\n"))
    assert answer.status == 431
    assert answer.json()["error"]["data"]["reason"] == "headers_too_large"


def test_paths_outside_json_rpc_are_json_404s_never_redirects(node: NodeProcess) -> None:
    with httpx.Client(timeout=5, follow_redirects=False) as client:
        for path in ("/health/", "/nope", "/metrics/"):
            response = client.get(node.url + path)
            assert response.status_code == 404, path
            assert response.json()["error"]["data"]["reason"] == "not_found"


@pytest.fixture
def quick_timeout_rpc(tmp_path: Path) -> Iterator[str]:
    """The node's RPC app behind the node's edge protocol, with a 1 s head timeout."""
    chain = open_node(dev_spec(), tmp_path / "chain")
    limits = EdgeLimits(header_timeout_s=1.0, body_timeout_s=1.0, max_connections_per_peer=500)
    config = uvicorn.Config(
        build_rpc_app(chain, methods_for(chain.app.ext.rpc_methods)), host="127.0.0.1",
        port=free_port(), lifespan="off", log_level="warning",
        http=guarded_http(limits, edge_error_body))
    try:
        with serving_config(config) as url:
            yield url
    finally:
        chain.close()


def test_slow_header_connections_to_the_rpc_are_closed_within_the_timeout(
        quick_timeout_rpc: str) -> None:
    socks = [connect(quick_timeout_rpc) for _ in range(50)]
    try:
        for sock in socks:
            sock.sendall(b"POST / HTTP/1.1\r\nx-slow: ")
        closed = trickle_until_closed(socks, seconds=4)
    finally:
        for sock in socks:
            sock.close()
    assert max(closed) <= 2.5, sorted(closed)[-5:]


def test_a_stalled_rpc_body_is_answered_408(quick_timeout_rpc: str) -> None:
    with connect(quick_timeout_rpc) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                     b"content-length: 50\r\n\r\n{")
        answer = read_answer(sock)
    assert answer.status == 408
    assert answer.json()["error"]["data"]["reason"] == "body_timeout"
