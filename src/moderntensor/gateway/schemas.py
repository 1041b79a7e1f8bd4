"""The OpenAI request bodies the gateway accepts, as pydantic models, and their limits.

Fields the network cannot honour (``n`` > 1 for text, tools, logprobs...) are refused with a
400 naming the field rather than silently ignored; harmless sampling knobs (``temperature``,
``top_p``, ``user``...) are accepted and passed on to miners as params where a miner may use
them. Every string and list is bounded.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_PROMPT_CHARS = 4_000          # the text subnet's prompt limit
MAX_MESSAGES = 64
MAX_TOKENS_LIMIT = 4_096
MAX_IMAGES = 4

Text = Annotated[str, Field(max_length=MAX_PROMPT_CHARS)]


class _Request(BaseModel):
    # unknown fields are ignored as OpenAI's API ignores them: clients send extras freely
    model_config = ConfigDict(extra="ignore")

    model: Annotated[str, Field(min_length=1, max_length=128)]


class ChatMessage(BaseModel):
    """One message; ``content`` is text (a list of text parts is joined)."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"]
    content: Text | Annotated[list[dict[str, str]], Field(max_length=32)]

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(part.get("text", "") for part in self.content if
                       part.get("type") == "text")


class Sampling(_Request):
    """The knobs both text endpoints share."""

    max_tokens: Annotated[int, Field(ge=1, le=MAX_TOKENS_LIMIT)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1, le=MAX_TOKENS_LIMIT)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    n: Literal[1] = 1
    stream: bool = False
    user: Annotated[str, Field(max_length=256)] | None = None

    def params(self) -> dict[str, float | int]:
        """What goes to the miner as request params."""
        params: dict[str, float | int] = {}
        tokens = self.max_completion_tokens or self.max_tokens
        if tokens is not None:
            params["max_tokens"] = tokens
        for name in ("temperature", "top_p"):
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        return params


class ChatCompletionRequest(Sampling):
    """``POST /v1/chat/completions``."""

    messages: Annotated[list[ChatMessage], Field(min_length=1, max_length=MAX_MESSAGES)]

    def prompt(self) -> str:
        """One prompt for a miner: a lone user message as is, else a role-labelled transcript."""
        if len(self.messages) == 1 and self.messages[0].role == "user":
            return self.messages[0].text()
        lines = [f"{m.role}: {m.text()}" for m in self.messages]
        return "\n".join([*lines, "assistant:"])


class CompletionRequest(Sampling):
    """``POST /v1/completions`` (one prompt string)."""

    prompt: Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS)]


class ImageRequest(_Request):
    """``POST /v1/images/generations``; images come back as base64 PNG."""

    prompt: Annotated[str, Field(min_length=1, max_length=500)]
    n: Annotated[int, Field(ge=1, le=MAX_IMAGES)] = 1
    response_format: Literal["b64_json"] = "b64_json"
    size: Annotated[str, Field(max_length=16)] | None = None
    user: Annotated[str, Field(max_length=256)] | None = None


class SpeechRequest(_Request):
    """``POST /v1/audio/speech``; the answer is a WAV file."""

    input: Annotated[str, Field(min_length=1, max_length=1_000)]
    voice: Annotated[str, Field(max_length=64)] | None = None
    response_format: Literal["wav"] = "wav"
