"""The validator's lean HTTP/1.1 client against real sockets: keep-alive, limits, failures."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable

import pytest

from moderntensor.validator.miner_http import AnswerTooLargeError, MinerPool, StaleConnectionError

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def answer(body: bytes, *, close: bool = False) -> bytes:
    extra = b"Connection: close\r\n" if close else b""
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-MT-Sender: 0xAb\r\n"
            + extra + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    return await reader.readexactly(length)


async def with_server(handler: Handler, client: Callable[[MinerPool], Awaitable[object]]
                      ) -> object:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = MinerPool(f"http://127.0.0.1:{port}", max_connections=4, keepalive_s=5,
                     connect_timeout_s=1, ssl_context=ssl.create_default_context())
    try:
        return await client(pool)
    finally:
        await pool.aclose()
        server.close()


def post(pool: MinerPool, max_bytes: int = 1000) -> Awaitable[tuple]:
    return pool.post("/v1/inference", b'{"x":1}', {"Content-Type": "application/json"},
                     timeout_s=2, max_bytes=max_bytes)


def test_answers_reuse_one_kept_alive_connection() -> None:
    connections = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        while not reader.at_eof():
            try:
                body = await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(answer(body))

    async def three(pool: MinerPool) -> list:
        return [await post(pool) for _ in range(3)]

    results = asyncio.run(with_server(echo, three))
    assert [(s, h["x-mt-sender"], h["X-MT-SENDER"], b) for s, h, b in results] == [
        (200, "0xAb", "0xAb", b'{"x":1}')] * 3
    assert len(connections) == 1


def test_an_answer_over_the_limit_is_refused_by_its_declared_length() -> None:
    async def big(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(b"x" * 5000))

    with pytest.raises(AnswerTooLargeError):
        asyncio.run(with_server(big, post))


def test_a_kept_alive_connection_the_miner_closed_is_reported_stale() -> None:
    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(b"{}"))      # claims keep-alive, then closes after one answer
        await writer.drain()
        writer.close()

    async def twice(pool: MinerPool) -> object:
        await post(pool)
        await asyncio.sleep(0.1)
        return await post(pool)

    with pytest.raises((StaleConnectionError, ConnectionResetError)):
        asyncio.run(with_server(once, twice))


def test_connection_close_answers_are_not_kept() -> None:
    async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(b"{}", close=True))
        await writer.drain()
        writer.close()

    async def twice(pool: MinerPool) -> list:
        return [(await post(pool))[0] for _ in range(2)]

    assert asyncio.run(with_server(closing, twice)) == [200, 200]


def test_nobody_listening_is_a_connection_error() -> None:
    async def refused() -> None:
        pool = MinerPool("http://127.0.0.1:1", max_connections=1, keepalive_s=1,
                         connect_timeout_s=1, ssl_context=ssl.create_default_context())
        await post(pool)

    with pytest.raises(OSError):
        asyncio.run(refused())
