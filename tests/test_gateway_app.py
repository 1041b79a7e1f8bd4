"""The gateway's HTTP surface in process: every refusal is an OpenAI-style error, never a 500.

The miners here are closed ports (a real unreachable endpoint), so no request can be answered;
what is checked is what the gateway itself decides before and after asking them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from miner_support import free_port
from moderntensor.gateway import Gateway, KeyStore, StaticDirectory, build_app
from moderntensor.gateway.routing import RoutingPolicy
from moderntensor.validator.chainview import MinerEndpoint


def unreachable(uid: int) -> MinerEndpoint:
    return MinerEndpoint(uid, Account.create().address, "127.0.0.1", free_port())


class Served:
    def __init__(self, tmp_path: Path) -> None:
        self.keys = KeyStore(tmp_path / "gw.sqlite")
        self.key = self.keys.create("t")[0]
        directory = StaticDirectory({1: ("text-generation", [unreachable(0), unreachable(1)]),
                                     3: ("code-generation", [unreachable(0)]),
                                     4: ("audio", [unreachable(0)])})
        self.gateway = Gateway(Account.create(), directory, self.keys,
                               policy=RoutingPolicy(timeout_s=5))
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.gateway.start())
        transport = httpx.ASGITransport(app=build_app(self.gateway, manage_lifespan=False))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://gw")

    def post(self, path: str, *, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.key}", **kwargs.pop("headers", {})}
        return self.loop.run_until_complete(self.client.post(path, headers=headers, **kwargs))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.run_until_complete(self.gateway.close())
        self.loop.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    made = Served(tmp_path)
    yield made
    made.close()


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    return error


def test_an_unknown_path_is_an_openai_style_404(served: Served) -> None:
    assert error_of(served.post("/v1/embeddings", json={}), 404)["code"] == "not_found"


def test_a_request_without_a_key_is_a_401_that_says_how_to_send_one(served: Served) -> None:
    response = served.loop.run_until_complete(served.client.post("/v1/completions", json={}))
    assert "Authorization: Bearer" in error_of(response, 401)["message"]


def test_a_body_over_the_limit_is_a_413_before_it_is_read(served: Served) -> None:
    error = error_of(served.post("/v1/completions", content=b"x" * (3 * 1024 * 1024)), 413)
    assert error["code"] == "request_too_large"


def test_when_no_miner_answers_the_client_gets_503_naming_the_failures(served: Served) -> None:
    error = error_of(served.post("/v1/completions", json={"model": "sn1-text-generation",
                                                          "prompt": "hi"}), 503)
    assert error["code"] == "no_miner_available" and "uid 0: unreachable" in error["message"]
    assert served.keys.usage()[0]["errors"] == 1


def test_a_model_on_the_wrong_endpoint_is_a_400(served: Served) -> None:
    error = error_of(served.post("/v1/images/generations", json={
        "model": "sn1-text-generation", "prompt": "a red circle"}), 400)
    assert (error["code"], error["param"]) == ("unsupported_model", "model")


def test_a_code_model_needs_a_function_to_complete(served: Served) -> None:
    error = error_of(served.post("/v1/chat/completions", json={
        "model": "code-generation", "messages": [{"role": "user", "content": "hello"}]}), 400)
    assert "def name" in error["message"]


def test_a_transcription_must_be_multipart(served: Served) -> None:
    error = error_of(served.post("/v1/audio/transcriptions", json={"model": "sn4-audio"}), 415)
    assert error["code"] == "unsupported_media_type"


def test_a_transcription_of_something_not_wav_is_a_400(served: Served) -> None:
    error = error_of(served.post("/v1/audio/transcriptions", data={"model": "sn4-audio"},
                                 files={"file": ("a.mp3", b"ID3not a wav")}), 400)
    assert error["param"] == "file"


def test_text_over_the_subnets_own_limit_is_a_400_before_any_miner_is_asked(
        served: Served) -> None:
    error = error_of(served.post("/v1/audio/speech", json={"model": "sn4-audio",
                                                           "input": "word " * 100}), 400)
    assert error["param"] == "input" and "limit" in error["message"]


def test_a_conversation_longer_than_the_subnets_prompt_limit_names_messages(
        served: Served) -> None:
    long = [{"role": "system", "content": "x" * 3000}, {"role": "user", "content": "y" * 3000}]
    error = error_of(served.post("/v1/chat/completions", json={
        "model": "sn1-text-generation", "messages": long}), 400)
    assert error["param"] == "messages"
