"""The gateway's ASGI app: API-key auth, per-key rate limits, body bounds, OpenAI errors.

Every request under ``/v1/`` needs ``Authorization: Bearer <key>`` (401 otherwise), spends
one token of its key's rate limit (429 with ``Retry-After`` when none is left), and may send
at most ``max_body_bytes`` (413). Each authenticated request is written to the usage table
with its status. Whatever goes wrong answers an OpenAI-style JSON error; a bug in the gateway
is a logged 500 ``internal_error``, never a traceback to the client. :func:`serve` runs it
with uvicorn behind the project's HTTP edge guard, on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from moderntensor.gateway import endpoints
from moderntensor.gateway.errors import GatewayError, edge_error_json, error_body
from moderntensor.gateway.keys import UsageRecord
from moderntensor.gateway.service import Gateway
from moderntensor.miner.runner import DrainingServer, uvicorn_config

log = logging.getLogger("moderntensor.gateway")
MAX_BODY_BYTES = 2 * 1024 * 1024   # a 1 MiB WAV upload and its multipart framing fit
DEFAULT_PORT = 8080
GRACE_S = 10.0   # SIGTERM: finish in-flight requests this long
Endpoint = Callable[[Gateway, Request], Awaitable[endpoints.Served]]


class BodyLimit:
    """ASGI piece: a request body over ``max_bytes`` (declared or streamed) gets a 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _send_error(send, GatewayError(413, "request_too_large", self._message()))
            return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise GatewayError(413, "request_too_large", self._message())
            return message

        await self.app(scope, bounded, send)

    def _message(self) -> str:
        return f"request bodies are limited to {self.max_bytes} bytes"


async def _send_error(send: Send, error: GatewayError) -> None:
    response = _error_response(error)
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


def _error_response(error: GatewayError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def build_app(gateway: Gateway, *, max_body_bytes: int = MAX_BODY_BYTES,
              manage_lifespan: bool = True) -> ASGIApp:
    """The gateway as an ASGI app; with ``manage_lifespan`` it starts and closes ``gateway``."""

    def authenticated(endpoint: Endpoint, name: str) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            key = gateway.authenticate(request.headers.get("authorization"))
            gateway.limit(key)
            started = time.perf_counter()
            try:
                served = await endpoint(gateway, request)
            except GatewayError as exc:
                gateway.keys.record(key.key_id, UsageRecord(
                    name, exc.status, latency_ms=(time.perf_counter() - started) * 1000))
                raise
            gateway.keys.record(key.key_id, served.usage)
            return served.response

        return handle

    async def models(request: Request) -> Response:
        key = gateway.authenticate(request.headers.get("authorization"))
        gateway.limit(key)
        return JSONResponse({"object": "list", "data": gateway.models()})

    async def health(request: Request) -> Response:
        miners = {str(n): len(r.router.miners) for n, r in gateway.routes.items()}
        return JSONResponse({"status": "ok", "miners": miners})

    async def on_gateway_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GatewayError)
        return _error_response(exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        message = (f"no endpoint {request.method} {request.url.path}" if exc.status_code in
                   (404, 405) else str(exc.detail))
        return JSONResponse(error_body(code, message, status=exc.status_code),
                            status_code=exc.status_code)

    async def on_bug(request: Request, exc: Exception) -> Response:
        log.exception("gateway bug on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal_error", "the gateway failed on this request; "
                                       "see its log", status=500), status_code=500)

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        if manage_lifespan:
            await gateway.start()
        try:
            yield
        finally:
            if manage_lifespan:
                await gateway.close()

    routes = [Route("/health", health, methods=["GET"]),
              Route("/v1/models", models, methods=["GET"])]
    for path, endpoint in (("chat/completions", endpoints.chat_completions),
                           ("completions", endpoints.completions),
                           ("images/generations", endpoints.image_generations),
                           ("audio/speech", endpoints.audio_speech),
                           ("audio/transcriptions", endpoints.audio_transcriptions)):
        routes.append(Route(f"/v1/{path}", authenticated(endpoint, path.replace("/", ".")),
                            methods=["POST"]))
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        GatewayError: on_gateway_error, HTTPException: on_http_error, Exception: on_bug})
    return BodyLimit(app, max_body_bytes)


async def serve(gateway: Gateway, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                fast: bool | None = None) -> None:
    """Run until SIGINT/SIGTERM; in-flight requests drain for up to ``GRACE_S``."""
    config = uvicorn_config(build_app(gateway), host=host, port=port, fast=fast,
                            grace_s=GRACE_S, error_json=edge_error_json)
    await DrainingServer(config).serve()
