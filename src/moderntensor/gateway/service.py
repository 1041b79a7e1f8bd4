"""The gateway without HTTP: the subnets it serves, their routers, keys and rate limits.

Models are named after subnets: ``sn<netuid>-<task type>`` (``sn1-text-generation``); the
bare task type names the lowest-numbered subnet of that type. The miner lists and scores are
re-read from the directory every ``refresh_s`` so new miners, new endpoints and new scores are
picked up while the gateway runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from moderntensor.gateway.directory import MinerDirectory
from moderntensor.gateway.errors import GatewayError
from moderntensor.gateway.keys import ApiKey, KeyStore
from moderntensor.gateway.routing import Router, RoutingPolicy
from moderntensor.miner.ratelimit import RateLimiter, retry_after_header
from moderntensor.protocol.auth import Signer
from moderntensor.subnets import SUITES, load_suite
from moderntensor.validator.query import MinerQuerier

log = logging.getLogger("moderntensor.gateway")
DEFAULT_REFRESH_S = 12.0   # one block of the production chain


@dataclass
class SubnetRoute:
    """One served subnet: its model id, task type and router."""

    netuid: int
    task_type: str
    router: Router

    @property
    def model(self) -> str:
        return f"sn{self.netuid}-{self.task_type}"


class Gateway:
    """Serves the subnets of ``directory`` as models, signing as ``signer`` (a validator)."""

    def __init__(self, signer: Signer, directory: MinerDirectory, keys: KeyStore, *,
                 policy: RoutingPolicy | None = None,
                 refresh_s: float = DEFAULT_REFRESH_S) -> None:
        self.signer = signer
        self.directory = directory
        self.keys = keys
        self.policy = policy or RoutingPolicy()
        self.refresh_s = refresh_s
        self.routes: dict[int, SubnetRoute] = {}
        self._limiters: dict[int, RateLimiter] = {}
        self._refresher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Load the subnets of known task types, read their miners, keep them fresh."""
        for netuid, task_type in sorted((await self.directory.subnets()).items()):
            if task_type not in SUITES:
                log.warning("subnet %d: task type %r has no suite here; not served",
                            netuid, task_type)
                continue
            router = Router(netuid, load_suite(task_type), MinerQuerier(self.signer, netuid),
                            self.policy)
            self.routes[netuid] = SubnetRoute(netuid, task_type, router)
        await self.refresh()
        self._refresher = asyncio.create_task(self._refresh_forever())

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        for route in self.routes.values():
            await route.router.querier.aclose()

    async def refresh(self) -> None:
        for route in self.routes.values():
            try:
                miners, scores = await self.directory.miners(route.netuid)
            except Exception as exc:  # a node hiccup must not stop serving the known miners
                log.warning("subnet %d: metagraph refresh failed: %s", route.netuid, exc)
                continue
            route.router.update(miners, scores)
            await route.router.querier.forget({m.url for m in route.router.miners if m.url})

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            await self.refresh()

    def route(self, model: str, task_types: tuple[str, ...]) -> SubnetRoute:
        """The subnet ``model`` names, if it serves one of ``task_types``; else 404/400."""
        candidates = sorted(self.routes.values(), key=lambda r: r.netuid)
        found = next((r for r in candidates if model in (r.model, r.task_type)), None)
        if found is None:
            known = ", ".join(r.model for r in candidates) or "none"
            raise GatewayError(404, "model_not_found",
                               f"the model {model!r} does not exist; served: {known}",
                               param="model")
        if found.task_type not in task_types:
            raise GatewayError(400, "unsupported_model",
                               f"{found.model} does not serve this endpoint; it needs a "
                               f"subnet of type {' or '.join(task_types)}", param="model")
        return found

    def authenticate(self, authorization: str | None) -> ApiKey:
        """The key of a ``Bearer`` header: 401 when missing, unknown or revoked."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise GatewayError(401, "missing_api_key", "no API key: send the header "
                               "'Authorization: Bearer <key>' (moderntensor gateway keys create)")
        key = self.keys.verify(token.strip())
        if key is None:
            raise GatewayError(401, "invalid_api_key",
                               "incorrect or revoked API key; create one with "
                               "`moderntensor gateway keys create`")
        return key

    def limit(self, key: ApiKey) -> None:
        """429 once ``key`` spends its requests-per-minute (a bucket of that many, refilled)."""
        rpm = key.requests_per_minute
        limiter = self._limiters.setdefault(rpm, RateLimiter(rate=rpm / 60.0, burst=rpm))
        wait_s = limiter.take(key.key_id)
        if wait_s > 0:
            raise GatewayError(429, "rate_limit_exceeded",
                               f"this key allows {rpm} requests per minute; retry in "
                               f"{wait_s:.1f} s", headers={"Retry-After":
                                                           retry_after_header(wait_s)})

    def models(self) -> list[dict[str, Any]]:
        """``GET /v1/models``: one model per served subnet, with its miners' routing state."""
        return [{"id": r.model, "object": "model", "created": 0, "owned_by": f"subnet-{n}",
                 "netuid": n, "task_type": r.task_type, "miners": r.router.snapshot()}
                for n, r in sorted(self.routes.items())]
