"""``GET /health``: open to anyone, minimal: ready or not, uptime, model name, address."""

from __future__ import annotations

import time

from starlette.types import Receive, Scope, Send

from moderntensor.miner.permits import PermitRefresher
from moderntensor.miner.responses import Responder


class HealthApp:
    """200 ``{"status": "ready", ...}`` once permits are synced, 503 ``not_ready`` before."""

    def __init__(self, *, model: str, address: str, permits: PermitRefresher,
                 responder: Responder) -> None:
        self.model = model
        self.address = address
        self.permits = permits
        self.responder = responder
        self.started = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ready = self.permits.view is not None
        await self.responder.send_json(scope, send, 200 if ready else 503, {
            "status": "ready" if ready else "not_ready",
            "uptime_s": round(time.monotonic() - self.started, 3),
            "model": self.model,
            "address": self.address,
        })
