"""Attacks on a miner's HTTP edge, each refused with a JSON body or contained by a timeout.

A real miner (uvicorn, both HTTP parsers) on 127.0.0.1; the attacks are raw bytes on sockets.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator

import httpx
import pytest

from miner_support import FAST_LIMITS, Echo, accounts, assert_error, envelope, post, serving
from moderntensor.miner import StaticPermitSource
from security.edge_probes import (
    RawAnswer,
    connect,
    exchange,
    read_answer,
    read_one_answer,
    request_head,
    trickle_until_closed,
)

VALIDATOR, MINER = accounts()
HEADER_TIMEOUT_S = 1.0
LIMITS = {"header_timeout_s": HEADER_TIMEOUT_S, "body_timeout_s": HEADER_TIMEOUT_S,
          "max_connections_per_peer": 300, **FAST_LIMITS}


@pytest.fixture(scope="module", params=[True, False], ids=["httptools", "h11"])
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    miner = Echo(wallet=MINER, netuid=1, metagraph_source=StaticPermitSource([VALIDATOR.address]),
                 fast=request.param, **LIMITS)
    with serving(miner) as base:
        yield base


def assert_json_refusal(answer: RawAnswer, status: int, code: str) -> None:
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"]["code"] == code


def test_a_64_kib_header_is_refused_with_431(url: str) -> None:
    answer = exchange(url, request_head(extra=b"x-big: " + b"a" * 64 * 1024 + b"\r\n"))
    assert_json_refusal(answer, 431, "headers_too_large")


def test_two_thousand_small_headers_are_refused_with_431(url: str) -> None:
    many = b"".join(b"x-h%d: v\r\n" % i for i in range(2_000))
    assert_json_refusal(exchange(url, request_head(extra=many)), 431, "headers_too_large")


def test_a_megabyte_of_header_never_gets_buffered_whole(url: str) -> None:
    with connect(url) as sock:
        sock.sendall(b"POST /v1/inference HTTP/1.1\r\nx-big: ")
        sent = 0
        try:
            while sent < 1024 * 1024:
                sock.sendall(b"a" * 16 * 1024)
                sent += 16 * 1024
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert_json_refusal(read_answer(sock), 431, "headers_too_large")


def test_slow_header_connections_are_closed_within_the_header_timeout(url: str) -> None:
    socks = [connect(url) for _ in range(50)]
    try:
        for sock in socks:
            sock.sendall(b"POST /v1/inference HTTP/1.1\r\nx-slow: ")
        closed = trickle_until_closed(socks, seconds=HEADER_TIMEOUT_S + 3)
    finally:
        for sock in socks:
            sock.close()
    assert max(closed) <= HEADER_TIMEOUT_S + 1.5, sorted(closed)[-5:]


def test_a_stalled_head_is_answered_408_header_timeout(url: str) -> None:
    with connect(url) as sock:
        sock.sendall(b"POST /v1/inference HTTP/1.1\r\nhost: 127.0.0.1\r\n")
        assert_json_refusal(read_answer(sock), 408, "header_timeout")


def test_a_stalled_body_is_answered_408_body_timeout(url: str) -> None:
    with connect(url) as sock:
        sock.sendall(b"POST /v1/inference HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                     b"content-type: application/json\r\ncontent-length: 100\r\n\r\n{")
        started = time.monotonic()
        assert_json_refusal(read_answer(sock), 408, "body_timeout")
        assert time.monotonic() - started < HEADER_TIMEOUT_S + 1.5


def test_valid_requests_are_served_while_slow_connections_wait(url: str) -> None:
    socks = [connect(url) for _ in range(20)]
    try:
        for sock in socks:
            sock.sendall(b"POST /v1/inference HTTP/1.1\r\nx-slow: ")
        with httpx.Client(timeout=5) as client:
            for _ in range(5):
                assert post(client, url, VALIDATOR, MINER.address, envelope()).status_code == 200
    finally:
        for sock in socks:
            sock.close()


def test_a_busy_keep_alive_connection_outlives_both_timeouts(url: str) -> None:
    """The timeouts bound one head and one body, not the life of a connection: requests whose
    bodies arrive in a second packet keep one connection busy for three timeouts."""
    body = envelope()
    head = (b"POST /v1/inference HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json"
            b"\r\ncontent-length: %d\r\n\r\n" % len(body))
    with connect(url) as sock:
        started = time.monotonic()
        answered = 0
        while time.monotonic() - started < 3 * HEADER_TIMEOUT_S:
            sock.sendall(head)
            time.sleep(0.02)
            sock.sendall(body)
            answer = read_one_answer(sock)  # unsigned: 401, and the connection stays open
            assert answer.status == 401, answer
            answered += 1
    assert answered > 10


def test_a_request_the_parser_rejects_gets_a_json_400(url: str) -> None:
    answer = exchange(url, b"NOT HTTP AT ALL\r\n\r\n")
    assert_json_refusal(answer, 400, "malformed_http")


def test_an_unknown_task_is_refused_with_400_unknown_task(url: str) -> None:
    with httpx.Client(timeout=5) as client:
        response = post(client, url, VALIDATOR, MINER.address, envelope(task="rm-rf"))
    assert_error(response, 400, "unknown_task")
    assert "rm-rf" in response.json()["error"]["message"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_trailing_slash_is_not_found_never_redirected(url: str, method: str) -> None:
    with httpx.Client(timeout=5, follow_redirects=False) as client:
        response = client.request(method, url + "/v1/inference/", content=b"{}",
                                  headers={"content-type": "application/json"})
    assert_error(response, 404, "not_found")


def test_one_peer_cannot_hold_more_connections_than_its_cap() -> None:
    miner = Echo(wallet=MINER, netuid=1, metagraph_source=StaticPermitSource([VALIDATOR.address]),
                 max_connections_per_peer=4, **FAST_LIMITS)
    with serving(miner) as base:
        held = [connect(base) for _ in range(4)]
        try:
            time.sleep(0.2)  # the server has accepted all four
            assert_json_refusal(exchange(base, request_head()), 503, "too_many_connections")
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.2)
        with httpx.Client(timeout=5) as client:  # closed ones no longer count
            assert post(client, base, VALIDATOR, MINER.address, envelope()).status_code == 200


def mutated_head(rng: random.Random) -> bytes:
    """A request whose head is mangled (never its length framing, so no answer waits for a
    body): odd bytes in names and values, huge or many headers, a broken request line."""
    names = [b"host", b"x-mt-nonce", b"x-mt-signature", b"accept", b"x-" + rng.randbytes(4).hex()
             .encode()]
    lines = []
    for _ in range(rng.choice([0, 1, 5, 50, 150])):
        token = bytes(rng.choice([*range(32, 127), 0, 9, 127, 200]) for _ in range(8))
        value = (token * 5_000)[:rng.choice([0, 1, 20, 500, 40_000])]
        lines.append(rng.choice(names) + rng.choice([b": ", b":", b" : ", b""]) + value)
    method = rng.choice([b"POST", b"GET", b"PUT", b"P\x00ST", b"", b"POST /x"])
    path = rng.choice([b"/v1/inference", b"/v1/inference/", b"/health", b"*", b"/%zz", b""])
    head = method + b" " + path + b" " + rng.choice([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/9"])
    return (b"\r\n".join([head, *lines]) + b"\r\ncontent-type: application/json\r\n"
            b"content-length: 2\r\n\r\n{}")


def test_mangled_heads_are_answered_in_json_and_never_with_a_5xx(url: str) -> None:
    rng = random.Random(19)
    for _ in range(150):
        with connect(url) as sock:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(mutated_head(rng))  # a refusal may come before all is sent
            answer = read_one_answer(sock)  # the first answer; keep-alive may hold the rest
        assert answer.status is not None and answer.status < 500, answer
        assert answer.headers.get("content-type") == "application/json", answer
