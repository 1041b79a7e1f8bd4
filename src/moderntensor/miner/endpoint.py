"""``POST /v1/inference`` after authentication: parse, validate, answer from cache or model."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.types import Receive, Scope, Send

from moderntensor.miner.cache import ResponseCache
from moderntensor.miner.codec import JsonCodec
from moderntensor.miner.dispatch import Dispatcher, InferenceFailedError, OverloadedError
from moderntensor.miner.permits import PermitRefresher
from moderntensor.miner.request import MinerRequest
from moderntensor.miner.responses import Responder, context
from moderntensor.protocol.messages import InferenceRequest, InferenceResponse, json_depth_exceeds

log = logging.getLogger("moderntensor.miner")


class InvalidOutputError(InferenceFailedError):
    code = "invalid_output"


@dataclass(frozen=True)
class TaskSchema:
    """What a registered suite says about one wire task: its input model and size limit."""

    input_model: type[BaseModel]
    max_request_bytes: int


class InferenceEndpoint:
    """Turns a verified body into a MinerRequest, runs it, and answers the validated output."""

    def __init__(
        self,
        *,
        netuid: int | None,
        permits: PermitRefresher | None = None,
        task_schemas: Mapping[str, TaskSchema],
        custom_tasks: frozenset[str] = frozenset(),
        dispatcher: Dispatcher,
        cache: ResponseCache,
        codec: JsonCodec,
        responder: Responder,
        default_timeout_s: float,
        max_response_bytes: int,
    ) -> None:
        self.netuid = netuid
        self.permits = permits  # without a netuid, the subnets of the permit view are served
        self.task_schemas = task_schemas
        self.custom_tasks = custom_tasks  # served without a registered suite's input schema
        self.dispatcher = dispatcher
        self.cache = cache
        self.codec = codec
        self.responder = responder
        self.default_timeout_s = default_timeout_s
        self.max_response_bytes = max_response_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = context(scope)
        verified = ctx.verified
        if verified is None:
            raise RuntimeError("InferenceEndpoint must run after Authenticate")
        body = self.parse(ctx.body)
        if isinstance(body, tuple):
            await self.responder.error(scope, send, *body)
            return
        request = MinerRequest(netuid=body.netuid, task=body.task, input=body.input,
                               params=body.params, sender=verified.sender,
                               nonce=verified.nonce, arrived_ns=ctx.arrived_ns)
        cache_key = None
        if self.cache.size > 0:
            cache_key = self.cache.key(self.codec.canonical([body.task, body.input, body.params]))
            cached = self.cache.get(cache_key)
            if cached is not None:
                await self._answer(scope, send, {"output": cached, "latency_ms": None}, request)
                return
        timeout_s = verified.timeout_s or self.default_timeout_s
        remaining = timeout_s - (time.perf_counter_ns() - ctx.arrived_ns) / 1e9
        try:
            future = self.dispatcher.submit(request)
            result = await asyncio.wait_for(future, max(remaining, 0.0))
        except OverloadedError as exc:
            await self.responder.error(scope, send, 503, exc.code, exc.message,
                                       headers={"Retry-After": "1"})
            return
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            await self.responder.error(scope, send, 504, "deadline_exceeded",
                                       f"no answer within the request's {timeout_s:g} s deadline")
            return
        except InferenceFailedError as exc:
            await self.responder.error(scope, send, 502, exc.code, exc.message)
            return
        finally:
            ctx.model_ns = request.model_ns
        answer = self._normalise(result)
        if isinstance(answer, InvalidOutputError):
            await self.responder.error(scope, send, 502, answer.code, answer.message)
            return
        await self._answer(scope, send, answer, request, cache_key)

    def served_netuids(self) -> frozenset[int]:
        """The subnets this miner answers for (empty: any, e.g. behind a static allow-list)."""
        if self.netuid is not None:
            return frozenset({self.netuid})
        view = self.permits.view if self.permits is not None else None
        return view.netuids if view is not None else frozenset()

    def parse(self, raw_body: bytes) -> InferenceRequest | tuple[int, str, str]:
        """The validated request, or (status, code, message) saying why it is not one."""
        try:
            raw = self.codec.loads(raw_body)
        except (ValueError, RecursionError, TypeError):
            return 400, "malformed_json", "the body is not valid JSON"
        if json_depth_exceeds(raw):
            return 400, "invalid_request", "the body nests JSON deeper than this miner accepts"
        try:
            body = InferenceRequest.model_validate(raw)
        except ValidationError as exc:
            return 400, "invalid_request", _describe(exc)
        served = self.served_netuids()
        if served and body.netuid not in served:
            return (400, "wrong_subnet",
                    f"this miner serves subnet {', '.join(map(str, sorted(served)))}, "
                    f"not {body.netuid}")
        return self._check_task(body, len(raw_body)) or body

    def _check_task(self, body: InferenceRequest, size: int) -> tuple[int, str, str] | None:
        """A task this miner serves, within its suite's limits when a registered suite has it."""
        if body.task in self.custom_tasks:
            return None
        schema = self.task_schemas.get(body.task)
        if schema is None:
            known = sorted([*self.task_schemas, *self.custom_tasks])
            return (400, "unknown_task",
                    f"this miner serves no task named {body.task[:64]!r}; known: {known}")
        if size > schema.max_request_bytes:
            return (413, "body_too_large",
                    f"{body.task} requests are limited to {schema.max_request_bytes} bytes")
        try:
            schema.input_model.model_validate(body.input)
        except ValidationError as exc:
            return 400, "invalid_input", _describe(exc, prefix="input")
        return None

    def _normalise(self, result: Any) -> dict[str, Any] | InvalidOutputError:
        """``{"output": ..., "latency_ms": ...}`` as returned, or a bare value as the output."""
        if not (isinstance(result, dict) and "output" in result):
            return {"output": result, "latency_ms": None}
        try:
            checked = InferenceResponse.model_validate(result)
        except ValidationError as exc:
            return InvalidOutputError(f"inference returned an invalid answer: {_describe(exc)}")
        return {"output": result["output"], "latency_ms": checked.latency_ms}

    async def _answer(self, scope: Scope, send: Send, answer: dict[str, Any],
                      request: MinerRequest, cache_key: bytes | None = None) -> None:
        if answer["latency_ms"] is None:
            answer["latency_ms"] = round(request.elapsed_ms, 3)
        try:
            body = self.codec.dumps(answer)
        except (TypeError, ValueError) as exc:
            await self.responder.error(scope, send, 502, "invalid_output",
                                       f"inference returned a value JSON cannot carry: {exc}")
            return
        if len(body) > self.max_response_bytes:
            await self.responder.error(scope, send, 502, "output_too_large",
                                       f"the answer is {len(body)} bytes; the limit is "
                                       f"{self.max_response_bytes}")
            return
        if cache_key is not None:
            self.cache.put(cache_key, answer["output"])
        await self.responder.send_json(scope, send, 200, None, body=body)


def _describe(exc: ValidationError, prefix: str = "") -> str:
    """Where and what, for the first few problems; never echoes the (untrusted) input back."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False)[:3]:
        location = ".".join(str(p) for p in (prefix, *error["loc"]) if p != "")
        parts.append(f"{location or 'body'}: {error['msg']}")
    return "; ".join(parts)
