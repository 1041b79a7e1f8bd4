"""The OpenAI endpoints: each turns an OpenAI request into one subnet task and the miner's
answer back into OpenAI's response shape.

Every answer carries ``x-moderntensor-netuid``, ``x-moderntensor-miner-uid`` (the miner that
answered) and ``x-moderntensor-attempts`` (miners tried). Miners answer whole; with
``stream: true`` the answer is sent as server-sent events as soon as the miner has answered,
one chunk per word, in OpenAI's chunk format, ending with ``data: [DONE]``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from moderntensor.gateway.errors import GatewayError
from moderntensor.gateway.keys import UsageRecord
from moderntensor.gateway.routing import NoMinerAnswered, RoutedAnswer
from moderntensor.gateway.schemas import (
    ChatCompletionRequest,
    CompletionRequest,
    ImageRequest,
    Sampling,
    SpeechRequest,
)
from moderntensor.gateway.service import Gateway, SubnetRoute

TEXT_TYPES = ("text-generation", "code-generation")
MAX_AUDIO_BYTES = 1024 * 1024   # the audio subnet's WAV limit
Model = TypeVar("Model", bound=BaseModel)
_FUNCTION = re.compile(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)
_PIECES = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True)
class Served:
    """An endpoint's response and what goes into the usage table."""

    response: Response
    usage: UsageRecord


def parse(model: type[Model], raw: bytes | dict[str, Any]) -> Model:
    """``raw`` (JSON bytes or form fields) as ``model``; 400 naming the first bad field."""
    try:
        if isinstance(raw, bytes):
            return model.model_validate_json(raw)
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise GatewayError(400, "invalid_json", "the request body is not valid JSON: "
                               f"{first['msg']}") from None
        param = ".".join(str(part) for part in first["loc"]) or None
        raise GatewayError(400, "invalid_value", f"{param or 'body'}: {first['msg']}",
                           param=param) from None


async def ask(route: SubnetRoute, task: str, input: Any, params: dict[str, Any],
              param: str) -> RoutedAnswer:
    """Validate ``input`` as the subnet's miners will, then ask them; 400 or 503 on failure."""
    try:
        route.router.suite.input_model.model_validate(input)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise GatewayError(400, "invalid_value", f"{param}: {first['msg']} (the subnet's "
                           "limit)", param=param) from None
    try:
        return await route.router.ask(task, input, params)
    except NoMinerAnswered as exc:
        raise GatewayError(503, "no_miner_available", f"no miner of subnet {route.netuid} "
                           f"answered: {exc}") from None


def headers(route: SubnetRoute, answer: RoutedAnswer) -> dict[str, str]:
    return {"x-moderntensor-netuid": str(route.netuid),
            "x-moderntensor-miner-uid": str(answer.miner.uid),
            "x-moderntensor-attempts": str(answer.attempts)}


def words(text: str) -> int:
    """Usage counts words (miners do not report model tokens)."""
    return len(text.split())


async def text_answer(gateway: Gateway, body: Sampling, prompt: str,
                      param: str) -> tuple[SubnetRoute, RoutedAnswer, str]:
    """Ask a text or code subnet; ``param`` is the request field the prompt came from."""
    route = gateway.route(body.model, TEXT_TYPES)
    if route.task_type == "code-generation":
        function = _FUNCTION.search(prompt)
        if function is None:
            raise GatewayError(400, "invalid_value", "a code model completes a Python "
                               "function: the prompt must contain 'def name(...)'",
                               param=param)
        answer = await ask(route, "code-generation",
                           {"prompt": prompt, "entry_point": function[1]}, body.params(),
                           param)
        return route, answer, str(answer.output.get("code", ""))
    answer = await ask(route, "text-generation", {"prompt": prompt}, body.params(), param)
    output = answer.output
    return route, answer, output if isinstance(output, str) else str(output.get("text", ""))


