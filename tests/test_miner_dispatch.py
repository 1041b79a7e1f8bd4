"""Between a verified request and its answer: failures, batching, caching, deadlines, metrics."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from miner_support import (
    FAST_LIMITS,
    Echo,
    accounts,
    assert_error,
    assert_signed_by,
    envelope,
    post,
    serving,
    signed_headers,
)
from moderntensor.miner import MinerServer
from moderntensor.protocol.messages import INFERENCE_PATH


class Fragile(MinerServer):
    custom_tasks = ("echo",)

    def inference(self, request: Any) -> Any:
        if request.input == "boom":
            raise ValueError("the model fell over")
        if request.input == "bad-output":
            return {"output": 1, "latency_ms": -5}
        if request.input == "not-json":
            return {"output": object()}
        return request.input


def test_an_exception_in_inference_fails_that_request_only() -> None:
    validator, miner = accounts()
    with serving(Fragile(wallet=miner, netuid=1, metagraph_source=[validator.address],
                         **FAST_LIMITS)) as base, httpx.Client() as http:
        failed = post(http, base, validator, miner.address, envelope("boom"))
        assert_error(failed, 502, "inference_failed")
        assert "the model fell over" not in failed.text  # the model's own words stay in the log
        assert_signed_by(failed, int(failed.request.headers["X-MT-Nonce"]), miner.address,
                         validator.address)
        assert_error(post(http, base, validator, miner.address, envelope("bad-output")),
                     502, "invalid_output")
        assert_error(post(http, base, validator, miner.address, envelope("not-json")),
                     502, "invalid_output")
        fine = post(http, base, validator, miner.address, envelope("fine"))
        assert fine.status_code == 200
        assert fine.json()["output"] == "fine"  # a bare return value is the output
        assert http.get(base + "/health").json()["status"] == "ready"


class Batched(MinerServer):
    custom_tasks = ("echo",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.batch_sizes: list[int] = []

    def inference_batch(self, requests: list[Any]) -> list[Any]:
        self.batch_sizes.append(len(requests))
        time.sleep(0.02)  # a model call costs the same for one input or for eight
        return [{"output": r.input * 2, "latency_ms": r.elapsed_ms} for r in requests]


def concurrent_posts(base: str, validator: Any, miner_address: str,
                     bodies: list[bytes], headers: dict[str, str] | None = None
                     ) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=10) as http:
            async def one(body: bytes) -> httpx.Response:
                signed = signed_headers(validator, miner_address, body, **(headers or {}))
                return await http.post(base + INFERENCE_PATH, content=body, headers=signed)
            return list(await asyncio.gather(*(one(body) for body in bodies)))
    return asyncio.run(run())


def test_micro_batching_groups_concurrent_requests() -> None:
    validator, miner = accounts()
    batched = Batched(wallet=miner, netuid=1, metagraph_source=[validator.address],
                      max_batch=8, batch_wait_ms=20, **FAST_LIMITS)
    with serving(batched) as base:
        bodies = [envelope(i) for i in range(24)]
        responses = concurrent_posts(base, validator, miner.address, bodies)
        metrics = httpx.get(base + "/metrics").text
    assert [r.json()["output"] for r in responses] == [2 * i for i in range(24)]
    assert sum(batched.batch_sizes) == 24
    assert max(batched.batch_sizes) > 1
    assert max(batched.batch_sizes) <= 8
    assert len(batched.batch_sizes) < 24
    assert "mt_miner_batch_size_count" in metrics


def test_a_cache_hit_skips_the_model() -> None:
    validator, miner = accounts()

    class Counting(Echo):
        calls = 0

    with serving(Counting(wallet=miner, netuid=1, metagraph_source=[validator.address],
                          cache_size=16, **FAST_LIMITS)) as base, httpx.Client() as http:
        first = post(http, base, validator, miner.address, envelope("same"))
        second = post(http, base, validator, miner.address, envelope("same"))
        assert Counting.calls == 1
        assert second.json()["output"] == first.json()["output"] == "same"
        assert_signed_by(second, int(second.request.headers["X-MT-Nonce"]), miner.address,
                         validator.address)  # signed anew for the new request
        post(http, base, validator, miner.address, envelope("same", params={"t": 0.1}))
        assert Counting.calls == 2  # other params, other answer
        metrics = http.get(base + "/metrics").text
    assert "mt_miner_cache_hits_total 1.0" in metrics


def test_caching_is_off_unless_asked_for() -> None:
    validator, miner = accounts()

    class Counting(Echo):
        calls = 0

    with serving(Counting(wallet=miner, netuid=1, metagraph_source=[validator.address],
                          **FAST_LIMITS)) as base, httpx.Client() as http:
        for _ in range(2):
            post(http, base, validator, miner.address, envelope("same"))
    assert Counting.calls == 2


class Slow(MinerServer):
    custom_tasks = ("echo",)

    async def inference(self, request: Any) -> Any:
        await asyncio.sleep(float(request.input))
        return "late"


def test_the_validator_deadline_is_honoured() -> None:
    validator, miner = accounts()
    with serving(Slow(wallet=miner, netuid=1, metagraph_source=[validator.address],
                      **FAST_LIMITS)) as base, httpx.Client() as http:
        slow = post(http, base, validator, miner.address, envelope("1.0"), timeout_s=0.2)
        assert_error(slow, 504, "deadline_exceeded")
        quick = post(http, base, validator, miner.address, envelope("0"), timeout_s=2)
        assert quick.json()["output"] == "late"  # async inference works too


def test_metrics_count_requests_by_status_and_are_loopback_only() -> None:
    validator, miner = accounts()
    with serving(Echo(wallet=miner, netuid=1, metagraph_source=[validator.address],
                      **FAST_LIMITS)) as base, httpx.Client() as http:
        post(http, base, validator, miner.address, envelope())
        post(http, base, validator, miner.address, b"{")
        text = http.get(base + "/metrics").text
    assert 'mt_miner_requests_total{code="ok",status="200"} 1.0' in text
    assert 'mt_miner_requests_total{code="malformed_json",status="400"} 1.0' in text
    assert "mt_miner_request_seconds_bucket" in text
    assert "mt_miner_queue_depth 0.0" in text


@pytest.mark.parametrize(("public", "status"), [(False, 403), (True, 200)])
def test_metrics_refuse_remote_clients_unless_public(public: bool, status: int) -> None:
    validator, miner = accounts()
    app = Echo(wallet=miner, netuid=1, metagraph_source=[validator.address],
               metrics_public=public).build_app()

    async def scrape() -> int:
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://miner") as client:
            return (await client.get("/metrics")).status_code

    assert asyncio.run(scrape()) == status
