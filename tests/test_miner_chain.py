"""Permits from the chain through the real AsyncLuxtensorClient, against a stand-in JSON-RPC node.

The node here answers only ``mt_getMetagraph`` in the shape docs/rpc.md gives; the real node's
tests live with the chain.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from eth_account import Account
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from miner_support import FAST_LIMITS, Echo, assert_error, envelope, free_port, post, serving

VALIDATOR, WEAK_VALIDATOR, MINER = Account.create(), Account.create(), Account.create()


def metagraph_json(netuid: int) -> dict[str, Any]:
    zeros = [0, 0, 0]
    return {
        "netuid": netuid, "block": 10, "n": 3, "uids": [0, 1, 2],
        "addresses": [VALIDATOR.address, WEAK_VALIDATOR.address, MINER.address],
        "roles": ["validator", "validator", "miner"],
        "stakes": [str(10**21), str(10**15), "0"],
        "validatorPermits": [True, False, False], "active": [True, False, False],
        "scores": zeros, "consensus": zeros, "accuracy": zeros, "latency": zeros,
        "availability": zeros, "consistency": zeros,
        "endpoints": [None, None, None], "models": [None, None, None],
        "registeredBlocks": zeros, "lastUpdates": zeros, "lastRewards": ["0", "0", "0"],
    }


async def rpc(request: Request) -> JSONResponse:
    call = await request.json()
    if call["method"] == "mt_getMetagraph":
        return JSONResponse({"jsonrpc": "2.0", "id": call["id"],
                             "result": metagraph_json(call["params"][0])})
    return JSONResponse({"jsonrpc": "2.0", "id": call["id"],
                         "error": {"code": -32601, "message": "method not found"}})


@pytest.fixture(scope="module")
def node() -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/", rpc, methods=["POST"])]),
                                           host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_only_permitted_validators_of_the_subnet_get_answers(node: str,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    monkeypatch.delenv("MT_MINER_ALLOW", raising=False)
    miner = Echo(wallet=MINER, subnet=1, network=node, **FAST_LIMITS)
    assert miner.permit_origin == "chain"
    with serving(miner) as base, httpx.Client() as http:
        assert http.get(base + "/health").json()["status"] == "ready"
        assert post(http, base, VALIDATOR, MINER.address, envelope()).status_code == 200
        assert_error(post(http, base, WEAK_VALIDATOR, MINER.address, envelope()), 403,
                     "not_permitted")
        assert_error(post(http, base, Account.create(), MINER.address, envelope()), 403,
                     "unknown_sender")
