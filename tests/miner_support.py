"""Helpers for the miner tests: free ports, a miner served by uvicorn in a thread, signed posts."""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn
from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import BaseModel, ConfigDict, Field

from moderntensor.miner import MinerServer
from moderntensor.miner.runner import DrainingServer, uvicorn_config
from moderntensor.protocol.auth import NONCE_HEADER, sign_request, verify_response
from moderntensor.protocol.messages import INFERENCE_PATH
from moderntensor.subnets import Challenge, ReferenceModel, TaskSuite

# "echo" is served by no registered suite, so only the generic envelope is checked
# tests send bursts from one validator; the rate-limit test sets its own, lower limit
FAST_LIMITS: dict[str, Any] = {"rate_per_s": 1e6, "rate_burst": 1e6}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def envelope(input_value: Any = "hello", *, netuid: int = 1, task: str = "echo",
             params: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {"subnet": netuid, "task": task, "input": input_value}
    if params is not None:
        body["params"] = params
    return json.dumps(body).encode()


class Echo(MinerServer):
    """Answers the input back; counts calls so tests can see whether the model ran."""

    custom_tasks = ("echo",)
    calls = 0

    def inference(self, request: Any) -> Any:
        type(self).calls += 1
        return {"output": request.input, "latency_ms": request.elapsed_ms}


@contextlib.contextmanager
def serving(miner: MinerServer) -> Iterator[str]:
    """Serve ``miner`` on a free 127.0.0.1 port in a thread; yields its base URL."""
    port = free_port()
    with serving_config(uvicorn_config(miner.build_app(), host="127.0.0.1", port=port,
                                       fast=miner.settings.fast, grace_s=2.0,
                                       edges=miner.settings.edge_limits())) as url:
        yield url


@contextlib.contextmanager
def serving_config(config: uvicorn.Config) -> Iterator[str]:
    """Serve a uvicorn config (host 127.0.0.1) in a thread; yields its base URL."""
    server = DrainingServer(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("miner did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def signed_headers(validator: LocalAccount, miner_address: str, body: bytes, **kwargs: Any
                   ) -> dict[str, str]:
    headers = sign_request(validator, "POST", INFERENCE_PATH, body, receiver=miner_address,
                           **kwargs)
    headers["Content-Type"] = "application/json"
    return headers


def post(client: httpx.Client, url: str, validator: LocalAccount, miner_address: str,
         body: bytes, **kwargs: Any) -> httpx.Response:
    """A correctly signed POST /v1/inference."""
    headers = signed_headers(validator, miner_address, body, **kwargs)
    return client.post(url + INFERENCE_PATH, content=body, headers=headers)


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]


def assert_signed_by(response: httpx.Response, request_nonce: int, miner: str,
                     validator: str) -> None:
    verify_response(response.headers, response.content, request_nonce=request_nonce,
                    miner=miner, validator=validator)


def nonce_of(headers: dict[str, str]) -> int:
    return int(headers[NONCE_HEADER])


def accounts() -> tuple[LocalAccount, LocalAccount]:
    """(validator, miner) key pairs, fresh for each test."""
    return Account.create(), Account.create()


class ShoutInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=10)


class ShoutSuite(TaskSuite):
    """A tiny registered suite: its input schema is what the miner must enforce for "shout"."""

    task_type = "shouting"
    tasks = ("shout",)
    latency_target_s = 1.0
    timeout_s = 5.0
    max_request_bytes = 300
    input_model = ShoutInput
    output_model = ShoutInput

    def make_challenge(self, rng: random.Random) -> Challenge:
        return Challenge(task="shout", input={"text": "hi"}, expected="HI")

    def accuracy(self, challenge: Challenge, output: Any) -> float:
        return float(output == challenge.expected)

    def consistency(self, a: Any, b: Any) -> float:
        return float(a == b)

    def reference_models(self) -> dict[str, type[ReferenceModel]]:
        return {}
