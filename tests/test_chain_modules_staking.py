"""Validators on chain: stake, permits, unbonding, weights rules, endpoints."""

from __future__ import annotations

import pytest

from moderntensor.chain.modules.neurons import permits
from moderntensor.chain.modules.records import get_stake, get_subnet, uid_of
from moderntensor.chain.state import state_root
from modules_support import MDT, Sim, account
from test_chain_modules_epochs import easy_config, funded, set_weights, validators
from test_chain_modules_registration import expect


def test_validator_registration_needs_min_stake() -> None:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    expect("insufficient_stake", sim.call, account(0), "registerValidator", netuid=1)
    sim.call(account(0), "addStake", netuid=1, amount=99 * MDT)
    expect("insufficient_stake", sim.call, account(0), "registerValidator", netuid=1)
    assert sim.call(account(0), "registerValidator", netuid=1, value=1 * MDT) == 0
    assert get_stake(sim.state, 1, account(0)) == 100 * MDT
    expect("already_registered", sim.call, account(0), "registerValidator", netuid=1)


def test_permit_is_lost_when_outstaked() -> None:
    sim = Sim(config=easy_config(max_validators=1), funded=funded())
    sim.next_block(2)
    first, second = validators(sim, 1, 2, stake=200 * MDT)
    miner = sim.register_miner(account(1000), 1)
    subnet = get_subnet(sim.state, 1)
    assert subnet is not None
    assert permits(sim.state, subnet) == {0: 200 * MDT}          # tie: lower uid first
    sim.call(second, "addStake", netuid=1, amount=1 * MDT)
    assert permits(sim.state, subnet) == {1: 201 * MDT}
    expect("no_validator_permit", set_weights, sim, first, 1, {miner: 100})
    set_weights(sim, second, 1, {miner: 100})


def test_only_permitted_validators_set_weights() -> None:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    miner = sim.register_miner(account(1000), 1)
    expect("no_validator_permit", set_weights, sim, account(1000), 1, {miner: 1})
    expect("not_registered", set_weights, sim, account(3), 1, {miner: 1})


def test_weights_are_rate_limited_per_validator() -> None:
    sim = Sim(config=easy_config(weights_rate_limit=5), funded=funded())
    sim.next_block(2)
    (validator,) = validators(sim, 1, 1)
    miner = sim.register_miner(account(1000), 1)
    set_weights(sim, validator, 1, {miner: 1})
    set_at = sim.block + 1
    sim.next_block()
    error = expect("weights_rate_limited", set_weights, sim, validator, 1, {miner: 2})
    assert error.data == {"nextAllowedBlock": set_at + 5}
    sim.run_to(set_at + 4)
    set_weights(sim, validator, 1, {miner: 2})


def test_weights_are_checked_and_must_match_their_components() -> None:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    (validator,) = validators(sim, 1, 1)
    miner = sim.register_miner(account(1000), 1)
    root = state_root(sim.state)

    def send(**overrides):
        args = {"netuid": 1, "uids": [miner], "weights": [58982], "accuracy": [65535],
                "latency": [52428], "availability": [65535], "consistency": [45874],
                "versionKey": 0, **overrides}
        return sim.call(validator, "setWeights", **args)

    expect("weights_mismatch", send, weights=[58000])
    expect("invalid_weights", send, uids=[miner, miner], weights=[1, 1])
    expect("invalid_weights", send, uids=[0])                    # a validator's uid
    expect("invalid_weights", send, uids=[77])
    expect("invalid_weights", send, weights=[70000])
    expect("invalid_weights", send, accuracy=[])
    assert state_root(sim.state) == root
    from moderntensor.scoring import MinerScore
    a, lat, av, c, total = MinerScore(1.0, 0.8, 1.0, 0.7).to_u16()
    send(weights=[total], accuracy=[a], latency=[lat], availability=[av], consistency=[c])


def test_removed_stake_unbonds_after_the_unbonding_period() -> None:
    sim = Sim(config=easy_config(), funded=funded())       # dev unbonding period: 20 blocks
    sim.next_block(2)
    (validator,) = validators(sim, 1, 1, stake=300 * MDT)
    before = sim.balance(validator)
    expect("insufficient_unstaked", sim.call, validator, "removeStake", netuid=1,
           amount=301 * MDT)
    sim.call(validator, "removeStake", netuid=1, amount=100 * MDT)
    removed_at = sim.block + 1
    assert get_stake(sim.state, 1, validator) == 200 * MDT
    sim.run_to(removed_at + 19)
    assert sim.balance(validator) == before
    sim.next_block()
    assert sim.balance(validator) == before + 100 * MDT
    assert ("StakeReleased", {"netuid": 1, "account": validator, "amount": 100 * MDT}) in [
        e[1:] for e in sim.events]
    assert sim.total_balances() == sim.supply()


@pytest.mark.parametrize(("host", "port", "protocol"), [
    ("", 5000, "http"), ("bad host", 5000, "http"), ("1.2.3.4", 0, "http"),
    ("1.2.3.4", 70000, "http"), ("1.2.3.4", 80, "ftp"), ("0.0.0.0", 80, "http"),
    ("a" * 254, 80, "http"), ("-x.example", 80, "http"),
])
def test_endpoints_are_validated(host: str, port: int, protocol: str) -> None:
    sim = Sim(config=easy_config())
    sim.next_block(2)
    sim.register_miner(account(1000), 1)
    expect("invalid_endpoint", sim.fee_free, account(1000), "serveEndpoint", netuid=1,
           host=host, port=port, protocol=protocol)


def test_serving_is_free_for_neurons_and_rate_limited() -> None:
    sim = Sim(config=easy_config(serving_rate_limit=3))
    sim.next_block(2)
    miner = account(1000)
    expect("not_registered", sim.fee_free, miner, "serveEndpoint", netuid=1, host="127.0.0.1",
           port=5000, protocol="http")
    sim.register_miner(miner, 1)
    args = {"netuid": 1, "host": "miner.example.org", "port": 5000, "protocol": "https"}
    assert sim.fee_free(miner, "serveEndpoint", **args) is True
    sim.call(miner, "serveEndpoint", **args)
    expect("serving_rate_limited", sim.fee_free, miner, "serveEndpoint", **args)
    sim.next_block(3)
    sim.call(miner, "serveEndpoint", **{**args, "host": "::1"})
    assert uid_of(sim.state, 1, miner) == 0
