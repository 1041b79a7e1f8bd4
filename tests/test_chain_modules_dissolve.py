"""dissolveSubnet: the owner closes a custom subnet; stakes unbond, the deposit comes back."""

from __future__ import annotations

from moderntensor.chain.modules.records import (
    get_network,
    get_stake,
    get_subnet,
    netuids,
    uid_of,
)
from moderntensor.chain.modules.staking import unbonding_of
from modules_support import MDT, Sim, account
from test_chain_modules_epochs import easy_config, funded
from test_chain_modules_registration import expect

OWNER, VALIDATOR, MINER = account(0), account(1), account(1000)


def subnet_with_neurons() -> Sim:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    assert sim.call(OWNER, "createSubnet", name="translation", taskType="translation",
                    params="", metadata="") == 5
    sim.call(VALIDATOR, "addStake", netuid=5, amount=200 * MDT)
    sim.call(VALIDATOR, "registerValidator", netuid=5)
    sim.register_miner(MINER, 5, model_type="translation")
    sim.next_block()
    return sim


def test_the_owner_dissolves_and_gets_the_deposit_back() -> None:
    sim = subnet_with_neurons()
    deposit = get_subnet(sim.state, 5).deposit
    before = sim.balance(OWNER)
    assert sim.call(OWNER, "dissolveSubnet", netuid=5) == deposit
    assert sim.balance(OWNER) - before == deposit
    assert get_subnet(sim.state, 5) is None and 5 not in netuids(sim.state)
    assert sim.events[-1][1] == "SubnetDissolved"
    assert sim.events[-1][2]["unbonding"] == 200 * MDT


def test_every_stake_unbonds_to_its_staker_after_the_unbonding_period() -> None:
    sim = subnet_with_neurons()
    sim.call(OWNER, "dissolveSubnet", netuid=5)
    assert get_stake(sim.state, 5, VALIDATOR) == 0
    [(netuid, amount, release)] = unbonding_of(sim.state, VALIDATOR)
    assert (netuid, amount) == (5, 200 * MDT)
    before = sim.balance(VALIDATOR)
    sim.run_to(release)
    assert sim.balance(VALIDATOR) - before == 200 * MDT
    assert release - sim.block <= get_network(sim.state).unbonding_period


def test_neurons_leave_and_their_keys_are_refused_there() -> None:
    sim = subnet_with_neurons()
    sim.call(OWNER, "dissolveSubnet", netuid=5)
    assert uid_of(sim.state, 5, MINER) is None and uid_of(sim.state, 5, VALIDATOR) is None
    expect("unknown_subnet", sim.call, MINER, "serveEndpoint", netuid=5, host="127.0.0.1",
           port=5000, protocol="http")


def test_only_the_owner_of_a_custom_subnet_may_dissolve_it() -> None:
    sim = subnet_with_neurons()
    expect("not_subnet_owner", sim.call, VALIDATOR, "dissolveSubnet", netuid=5)
    expect("genesis_subnet", sim.call, OWNER, "dissolveSubnet", netuid=1)
    expect("unknown_subnet", sim.call, OWNER, "dissolveSubnet", netuid=9)
    assert get_subnet(sim.state, 5) is not None


def test_a_dissolved_netuid_is_never_given_again_and_its_name_is_free() -> None:
    sim = subnet_with_neurons()
    sim.call(OWNER, "dissolveSubnet", netuid=5)
    again = sim.call(OWNER, "createSubnet", name="translation", taskType="translation",
                     params="", metadata="")
    assert again == 6


def test_supply_is_conserved_through_a_dissolve() -> None:
    sim = subnet_with_neurons()
    total = sim.total_balances()
    sim.call(OWNER, "dissolveSubnet", netuid=5)
    sim.next_block(get_network(sim.state).unbonding_period + 2)
    assert sim.total_balances() == sim.supply()
    assert sim.total_balances() >= total
