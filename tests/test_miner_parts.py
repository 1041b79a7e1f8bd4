"""The miner's small parts on their own: limits, cache, permits, settings, config, publishing."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from eth_account import Account

from chain_support import running_node
from miner_support import Echo, free_port, serving
from moderntensor.client import AsyncLuxtensorClient
from moderntensor.errors import InvalidInputError, WalletError
from moderntensor.miner import (
    MinerSettings,
    PermitDeniedError,
    PermitView,
    StaticPermitSource,
)
from moderntensor.miner.app import MinerRuntime
from moderntensor.miner.cache import ResponseCache
from moderntensor.miner.codec import JsonCodec
from moderntensor.miner.permits import PermitRefresher, view_from_metagraph
from moderntensor.miner.ratelimit import RateLimiter, retry_after_header
from moderntensor.miner.serving import PublicEndpoint, publish_endpoint
from moderntensor.wallet import Wallet

A, B, C = ("0x" + c * 40 for c in "abc")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_token_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3.0, clock=clock)
    assert [limiter.take("v") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("v") == pytest.approx(0.5)
    assert limiter.take("other") == 0.0  # buckets are per validator
    clock.now = 0.5
    assert limiter.take("v") == 0.0
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(2.2) == "3"


def test_the_limiter_keeps_a_bounded_number_of_buckets() -> None:
    limiter = RateLimiter(rate=1.0, burst=1.0, max_buckets=2, clock=Clock())
    for key in "abcd":
        limiter.take(key)
    assert len(limiter._buckets) == 2


def test_the_cache_evicts_the_least_recently_used() -> None:
    cache = ResponseCache(2)
    keys = [ResponseCache.key(bytes([i])) for i in range(3)]
    cache.put(keys[0], "zero")
    cache.put(keys[1], "one")
    assert cache.get(keys[0]) == "zero"  # now 1 is the least recently used
    cache.put(keys[2], "two")
    assert cache.get(keys[1]) is None
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 2)
    assert len(ResponseCache(0)) == 0


@pytest.mark.parametrize("fast", [False, True])
def test_both_codecs_round_trip_and_sort_canonically(fast: bool) -> None:
    codec = JsonCodec(fast)
    assert codec.fast is fast
    value = {"b": [1, 2.5, None], "a": "ü"}
    assert codec.loads(codec.dumps(value)) == value
    assert codec.canonical({"b": 1, "a": 2}) == codec.canonical({"a": 2, "b": 1})
    with pytest.raises((TypeError, ValueError)):
        codec.dumps({"x": object()})


def test_a_permit_view_tells_unknown_from_unpermitted() -> None:
    view = StaticPermitSource({A: 5}, known=[B]).view
    view.check(A)
    with pytest.raises(PermitDeniedError) as unknown:
        view.check(C)
    assert unknown.value.code == "unknown_sender"
    with pytest.raises(PermitDeniedError) as unpermitted:
        view.check(B)
    assert unpermitted.value.code == "not_permitted"


def metagraph(**overrides: Any) -> SimpleNamespace:
    arrays = {"uids": np.array([0, 1, 2]), "addresses": np.array([A.upper().replace("0X", "0x"),
                                                                   B, C]),
              "roles": np.array(["validator", "validator", "miner"]),
              "stakes": np.array([10**21, 10**18, 0], dtype=object)}
    arrays.update(overrides)
    return SimpleNamespace(**arrays)


def test_the_chain_view_permits_validators_above_the_stake_threshold() -> None:
    view = view_from_metagraph(metagraph(), min_stake=10**20)
    assert dict(view.validators) == {A: 10**21}
    assert view.known == {A, B, C}
    permits = view_from_metagraph(metagraph(validator_permits=np.array([False, True, False])))
    assert dict(permits.validators) == {B: 10**18}


def test_a_failed_refresh_keeps_the_last_good_view() -> None:
    results: list[Any] = [PermitView({A: 1}), ConnectionError("down"), "not a view"]

    async def source() -> PermitView:
        result = results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    refresher = PermitRefresher(source, interval_s=1, retry_s=1)

    async def three() -> list[bool]:
        return [await refresher.refresh() for _ in range(3)]

    assert asyncio.run(three()) == [True, False, False]
    assert refresher.view is not None and A in refresher.view.validators


def test_publishing_calls_serve_only_when_registered_and_changed(tmp_path: Path) -> None:
    registered, stranger = Wallet.create(num_words=12), Wallet.create(num_words=12)

    async def publish(client: AsyncLuxtensorClient, wallet: Wallet, port: int) -> str:
        return await publish_endpoint(client, wallet=wallet, netuid=1,
                                      endpoint=PublicEndpoint("127.0.0.1", port))

    async def scenario(url: str) -> list[str]:
        async with AsyncLuxtensorClient(url, wallet=registered) as client:
            await client.register_miner(1, {"name": "m", "type": "text-generation"})
            outcomes = [await publish(client, stranger, 5000)]
            outcomes += [await publish(client, registered, port) for port in (5000, 5000)]
            served_at = await client.block_number()
            while await client.block_number() < served_at + 3:  # the serving rate limit
                await asyncio.sleep(0.1)
            outcomes.append(await publish(client, registered, 5001))
            endpoint = (await client.get_neuron(1, registered.address)).endpoint
            outcomes.append(f"{endpoint.host}:{endpoint.port}" if endpoint else "none")
            return outcomes

    with running_node(tmp_path / "node", block_time=0.2) as node:
        node.wait_for_block(1)
        assert asyncio.run(scenario(node.url)) == [
            "not_registered", "published", "unchanged", "published", "127.0.0.1:5001"]


def test_a_live_copy_of_the_miner_keeps_its_published_endpoint(tmp_path: Path) -> None:
    wallet = Wallet.create(num_words=12)

    async def publish(client: AsyncLuxtensorClient, port: int) -> str:
        return await publish_endpoint(client, wallet=wallet, netuid=1,
                                      endpoint=PublicEndpoint("127.0.0.1", port))

    async def wait_rate_limit(client: AsyncLuxtensorClient) -> None:
        served_at = await client.block_number()
        while await client.block_number() < served_at + 3:
            await asyncio.sleep(0.1)

    async def scenario(url: str, copy_port: int, stop_copy: Any) -> list[str]:
        async with AsyncLuxtensorClient(url, wallet=wallet) as client:
            await client.register_miner(1, {"name": "m", "type": "text-generation"})
            outcomes = [await publish(client, copy_port)]   # the first copy publishes
            await wait_rate_limit(client)
            outcomes.append(await publish(client, free_port()))  # a second copy elsewhere
            stop_copy()
            outcomes.append(await publish(client, free_port()))  # the first copy is gone
            return outcomes

    copy = Echo(wallet=wallet.account, metagraph_source=[A])
    with running_node(tmp_path / "node", block_time=0.2) as node, \
            contextlib.ExitStack() as stack:
        node.wait_for_block(1)
        base = stack.enter_context(serving(copy))
        port = int(base.rsplit(":", 1)[1])
        assert asyncio.run(scenario(node.url, port, stack.close)) == [
            "published", "held_by_copy", "published"]


def test_settings_refuse_unknown_names_and_impossible_values() -> None:
    assert MinerSettings().with_overrides(cache_size=10).cache_size == 10
    with pytest.raises(InvalidInputError, match="unknown MinerServer settings"):
        MinerSettings().with_overrides(max_btach=4)
    with pytest.raises(InvalidInputError, match="workers must be > 0"):
        MinerSettings().with_overrides(workers=0)
    with pytest.raises(InvalidInputError, match="queue_size must be >= 0"):
        MinerSettings().with_overrides(queue_size=-1)


def test_the_wallet_subnet_and_network_come_from_the_config_rules(
        mt_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MT_MINER_ALLOW", raising=False)
    wallet = Wallet.create(num_words=12)
    wallet.save("mine", "secret", home=mt_home, scrypt_n=2**12)
    monkeypatch.setenv("MT_WALLET", "mine")
    monkeypatch.setenv("MT_WALLET_PASSWORD", "secret")
    monkeypatch.setenv("MT_NETUID", "4")
    miner = Echo()
    assert miner.wallet.address == wallet.address
    assert (miner.netuid, miner.permit_origin) == (4, "chain")
    assert Echo(netuid=2, max_batch=3).netuid == 2  # an argument beats the environment
    assert Echo(subnet=2).netuid == 2  # the former keyword, a documented alias
    assert Echo(netuid=2, max_batch=3).settings.max_batch == 3
    monkeypatch.setenv("MT_MINER_ALLOW", f"{A}, {B}")
    assert Echo().permit_origin == "static:env:MT_MINER_ALLOW"


def test_a_miner_without_password_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MT_MINER_ALLOW", raising=False)
    with pytest.raises(WalletError, match="MT_WALLET_PASSWORD"):
        Echo()


def test_a_miner_without_a_netuid_takes_its_subnets_from_the_chain(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MT_MINER_ALLOW", raising=False)
    miner = Echo(wallet=Account.create())
    assert (miner.netuid, miner.permit_origin) == (None, "chain")


def test_a_miner_must_define_inference() -> None:
    from moderntensor.miner import MinerServer

    with pytest.raises(NotImplementedError, match="inference"):
        MinerServer(wallet=Account.create(), metagraph_source=[A]).build_app()


def test_the_endpoint_is_published_only_after_the_first_permit_sync() -> None:
    attempts, published_with_view = 0, []

    async def flaky_source() -> PermitView:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise ConnectionError("node not up yet")
        return PermitView({A: 1})

    runtime = MinerRuntime(
        signer=Account.create(), netuid=1, permit_source=flaky_source,
        settings=MinerSettings().with_overrides(permit_retry_s=0.05), inference=lambda r: r,
        inference_batch=None, task_schemas={}, model_name="echo",
        on_started=lambda: _record(published_with_view, runtime))

    async def main() -> None:
        async with runtime._lifespan(runtime.build()):
            await asyncio.sleep(0.5)

    asyncio.run(main())
    assert attempts >= 3 and published_with_view == [True]


async def _record(calls: list[bool], runtime: MinerRuntime) -> None:
    calls.append(runtime.permits.view is not None)
