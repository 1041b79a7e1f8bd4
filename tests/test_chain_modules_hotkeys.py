"""Cold and hot keys: the hot key serves, the cold key owns; a stolen hot key is not a loss."""

from __future__ import annotations

from eth_utils import to_checksum_address

from moderntensor.chain.modules.neurons import permits
from moderntensor.chain.modules.records import (
    REWARD,
    RewardRecord,
    get_neuron,
    get_subnet,
    reward_key,
    uid_of,
    validator_stake,
)
from moderntensor.chain.state import kv_get
from modules_support import MDT, Sim, account
from test_chain_modules_epochs import easy_config, funded, miners, set_weights
from test_chain_modules_registration import expect

COLD, HOT, NEW_HOT = account(5), account(4000), account(4001)


def hot_validator() -> Sim:
    """A 0-MDT hot key registered as a validator on subnet 1 with its cold key's stake."""
    sim = Sim(config=easy_config(), funded=funded(8))
    sim.next_block(2)
    sim.register_miner(HOT, 1)                    # any registration gives it a uid somewhere
    sim.call(HOT, "setColdkey", coldkey=to_checksum_address(COLD))
    sim.call(COLD, "delegateStake", netuid=2, validator=to_checksum_address(HOT),
             amount=300 * MDT)
    sim.call(HOT, "registerValidator", netuid=2)
    return sim


def test_a_cold_keys_stake_makes_its_hot_key_a_permitted_validator() -> None:
    sim = hot_validator()
    assert validator_stake(sim.state, 2, HOT) == 300 * MDT
    assert uid_of(sim.state, 2, HOT) in permits(sim.state, get_subnet(sim.state, 2))


def test_the_binding_needs_the_hot_keys_consent_and_is_final() -> None:
    sim = hot_validator()
    expect("coldkey_already_set", sim.call, HOT, "setColdkey",
           coldkey=to_checksum_address(account(6)))
    stranger = account(4002)
    expect("not_registered", sim.call, stranger, "setColdkey",
           coldkey=to_checksum_address(COLD))


def test_hot_key_compromise_drill() -> None:
    sim = hot_validator()
    cold_before = sim.balance(COLD)
    # the thief holds the hot key: it owns no stake and cannot take the cold key's
    expect("insufficient_unstaked", sim.call, HOT, "removeStake", netuid=2, amount=1)
    expect("insufficient_delegation", sim.call, HOT, "undelegateStake", netuid=2,
           validator=to_checksum_address(HOT), amount=1)
    expect("not_coldkey", sim.call, HOT, "swapHotkey", oldHotkey=to_checksum_address(HOT),
           newHotkey=to_checksum_address(account(4003)))
    assert sim.balance(COLD) == cold_before
    # the owner swaps the hot key out: uid, stake and history stay, the old key is refused
    uid = uid_of(sim.state, 2, HOT)
    assert sim.call(COLD, "swapHotkey", oldHotkey=to_checksum_address(HOT),
                    newHotkey=to_checksum_address(NEW_HOT)) == 2
    assert uid_of(sim.state, 2, NEW_HOT) == uid and uid_of(sim.state, 2, HOT) is None
    assert get_neuron(sim.state, 2, uid).address == to_checksum_address(NEW_HOT)
    assert validator_stake(sim.state, 2, NEW_HOT) == 300 * MDT
    expect("not_registered", sim.call, HOT, "serveEndpoint", netuid=1, host="127.0.0.1",
           port=5000, protocol="http")
    expect("hotkey_in_use", sim.call, COLD, "swapHotkey",
           oldHotkey=to_checksum_address(NEW_HOT), newHotkey=to_checksum_address(NEW_HOT))


def test_rewards_of_a_hot_key_are_paid_to_its_cold_key() -> None:
    sim = hot_validator()
    uids = miners(sim, 2, 2)
    sim.next_block()
    set_weights(sim, HOT, 2, {uids[0]: 65535, uids[1]: 30000})
    cold_before, hot_before = sim.balance(COLD), sim.balance(HOT)
    sim.run_to(20)
    record = RewardRecord.decode(kv_get(sim.state, REWARD, reward_key(2, 0, HOT)))
    assert record.reward > 0                                   # history: under the hot key
    assert sim.balance(COLD) - cold_before == record.reward    # money: to the cold key
    assert sim.balance(HOT) == hot_before
    assert sim.total_balances() == sim.supply()
