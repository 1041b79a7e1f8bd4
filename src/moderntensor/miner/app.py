"""Assembles one miner's ASGI app from its pieces and owns their start and stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from moderntensor.miner.cache import ResponseCache
from moderntensor.miner.codec import JsonCodec
from moderntensor.miner.dispatch import Dispatcher
from moderntensor.miner.endpoint import InferenceEndpoint, TaskSchema
from moderntensor.miner.health import HealthApp
from moderntensor.miner.metrics import Instrument, MetricsApp, MinerMetrics
from moderntensor.miner.permits import PermitRefresher, PermitSource
from moderntensor.miner.pipeline import Authenticate, RateLimit, ReadBody, RequireReady
from moderntensor.miner.ratelimit import RateLimiter
from moderntensor.miner.replay_store import SharedReplayStore
from moderntensor.miner.request import MinerRequest
from moderntensor.miner.responses import Responder
from moderntensor.miner.settings import DEFAULT_MAX_BODY_BYTES, MinerSettings
from moderntensor.protocol.auth import KeySigner, Signer
from moderntensor.protocol.messages import HEALTH_PATH, INFERENCE_PATH, METRICS_PATH, error_body

log = logging.getLogger("moderntensor.miner")


class MinerRuntime:
    """The stateful parts of a running miner: permits, dispatcher, cache, metrics."""

    def __init__(
        self,
        *,
        signer: Signer,
        netuid: int | None,
        permit_source: PermitSource,
        settings: MinerSettings,
        inference: Callable[[MinerRequest], Any],
        inference_batch: Callable[[list[MinerRequest]], Any] | None,
        task_schemas: Mapping[str, TaskSchema],
        model_name: str,
        custom_tasks: Iterable[str] = (),
        on_started: Callable[[], Coroutine[Any, Any, Any]] | None = None,
    ) -> None:
        self.settings = settings
        self.on_started = on_started
        self.codec = JsonCodec(settings.fast)
        # every answer is signed: sign with libsecp256k1 directly when the key is at hand
        self.responder = Responder(self.codec, KeySigner.wrap(signer),
                                   server_timing=settings.server_timing)
        self.permits = PermitRefresher(permit_source, interval_s=settings.permit_refresh_s,
                                       retry_s=settings.permit_retry_s)
        self.metrics = MinerMetrics(lambda: self.dispatcher.depth)
        # asyncio queues bind to a loop on first use, so the dispatcher can exist before one runs
        self.dispatcher = Dispatcher(
            inference, inference_batch, workers=settings.workers,
            queue_size=settings.queue_size, max_batch=settings.max_batch,
            batch_wait_s=settings.batch_wait_ms / 1000, on_batch=self.metrics.batch_size.observe)
        self.cache = ResponseCache(settings.cache_size, on_hit=self.metrics.cache_hits.inc)
        self._signer = signer
        self._netuid = netuid
        self._task_schemas = task_schemas
        self._custom_tasks = frozenset(custom_tasks)
        self._model_name = model_name

    def build(self) -> ASGIApp:
        """The app: /v1/inference through the pipeline, /health, /metrics, JSON 404/405."""
        inference = self._inference_app()
        routes = Starlette(
            routes=[
                Route(INFERENCE_PATH, inference, methods=["POST"]),
                Route(HEALTH_PATH, HealthApp(model=self._model_name, address=self._signer.address,
                                             permits=self.permits, responder=self.responder),
                      methods=["GET"]),
                Route(METRICS_PATH, MetricsApp(self.metrics, self.responder,
                                               public=self.settings.metrics_public),
                      methods=["GET"]),
            ],
            exception_handlers={HTTPException: _http_error},
            lifespan=self._lifespan,
        )
        routes.router.redirect_slashes = False  # /v1/inference/ is not found, not a 307
        return InferenceFastPath(routes, inference)

    def _inference_app(self) -> Instrument:
        settings = self.settings
        endpoint = InferenceEndpoint(
            netuid=self._netuid, permits=self.permits, task_schemas=self._task_schemas,
            custom_tasks=self._custom_tasks,
            dispatcher=self.dispatcher, cache=self.cache,
            codec=self.codec, responder=self.responder,
            default_timeout_s=settings.default_timeout_s,
            max_response_bytes=settings.max_response_bytes)
        limited = RateLimit(endpoint, RateLimiter(settings.rate_per_s, settings.rate_burst),
                            self.responder)
        authed = Authenticate(limited, address=self._signer.address, permits=self.permits,
                              responder=self.responder, max_age_s=settings.nonce_max_age_s,
                              max_skew_s=settings.nonce_max_skew_s,
                              replay_store=self._replay_store())
        # before parsing, only the largest limit of any task can apply; the endpoint then
        # holds each task to its own suite's limit
        max_body = settings.max_body_bytes or max(
            [DEFAULT_MAX_BODY_BYTES, *(s.max_request_bytes for s in self._task_schemas.values())])
        sized = ReadBody(authed, max_body, self.responder)
        ready = RequireReady(sized, self.permits, self.responder)
        return Instrument(ready, self.metrics, self.responder)

    def _replay_store(self) -> SharedReplayStore | None:
        path = self.settings.replay_store
        return None if path is None else SharedReplayStore(
            path, max_age_ns=int(self.settings.nonce_max_age_s * 1e9))

    async def _once_ready(self) -> None:
        # validators that learn the endpoint before the first permit sync would only get 503s
        await self.permits.ready.wait()
        assert self.on_started is not None
        await self.on_started()

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.dispatcher.start()
        # one sync before serving, so a healthy source is ready at once; a slow one is retried
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.permits.refresh(), self.settings.permit_retry_s)
        self.permits.start()
        background = []
        if self.on_started is not None:  # e.g. publishing the endpoint: never delays serving
            background.append(asyncio.get_running_loop().create_task(self._once_ready()))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            await self.permits.stop()
            await self.dispatcher.stop()
            log.info("miner stopped")


class InferenceFastPath:
    """Sends ``POST /v1/inference`` straight into its pipeline, everything else to ``app``.

    The hot path skips Starlette's router and middleware stack (~10% of a request's CPU); the
    pipeline answers every error itself, so nothing of theirs is lost.
    """

    def __init__(self, app: ASGIApp, inference: ASGIApp) -> None:
        self.app = app
        self.inference = inference

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == INFERENCE_PATH \
                and scope["method"] == "POST":
            await self.inference(scope, receive, send)
        else:
            await self.app(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    """404/405 and friends as JSON error bodies, like every other answer."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
    detail = exc.detail if isinstance(exc, HTTPException) else "error"
    return JSONResponse(error_body(code, str(detail)), status_code=status,
                        headers=getattr(exc, "headers", None))