async def chat_completions(gateway: Gateway, request: Request) -> Served:
    body = parse(ChatCompletionRequest, await request.body())
    route, answer, text = await text_answer(gateway, body, body.prompt(), "messages")
    base = {"id": f"chatcmpl-{secrets.token_hex(12)}", "created": int(time.time()),
            "model": route.model}
    usage = _usage(body.prompt(), text)
    if body.stream:
        chunks = [{"role": "assistant", "content": ""},
                  *({"content": piece} for piece in _PIECES.findall(text))]
        events = [{**base, "object": "chat.completion.chunk",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                  for delta in chunks]
        events.append({**base, "object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        response: Response = _sse(events, headers(route, answer))
    else:
        response = JSONResponse({
            **base, "object": "chat.completion", "usage": usage,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}]},
            headers=headers(route, answer))
    return Served(response, _record("chat.completions", route, answer, usage))


async def completions(gateway: Gateway, request: Request) -> Served:
    body = parse(CompletionRequest, await request.body())
    route, answer, text = await text_answer(gateway, body, body.prompt, "prompt")
    base = {"id": f"cmpl-{secrets.token_hex(12)}", "object": "text_completion",
            "created": int(time.time()), "model": route.model}
    usage = _usage(body.prompt, text)
    if body.stream:
        events = [{**base, "choices": [{"index": 0, "text": piece, "finish_reason": None,
                                        "logprobs": None}]}
                  for piece in _PIECES.findall(text)]
        events.append({**base, "choices": [{"index": 0, "text": "", "finish_reason": "stop",
                                            "logprobs": None}]})
        response: Response = _sse(events, headers(route, answer))
    else:
        response = JSONResponse({**base, "usage": usage, "choices": [
            {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}]},
            headers=headers(route, answer))
    return Served(response, _record("completions", route, answer, usage))


async def image_generations(gateway: Gateway, request: Request) -> Served:
    body = parse(ImageRequest, await request.body())
    route = gateway.route(body.model, ("image-generation",))
    params = {"size": body.size} if body.size else {}
    answers = await asyncio.gather(*(ask(route, "image-generation", {"prompt": body.prompt},
                                         params, "prompt") for _ in range(body.n)))
    data = [{"b64_json": a.output["image_png_b64"], "revised_prompt": body.prompt}
            for a in answers]
    response = JSONResponse({"created": int(time.time()), "data": data},
                            headers=headers(route, answers[0]))
    usage = {"prompt_tokens": words(body.prompt), "completion_tokens": 0}
    return Served(response, _record("images.generations", route, answers[0], usage))


async def audio_speech(gateway: Gateway, request: Request) -> Served:
    body = parse(SpeechRequest, await request.body())
    route = gateway.route(body.model, ("audio",))
    answer = await ask(route, "text-to-speech", {"text": body.input}, {}, "input")
    wav = base64.b64decode(answer.output["audio_wav_b64"])
    response = Response(wav, media_type="audio/wav", headers=headers(route, answer))
    usage = {"prompt_tokens": words(body.input), "completion_tokens": 0}
    return Served(response, _record("audio.speech", route, answer, usage))


async def audio_transcriptions(gateway: Gateway, request: Request) -> Served:
    form = await _form(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise GatewayError(400, "invalid_value", "file: a WAV file is required", param="file")
    model = form.get("model")
    route = gateway.route(model if isinstance(model, str) else "", ("audio",))
    response_format = form.get("response_format", "json")
    if response_format not in ("json", "text"):
        raise GatewayError(400, "invalid_value", "response_format: 'json' or 'text'",
                           param="response_format")
    audio = await upload.read(MAX_AUDIO_BYTES + 1)
    await upload.close()
    if len(audio) > MAX_AUDIO_BYTES or not audio.startswith(b"RIFF"):
        raise GatewayError(400, "invalid_value", "file: a WAV file (16-bit PCM) of at most "
                           f"{MAX_AUDIO_BYTES} bytes", param="file")
    answer = await ask(route, "speech-to-text",
                       {"audio_wav_b64": base64.b64encode(audio).decode("ascii")}, {}, "file")
    text = str(answer.output.get("text", ""))
    response: Response = (JSONResponse({"text": text}, headers=headers(route, answer))
                          if response_format == "json"
                          else PlainTextResponse(text, headers=headers(route, answer)))
    usage = {"prompt_tokens": 0, "completion_tokens": words(text)}
    return Served(response, _record("audio.transcriptions", route, answer, usage))


async def _form(request: Request) -> dict[str, Any]:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise GatewayError(415, "unsupported_media_type",
                           "send the audio as multipart/form-data (fields: file, model)")
    try:
        form = await request.form(max_files=1, max_fields=16)
    except (HTTPException, MultiPartException) as exc:
        detail = exc.detail if isinstance(exc, HTTPException) else exc.message
        raise GatewayError(400, "invalid_form", f"unreadable multipart form: {detail}"
                           ) from None
    return dict(form)


def _usage(prompt: str, text: str) -> dict[str, int]:
    prompt_words, text_words = words(prompt), words(text)
    return {"prompt_tokens": prompt_words, "completion_tokens": text_words,
            "total_tokens": prompt_words + text_words}


def _record(endpoint: str, route: SubnetRoute, answer: RoutedAnswer,
            usage: dict[str, int]) -> UsageRecord:
    return UsageRecord(endpoint, 200, route.netuid, answer.miner.uid, usage["prompt_tokens"],
                       usage["completion_tokens"], answer.latency_s * 1000)


def _sse(events: list[dict[str, Any]], extra: dict[str, str]) -> StreamingResponse:
    async def stream() -> AsyncIterator[bytes]:
        for event in events:
            yield b"data: " + json.dumps(event, separators=(",", ":")).encode() + b"\n\n"
        yield b"data: [DONE]\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"cache-control": "no-cache", **extra})
