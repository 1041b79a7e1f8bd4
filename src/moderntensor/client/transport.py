"""JSON-RPC 2.0 over HTTP (httpx), with chain errors raised as typed exceptions."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from moderntensor.errors import ModernTensorError
from moderntensor.protocol.revert import decode_revert

DEFAULT_TIMEOUT_S = 30.0


class ChainError(ModernTensorError):
    """The node refused a request. ``code`` is the node's stable reason, ``rpc_code`` its number.

    >>> try:
    ...     client.transfer(to, "1e9")  # doctest: +SKIP
    ... except ChainError as exc:
    ...     exc.code, exc.message  # ('insufficient_funds', '...')
    """

    code = "chain_error"

    def __init__(self, message: str, *, rpc_code: int, code: str | None = None,
                 data: Any = None) -> None:
        super().__init__(message, code=code or f"rpc_{rpc_code}", data=data)
        self.rpc_code = rpc_code


class NodeUnreachableError(ModernTensorError):
    code = "node_unreachable"


def _error_from(body: dict[str, Any]) -> ChainError:
    error = body.get("error") or {}
    data = error.get("data")
    reason = None
    if isinstance(data, dict):
        reason = data.get("code") or data.get("reason")
    elif isinstance(data, str):
        revert = _revert_of(data)
        reason = data if revert is None else revert[0]
    return ChainError(
        str(error.get("message", "unknown error")),
        rpc_code=int(error.get("code", -32603)),
        code=reason if isinstance(reason, str) else None,
        data=data,
    )


class JsonRpcTransport:
    """One node URL, one pooled ``httpx.AsyncClient``, ids from a counter."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.url = url
        self._timeout = timeout
        self._http: httpx.AsyncClient | None = None
        self._ids = itertools.count(1)

    def _client(self) -> httpx.AsyncClient:
        # Created lazily so it binds to whichever event loop first uses it.
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout)
        return self._http

    async def _post(self, payload: Any) -> Any:
        try:
            response = await self._client().post(self.url, json=payload)
        except httpx.HTTPError as exc:
            raise NodeUnreachableError(
                f"cannot reach the Luxtensor node at {self.url} ({type(exc).__name__}); "
                "is it running? start one with `moderntensor node start --dev`"
            ) from None
        try:
            return response.json()
        except ValueError:
            raise NodeUnreachableError(
                f"{self.url} answered HTTP {response.status_code} without JSON-RPC; "
                "is this a Luxtensor node URL?"
            ) from None

    async def call(self, method: str, *params: Any) -> Any:
        """Call one method; returns its ``result`` or raises :class:`ChainError`."""
        body = await self._post(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        )
        if not isinstance(body, dict):
            raise NodeUnreachableError(f"{self.url} sent a malformed JSON-RPC reply")
        if "error" in body:
            raise _error_from(body)
        return body.get("result")

    async def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Send many calls in one HTTP request; results in call order (first error raises)."""
        if not calls:
            return []
        ids = [next(self._ids) for _ in calls]
        payload = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
                   for i, (m, p) in zip(ids, calls, strict=True)]
        replies = await self._post(payload)
        if not isinstance(replies, list):
            if isinstance(replies, dict) and "error" in replies:
                raise _error_from(replies)
            raise NodeUnreachableError(f"{self.url} sent a malformed JSON-RPC batch reply")
        by_id = {reply.get("id"): reply for reply in replies if isinstance(reply, dict)}
        results = []
        for i in ids:
            reply = by_id.get(i, {"error": {"code": -32603, "message": "missing batch reply"}})
            if "error" in reply:
                raise _error_from(reply)
            results.append(reply.get("result"))
        return results

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def _revert_of(data: str) -> tuple[str, str] | None:
    """(code, message) of hex ``Error(string)`` revert data (eth_call, eth_estimateGas)."""
    try:
        return decode_revert(bytes.fromhex(data.removeprefix("0x")))
    except ValueError:
        return None
