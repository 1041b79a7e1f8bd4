"""Wire bodies between validators and miners: the request envelope, the answer, error bodies.

A task's own input schema comes from its subnet suite (``TaskSuite.input_model``); this module
validates the envelope that every task shares and bounds what any JSON value may cost.

>>> InferenceRequest.model_validate(
...     {"subnet": 1, "task": "text-generation", "input": {"prompt": "hi"}}).params
{}
>>> error_body("rate_limited", "slow down")
{'error': {'code': 'rate_limited', 'message': 'slow down'}}
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

INFERENCE_PATH = "/v1/inference"
HEALTH_PATH = "/health"
METRICS_PATH = "/metrics"
CONTENT_TYPE = "application/json"

MAX_JSON_DEPTH = 32        # deeper than any task needs; bounds recursion in every consumer
MAX_PARAMS = 64            # keys in "params"
MAX_TASK_NAME = 64
TASK_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"


class InferenceRequest(BaseModel):
    """``{"subnet": 1, "task": "text-generation", "input": ..., "params": {...}}``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    # "subnet" is the wire name (mtauth/1 bodies); in code it is the netuid like everywhere else
    netuid: Annotated[StrictInt, Field(ge=0, lt=2**16, alias="subnet")]
    task: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TASK_NAME,
                                     pattern=TASK_NAME_PATTERN)]
    input: Any
    params: Annotated[dict[str, Any], Field(max_length=MAX_PARAMS)] = Field(default_factory=dict)


class InferenceResponse(BaseModel):
    """A miner's answer: the task's output and the latency the miner claims (validators measure)."""

    model_config = ConfigDict(extra="forbid")

    output: Any
    latency_ms: Annotated[StrictFloat | StrictInt, Field(ge=0)] | None = None


class ErrorDetail(BaseModel):
    """A stable snake_case ``code`` to match on and a ``message`` a person can act on."""

    code: StrictStr
    message: StrictStr
    data: Any = None


class ErrorResponse(BaseModel):
    """``{"error": {"code": "...", "message": "..."}}``: every non-2xx answer of a miner."""

    error: ErrorDetail


def error_body(code: str, message: str, data: Any = None) -> dict[str, Any]:
    """The JSON error body for ``code``; ``data`` only when there is something to add."""
    detail: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        detail["data"] = data
    return {"error": detail}


def json_depth_exceeds(value: Any, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """True when ``value`` nests lists/dicts deeper than ``max_depth`` (no recursion used)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
