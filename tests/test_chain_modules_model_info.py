"""updateModelInfo: a miner changes what it says it serves; nobody else can, and not too often."""

from __future__ import annotations

from typing import Any

from moderntensor.chain.modules.records import get_neuron
from modules_support import Sim, account
from test_chain_modules_epochs import easy_config, funded, validators
from test_chain_modules_registration import expect

MINER, STRANGER = account(1000), account(1001)
NEW = {"netuid": 1, "modelName": "smollm2-ft", "modelType": "text-generation",
       "modelVersion": "2.0"}


def registered(**params: int) -> Sim:
    sim = Sim(config=easy_config(serving_rate_limit=5, **params), funded=funded())
    sim.next_block(2)
    sim.register_miner(MINER, 1)
    sim.next_block(5)    # past the rate limit that registration itself does not start
    return sim


def update(sim: Sim, sender: bytes = MINER, **changes: Any) -> Any:
    return sim.call(sender, "updateModelInfo", **{**NEW, **changes})


def test_a_miner_updates_its_model_and_keeps_its_uid() -> None:
    sim = registered()
    assert sim.fee_free(MINER, "updateModelInfo", **NEW)
    assert update(sim) == 0
    neuron = get_neuron(sim.state, 1, 0)
    assert neuron is not None
    assert (neuron.uid, neuron.model_name, neuron.model_version) == (0, "smollm2-ft", "2.0")
    assert sim.events[-1][1:] == ("ModelInfoUpdated", {
        "netuid": 1, "uid": 0, "account": MINER, "modelName": "smollm2-ft",
        "modelType": "text-generation", "modelVersion": "2.0"})


def test_the_update_shares_the_serving_rate_limit() -> None:
    sim = registered()
    update(sim)
    error = expect("serving_rate_limited", update, sim, modelVersion="2.1")
    assert "share one change per 5 blocks" in error.message
    sim.next_block(5)
    assert update(sim, modelVersion="2.1") == 0


def test_fields_follow_the_registration_rules() -> None:
    sim = registered()
    expect("invalid_model_info", update, sim, modelName="")
    expect("invalid_model_info", update, sim, modelVersion="x" * 500)
    expect("model_type_mismatch", update, sim, modelType="image-generation")


def test_only_the_miner_itself_may_update() -> None:
    sim = registered()
    expect("not_registered", update, sim, sender=STRANGER)
    (validator,) = validators(sim, 1, 1)
    expect("not_a_miner", update, sim, sender=validator)
