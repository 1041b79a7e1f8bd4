"""MinerQuerier: every way a miner can answer badly becomes an outcome, never an exception."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from moderntensor.protocol.auth import (
    ReplayCache,
    sign_response,
    verify_request,
)
from moderntensor.subnets.base import Challenge
from moderntensor.validator import MinerEndpoint, MinerQuerier, Outcome, QueryResult
from moderntensor.wallet import Wallet
from validator_suite import SumOutput, SumSuite

VALIDATOR = Wallet.from_private_key("0x" + "01" * 32)
MINER = Wallet.from_private_key("0x" + "02" * 32)
OTHER = Wallet.from_private_key("0x" + "03" * 32)
CHALLENGE = Challenge(task="sum", input={"a": 2, "b": 3}, expected=5)

Answer = Callable[[dict[str, Any]], tuple[int, bytes, Wallet | None, float]]


def tiny_miner(answer: Answer) -> Any:
    """A raw ASGI miner: checks mtauth/1 like the real one, then answers as ``answer`` says.

    ``answer(request_json) -> (status, body, signer or None, delay_s)``.
    """
    cache = ReplayCache()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        verified = verify_request(headers, "POST",
                                  scope["path"], body, receiver=MINER.address,
                                  replay_cache=cache)
        assert verified.timeout_s is not None       # X-MT-Timeout travels with the request
        status, content, signer, delay = answer(json.loads(body))
        await asyncio.sleep(delay)
        out_headers = [(b"content-type", b"application/json")]
        if signer is not None:
            signed = sign_response(signer, content, request_nonce=verified.nonce,
                                   validator=verified.sender)
            out_headers += [(k.lower().encode(), v.encode()) for k, v in signed.items()]
        await send({"type": "http.response.start", "status": status, "headers": out_headers})
        await send({"type": "http.response.body", "body": content})

    return app


def ask(answer: Answer, *, timeout_s: float = SumSuite.timeout_s, max_bytes: int = 4096,
        endpoint: MinerEndpoint | None = None) -> QueryResult:
    async def main() -> QueryResult:
        transport = httpx.ASGITransport(app=tiny_miner(answer))
        querier = MinerQuerier(VALIDATOR, 1, transport=transport)
        try:
            return await querier.query(
                endpoint or MinerEndpoint(0, MINER.address, "127.0.0.1", 9),
                CHALLENGE, timeout_s=timeout_s, max_response_bytes=max_bytes,
                output_model=SumOutput)
        finally:
            await querier.aclose()

    return asyncio.run(main())


def answer_with(status: int = 200, body: Any = None, signer: Wallet | None = MINER,
                delay: float = 0.0) -> Answer:
    def answer(request: dict[str, Any]) -> tuple[int, bytes, Wallet | None, float]:
        content = body if isinstance(body, bytes) else json.dumps(
            body if body is not None else
            {"output": {"text": str(request["input"]["a"] + request["input"]["b"])},
             "latency_ms": 0.0}).encode()
        return status, content, signer, delay
    return answer


def test_a_signed_valid_answer_is_ok_with_measured_latency() -> None:
    result = ask(answer_with(delay=0.05))
    assert result.outcome is Outcome.OK
    assert result.output == {"text": "5"}
    assert 0.05 <= result.latency_s < 1.0      # measured here; the claimed 0 ms is ignored


@pytest.mark.parametrize("signer", [None, OTHER], ids=["unsigned", "signed-by-another-key"])
def test_an_answer_not_signed_by_the_miner_is_invalid(signer: Wallet | None) -> None:
    assert ask(answer_with(signer=signer)).outcome is Outcome.BAD_SIGNATURE


def test_an_error_status_keeps_the_miners_error_code() -> None:
    body = {"error": {"code": "rate_limited", "message": "slow down"}}
    result = ask(answer_with(status=429, body=body))
    assert (result.outcome, result.status, result.detail) == (Outcome.HTTP_ERROR, 429,
                                                              "rate_limited")


@pytest.mark.parametrize("body", [b"not json", {"output": {"wrong": 1}}, {"nothing": 1}],
                         ids=["not-json", "wrong-output-schema", "no-output"])
def test_malformed_answers_are_invalid(body: Any) -> None:
    assert ask(answer_with(body=body)).outcome is Outcome.INVALID


def test_an_oversized_answer_is_cut_off() -> None:
    body = {"output": {"text": "5" + " " * 10_000}}
    assert ask(answer_with(body=body), max_bytes=1000).outcome is Outcome.TOO_LARGE


def test_a_miner_slower_than_the_timeout_times_out_on_time() -> None:
    started = time.monotonic()
    result = ask(answer_with(delay=5.0), timeout_s=0.3)
    assert result.outcome is Outcome.TIMEOUT
    assert time.monotonic() - started < 1.5


def test_no_endpoint_and_a_closed_port() -> None:
    assert ask(answer_with(), endpoint=MinerEndpoint(0, MINER.address, None, None)
               ).outcome is Outcome.NO_ENDPOINT
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]      # bound, not listening: connections are refused

        async def main() -> QueryResult:
            querier = MinerQuerier(VALIDATOR, 1)
            try:
                return await querier.query(MinerEndpoint(0, MINER.address, "127.0.0.1", port),
                                           CHALLENGE, timeout_s=1.0, max_response_bytes=4096)
            finally:
                await querier.aclose()

        assert asyncio.run(main()).outcome is Outcome.UNREACHABLE


def test_a_kept_alive_connection_closed_under_a_request_is_retried_fresh() -> None:
    """A miner (or its proxy) that drops a reused connection without answering costs nothing:
    the validator resends once, freshly signed, on a new connection."""
    requests_seen: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for index in range(2):
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            headers = {k.lower(): v.strip() for k, v in
                       (line.split(":", 1) for line in lines[1:] if ":" in line)}
            body = await reader.readexactly(int(headers["content-length"]))
            requests_seen.append(int(headers["x-mt-nonce"]))
            if index == 1:                       # the second request on this connection: drop
                writer.close()
                return
            content = json.dumps({"output": {"text": "5"}}).encode()
            signed = sign_response(MINER, content, request_nonce=int(headers["x-mt-nonce"]),
                                   validator=headers["x-mt-sender"])
            extra = "".join(f"{k}: {v}\r\n" for k, v in signed.items())
            writer.write(f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{extra}"
                         f"content-length: {len(content)}\r\n\r\n".encode() + content)
            await writer.drain()
            assert body

    async def main() -> list[QueryResult]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        querier = MinerQuerier(VALIDATOR, 1)
        miner = MinerEndpoint(0, MINER.address, "127.0.0.1", port)
        try:
            return [await querier.query(miner, CHALLENGE, timeout_s=2.0, max_response_bytes=4096)
                    for _ in range(2)]
        finally:
            await querier.aclose()
            server.close()

    results = asyncio.run(main())
    assert [r.outcome for r in results] == [Outcome.OK, Outcome.OK]
    assert len(requests_seen) == 3 and len(set(requests_seen)) == 3   # the retry was re-signed
