"""The mt_ read models (docs/rpc.md shapes) and determinism of module state."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from moderntensor.chain.errors import RpcError
from moderntensor.chain.modules.rpc_methods import make_methods
from moderntensor.chain.state import state_root
from modules_support import MDT, Sim, account
from test_chain_modules_epochs import easy_config, funded, miners, set_weights, validators

SYSTEM = bytes.fromhex("0000000000000000000000000000000000000800")
METHODS = make_methods(SYSTEM)


def scenario(sim: Sim) -> None:
    sim.next_block(2)
    vals = validators(sim, 1, 2)
    uids = miners(sim, 1, 3)
    sim.call(account(1000), "serveEndpoint", netuid=1, host="10.0.0.1", port=5000,
             protocol="http")
    sim.next_block()
    set_weights(sim, vals[0], 1, {uids[0]: 65535, uids[1]: 32768})
    set_weights(sim, vals[1], 1, {uids[0]: 65535, uids[1]: 16384, uids[2]: 100})
    sim.call(vals[1], "removeStake", netuid=1, amount=50 * MDT)
    sim.run_to(21)


def rpc(sim: Sim, method: str, *params: object) -> object:
    node = SimpleNamespace(state=sim.state, spec=SimpleNamespace(chain_id=1337),
                           head=SimpleNamespace(number=sim.block, hash=b"\x11" * 32))
    result = METHODS[method](node, list(params))
    json.dumps(result)                       # every result is plain JSON
    return result


def test_same_blocks_give_the_same_state_root() -> None:
    first, second = Sim(config=easy_config(), funded=funded()), Sim(config=easy_config(),
                                                                    funded=funded())
    scenario(first)
    scenario(second)
    assert state_root(first.state) == state_root(second.state)


def test_metagraph_is_columnar_and_matches_the_neurons() -> None:
    sim = Sim(config=easy_config(), funded=funded())
    scenario(sim)
    graph = rpc(sim, "mt_getMetagraph", 1)
    assert isinstance(graph, dict)
    n = graph["n"]
    assert n == 5
    for key in ("uids", "addresses", "roles", "stakes", "validatorPermits", "active", "scores",
                "consensus", "accuracy", "latency", "availability", "consistency",
                "endpoints", "models", "registeredBlocks", "lastUpdates", "lastRewards"):
        assert len(graph[key]) == n, key
    assert graph["roles"] == ["validator", "validator", "miner", "miner", "miner"]
    assert graph["stakes"][:2] == [str(200 * MDT), str(150 * MDT)]
    assert graph["endpoints"][2] == {"host": "10.0.0.1", "port": 5000, "protocol": "http"}
    assert graph["scores"][2] == 10**9 and graph["consensus"][2] == 65535
    assert graph["active"][:2] == [True, True]
    for uid in range(n):
        neuron = rpc(sim, "mt_getNeuron", 1, uid)
        assert neuron["address"] == graph["addresses"][uid]          # type: ignore[index]
        assert neuron["score"] == graph["scores"][uid]               # type: ignore[index]
        assert neuron["lastReward"] == graph["lastRewards"][uid]     # type: ignore[index]
    by_address = rpc(sim, "mt_getNeuron", 1, graph["addresses"][1])
    assert by_address["unbonding"] == [{"amount": str(50 * MDT),     # type: ignore[index]
                                        "releaseBlock": by_address["unbonding"][0]  # type: ignore[index]
                                        ["releaseBlock"]}]


def test_rewards_epoch_info_and_weights() -> None:
    sim = Sim(config=easy_config(), funded=funded())
    scenario(sim)
    rewards = rpc(sim, "mt_getRewards", {"netuid": 1})
    records = rewards["rewards"]                                     # type: ignore[index]
    assert {r["role"] for r in records} == {"miner", "validator"}
    assert int(rewards["total"]) == sum(int(r["reward"]) for r in records)  # type: ignore[index]
    mine = rpc(sim, "mt_getRewards", {"address": "0x" + account(1000).hex(), "limit": 1})
    assert len(mine["rewards"]) == 1 and mine["rewards"][0]["epoch"] == 0  # type: ignore[index]
    info = rpc(sim, "mt_getEpochInfo", 1)
    assert info["epoch"] == 1 and info["nextEpochBlock"] == 40        # type: ignore[index]
    assert info["lastEpoch"]["activeValidators"] == 2                 # type: ignore[index]
    last = info["lastEpoch"]                                          # type: ignore[index]
    assert (int(last["minerPaid"]) + int(last["validatorPaid"]) + int(last["dust"])
            == int(last["minerEmission"]) + int(last["validatorEmission"]))
    weights = rpc(sim, "mt_getWeights", 1, None, 3)
    rows = weights["rows"]                                            # type: ignore[index]
    assert [r["weights"] for r in rows] == [[32768], [16384]]
    subnets = rpc(sim, "mt_getSubnets")
    assert [s["netuid"] for s in subnets] == [1, 2, 3, 4]             # type: ignore[union-attr]
    info = rpc(sim, "mt_nodeInfo")
    supply = info["supply"]                                           # type: ignore[index]
    assert int(supply["total"]) == sim.total_balances()


@pytest.mark.parametrize(("method", "params", "reason"), [
    ("mt_getSubnet", [], "invalid_params"),
    ("mt_getSubnet", [70000], "invalid_params"),
    ("mt_getSubnet", [9], "unknown_subnet"),
    ("mt_getNeuron", [1, 99], "unknown_neuron"),
    ("mt_getNeuron", [1, "0x" + "ab" * 20], "unknown_neuron"),
    ("mt_getRewards", [{"bogus": 1}], "invalid_params"),
    ("mt_getRewards", [{"address": "nope"}], "invalid_params"),
    ("mt_getRewards", [{"limit": 5000}], "invalid_params"),
    ("mt_getRegistrationChallenge", [1, "0x12"], "invalid_params"),
    ("mt_getWeights", [1, 99], "unknown_neuron"),
])
def test_bad_params_answer_stable_reasons(method: str, params: list, reason: str) -> None:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    with pytest.raises(RpcError) as info:
        rpc(sim, method, *params)
    assert info.value.to_rpc()["data"]["reason"] == reason
