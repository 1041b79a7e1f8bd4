"""Permits from a real dev node: only the subnet's permitted validators get answers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from chain_support import running_node
from miner_support import (
    FAST_LIMITS,
    Echo,
    assert_error,
    envelope,
    free_port,
    post,
    serving,
    serving_config,
)
from moderntensor.client import AsyncLuxtensorClient, LuxtensorClient
from moderntensor.miner.runner import uvicorn_config
from moderntensor.wallet import Wallet

DEV_MNEMONIC = "test test test test test test test test test test test junk"


async def register(url: str, validator: Wallet, miner: Wallet, bystander: Wallet) -> None:
    async with AsyncLuxtensorClient(url) as client:
        await client.register_validator(1, 200, wallet=validator)
        for wallet in (miner, bystander):
            await client.register_miner(1, {"name": "echo", "type": "text-generation"},
                                        wallet=wallet)


def test_only_permitted_validators_of_the_subnet_get_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MT_MINER_ALLOW", raising=False)
    validator = Wallet.from_mnemonic(DEV_MNEMONIC, account_index=5)
    miner, bystander = Wallet.create(num_words=12), Wallet.create(num_words=12)
    with running_node(tmp_path / "node", block_time=0.2) as node:
        node.wait_for_block(1)
        asyncio.run(register(node.url, validator, miner, bystander))
        echo = Echo(wallet=miner.account, netuid=1, network=node.url, **FAST_LIMITS)
        assert echo.permit_origin == "chain"
        with serving(echo) as base, httpx.Client() as http:
            assert http.get(base + "/health").json()["status"] == "ready"
            ok = post(http, base, validator.account, miner.address, envelope())
            assert ok.status_code == 200, ok.text
            assert_error(post(http, base, bystander.account, miner.address, envelope()), 403,
                         "not_permitted")
            assert_error(post(http, base, Account.create(), miner.address, envelope()), 403,
                         "unknown_sender")


def test_a_miner_without_a_netuid_serves_and_publishes_once_registered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MT_MINER_ALLOW", raising=False)
    validator = Wallet.from_mnemonic(DEV_MNEMONIC, account_index=5)
    miner = Wallet.create(num_words=12)
    with running_node(tmp_path / "node", block_time=0.2) as node:
        node.wait_for_block(1)
        echo = Echo(wallet=miner.account, network=node.url, permit_refresh_s=0.3,
                    **FAST_LIMITS)
        assert echo.netuid is None and echo.permit_origin == "chain"
        port = free_port()
        app = echo.build_app(public_host="127.0.0.1", port=port)
        config = uvicorn_config(app, host="127.0.0.1", port=port, fast=False, grace_s=2.0,
                                edges=echo.settings.edge_limits())
        with serving_config(config) as base, httpx.Client() as http, \
                LuxtensorClient(node.url) as client:
            # started before its registration: nobody is permitted yet, nothing is published
            assert_error(post(http, base, validator.account, miner.address, envelope()), 403,
                         "unknown_sender")
            client.register_validator(1, 200, wallet=validator)
            client.register_miner(1, {"name": "echo", "type": "text-generation"},
                                  wallet=miner)
            deadline = time.monotonic() + 20
            while client.get_neuron(1, miner.address).endpoint is None:
                assert time.monotonic() < deadline, "the endpoint was never published"
                time.sleep(0.2)
            endpoint = client.get_neuron(1, miner.address).endpoint
            assert (endpoint.host, endpoint.port) == ("127.0.0.1", port)
            # the permit view refreshes on its own schedule (0.3 s here), independently of the
            # endpoint: the validator is permitted within a few refreshes
            while (ok := post(http, base, validator.account, miner.address,
                              envelope(netuid=1))).status_code == 403:
                assert time.monotonic() < deadline, ok.text
                time.sleep(0.2)
            assert ok.status_code == 200, ok.text
            assert_error(post(http, base, validator.account, miner.address, envelope(netuid=2)),
                         400, "wrong_subnet")
