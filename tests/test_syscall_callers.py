"""The table's "who may call" is true: every call limited to some accounts refuses a stranger."""

from __future__ import annotations

from typing import Any

import pytest

from moderntensor.protocol.syscall_table import SYSCALLS
from modules_support import Sim, account
from test_chain_modules_epochs import easy_config, funded
from test_chain_modules_registration import expect

OWNER, STRANGER, MINER = account(0), account(1), account(1000)
# A call each restricted entry would accept from the right account (subnet 5 is OWNER's).
SAMPLES: dict[str, dict[str, Any]] = {
    "setSubnetParams": {"netuid": 5, "params": "{}"},
    "dissolveSubnet": {"netuid": 5},
    "voteSubnetWeights": {"netuids": [1], "weights": [1]},
    "removeStake": {"netuid": 1, "amount": 1},
    "undelegateStake": {"netuid": 1, "validator": "0x" + "ab" * 20, "amount": 1},
    "setTake": {"take": 1},
    "setColdkey": {"coldkey": "0x" + "ab" * 20},
    "swapHotkey": {"oldHotkey": "0x" + "ab" * 20, "newHotkey": "0x" + "cd" * 20},
    "serveEndpoint": {"netuid": 1, "host": "127.0.0.1", "port": 5000, "protocol": "http"},
    "updateModelInfo": {"netuid": 1, "modelName": "m2", "modelType": "text-generation",
                        "modelVersion": "2.0"},
    "deregister": {"netuid": 1},
    "setWeights": {"netuid": 1, "uids": [0], "weights": [0], "accuracy": [], "latency": [],
                   "availability": [], "consistency": [], "versionKey": 0},
    "commitWeights": {"netuid": 1, "commitHash": b"\x11" * 32},
    "revealWeights": {"netuid": 1, "uids": [0], "weights": [0], "accuracy": [], "latency": [],
                      "availability": [], "consistency": [], "versionKey": 0,
                      "salt": b"\x22" * 32},
}
REFUSALS = {"owner": "not_subnet_owner", "staker": "insufficient_unstaked",
            "nominator": "insufficient_delegation", "any_validator": "not_registered",
            "coldkey": "not_coldkey",
            "neuron": "not_registered", "validator": "not_registered", "root": "not_root_voter"}
RESTRICTED = [entry for entry in SYSCALLS if not entry.is_view and entry.caller != "anyone"]


@pytest.fixture(scope="module")
def sim() -> Sim:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    assert sim.call(OWNER, "createSubnet", name="t", taskType="translation", params="",
                    metadata="") == 5
    sim.register_miner(MINER, 1)
    return sim


def test_every_restricted_call_has_a_sample() -> None:
    assert {entry.name for entry in RESTRICTED} == set(SAMPLES)


@pytest.mark.parametrize("entry", RESTRICTED, ids=lambda entry: entry.name)
def test_a_stranger_is_refused(sim: Sim, entry) -> None:
    expect(REFUSALS[entry.caller], sim.call, STRANGER, entry.name, **SAMPLES[entry.name])


def test_a_miner_is_not_a_validator(sim: Sim) -> None:
    expect("no_validator_permit", sim.call, MINER, "setWeights", **SAMPLES["setWeights"])
