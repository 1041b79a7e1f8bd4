"""Per-request context and the one way every answer leaves the miner: JSON, signed when we can.

Once a request is authenticated, every answer (success or error) carries the miner's
mtauth/1 response signature, so a validator can prove what this miner said.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Scope, Send

from moderntensor.miner.codec import JsonCodec
from moderntensor.protocol.auth import Signer, VerifiedRequest, sign_response
from moderntensor.protocol.messages import error_body

CONTEXT_KEY = "moderntensor.context"


@dataclass(slots=True)
class Context:
    """What the pipeline learns about one request, passed along in the ASGI scope."""

    arrived_ns: int = field(default_factory=time.perf_counter_ns)
    body: bytes = b""
    verified: VerifiedRequest | None = None
    status: int = 0
    code: str = ""
    model_ns: int = 0


def context(scope: Scope) -> Context:
    """The request's Context, created on first use."""
    ctx = scope.get(CONTEXT_KEY)
    if ctx is None:
        ctx = scope[CONTEXT_KEY] = Context()
    return ctx


class Responder:
    """Encodes, signs and sends JSON answers; records status and code for the metrics."""

    def __init__(self, codec: JsonCodec, signer: Signer, *, server_timing: bool = False) -> None:
        self.codec = codec
        self.signer = signer
        self.server_timing = server_timing

    async def send_json(self, scope: Scope, send: Send, status: int, payload: Any, *,
                        code: str = "ok", headers: dict[str, str] | None = None,
                        body: bytes | None = None) -> None:
        """Send ``payload`` (or pre-encoded ``body``) with ``status``; sign if authenticated."""
        ctx = context(scope)
        if body is None:
            body = self.codec.dumps(payload)
        raw: list[tuple[bytes, bytes]] = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if ctx.verified is not None:
            signed = sign_response(self.signer, body, request_nonce=ctx.verified.nonce,
                                   validator=ctx.verified.sender)
            raw.extend((k.lower().encode(), v.encode()) for k, v in signed.items())
        for name, value in (headers or {}).items():
            raw.append((name.lower().encode(), value.encode("latin-1")))
        if self.server_timing:
            total_ms = (time.perf_counter_ns() - ctx.arrived_ns) / 1e6
            model_ms = ctx.model_ns / 1e6
            raw.append((b"server-timing",
                        f"overhead;dur={total_ms - model_ms:.3f}, model;dur={model_ms:.3f}"
                        .encode()))
        ctx.status, ctx.code = status, code
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    async def error(self, scope: Scope, send: Send, status: int, code: str, message: str, *,
                    headers: dict[str, str] | None = None, data: Any = None) -> None:
        """``{"error": {"code": ..., "message": ...}}`` with ``status``."""
        await self.send_json(scope, send, status, error_body(code, message, data), code=code,
                             headers=headers)
