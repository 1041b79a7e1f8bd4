"""JSON-RPC over WebSocket, with ``eth_subscribe`` / ``eth_unsubscribe``.

Any JSON-RPC method works over the socket; subscriptions push ``eth_subscription``
notifications for ``newHeads`` (each new block's header), ``logs`` (each new block's matching
logs, end-block logs included with their pseudo transaction hash) and ``newPendingTransactions``
(hashes of admitted transactions). Bounded: :data:`MAX_CONNECTIONS` sockets,
:data:`MAX_SUBSCRIPTIONS` per socket, :data:`MAX_MESSAGE_BYTES` per message, and
:data:`MAX_QUEUED` unsent notifications per socket; a reader that falls that far behind is
disconnected (close code 1008) rather than letting memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from moderntensor.chain.errors import InvalidParams, LimitExceeded, ParseError, RpcError
from moderntensor.chain.eth_json import block_json
from moderntensor.chain.log_query import LogQuery, block_logs_json, parse_log_query
from moderntensor.chain.rpc_params import data, expect_count

MAX_CONNECTIONS = 256
MAX_SUBSCRIPTIONS = 100
MAX_MESSAGE_BYTES = 1024 * 1024
MAX_QUEUED = 1_000
KINDS = ("newHeads", "logs", "newPendingTransactions")


class _Connection:
    def __init__(self, socket: WebSocket) -> None:
        self.socket = socket
        self.subscriptions: dict[str, tuple[str, LogQuery | None]] = {}
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.overflowed = False

    def push(self, message: dict[str, Any]) -> None:
        self.push_text(json.dumps(message))

    def push_text(self, text: str) -> None:
        if self.outbox.qsize() >= MAX_QUEUED:
            self.overflowed = True
            self.outbox.put_nowait(None)  # wakes the sender, which closes the socket
            return
        self.outbox.put_nowait(text)

    def notify(self, sub_id: str, result_json: str) -> None:
        """Push a notification whose result is already JSON text (encoded once per event)."""
        self.push_text('{"jsonrpc":"2.0","method":"eth_subscription","params":'
                       f'{{"subscription":"{sub_id}","result":{result_json}}}}}')


class WebSocketHub:
    """Serves WebSocket connections for one node and fans its events out to subscribers."""

    def __init__(self, node: Any, dispatch: Callable[[Any], Any],
                 allowed_origins: Sequence[str]) -> None:
        self.node = node
        self.dispatch = dispatch
        self.allowed_origins = tuple(allowed_origins)
        self.connections: set[_Connection] = set()
        node.on_block.append(self._on_block)
        node.on_tx.append(self._on_tx)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        socket = WebSocket(scope, receive, send)
        origin = socket.headers.get("origin")
        if origin is not None and "*" not in self.allowed_origins \
                and origin not in self.allowed_origins:
            await socket.close(code=1008, reason="origin not allowed")
            return
        if len(self.connections) >= MAX_CONNECTIONS:
            await socket.close(code=1013, reason="too many WebSocket connections; try later")
            return
        await socket.accept()
        connection = _Connection(socket)
        self.connections.add(connection)
        sender = asyncio.create_task(self._send_loop(connection))
        try:
            await self._receive_loop(connection)
        finally:
            self.connections.discard(connection)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def _receive_loop(self, connection: _Connection) -> None:
        socket = connection.socket
        while True:
            try:
                message = await socket.receive()
            except WebSocketDisconnect:
                return
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = message["bytes"].decode("utf-8", "replace")
            if text is None:
                continue
            if len(text) > MAX_MESSAGE_BYTES:
                connection.push(_error(None, InvalidParams(
                    f"message exceeds {MAX_MESSAGE_BYTES} bytes", code="request_too_large")))
                continue
            try:
                payload = json.loads(text)
            except (ValueError, RecursionError):
                connection.push(_error(None, ParseError("message is not valid JSON")))
                continue
            answer = self._answer(connection, payload)
            if answer is not None:
                connection.outbox.put_nowait(json.dumps(answer))

    def _answer(self, connection: _Connection, payload: Any) -> Any:
        if isinstance(payload, dict) and payload.get("method") in ("eth_subscribe",
                                                                   "eth_unsubscribe"):
            request_id = payload.get("id")
            try:
                params = payload.get("params", [])
                if payload["method"] == "eth_subscribe":
                    result: Any = self._subscribe(connection, params)
                else:
                    expect_count(params, 1, 1)
                    result = connection.subscriptions.pop(params[0], None) is not None \
                        if isinstance(params[0], str) else False
            except RpcError as exc:
                return _error(request_id, exc)
            return {"jsonrpc": "2.0", "id": request_id, "result": result}
        return self.dispatch(payload)

    def _subscribe(self, connection: _Connection, params: Any) -> str:
        expect_count(params, 1, 2)
        kind = params[0]
        if kind not in KINDS:
            raise InvalidParams(f"unknown subscription {str(kind)[:32]!r}; use one of "
                                f"{', '.join(KINDS)}", code="unknown_subscription")
        if len(connection.subscriptions) >= MAX_SUBSCRIPTIONS:
            raise LimitExceeded(f"at most {MAX_SUBSCRIPTIONS} subscriptions per connection",
                                code="too_many_subscriptions")
        query = None
        if kind == "logs":
            query = parse_log_query(params[1] if len(params) > 1 else {}, self.node.head.number)
        elif len(params) > 1 and kind == "newHeads":
            raise InvalidParams("newHeads takes no options")
        sub_id = "0x" + secrets.token_hex(16)
        connection.subscriptions[sub_id] = (kind, query)
        return sub_id

    async def _send_loop(self, connection: _Connection) -> None:
        socket = connection.socket
        while True:
            text = await connection.outbox.get()
            if text is None or connection.overflowed:
                await socket.close(code=1008, reason=f"more than {MAX_QUEUED} notifications "
                                   "unread; reconnect and read faster")
                return
            try:
                await socket.send_text(text)
            except (WebSocketDisconnect, RuntimeError, OSError):
                return

    def _on_block(self, block: Any) -> None:
        # each head and log is encoded once, however many subscribers receive it
        head_json: str | None = None
        logs: list[tuple[Any, str]] | None = None
        for connection in list(self.connections):
            for sub_id, (kind, query) in list(connection.subscriptions.items()):
                if kind == "newHeads":
                    if head_json is None:
                        head = block_json(block, False)
                        del head["transactions"]
                        head_json = json.dumps(head)
                    connection.notify(sub_id, head_json)
                elif kind == "logs" and query is not None:
                    if logs is None:
                        logs = [(entry, json.dumps(body))
                                for entry, body in block_logs_json(block)]
                    for entry, text in logs:
                        if query.matches(entry):
                            connection.notify(sub_id, text)

    def _on_tx(self, tx: Any) -> None:
        tx_hash = json.dumps(data(tx.hash))
        for connection in list(self.connections):
            for sub_id, (kind, _) in list(connection.subscriptions.items()):
                if kind == "newPendingTransactions":
                    connection.notify(sub_id, tx_hash)


def _error(request_id: Any, exc: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": exc.to_rpc()}
