"""The Validator loop with in-process miners: weights at the rate limit, chain failures, the
client adapter, metrics."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from moderntensor.client import ChainError, NodeUnreachableError
from moderntensor.errors import InvalidInputError
from moderntensor.protocol.auth import ReplayCache, sign_response, verify_request
from moderntensor.validator import (
    ClientChainView,
    MinerEndpoint,
    StaticChainView,
    SubnetSettings,
    Validator,
    ValidatorError,
)
from moderntensor.validator.chainview import miners_from_metagraph, subnet_info_from
from moderntensor.wallet import Wallet

VALIDATOR = Wallet.from_private_key("0x" + "07" * 32)
MINERS = {w.address.lower(): w for w in (Wallet.from_private_key("0x" + f"{i:02x}" * 32)
                                         for i in (0x11, 0x12))}
ENDPOINTS = [MinerEndpoint(uid, address, "127.0.0.1", 6000 + uid)
             for uid, address in enumerate(MINERS)]
CUSTOM = SubnetSettings(netuid=7, task_type="custom", weights_rate_limit=3,
                    suite="validator_suite:SumSuite")


def miners_app() -> Any:
    """In-process good miners: each answers (signed) as the miner the request is addressed to."""
    cache = ReplayCache()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        body = message.get("body", b"")
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        wallet = MINERS[headers["x-mt-receiver"].lower()]
        verified = verify_request(headers, "POST", scope["path"], body,
                                  receiver=wallet.address, replay_cache=cache)
        task = json.loads(body)["input"]
        content = json.dumps({"output": {"text": str(task["a"] + task["b"])}}).encode()
        signed = sign_response(wallet, content, request_nonce=verified.nonce,
                               validator=verified.sender)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(k.lower().encode(), v.encode()) for k, v in signed.items()]})
        await send({"type": "http.response.body", "body": content})

    return app


class ManualChain(StaticChainView):
    """A static chain whose block number, failures and submissions a test controls."""

    def __init__(self) -> None:
        super().__init__(ENDPOINTS, CUSTOM)
        self.block = 10
        self.fail_sync: Exception | None = None
        self.fail_submit: Exception | None = None

    async def subnet_info(self) -> SubnetSettings:
        if self.fail_sync is not None:
            raise self.fail_sync
        return await super().subnet_info()

    async def block_number(self) -> int:
        return self.block

    async def submit_weights(self, submission: Any) -> str | None:
        if self.fail_submit is not None:
            raise self.fail_submit
        await super().submit_weights(submission)
        return f"0x{len(self.submitted):064x}"


def validator_for(chain: Any, tmp_path: Path) -> Validator:
    transport = httpx.ASGITransport(app=miners_app())
    return Validator(VALIDATOR, chain, store=tmp_path / "v.sqlite", transport=transport)


def test_weights_go_out_at_the_subnets_rate_limit(tmp_path: Path) -> None:
    chain = ManualChain()

    async def main() -> list[Any]:
        reports = []
        async with validator_for(chain, tmp_path) as validator:
            for block in (10, 11, 12, 13):
                chain.block = block
                reports.append(await validator.run_round())
        return reports

    reports = asyncio.run(main())
    assert [r.submission is not None for r in reports] == [True, False, False, True]
    assert reports[0].tx_hash == "0x" + "0" * 63 + "1"
    first = chain.submitted[0]
    assert first.netuid == 7 and first.uids == (0, 1)
    assert first.weights == (65535, 65535) and first.accuracy == (65535, 65535)
    assert reports[-1].as_dict()["miners"][0]["round"]["outcomes"] == {"ok": 4}


def test_chain_failures_never_crash_the_loop(tmp_path: Path) -> None:
    chain = ManualChain()
    chain.fail_sync = NodeUnreachableError("node down")

    async def main() -> list[Any]:
        reports: list[Any] = []
        async with validator_for(chain, tmp_path) as validator:
            with pytest.raises(ValidatorError, match="cannot read subnet"):
                await validator.run_round()
            await validator.run(interval=0, rounds=1, on_round=reports.append)  # logged only
            chain.fail_sync = None
            chain.fail_submit = ChainError("rate limited", rpc_code=-32000,
                                           code="weights_rate_limited")
            reports.append(await validator.run_round())
            chain.fail_sync = NodeUnreachableError("node down again")
            chain.fail_submit = None
            reports.append(await validator.run_round())   # last good metagraph is reused
            text = validator.metrics.render().decode()
        return [*reports, text]

    *reports, metrics = asyncio.run(main())
    failed, recovered = reports
    assert failed.submission is None and "rate limited" in failed.submit_error
    assert recovered.submission is not None and len(recovered.miners) == 2
    assert 'mt_validator_requests_total{outcome="ok"} 16.0' in metrics
    assert "mt_validator_sync_errors_total 3.0" in metrics
    assert 'mt_validator_weight_submissions_total{result="error"} 1.0' in metrics


def test_the_clients_metagraph_and_subnet_views_are_read() -> None:
    from moderntensor.client.types import Metagraph
    from moderntensor.client.types import SubnetInfo as ClientSubnet

    rpc_metagraph = {
        "netuid": 1, "block": 9, "n": 2, "uids": [0, 1],
        "addresses": ["0x" + "aa" * 20, "0x" + "bb" * 20], "roles": ["validator", "miner"],
        "stakes": ["100", "0"], "validatorPermits": [True, False], "active": [True, False],
        "scores": [0, 0], "consensus": [0, 0], "accuracy": [0, 0], "latency": [0, 0],
        "availability": [0, 0], "consistency": [0, 0],
        "endpoints": [None, {"host": "127.0.0.1", "port": 5000, "protocol": "http"}],
        "models": [None, None], "registeredBlocks": [1, 2], "lastUpdates": [1, 2],
        "lastRewards": ["0", "0"]}
    (miner,) = miners_from_metagraph(Metagraph.from_json(rpc_metagraph))
    assert (miner.uid, miner.address, miner.url) == (1, "0x" + "bb" * 20,
                                                     "http://127.0.0.1:5000")
    rpc_subnet = {"netuid": 1, "name": "t", "taskType": "text-generation", "owner": "0x0",
                  "subnetWeight": 0, "difficulty": 1, "params": {"tempo": 20,
                  "weightsRateLimit": 5}, "miners": 1, "validators": 1, "epoch": 0,
                  "nextEpochBlock": 20, "epochEmission": "0", "metadata": {}}
    info = subnet_info_from(ClientSubnet.from_json(rpc_subnet))
    assert info == SubnetSettings(1, "text-generation", 20, 5, None)
    custom = {**rpc_subnet, "metadata": {"suite": "pkg.mod:Suite"}}
    assert subnet_info_from(ClientSubnet.from_json(custom)).suite == "pkg.mod:Suite"
    with pytest.raises(InvalidInputError, match="names suite"):
        subnet_info_from(ClientSubnet.from_json({**rpc_subnet, "metadata": {"suite": "x y"}}))


def test_from_config_resolves_wallet_network_and_subnet(mt_home: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    VALIDATOR.save("default", "pw", home=mt_home, scrypt_n=2**10)
    monkeypatch.setenv("MT_WALLET_PASSWORD", "pw")
    monkeypatch.setenv("MT_NETUID", "3")
    validator = Validator.from_config(network="http://127.0.0.1:1")
    assert validator.wallet.address == VALIDATOR.address
    assert isinstance(validator.chain, ClientChainView) and validator.chain.netuid == 3
    assert validator.chain.client.url == "http://127.0.0.1:1"
    assert validator._default_store_path(3) == (
        mt_home / "validator" / f"subnet-3-{VALIDATOR.address.lower()}.sqlite")
    with pytest.raises(ValidatorError, match="cannot read subnet"):   # nothing listens there
        asyncio.run(validator.run_round())
    asyncio.run(validator.aclose())
    monkeypatch.delenv("MT_NETUID")
    with pytest.raises(ValidatorError, match="no subnet"):
        Validator.from_config()
    aliased = Validator.from_config(subnet=4, network="http://127.0.0.1:1")  # the former name
    assert aliased.chain.netuid == 4
    asyncio.run(aliased.aclose())
