"""Raw-socket probes for HTTP edge tests: what an attacker sends, byte for byte."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class RawAnswer:
    status: int | None  # None: the server closed without answering
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def connect(url: str, timeout: float = 10) -> socket.socket:
    sock = socket.create_connection(address(url), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_answer(sock: socket.socket) -> RawAnswer:
    """Everything the server sends until it closes the connection, parsed."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        return RawAnswer(None, {}, b"")
    head, _, body = raw.partition(b"\r\n\r\n")
    answer = _parse_head(head)
    answer.body = body
    return answer


def read_one_answer(sock: socket.socket) -> RawAnswer:
    """One response on a keep-alive connection (its head, then content-length bytes)."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return RawAnswer(None, {}, raw)
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    answer = _parse_head(head)
    while len(body) < int(answer.headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    answer.body = body
    return answer


def _parse_head(head: bytes) -> RawAnswer:
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawAnswer(int(lines[0].split()[1]), headers, b"")


def exchange(url: str, data: bytes, timeout: float = 10) -> RawAnswer:
    """Send ``data`` on a fresh connection and read the answer until the server closes."""
    with connect(url, timeout) as sock:
        # refused mid-send: the answer (if any) is still in our receive buffer
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        return read_answer(sock)


def request_head(path: str = "/v1/inference", *, extra: bytes = b"",
                 method: bytes = b"POST") -> bytes:
    return (method + b" " + path.encode() + b" HTTP/1.1\r\nhost: 127.0.0.1\r\n" + extra
            + b"content-type: application/json\r\ncontent-length: 2\r\n\r\n{}")


def trickle_until_closed(socks: list[socket.socket], seconds: float,
                         every_s: float = 0.2) -> list[float]:
    """Send each socket one more header byte every ``every_s`` (slowloris) until the server
    closes it; seconds until each was closed (inf if not within ``seconds``)."""
    started = time.monotonic()
    closed_at = [float("inf")] * len(socks)
    for sock in socks:
        sock.setblocking(False)
    next_send = started
    while time.monotonic() - started < seconds and float("inf") in closed_at:
        now = time.monotonic()
        open_ = [i for i, at in enumerate(closed_at) if at == float("inf")]
        readable, _, _ = select.select([socks[i] for i in open_], [], [], 0.02)
        for sock in readable:
            index = socks.index(sock)
            try:
                if not sock.recv(65536):
                    closed_at[index] = time.monotonic() - started
            except BlockingIOError:
                continue
            except ConnectionResetError:
                closed_at[index] = time.monotonic() - started
        if now >= next_send:
            next_send = now + every_s
            for index in open_:
                if closed_at[index] == float("inf"):
                    try:
                        socks[index].send(b"x")
                    except (BrokenPipeError, ConnectionResetError, BlockingIOError):
                        closed_at[index] = time.monotonic() - started
    return closed_at
