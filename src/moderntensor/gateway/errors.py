"""OpenAI-style errors: what every non-2xx answer of the gateway looks like.

OpenAI's clients read ``{"error": {"message", "type", "param", "code"}}`` and map the status
to an exception class (400 BadRequestError, 401 AuthenticationError, 404 NotFoundError, 429
RateLimitError, 503 InternalServerError); the gateway answers in exactly that shape.

>>> GatewayError(404, "model_not_found", "no model 'x'", param="model").body()["error"]["type"]
'invalid_request_error'
"""

from __future__ import annotations

import json
from typing import Any

from moderntensor.errors import ModernTensorError

# status -> the OpenAI error type a client sees
ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error",
               404: "invalid_request_error", 405: "invalid_request_error",
               408: "invalid_request_error", 413: "invalid_request_error",
               415: "invalid_request_error", 431: "invalid_request_error",
               429: "requests", 502: "server_error", 503: "server_error"}


class GatewayError(ModernTensorError):
    """A refusal with an HTTP status, a stable ``code`` and the request field at fault."""

    def __init__(self, status: int, code: str, message: str, *, param: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, status=self.status, param=self.param)


def error_body(code: str, message: str, *, status: int = 400,
               param: str | None = None) -> dict[str, Any]:
    """The OpenAI error body for ``code`` at ``status``."""
    return {"error": {"message": message, "type": ERROR_TYPES.get(status, "server_error"),
                      "param": param, "code": code}}


def edge_error_json(code: str, message: str) -> bytes:
    """The HTTP edge's refusals (oversized heads, slow clients) in the same shape."""
    return json.dumps(error_body(code, message)).encode()
