"""The ABCI socket protocol of CometBFT 0.38: length-prefixed protobuf over TCP.

Each message is a ``tendermint.abci.Request`` (in) or ``Response`` (out) preceded by its length
as an unsigned varint. CometBFT opens four connections (consensus, mempool, query, snapshot) and
pipelines requests on each, ending a batch with ``flush``; responses go back in request order.
All connections are served on one asyncio loop, and every request is handled to completion
before the next one, so the app is never entered concurrently (the JSON-RPC server shares the
loop and sees the same guarantee).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from moderntensor.chain.abci.pb.tendermint.abci import types_pb2 as abci

log = logging.getLogger("moderntensor.chain.abci")

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # well above CometBFT's 21 MiB default block size
READ_CHUNK = 1 << 16


class FrameError(ValueError):
    """The peer sent bytes that are not a well-formed ABCI frame."""


class Application(Protocol):
    """What the server dispatches to: one method per ABCI request name."""

    def handle(self, kind: str, request: object) -> object: ...


def encode_uvarint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def decode_frame(buffer: bytes | bytearray, offset: int) -> tuple[bytes, int] | None:
    """The next message body at ``offset`` and the offset after it, or None if incomplete."""
    length = shift = 0
    position = offset
    while True:
        if position >= len(buffer):
            return None
        byte = buffer[position]
        position += 1
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift > 63:
            raise FrameError("length prefix is longer than 10 bytes")
    if length > MAX_MESSAGE_BYTES:
        raise FrameError(f"message of {length} bytes exceeds {MAX_MESSAGE_BYTES}")
    end = position + length
    if end > len(buffer):
        return None
    return bytes(buffer[position:end]), end


def frame(response: abci.Response) -> bytes:
    body = response.SerializeToString()
    return encode_uvarint(len(body)) + body


def respond(app: Application, request: abci.Request) -> abci.Response:
    """Dispatch one request; an app error becomes a ``ResponseException`` (CometBFT stops on
    it rather than continue with a state it cannot trust)."""
    kind = request.WhichOneof("value")
    if kind == "flush":
        return abci.Response(flush=abci.ResponseFlush())
    if kind == "echo":
        return abci.Response(echo=abci.ResponseEcho(message=request.echo.message))
    if kind is None:
        return abci.Response(exception=abci.ResponseException(error="empty ABCI request"))
    try:
        result = app.handle(kind, getattr(request, kind))
    except Exception as exc:  # the engine must hear of it; it halts instead of forking
        log.exception("ABCI %s failed", kind)
        return abci.Response(exception=abci.ResponseException(error=f"{kind}: {exc}"))
    response = abci.Response()
    getattr(response, kind).CopyFrom(result)
    return response


async def serve_connection(app: Application, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> None:
    """Answer one CometBFT connection until it closes."""
    buffer = bytearray()
    offset = 0
    try:
        while True:
            chunk = await reader.read(READ_CHUNK)
            if not chunk:
                return
            buffer += chunk
            flush = False
            while (item := decode_frame(buffer, offset)) is not None:
                body, offset = item
                request = abci.Request.FromString(body)
                writer.write(frame(respond(app, request)))
                flush = flush or request.WhichOneof("value") == "flush"
            if offset:  # drop what was consumed, keeping any partial frame
                del buffer[:offset]
                offset = 0
            if flush:
                await writer.drain()
    except (FrameError, ConnectionError) as exc:
        log.warning("ABCI connection dropped: %s", exc)
    finally:
        writer.close()


async def start_server(app: Application, host: str, port: int,
                       on_connection: Callable[[], None] | None = None) -> asyncio.Server:
    """Listen for CometBFT on ``host:port``."""

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if on_connection is not None:
            on_connection()
        await serve_connection(app, reader, writer)

    return await asyncio.start_server(accept, host, port, reuse_address=True)
