"""ModernTensor modules through a real node process: signed transactions and mt_ reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from chain_support import DEV, running_node
from moderntensor.chain.genesis import DEV_CHAIN_ID
from moderntensor.protocol import syscalls
from moderntensor.protocol.pow import PowChallenge
from moderntensor.scoring import MinerScore

TO = syscalls.SYSTEM_ADDRESS


def send(node: Any, key: str, name: str, args: dict[str, Any], *, nonce: int,
         gas_price: int = 2 * 10**9, value: int = 0) -> str:
    tx = {"to": TO, "value": value, "gas": 2_000_000, "gasPrice": gas_price, "nonce": nonce,
          "chainId": DEV_CHAIN_ID, "data": syscalls.encode_call(name, **args)}
    raw = Account.sign_transaction(tx, key).raw_transaction
    return node.rpc("eth_sendRawTransaction", "0x" + bytes(raw).hex())


def receipt(node: Any, tx_hash: str, timeout: float = 10) -> dict[str, Any]:
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = node.rpc("eth_getTransactionReceipt", tx_hash)
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no receipt for {tx_hash}")


def rpc_error(node: Any, method: str, *params: Any) -> dict[str, Any]:
    body = httpx.post(node.url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                      "params": list(params)}, timeout=10).json()
    assert "error" in body, body
    return body["error"]


@pytest.mark.e2e
def test_zero_mdt_miner_registers_and_is_paid_through_a_real_node(tmp_path: Path) -> None:
    fresh = Account.create()
    with running_node(tmp_path / "node", block_time=0.1) as node:
        node.wait_for_block(2)
        info = node.rpc("mt_nodeInfo")
        assert info["subnets"] == [1, 2, 3, 4] and info["chainId"] == DEV_CHAIN_ID
        challenge = node.rpc("mt_getRegistrationChallenge", 1, fresh.address)
        solution = PowChallenge.from_dict(challenge).solve(fresh.address)
        args = {"netuid": 1, "modelName": "smollm2", "modelType": "text-generation",
                "modelVersion": "1.0.0", "powNonce": solution.nonce,
                "powBlock": solution.block_number}
        # wrong task type: refused at submission, nothing enters a block
        error = rpc_error(node, "eth_sendRawTransaction", "0x" + bytes(
            Account.sign_transaction({"to": TO, "value": 0, "gas": 500_000, "gasPrice": 0,
                                      "nonce": 0, "chainId": DEV_CHAIN_ID,
                                      "data": syscalls.encode_call("registerMiner", **{
                                          **args, "modelType": "audio"})},
                                     fresh.key).raw_transaction).hex())
        assert error["data"]["reason"] == "model_type_mismatch"
        mined = receipt(node, send(node, fresh.key.hex(), "registerMiner", args, nonce=0,
                                   gas_price=0))
        assert mined["status"] == "0x1"
        assert int(node.rpc("eth_getBalance", fresh.address, "latest"), 16) == 0
        served = receipt(node, send(node, fresh.key.hex(), "serveEndpoint", {
            "netuid": 1, "host": "127.0.0.1", "port": 5000, "protocol": "http"}, nonce=1,
            gas_price=0))
        assert served["status"] == "0x1"
        # a dev account stakes, registers as validator and scores the miner
        key = DEV[0].private_key
        receipt(node, send(node, key, "addStake", {"netuid": 1, "amount": 500 * 10**18},
                           nonce=0))
        receipt(node, send(node, key, "registerValidator", {"netuid": 1}, nonce=1))
        a, lat, av, c, total = MinerScore(1.0, 1.0, 1.0, 1.0).to_u16()
        weights = receipt(node, send(node, key, "setWeights", {
            "netuid": 1, "uids": [0], "weights": [total], "accuracy": [a], "latency": [lat],
            "availability": [av], "consistency": [c], "versionKey": 1}, nonce=2))
        assert weights["status"] == "0x1", weights
        epoch = node.rpc("mt_getEpochInfo", 1)
        node.wait_for_block(epoch["nextEpochBlock"] + 1, timeout=20)
        graph = node.rpc("mt_getMetagraph", 1)
        assert graph["addresses"] == [fresh.address, DEV[0].address]
        assert graph["roles"] == ["miner", "validator"]
        assert graph["endpoints"][0] == {"host": "127.0.0.1", "port": 5000, "protocol": "http"}
        assert graph["scores"][0] == 10**9 and graph["validatorPermits"] == [False, True]
        # the miner alone earns subnet 1's whole miner pool: 1000 MDT x 0.40
        assert graph["lastRewards"][0] == str(400 * 10**18)
        balance = int(node.rpc("eth_getBalance", fresh.address, "latest"), 16)
        assert balance > 0 and balance % (400 * 10**18) == 0     # one or more epochs paid
        rewards = node.rpc("mt_getRewards", {"address": fresh.address})
        assert rewards["rewards"][0]["reward"] == str(400 * 10**18)
        logs = node.rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest",
                                        "address": TO,
                                        "topics": ["0x" + syscalls.EVENT_TOPICS[
                                                       "EpochRewarded"].hex()]})
        assert len(logs) >= 2
        neuron = node.rpc("mt_getNeuron", 1, fresh.address)
        assert neuron["uid"] == 0 and neuron["model"]["name"] == "smollm2"
        assert rpc_error(node, "mt_getSubnet", 99)["data"]["reason"] == "unknown_subnet"
        assert rpc_error(node, "mt_getNeuron", 1, 7)["data"]["reason"] == "unknown_neuron"
        assert rpc_error(node, "mt_getMetagraph", "x")["data"]["reason"] == "invalid_params"
        # eth_call views through a plain web3.py Contract
        from web3 import Web3

        contract = Web3(Web3.HTTPProvider(node.url)).eth.contract(
            address=syscalls.SYSTEM_ADDRESS, abi=syscalls.SYSTEM_ABI)
        assert contract.functions.getSubnets().call() == [1, 2, 3, 4]
        assert contract.functions.getUid(1, fresh.address).call() == [True, 0]
        assert contract.functions.getStake(1, DEV[0].address).call() == 500 * 10**18
        assert contract.functions.getNeuron(1, 0).call()[0] == fresh.address
        supply = node.rpc("mt_nodeInfo")["supply"]
        assert int(supply["total"]) == (int(supply["genesis"]) + int(supply["minted"])
                                        - int(supply["burned"]))


@pytest.mark.e2e
def test_guide_worked_example_on_a_real_node(tmp_path: Path) -> None:
    # EpochEmission 1000 MDT (25 MDT/block x tempo 40), SubnetWeight 0.15, TotalScores 10.0:
    # nine miners at 1.0, one at 0.15 and ours at 0.85, scored by four equal validators.
    import json

    from chain_support import start_node

    data_dir = tmp_path / "node"
    data_dir.mkdir()
    params = {"tempo": 40, "maxRegistrationsPerBlock": 16, "minDifficulty": 1,
              "minValidatorStake": "1", "weightsRateLimit": 0, "activityCutoff": 200}
    genesis = {"chainId": DEV_CHAIN_ID, "alloc": {a.address: {"balance": str(10**22)}
                                                  for a in DEV[:4]},
               "modules": {"moderntensor": {
                   "network": {"minerEmissionPerBlock": str(25 * 10**18)},
                   "subnets": [
                       {"netuid": 1, "taskType": "text-generation", "weight": 150_000_000,
                        "difficulty": 1, "params": params},
                       {"netuid": 2, "taskType": "audio", "weight": 850_000_000,
                        "difficulty": 1, "params": params}]}}}
    (data_dir / "genesis.json").write_text(json.dumps(genesis))
    node = start_node(data_dir, block_time=0.1, dev=False)
    try:
        node.wait_for_block(2)
        miners = [Account.from_key((i + 1).to_bytes(32, "big")) for i in range(11)]
        challenge = node.rpc("mt_getRegistrationChallenge", 1, miners[0].address)
        hashes = [send(node, m.key.hex(), "registerMiner", {
            "netuid": 1, "modelName": "m", "modelType": "text-generation",
            "modelVersion": "1", "powNonce": 0, "powBlock": challenge["blockNumber"]},
            nonce=0, gas_price=0) for m in miners]
        uids = [int(receipt(node, h)["logs"][0]["data"][2:66], 16) for h in hashes]
        ours, low, full = uids[0], uids[1], uids[2:]
        for i in range(4):
            send(node, DEV[i].private_key, "addStake", {"netuid": 1, "amount": 10**20}, nonce=0)
            receipt(node, send(node, DEV[i].private_key, "registerValidator", {"netuid": 1},
                               nonce=1))
        ours_by_validator = [55705, 55705, 55705, 55704]    # mean 0.85 exactly (ppb)
        low_by_validator = [9831, 9831, 9831, 9828]         # mean 0.15 exactly
        last = None
        for i in range(4):
            values = {ours: ours_by_validator[i], low: low_by_validator[i],
                      **dict.fromkeys(full, 65535)}
            order = sorted(values)
            weights = [values[u] for u in order]
            last = receipt(node, send(node, DEV[i].private_key, "setWeights", {
                "netuid": 1, "uids": order, "weights": weights, "accuracy": weights,
                "latency": weights, "availability": weights, "consistency": weights,
                "versionKey": 1}, nonce=2))
            assert last["status"] == "0x1", last
        assert last is not None
        set_block = int(last["blockNumber"], 16)
        close = (set_block // 40 + 1) * 40                  # the epoch after all weights
        node.wait_for_block(close + 1, timeout=30)
        epoch = close // 40 - 1
        record = node.rpc("mt_getRewards", {"address": miners[0].address, "fromEpoch": epoch,
                                            "toEpoch": epoch})["rewards"]
        assert record == [{"epoch": epoch, "netuid": 1, "block": close,
                           "address": miners[0].address, "role": "miner",
                           "score": 850_000_000, "totalScore": 10_000_000_000,
                           "subnetWeight": 150_000_000, "emission": str(1000 * 10**18),
                           "reward": "12750000000000000000"}]
    finally:
        node.stop()


@pytest.mark.e2e
def test_registrations_over_the_per_block_cap_wait_for_a_later_block(tmp_path: Path) -> None:
    import json

    from chain_support import start_node

    data_dir = tmp_path / "node"
    data_dir.mkdir()
    genesis = {"chainId": DEV_CHAIN_ID, "alloc": {}, "modules": {"moderntensor": {"subnets": [
        {"netuid": 1, "taskType": "text-generation", "weight": 10**9, "difficulty": 1,
         "params": {"maxRegistrationsPerBlock": 2, "minDifficulty": 1}}]}}}
    (data_dir / "genesis.json").write_text(json.dumps(genesis))
    node = start_node(data_dir, block_time=0.3, dev=False)
    try:
        node.wait_for_block(2)
        challenge = node.rpc("mt_getRegistrationChallenge", 1, DEV[0].address)
        miners = [Account.from_key((i + 1).to_bytes(32, "big")) for i in range(6)]
        hashes = [send(node, m.key.hex(), "registerMiner", {
            "netuid": 1, "modelName": "m", "modelType": "text-generation",
            "modelVersion": "1", "powNonce": 0, "powBlock": challenge["blockNumber"]},
            nonce=0, gas_price=0) for m in miners]
        mined = [receipt(node, h, timeout=20) for h in hashes]
        assert all(r["status"] == "0x1" for r in mined)
        blocks = [int(r["blockNumber"], 16) for r in mined]
        assert max(blocks.count(b) for b in blocks) <= 2 and len(set(blocks)) >= 3
    finally:
        node.stop()
