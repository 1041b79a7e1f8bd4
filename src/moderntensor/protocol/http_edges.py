"""Limits at the HTTP edge of a uvicorn server, before any application code runs.

uvicorn bounds neither the size nor the number of request headers (httptools buffers a header
of any length), has no timeout for a request head that arrives slowly (slowloris) or a body
that never finishes, and caps no peer's connections. :func:`guarded_http` returns an HTTP
protocol class for ``uvicorn.Config(http=...)`` that adds all of these on top of uvicorn's own
httptools or h11 protocol, and answers every refusal it can with a JSON body (uvicorn's own
answer to a malformed request is plain text):

- head (request line + headers) larger than ``max_header_bytes``, or more than
  ``max_headers`` fields: 431 ``headers_too_large``;
- head not complete ``header_timeout_s`` after its first byte (or after the connection
  opened): 408 ``header_timeout``, connection closed (checked every quarter timeout);
- body not complete ``body_timeout_s`` after the head: 408 ``body_timeout``, closed;
- more than ``max_connections_per_peer`` open connections from one IP address: 503
  ``too_many_connections`` and the newcomer is closed;
- a request the HTTP parser rejects: 400 ``malformed_http``.

The JSON body is the server's own error format, given as ``error_body(code, message)``.
"""

from __future__ import annotations

import asyncio
import http
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

ErrorBody = Callable[[str, str], bytes]  # (code, message) -> the JSON body of a refusal
WATCHDOG_TICK = 0.25  # of the shorter timeout: a slow client is cut at most 25% late


