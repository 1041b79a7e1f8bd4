"""Permits from a real dev node: only the subnet's permitted validators get answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from chain_support import running_node
from miner_support import FAST_LIMITS, Echo, assert_error, envelope, post, serving
from moderntensor.client import AsyncLuxtensorClient
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
