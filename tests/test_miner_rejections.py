"""Every way a request is refused: the right status and a JSON error body, never a 500."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from eth_account import Account

from miner_support import (
    FAST_LIMITS,
    Echo,
    accounts,
    assert_error,
    assert_signed_by,
    envelope,
    nonce_of,
    post,
    serving,
    signed_headers,
)
from moderntensor.miner import MinerServer, PermitView, StaticPermitSource
from moderntensor.protocol.auth import MAX_AGE_NS, MAX_SKEW_NS
from moderntensor.protocol.messages import INFERENCE_PATH
from moderntensor.subnets import SUITES

VALIDATOR, MINER = accounts()
REGISTERED_MINER = Account.create()  # on the subnet, but not a validator


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    source = StaticPermitSource([VALIDATOR.address], known=[REGISTERED_MINER.address])
    with serving(Echo(wallet=MINER, netuid=1, metagraph_source=source,
                      max_body_bytes=1024, **FAST_LIMITS)) as base:
        yield base


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        yield http


def send(client: httpx.Client, url: str, body: bytes = envelope(), **kwargs: Any
         ) -> httpx.Response:
    return post(client, url, VALIDATOR, MINER.address, body, **kwargs)


def send_headers(client: httpx.Client, url: str, headers: dict[str, str],
                 body: bytes = envelope()) -> httpx.Response:
    return client.post(url + INFERENCE_PATH, content=body, headers=headers)


def test_a_signed_request_is_answered_and_the_answer_is_signed(url: str,
                                                               client: httpx.Client) -> None:
    headers = signed_headers(VALIDATOR, MINER.address, envelope({"prompt": "hi"}))
    response = send_headers(client, url, headers, envelope({"prompt": "hi"}))
    assert response.status_code == 200
    assert response.json()["output"] == {"prompt": "hi"}
    assert response.json()["latency_ms"] >= 0
    assert_signed_by(response, nonce_of(headers), MINER.address, VALIDATOR.address)


def test_bad_signature(url: str, client: httpx.Client) -> None:
    headers = signed_headers(VALIDATOR, MINER.address, envelope("a"))
    assert_error(send_headers(client, url, headers, envelope("b")), 401, "bad_signature")


def test_wrong_receiver(url: str, client: httpx.Client) -> None:
    response = post(client, url, VALIDATOR, Account.create().address, envelope())
    assert_error(response, 401, "wrong_receiver")


def test_replayed_nonce(url: str, client: httpx.Client) -> None:
    headers = signed_headers(VALIDATOR, MINER.address, envelope())
    assert send_headers(client, url, headers).status_code == 200
    assert_error(send_headers(client, url, headers), 401, "replayed_nonce")


def test_stale_and_future_nonces(url: str, client: httpx.Client) -> None:
    stale = time.time_ns() - MAX_AGE_NS - 10**9
    future = time.time_ns() + MAX_SKEW_NS + 5 * 10**9
    assert_error(send(client, url, nonce=stale), 401, "stale_nonce")
    assert_error(send(client, url, nonce=future), 401, "future_nonce")


def test_missing_signature_headers(url: str, client: httpx.Client) -> None:
    response = client.post(url + INFERENCE_PATH, content=envelope(),
                           headers={"Content-Type": "application/json"})
    assert_error(response, 401, "missing_header")


def test_unknown_sender(url: str, client: httpx.Client) -> None:
    response = post(client, url, Account.create(), MINER.address, envelope())
    assert_error(response, 403, "unknown_sender")


def test_non_permitted_validator(url: str, client: httpx.Client) -> None:
    response = post(client, url, REGISTERED_MINER, MINER.address, envelope())
    assert_error(response, 403, "not_permitted")


def test_oversized_body(url: str, client: httpx.Client) -> None:
    assert_error(send(client, url, envelope("x" * 2000)), 413, "body_too_large")


def test_oversized_body_without_content_length(url: str, client: httpx.Client) -> None:
    body = envelope("x" * 2000)
    headers = signed_headers(VALIDATOR, MINER.address, body)
    response = client.post(url + INFERENCE_PATH, content=iter([body[:500], body[500:]]),
                           headers=headers)  # a generator body is sent chunked
    assert_error(response, 413, "body_too_large")


def test_wrong_content_type(url: str, client: httpx.Client) -> None:
    headers = signed_headers(VALIDATOR, MINER.address, envelope())
    headers["Content-Type"] = "text/plain"
    assert_error(send_headers(client, url, headers), 415, "unsupported_media_type")


def test_malformed_json(url: str, client: httpx.Client) -> None:
    response = send(client, url, b'{"subnet": 1, "task": ')
    assert_error(response, 400, "malformed_json")
    assert_signed_by(response, int(response.request.headers["X-MT-Nonce"]), MINER.address,
                     VALIDATOR.address)  # an authenticated error is signed too


@pytest.mark.parametrize("body", [
    b'{"subnet": 1, "input": "no task"}',
    b'{"subnet": "1", "task": "text-generation", "input": 1}',
    b'{"subnet": 1, "task": "Text Generation!", "input": 1}',
    b'{"subnet": 1, "task": "text-generation", "input": 1, "extra": true}',
    b'{"subnet": 1, "task": "text-generation", "input": 1, "params": [1]}',
    b'[1, 2, 3]',
    b'{"subnet": 1, "task": "text-generation", "input": ' + b"[" * 40 + b"]" * 40 + b"}",
])
def test_wrong_schema(url: str, client: httpx.Client, body: bytes) -> None:
    assert_error(send(client, url, body), 400, "invalid_request")


def test_task_input_is_checked_by_its_suite(monkeypatch: pytest.MonkeyPatch,
                                            client: httpx.Client) -> None:
    monkeypatch.setitem(SUITES, "shouting", "miner_support:ShoutSuite")
    validator, miner = accounts()
    with serving(Echo(wallet=miner, netuid=1, metagraph_source=[validator.address],
                      **FAST_LIMITS)) as base:
        good = post(client, base, validator, miner.address, envelope({"text": "hi"}, task="shout"))
        assert good.status_code == 200
        for bad in ({"text": "far too long for it"}, {"txt": "hi"}, "hi"):
            response = post(client, base, validator, miner.address, envelope(bad, task="shout"))
            assert_error(response, 400, "invalid_input")
        padded = envelope({"text": "hi"}, task="shout", params={"pad": "x" * 400})
        assert_error(post(client, base, validator, miner.address, padded), 413,
                     "body_too_large")  # the suite's own limit, under the server-wide one


def test_wrong_subnet(url: str, client: httpx.Client) -> None:
    assert_error(send(client, url, envelope(netuid=2)), 400, "wrong_subnet")


def test_nonsense_timeout_header(url: str, client: httpx.Client) -> None:
    headers = signed_headers(VALIDATOR, MINER.address, envelope())
    headers["X-MT-Timeout"] = "forever"
    assert_error(send_headers(client, url, headers), 400, "bad_timeout")


def test_unknown_paths_and_methods_answer_json(url: str, client: httpx.Client) -> None:
    assert_error(client.get(url + "/nope"), 404, "not_found")
    assert_error(client.get(url + INFERENCE_PATH), 405, "method_not_allowed")


def test_over_rate_limit() -> None:
    validator, miner = accounts()
    with serving(Echo(wallet=miner, netuid=1, metagraph_source=[validator.address],
                      rate_per_s=0.5, rate_burst=3)) as base, httpx.Client() as http:
        statuses = [post(http, base, validator, miner.address, envelope()) for _ in range(4)]
    assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
    assert_error(statuses[3], 429, "rate_limited")
    assert int(statuses[3].headers["Retry-After"]) >= 1


class Blocking(MinerServer):
    """Holds every request until the test releases it."""

    custom_tasks = ("echo",)

    release = threading.Event()

    def inference(self, request: Any) -> Any:
        self.release.wait(10)
        return "done"


def test_overloaded_answers_503_with_retry_after() -> None:
    validator, miner = accounts()
    miner_server = Blocking(wallet=miner, netuid=1, metagraph_source=[validator.address],
                            workers=1, queue_size=1, **FAST_LIMITS)

    async def flood(base: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=10) as http:
            async def one() -> httpx.Response:
                body = envelope()
                headers = signed_headers(validator, miner.address, body)
                return await http.post(base + INFERENCE_PATH, content=body, headers=headers)
            # one runs, one waits in the queue; the rest find the queue full
            pending = [asyncio.ensure_future(one()) for _ in range(4)]
            await asyncio.sleep(0.5)
            Blocking.release.set()
            return [await task for task in pending]

    with serving(miner_server) as base:
        responses = asyncio.run(flood(base))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 503, 503]
    overloaded = next(r for r in responses if r.status_code == 503)
    assert_error(overloaded, 503, "overloaded")
    assert overloaded.headers["Retry-After"] == "1"


def test_not_ready_until_permits_sync() -> None:
    validator, miner = accounts()
    synced = threading.Event()

    async def source() -> PermitView:
        if not synced.is_set():
            raise ConnectionError("chain not reachable yet")
        return PermitView({validator.address.lower(): 0})

    with serving(Echo(wallet=miner, netuid=1, metagraph_source=source, permit_retry_s=0.05,
                      **FAST_LIMITS)) as base, httpx.Client() as http:
        assert_error(post(http, base, validator, miner.address, envelope()), 503, "not_ready")
        health = http.get(base + "/health")
        assert health.status_code == 503
        assert health.json()["status"] == "not_ready"
        synced.set()
        deadline = time.monotonic() + 5
        while http.get(base + "/health").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert post(http, base, validator, miner.address, envelope()).status_code == 200