@dataclass(frozen=True)
class EdgeLimits:
    """What one HTTP server accepts from a client before its application sees anything."""

    max_header_bytes: int = 32 * 1024     # request line + all headers (nginx: 4 x 8 KiB)
    max_headers: int = 100                # header fields (Apache's LimitRequestFields)
    header_timeout_s: float = 10.0        # the whole head, from its first byte
    body_timeout_s: float = 30.0          # the whole body, from the end of the head
    max_connections_per_peer: int = 128   # open connections from one IP address

    def __post_init__(self) -> None:
        for name in ("max_header_bytes", "max_headers", "header_timeout_s", "body_timeout_s",
                     "max_connections_per_peer"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")


class PeerConnections:
    """Open connections per peer address, shared by every connection of one server."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: dict[str, int] = {}

    def enter(self, peer: str) -> bool:
        """Count a new connection from ``peer``; False (not counted) when it has too many."""
        count = self.open.get(peer, 0)
        if count >= self.limit:
            return False
        self.open[peer] = count + 1
        return True

    def leave(self, peer: str) -> None:
        count = self.open.pop(peer, 0) - 1
        if count > 0:
            self.open[peer] = count


class HeaderLimits:
    """ASGI piece: 431 when a parsed head has too many fields or too many bytes in them.

    The protocol bounds the raw bytes while a head is still arriving; this counts the fields
    and bytes of a head that arrived whole (both parsers hand it over complete), before the
    application is called.
    """

    def __init__(self, app: ASGIApp, limits: EdgeLimits, error_body: ErrorBody) -> None:
        self.app = app
        self.limits = limits
        self.error_body = error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            size = len(scope.get("raw_path") or b"") + sum(len(n) + len(v) + 4
                                                         for n, v in headers)
            if len(headers) > self.limits.max_headers or size > self.limits.max_header_bytes:
                body = self.error_body("headers_too_large", _too_large(self.limits))
                await send({"type": "http.response.start", "status": 431,
                            "headers": _json_headers(body, close=True)})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def guarded_http(limits: EdgeLimits, error_body: ErrorBody, *, fast: bool = True) -> type:
    """A uvicorn HTTP protocol class enforcing ``limits``: httptools-based when ``fast`` and
    installed, h11-based otherwise. Each call makes a class with its own peer counts."""
    if fast and importlib.util.find_spec("httptools") is not None:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        base: type = HttpToolsProtocol
        phases: type = _HttpToolsPhases
    else:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base, phases = H11Protocol, _H11Phases
    return type(f"Guarded{base.__name__}", (phases, _EdgeGuard, base), {
        "edge_limits": limits, "edge_error_body": staticmethod(error_body),
        "edge_peers": PeerConnections(limits.max_connections_per_peer)})


class _EdgeGuard:
    """Timers, byte counting and refusals shared by both parsers' protocol classes.

    A subclass tells which part of a request is being read (:meth:`_reading_head`,
    :meth:`_reading_body`) after each chunk the parser has taken in.
    """

    edge_limits: EdgeLimits
    edge_error_body: ErrorBody
    edge_peers: PeerConnections
    transport: asyncio.Transport
    client: tuple[str, int] | None
    cycle: Any
    loop: asyncio.AbstractEventLoop

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)  # type: ignore[call-arg]
        self.app = HeaderLimits(self.app, self.edge_limits, self.edge_error_body)
        self._peer: str | None = None
        self._head_bytes = 0
        # one deadline at a time (the head's or the body's), checked by a watchdog that ticks
        # only while a deadline is set: no timer is created or cancelled per request
        self._deadline: float | None = None
        self._deadline_is_body = False
        self._watchdog: asyncio.TimerHandle | None = None
        self._tick_s = min(self.edge_limits.header_timeout_s,
                           self.edge_limits.body_timeout_s) * WATCHDOG_TICK

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        peer = self.client[0] if self.client else "unknown"
        if not self.edge_peers.enter(peer):
            self._refuse(503, "too_many_connections",
                         f"this peer already has {self.edge_peers.limit} open connections; "
                         "reuse them (HTTP keep-alive) instead of opening more")
            return
        self._peer = peer
        self._start_deadline(body=False)  # a connection that never sends is a slow head too

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_watchdog()
        if self._peer is not None:
            self.edge_peers.leave(self._peer)
            self._peer = None
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        if self._reading_head():
            self._head_bytes += len(data)
            if self._deadline is None:
                self._start_deadline(body=False)
        super().data_received(data)  # type: ignore[misc]
        if self.transport.is_closing():
            return
        if self._reading_head():
            if self._head_bytes > self.edge_limits.max_header_bytes:
                self._refuse(431, "headers_too_large", _too_large(self.edge_limits))
            return
        self._head_complete()
        if self._reading_body():
            if not self._deadline_is_body:
                self._start_deadline(body=True)
        else:
            self._message_complete()

    def send_400_response(self, msg: str) -> None:
        """The parser's refusal (uvicorn writes plain text), as JSON."""
        if self._head_bytes > self.edge_limits.max_header_bytes:
            self._refuse(431, "headers_too_large", _too_large(self.edge_limits))
        else:
            self._refuse(400, "malformed_http", "the request is not valid HTTP/1.1")

    # -- subclass hooks ---------------------------------------------------------------------
    def _reading_head(self) -> bool:
        raise NotImplementedError

    def _reading_body(self) -> bool:
        raise NotImplementedError

    # -- helpers ------------------------------------------------------------------------------
    def _head_complete(self) -> None:
        """The parser has a whole head: stop its clock and count the next one from zero."""
        self._head_bytes = 0
        if not self._deadline_is_body:
            self._deadline = None

    def _message_complete(self) -> None:
        """The whole request is in: its body's clock stops (the head's stopped before)."""
        if self._deadline_is_body:
            self._deadline = None
            self._deadline_is_body = False

    def _start_deadline(self, *, body: bool) -> None:
        limits = self.edge_limits
        self._deadline = self.loop.time() + (limits.body_timeout_s if body
                                             else limits.header_timeout_s)
        self._deadline_is_body = body
        if self._watchdog is None:
            self._watchdog = self.loop.call_later(self._tick_s, self._check_deadline)

    def _check_deadline(self) -> None:
        self._watchdog = None
        if self._deadline is None or self.transport.is_closing():
            return  # nothing is being read: the next byte starts the watchdog again
        if self.loop.time() < self._deadline:
            self._watchdog = self.loop.call_later(self._tick_s, self._check_deadline)
        elif self._deadline_is_body:
            self._refuse(408, "body_timeout", "the request body did not arrive within "
                         f"{self.edge_limits.body_timeout_s:g} s")
        elif self._head_bytes == 0:  # an idle connection: nothing to answer
            self.transport.close()
        else:
            self._refuse(408, "header_timeout", "the request head did not arrive within "
                         f"{self.edge_limits.header_timeout_s:g} s")

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer ``status`` with a JSON body unless a response is under way; then close."""
        if self.cycle is None or not self.cycle.response_started:
            body = self.edge_error_body(code, message)
            head = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n".encode()]
            head += [name + b": " + value + b"\r\n" for name, value in _json_headers(body,
                                                                                   close=True)]
            self.transport.write(b"".join(head) + b"\r\n" + body)
        self._stop_watchdog()
        self.transport.close()

    def _stop_watchdog(self) -> None:
        self._deadline = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None


class _HttpToolsPhases:
    """httptools calls back at each boundary: follow them."""

    _in_body = False

    def on_headers_complete(self) -> None:
        # a request without a body completes within the same chunk: the head count must
        # restart here, not after the chunk, or it would run on into the next request
        self._in_body = True
        self._head_complete()  # type: ignore[attr-defined]
        super().on_headers_complete()  # type: ignore[misc]

    def on_message_complete(self) -> None:
        self._in_body = False
        self._message_complete()  # type: ignore[attr-defined]
        super().on_message_complete()  # type: ignore[misc]

    def _reading_head(self) -> bool:
        return not self._in_body

    def _reading_body(self) -> bool:
        return self._in_body


class _H11Phases:
    """h11's state for the client's side of the connection says where it is."""

    conn: Any

    def _reading_head(self) -> bool:
        import h11

        return self.conn.their_state is h11.IDLE

    def _reading_body(self) -> bool:
        import h11

        return self.conn.their_state is h11.SEND_BODY


def _too_large(limits: EdgeLimits) -> str:
    return (f"request heads are limited to {limits.max_header_bytes} bytes and "
            f"{limits.max_headers} header fields")


def _json_headers(body: bytes, *, close: bool) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    return headers
