"""The small ASGI pieces a signed request passes through before it reaches the model.

Each piece is a class with ``__init__(app, ...)`` and ``__call__(scope, receive, send)``; it
answers a JSON error itself or hands on to ``app``. Order (outermost first) is set in
``server.py``: Instrument > RequireReady > ReadBody > Authenticate > RateLimit > endpoint.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from moderntensor.errors import InvalidInputError
from moderntensor.miner.permits import PermitDeniedError, PermitRefresher
from moderntensor.miner.ratelimit import RateLimiter, retry_after_header
from moderntensor.miner.responses import Responder, context
from moderntensor.protocol.auth import AuthError, ReplayCache, ReplayStore, verify_request
from moderntensor.protocol.messages import CONTENT_TYPE


class RequireReady:
    """503 ``not_ready`` until the first permit sync succeeds (no permits, no safe answer)."""

    def __init__(self, app: ASGIApp, permits: PermitRefresher, responder: Responder) -> None:
        self.app = app
        self.permits = permits
        self.responder = responder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.permits.view is None:
            await self.responder.error(
                scope, send, 503, "not_ready",
                "the miner has not synced its subnet's validator permits yet; retry shortly",
                headers={"Retry-After": "2"})
            return
        await self.app(scope, receive, send)


class ReadBody:
    """Requires ``Content-Type: application/json`` and reads at most ``max_bytes`` of body."""

    def __init__(self, app: ASGIApp, max_bytes: int, responder: Responder) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.responder = responder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = b""
        declared: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                declared = value
        if content_type.split(b";", 1)[0].strip().lower() != CONTENT_TYPE.encode():
            await self.responder.error(scope, send, 415, "unsupported_media_type",
                                       f"send the body as {CONTENT_TYPE}")
            return
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._too_large(scope, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left; nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        context(scope).body = b"".join(chunks)
        await self.app(scope, receive, send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        await self.responder.error(scope, send, 413, "body_too_large",
                                   f"request bodies are limited to {self.max_bytes} bytes")


class Authenticate:
    """mtauth/1: 401 for a bad, stale, replayed or misaddressed signature; 403 without a permit."""

    def __init__(self, app: ASGIApp, *, address: str, permits: PermitRefresher,
                 responder: Responder, max_age_s: float, max_skew_s: float,
                 replay_store: ReplayStore | None = None) -> None:
        self.app = app
        self.address = address
        self.permits = permits
        self.responder = responder
        self.max_age_ns = int(max_age_s * 1e9)
        self.max_skew_ns = int(max_skew_s * 1e9)
        self.replay_cache = replay_store or ReplayCache(max_age_ns=self.max_age_ns)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = context(scope)
        headers = {name.decode("latin-1"): value.decode("latin-1")
                   for name, value in scope["headers"]}
        view = self.permits.view
        if view is None:  # RequireReady runs first; this only guards direct use
            raise RuntimeError("Authenticate needs a synced permit view")
        try:
            ctx.verified = verify_request(
                headers, scope["method"], scope["path"], ctx.body, receiver=self.address,
                replay_cache=self.replay_cache, check_sender=view.check,
                max_age_ns=self.max_age_ns, max_skew_ns=self.max_skew_ns)
        except AuthError as exc:
            await self.responder.error(scope, send, 401, exc.code, exc.message)
            return
        except PermitDeniedError as exc:
            await self.responder.error(scope, send, 403, exc.code, exc.message)
            return
        except InvalidInputError as exc:
            await self.responder.error(scope, send, 400, exc.code, exc.message)
            return
        await self.app(scope, receive, send)


class RateLimit:
    """429 ``rate_limited`` with Retry-After once a validator's token bucket is empty."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, responder: Responder) -> None:
        self.app = app
        self.limiter = limiter
        self.responder = responder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        verified = context(scope).verified
        if verified is None:
            raise RuntimeError("RateLimit must run after Authenticate")
        wait_s = self.limiter.take(verified.sender)
        if wait_s > 0:
            await self.responder.error(
                scope, send, 429, "rate_limited",
                f"over this miner's limit of {self.limiter.rate:g} requests/s per validator",
                headers={"Retry-After": retry_after_header(wait_s)})
            return
        await self.app(scope, receive, send)
