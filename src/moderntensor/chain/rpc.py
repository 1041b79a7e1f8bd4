"""JSON-RPC 2.0 over HTTP (starlette), plus ``GET /health`` and ``GET /metrics``.

``build_rpc_app(node, methods)`` serves a method table ``{name: handler(node, params)}``; the
standard ``eth_*`` table is :data:`moderntensor.chain.eth_api.METHODS` and modules add theirs
through ``Extensions.rpc_methods``. Single and batch requests; body size and batch length are
bounded; every failure is a JSON-RPC error object with a stable code, never an HTTP 500.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from moderntensor.chain.errors import (
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    ParseError,
    RpcError,
)
from moderntensor.chain.explorer import explorer_routes
from moderntensor.chain.genesis import DEV_CHAIN_ID
from moderntensor.chain.rpc_params import parse_data
from moderntensor.chain.ws import WebSocketHub
from moderntensor.protocol.http_edges import EdgeLimits

try:  # orjson is optional ("fast" extra): several times faster on big batches
    import orjson

    def _loads(body: bytes) -> Any:
        return orjson.loads(body)

    def _dumps(value: Any) -> bytes:
        return orjson.dumps(value)

    _DECODE_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError,)
except ImportError:  # pragma: no cover - exercised only without the extra

    def _loads(body: bytes) -> Any:
        return json.loads(body)

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    # ValueError covers a number past Python's int digit limit; RecursionError deep nesting
    _DECODE_ERRORS = (ValueError, RecursionError)

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024  # geth's limit; a batch of 1,000 raw transfers is ~250 kB
MAX_BATCH = 1_000  # geth's BatchRequestLimit
# the HTTP edge (protocol/http_edges.py): every role of a localnet reaches the node from
# 127.0.0.1, so one peer may hold many more connections than a miner allows
NODE_EDGE_LIMITS = EdgeLimits(max_connections_per_peer=512)
Handler = Callable[[Any, list[Any]], Any]


def error_response(exc: RpcError, request_id: Any = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": exc.to_rpc()}


def edge_error_body(code: str, message: str) -> bytes:
    """A refusal at the HTTP edge (header limits, timeouts) as a JSON-RPC error object."""
    return _dumps(error_response(InvalidRequest(message, code=code)))


class JsonRpcDispatcher:
    """Turns parsed JSON-RPC requests into responses; knows nothing of HTTP."""

    def __init__(self, node: Any, methods: dict[str, Handler]) -> None:
        self.node = node
        self.methods = methods
        self.known_methods = set(methods)
        self._latency: dict[str, Any] = {}

    def handle(self, payload: Any) -> Any:
        """A response object, a list of them, or None (only notifications)."""
        if isinstance(payload, list):
            if not payload:
                return error_response(InvalidRequest("empty batch"))
            if len(payload) > MAX_BATCH:
                return error_response(InvalidRequest(
                    f"batch of {len(payload)} requests; the limit is {MAX_BATCH}",
                    code="batch_too_large"))
            responses = [r for r in (self.handle_one(item) for item in payload) if r is not None]
            return responses or None
        return self.handle_one(payload)

    def handle_one(self, request: Any) -> dict[str, Any] | None:
        if not isinstance(request, dict):
            return error_response(InvalidRequest("a request is a JSON object"))
        request_id = request.get("id")
        if not isinstance(request_id, str | int | None) or isinstance(request_id, bool):
            return error_response(InvalidRequest("id must be a string, a number or null"))
        method = request.get("method")
        if request.get("jsonrpc") != "2.0" or not isinstance(method, str):
            return error_response(InvalidRequest(
                'a request needs "jsonrpc": "2.0" and a string "method"'), request_id)
        params = request.get("params", [])
        label = method if method in self.known_methods else "other"
        started = time.perf_counter()
        try:
            handler = self.methods.get(method)
            if handler is None:
                raise MethodNotFound(f"the method {method[:64]} does not exist or is not "
                                     "available")
            if not isinstance(params, list):
                raise InvalidParams("params must be an array (by-position parameters)")
            result = handler(self.node, params)
            response = {"jsonrpc": "2.0", "id": request_id, "result": result}
        except RpcError as exc:
            self.node.metrics.rpc_errors.labels(str(exc.rpc_code)).inc()
            response = error_response(exc, request_id)
        except Exception:  # a bug must answer an error, never kill the request with a 500
            log.exception("internal error in %s", label)
            self.node.metrics.rpc_errors.labels("-32603").inc()
            response = {"jsonrpc": "2.0", "id": request_id,
                        "error": {"code": -32603, "message": "internal error",
                                  "data": {"reason": "internal_error"}}}
        latency = self._latency.get(label)
        if latency is None:  # labels() costs as much as a small handler: one child per method
            latency = self._latency[label] = self.node.metrics.rpc_latency.labels(label)
        latency.observe(time.perf_counter() - started)
        return None if "id" not in request else response


class JsonRpcEndpoint:
    """ASGI app for ``POST /``: a bare ASGI class rather than a starlette route, because the
    routing and request objects cost as much as a whole eth_getBalance."""

    def __init__(self, dispatcher: JsonRpcDispatcher) -> None:
        self.dispatcher = dispatcher

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        status, body = await self._respond(scope, receive)
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _respond(self, scope: dict, receive: Callable) -> tuple[int, bytes]:
        body = await _read_body(scope, receive)
        if isinstance(body, tuple):
            return body
        try:
            payload = _loads(body)
        except _DECODE_ERRORS:
            return 200, _dumps(error_response(ParseError("request body is not valid JSON")))
        node = self.dispatcher.node
        raws = _raw_transactions(payload)
        if raws:  # a batch of submissions: decoded (senders recovered) off the node's thread
            await node.decode_off_thread(raws)
        try:
            result = self.dispatcher.handle(payload)
        finally:
            if raws:
                node.forget_decoded(raws)
        if result is None:
            return 204, b""
        try:
            return 200, _dumps(result)
        except TypeError:  # a handler returned something not JSON-able: a bug, still no 500
            log.exception("unserializable JSON-RPC result")
            return 200, _dumps({"jsonrpc": "2.0", "id": None, "error": {
                "code": -32603, "message": "internal error", "data": {"reason": "internal_error"}}})


def _raw_transactions(payload: Any) -> list[bytes]:
    """The raw transactions of a batch's well-formed ``eth_sendRawTransaction`` calls (the
    dispatcher validates and answers every item, these included, as usual)."""
    if not isinstance(payload, list) or len(payload) > MAX_BATCH:
        return []
    raws = []
    for item in payload:
        if (isinstance(item, dict) and item.get("method") == "eth_sendRawTransaction"
                and isinstance(params := item.get("params"), list) and len(params) == 1):
            with contextlib.suppress(InvalidParams):
                raws.append(parse_data(params[0], "transaction"))
    return raws


_TOO_LARGE = (413, _dumps(error_response(InvalidRequest(
    f"request body exceeds {MAX_BODY_BYTES} bytes", code="request_too_large"))))


async def _read_body(scope: dict, receive: Callable) -> bytes | tuple[int, bytes]:
    """The request body, or the (status, body) to answer when it is too large or gone."""
    too_large = _TOO_LARGE
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and value.isdigit() and int(value) > MAX_BODY_BYTES:
            return too_large
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return 400, b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return too_large
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def default_cors_origins(chain_id: int) -> tuple[str, ...]:
    """Any origin on the dev chain (pages on localhost ports call it); none elsewhere unless
    the operator lists them (``moderntensor node start --cors-origin``)."""
    return ("*",) if chain_id == DEV_CHAIN_ID else ()


class RpcServer:
    """The node's ASGI app: ``POST /`` JSON-RPC (and WebSocket on ``/`` and ``/ws``);
    ``GET /health``, ``GET /metrics`` and the explorer under ``/explorer``. Browser origins in
    ``cors_origins`` (``"*"``: any) may call it; None means :func:`default_cors_origins`."""

    def __init__(self, node: Any, methods: dict[str, Handler],
                 cors_origins: Sequence[str] | None = None) -> None:
        dispatcher = JsonRpcDispatcher(node, methods)
        self.endpoint = JsonRpcEndpoint(dispatcher)
        origins = tuple(default_cors_origins(node.spec.chain_id) if cors_origins is None
                        else cors_origins)
        self.websockets = WebSocketHub(node, dispatcher.handle, origins)

        async def health(request: Request) -> Response:
            head = node.head
            return JSONResponse({"status": "ok", "block_height": head.number,
                                 "block_hash": "0x" + head.hash.hex(),
                                 "syncing": node.syncing, "peers": node.peers,
                                 "chain_id": node.spec.chain_id,
                                 "mempool_size": len(node.app.mempool)})

        async def metrics(request: Request) -> Response:
            return Response(node.metrics.render(), media_type="text/plain; version=0.0.4")

        self.others = Starlette(routes=[Route("/health", health, methods=["GET"]),
                                        Route("/metrics", metrics, methods=["GET"]),
                                        *explorer_routes()],
                                exception_handlers={HTTPException: _http_error})
        self.others.router.redirect_slashes = False  # /health/ is not found, not a 307
        self.app: Callable = self._route
        if origins:
            self.app = CORSMiddleware(self._route, allow_origins=list(origins),
                                      allow_methods=["GET", "POST", "OPTIONS"],
                                      allow_headers=["content-type"], max_age=600)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        await self.app(scope, receive, send)

    async def _route(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and scope["path"] == "/" and scope["method"] == "POST":
            await self.endpoint(scope, receive, send)
        elif scope["type"] == "websocket" and scope["path"] in ("/", "/ws"):
            await self.websockets(scope, receive, send)
        else:
            await self.others(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    """404/405 outside JSON-RPC as JSON-RPC error objects, like every other answer."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
    message = (f"{request.method} {request.url.path[:64]} is not served here; JSON-RPC is "
               "POST / (WebSocket: / or /ws), with GET /health, /metrics and /explorer")
    return Response(_dumps(error_response(InvalidRequest(message, code=code))),
                    status_code=status, media_type="application/json",
                    headers=getattr(exc, "headers", None))


def build_rpc_app(node: Any, methods: dict[str, Handler],
                  cors_origins: Sequence[str] | None = None) -> RpcServer:
    """The ASGI app serving ``methods`` for ``node``."""
    return RpcServer(node, methods, cors_origins)

