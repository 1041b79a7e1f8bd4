"""deregister: a miner leaves; its key is refused, its uid is vacant, weighted by nobody and
taken first by the next registration; its reward history stays."""

from __future__ import annotations

from moderntensor.chain.modules.records import VACANT_ADDRESS, get_neuron, get_subnet, uid_of
from moderntensor.chain.modules.rpc_json import rewards_json
from modules_support import Sim, account
from test_chain_modules_epochs import easy_config, funded, set_weights, validators
from test_chain_modules_registration import expect

LEAVER, STAYER, NEWCOMER, STRANGER = (account(i) for i in (1000, 1001, 1002, 1003))


def history(sim: Sim, address: bytes) -> list:
    subnet = get_subnet(sim.state, 1)
    assert subnet is not None
    return rewards_json(sim.state, [subnet], address, 0, None, 100)["rewards"]


def network() -> tuple[Sim, bytes]:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    (validator,) = validators(sim, 1, 1)
    assert [sim.register_miner(m, 1) for m in (LEAVER, STAYER)] == [1, 2]
    return sim, validator


def test_a_miner_leaves_and_its_key_is_refused_afterwards() -> None:
    sim, _ = network()
    assert sim.fee_free(LEAVER, "deregister", netuid=1)
    assert sim.call(LEAVER, "deregister", netuid=1) == 1
    assert sim.events[-1][1:] == ("MinerDeregistered",
                                  {"netuid": 1, "uid": 1, "account": LEAVER})
    assert uid_of(sim.state, 1, LEAVER) is None
    neuron = get_neuron(sim.state, 1, 1)
    assert neuron is not None and neuron.address == VACANT_ADDRESS and neuron.host == ""
    expect("not_registered", sim.call, LEAVER, "serveEndpoint", netuid=1, host="127.0.0.1",
           port=5000, protocol="http")
    expect("not_registered", sim.call, LEAVER, "deregister", netuid=1)


def test_the_next_registration_takes_the_vacant_uid_first() -> None:
    sim, _ = network()
    sim.call(LEAVER, "deregister", netuid=1)
    assert sim.register_miner(NEWCOMER, 1) == 1
    assert sim.events[-1][2]["replaced"] is True
    assert uid_of(sim.state, 1, NEWCOMER) == 1


def test_nobody_else_can_deregister_a_miner_and_validators_unstake_instead() -> None:
    sim, validator = network()
    expect("not_registered", sim.call, STRANGER, "deregister", netuid=1)
    expect("validators_unstake", sim.call, validator, "deregister", netuid=1)
    assert uid_of(sim.state, 1, LEAVER) == 1


def test_a_vacant_uid_is_paid_nothing_and_the_leavers_history_stays() -> None:
    sim, validator = network()
    sim.next_block()                     # weights count from the block after registration
    set_weights(sim, validator, 1, {1: 40_000, 2: 40_000})
    sim.run_to(21)                       # epoch 0 closes: both miners paid
    paid = history(sim, LEAVER)
    assert paid and int(paid[0]["reward"]) > 0
    sim.call(LEAVER, "deregister", netuid=1)
    sim.next_block()
    set_weights(sim, validator, 1, {1: 40_000, 2: 40_000})   # a stale row still names uid 1
    before = sim.balance(bytes(20))
    sim.run_to(41)
    assert sim.balance(bytes(20)) == before                  # the vacant slot got nothing
    assert history(sim, LEAVER) == paid
    assert sim.supply() == sim.total_balances()
