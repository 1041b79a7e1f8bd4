"""One signed inference request to one miner, measured by the validator's own clock.

:class:`MinerQuerier` signs each request with mtauth/1 just before it is sent (so the nonce is
fresh even after waiting for a concurrency slot), bounds in-flight requests with a semaphore,
enforces the suite's timeout over the whole exchange (a miner that drips bytes still times
out), caps the response size, verifies the miner's response signature and validates the body.
Every failure becomes a :class:`QueryResult` with an :class:`Outcome`; nothing raises.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from moderntensor.protocol.auth import (
    NONCE_HEADER,
    AuthError,
    KeySigner,
    Signer,
    sign_request,
    verify_response,
)
from moderntensor.protocol.messages import CONTENT_TYPE, INFERENCE_PATH, InferenceResponse
from moderntensor.subnets.base import Challenge
from moderntensor.validator.chainview import MinerEndpoint
from moderntensor.validator.miner_http import AnswerTooLargeError, MinerPool, StaleConnectionError

DEFAULT_CONCURRENCY = 256        # requests in flight at once, over all miners
MAX_CONNECTIONS_PER_MINER = 32   # a miner gets at most this many of our requests at once
CONNECT_TIMEOUT_S = 3.0          # a miner that does not accept a connection by then is unreachable
KEEPALIVE_S = 3.0                # below uvicorn's 5 s keep-alive: rarely reuse a closing connection
MIN_RETRY_S = 0.05               # retry a stale connection only with this much time left
_STALE_CONNECTION = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError,
                     StaleConnectionError, BrokenPipeError, ConnectionResetError)


class Outcome(str, Enum):
    """How one request ended; only ``OK`` counts as a valid answer."""

    OK = "ok"
    NO_ENDPOINT = "no_endpoint"        # the miner published no endpoint
    UNREACHABLE = "unreachable"        # connection refused / reset / DNS
    TIMEOUT = "timeout"                # no full answer within the suite's timeout
    HTTP_ERROR = "http_error"          # a non-200 status (the miner's error body)
    TOO_LARGE = "too_large"            # answer over the suite's response size limit
    BAD_SIGNATURE = "bad_signature"    # unsigned, or not signed by the miner over this body
    INVALID = "invalid"                # not JSON, or not the task's output schema


@dataclass(frozen=True)
class QueryResult:
    """What one request produced: outcome, measured latency (None if no answer), output."""

    outcome: Outcome
    latency_s: float | None = None
    output: Any = None
    status: int | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


def request_body(netuid: int, challenge: Challenge) -> bytes:
    """The JSON request body of ``challenge`` (compact, as signed)."""
    body = {"subnet": netuid, "task": challenge.task, "input": challenge.input,
            "params": challenge.params}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class MinerQuerier:
    """Sends signed requests of one subnet; share one per validator (it keeps the pools)."""

    def __init__(
        self,
        signer: Signer,
        netuid: int,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.signer = KeySigner.wrap(signer)   # libsecp256k1 directly: several times faster
        self.netuid = netuid
        self._semaphore = asyncio.Semaphore(concurrency)
        # an in-process miner app (tests, embedding) is reached through an httpx transport;
        # real miners through one lean kept-alive pool each (validator/miner_http.py)
        self._shared = transport
        self._pools: dict[str, MinerPool] = {}
        self._ssl = ssl.create_default_context()

    def _pool(self, base_url: str) -> MinerPool:
        pool = self._pools.get(base_url)
        if pool is None:
            pool = MinerPool(base_url, max_connections=MAX_CONNECTIONS_PER_MINER,
                             keepalive_s=KEEPALIVE_S, connect_timeout_s=CONNECT_TIMEOUT_S,
                             ssl_context=self._ssl)
            self._pools[base_url] = pool
        return pool

    async def forget(self, keep: set[str]) -> None:
        """Close the connection pools of miners whose base URL is not in ``keep``."""
        for url in [url for url in self._pools if url not in keep]:
            await self._pools.pop(url).aclose()

    async def aclose(self) -> None:
        await self.forget(set())
        if self._shared is not None:
            await self._shared.aclose()

    async def query(
        self,
        miner: MinerEndpoint,
        challenge: Challenge,
        *,
        timeout_s: float,
        max_response_bytes: int,
        output_model: type[BaseModel] | None = None,
    ) -> QueryResult:
        """Ask ``miner`` one ``challenge``; never raises for anything the miner does."""
        url = miner.url
        if url is None:
            return QueryResult(Outcome.NO_ENDPOINT, detail="no endpoint published")
        body = request_body(self.netuid, challenge)
        async with self._semaphore:
            deadline = time.perf_counter() + timeout_s
            for attempt in range(2):
                remaining = deadline - time.perf_counter()
                headers = sign_request(self.signer, "POST", INFERENCE_PATH, body,
                                       receiver=miner.address, timeout_s=round(remaining, 3))
                headers["Content-Type"] = CONTENT_TYPE
                headers["Accept-Encoding"] = "identity"  # the signature covers the plain body
                started = time.perf_counter()
                try:
                    status, answer_headers, content = await asyncio.wait_for(
                        self._exchange(url, body, headers, remaining, max_response_bytes),
                        remaining,
                    )
                except _STALE_CONNECTION as exc:
                    # A kept-alive connection the miner closed as we reused it: once more, on a
                    # fresh connection and with a fresh signature (the nonce may be spent).
                    if attempt == 0 and deadline - time.perf_counter() > MIN_RETRY_S:
                        continue
                    return _failure(exc, timeout_s, max_response_bytes)
                except Exception as exc:  # whatever a miner does must not end the round
                    return _failure(exc, timeout_s, max_response_bytes)
                latency_s = time.perf_counter() - started
                break
        return self._judge(miner, int(headers[NONCE_HEADER]), status, answer_headers, content,
                           latency_s, output_model)

    async def _exchange(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float,
                        max_bytes: int) -> tuple[int, Mapping[str, str], bytes]:
        if self._shared is None:
            return await self._pool(url).post(INFERENCE_PATH, body, headers,
                                              timeout_s=timeout_s, max_bytes=max_bytes)
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S))
        request = httpx.Request("POST", url + INFERENCE_PATH, content=body, headers=headers,
                                extensions={"timeout": timeout.as_dict()})
        response = await self._shared.handle_async_request(request)
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        try:
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise AnswerTooLargeError
            chunks, size = [], 0
            async for chunk in stream:
                size += len(chunk)
                if size > max_bytes:
                    raise AnswerTooLargeError
                chunks.append(chunk)
            return response.status_code, response.headers, b"".join(chunks)
        finally:
            await stream.aclose()

    def _judge(self, miner: MinerEndpoint, nonce: int, status: int, headers: Mapping[str, str],
               content: bytes, latency_s: float,
               output_model: type[BaseModel] | None) -> QueryResult:
        if status != 200:
            return QueryResult(Outcome.HTTP_ERROR, latency_s, status=status,
                               detail=_error_code(content))
        try:
            verify_response(headers, content, request_nonce=nonce, miner=miner.address,
                            validator=self.signer.address)
        except AuthError as exc:
            return QueryResult(Outcome.BAD_SIGNATURE, latency_s, status=status, detail=exc.code)
        try:
            answer = InferenceResponse.model_validate_json(content)
            if output_model is not None:
                output_model.model_validate(answer.output)
        except ValidationError as exc:
            return QueryResult(Outcome.INVALID, latency_s, status=status,
                               detail=f"{exc.error_count()} schema error(s)")
        return QueryResult(Outcome.OK, latency_s, output=answer.output, status=status)


def _failure(exc: Exception, timeout_s: float, max_bytes: int) -> QueryResult:
    """The outcome of a request that raised instead of answering."""
    if isinstance(exc, asyncio.TimeoutError | httpx.TimeoutException):
        return QueryResult(Outcome.TIMEOUT, detail=f"no answer within {timeout_s:g} s")
    if isinstance(exc, AnswerTooLargeError):
        return QueryResult(Outcome.TOO_LARGE, detail=f"answer over {max_bytes} bytes")
    if isinstance(exc, httpx.HTTPError | OSError):
        return QueryResult(Outcome.UNREACHABLE, detail=type(exc).__name__)
    return QueryResult(Outcome.UNREACHABLE, detail=f"protocol: {type(exc).__name__}")


def _error_code(content: bytes) -> str:
    """The miner's stable error code, if its error body has one."""
    try:
        code = json.loads(content)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return "unreadable error body"
    return str(code)[:64]
