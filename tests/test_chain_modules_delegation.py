"""Delegation: nominators stake to a validator, raise its rank and share its reward after take."""

from __future__ import annotations

from eth_utils import to_checksum_address

from moderntensor.chain.modules.delegation import MAX_TAKE, split_validator_reward
from moderntensor.chain.modules.neurons import permits
from moderntensor.chain.modules.records import (
    REWARD,
    RewardRecord,
    get_network,
    get_results,
    get_subnet,
    reward_key,
    uid_of,
)
from moderntensor.chain.state import kv_get
from moderntensor.scoring import PPB
from modules_support import MDT, Sim, account
from test_chain_modules_epochs import easy_config, funded, miners, set_weights, validators
from test_chain_modules_registration import expect

NOMINATOR = account(6)


def subnet_one(max_validators: int = 16) -> tuple[Sim, list[bytes]]:
    sim = Sim(config=easy_config(max_validators=max_validators), funded=funded())
    sim.next_block(2)
    return sim, validators(sim, 1, 2)


def test_a_nominators_stake_raises_the_validators_permit_rank() -> None:
    sim, (first, second) = subnet_one(max_validators=1)
    sim.call(first, "addStake", netuid=1, amount=10 * MDT)   # first leads, 210 to 200
    held = permits(sim.state, get_subnet(sim.state, 1))
    assert list(held) == [uid_of(sim.state, 1, first)]
    sim.call(NOMINATOR, "delegateStake", netuid=1, validator=to_checksum_address(second),
             amount=50 * MDT)
    held = permits(sim.state, get_subnet(sim.state, 1))
    assert held == {uid_of(sim.state, 1, second): 250 * MDT}


def test_only_registered_validators_take_delegations() -> None:
    sim, _ = subnet_one()
    expect("not_a_validator", sim.call, NOMINATOR, "delegateStake", netuid=1,
           validator=to_checksum_address(account(1000)), amount=MDT)
    expect("invalid_amount", sim.call, NOMINATOR, "delegateStake", netuid=1,
           validator=to_checksum_address(account(0)), amount=0)


def test_undelegating_unbonds_and_cannot_take_more_than_delegated() -> None:
    sim, (validator, _) = subnet_one()
    sim.call(NOMINATOR, "delegateStake", netuid=1, validator=to_checksum_address(validator),
             amount=30 * MDT)
    expect("insufficient_delegation", sim.call, NOMINATOR, "undelegateStake", netuid=1,
           validator=to_checksum_address(validator), amount=31 * MDT)
    before = sim.balance(NOMINATOR)
    assert sim.call(NOMINATOR, "undelegateStake", netuid=1,
                    validator=to_checksum_address(validator), amount=30 * MDT) == 0
    sim.next_block(get_network(sim.state).unbonding_period + 1)
    assert sim.balance(NOMINATOR) - before == 30 * MDT


def test_the_take_is_bounded_and_its_raises_rate_limited() -> None:
    sim, (validator, _) = subnet_one()
    expect("invalid_take", sim.call, validator, "setTake", take=MAX_TAKE + 1)
    assert sim.call(validator, "setTake", take=0) == 0
    assert sim.call(validator, "setTake", take=100_000_000) == 100_000_000
    expect("take_rate_limited", sim.call, validator, "setTake", take=120_000_000)
    assert sim.call(validator, "setTake", take=50_000_000) == 50_000_000   # lowering: always
    expect("not_registered", sim.call, NOMINATOR, "setTake", take=0)


def test_the_nominator_is_paid_exactly_its_pro_rata_share_after_take() -> None:
    sim, (validator, other) = subnet_one()
    sim.call(validator, "setTake", take=100_000_000)                      # 10%
    sim.call(NOMINATOR, "delegateStake", netuid=1, validator=to_checksum_address(validator),
             amount=100 * MDT)                                           # own 200, total 300
    uids = miners(sim, 1, 2)
    sim.next_block()
    for v in (validator, other):
        set_weights(sim, v, 1, {uids[0]: 65535, uids[1]: 32768})
    before = sim.balance(NOMINATOR)
    sim.run_to(20)
    results = get_results(sim.state, 1)
    assert results is not None and results.epoch == 0
    # from the chain's records: the validator's reward before the split is what the
    # nominator's record names as its emission
    record = RewardRecord.decode(kv_get(sim.state, REWARD, reward_key(1, 0, NOMINATOR)))
    reward = record.emission
    assert reward > 0 and record.score == 100 * MDT * PPB // (300 * MDT)
    expected = (reward - reward * 100_000_000 // PPB) * 100 // 300
    assert record.reward == expected == sim.balance(NOMINATOR) - before
    kept = RewardRecord.decode(kv_get(sim.state, REWARD, reward_key(1, 0, validator))).reward
    assert kept + record.reward == reward
    assert sim.total_balances() == sim.supply()


def test_a_split_never_mints_or_loses_a_base_unit() -> None:
    for reward in (0, 1, 7, 10**21 + 3):
        for take in (0, 1, MAX_TAKE):
            kept, parts = split_validator_reward(reward, 3, [(b"a", 5), (b"b", 11)], take)
            assert kept + sum(p for _, p in parts) == reward
