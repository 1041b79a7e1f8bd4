"""Miner registration on chain: 0 MDT with proof of work, its checks, caps, replacement."""

from __future__ import annotations

from dataclasses import replace

import pytest

from moderntensor.chain.errors import ExecutionError
from moderntensor.chain.modules.params import dev_config
from moderntensor.chain.modules.records import get_subnet, uid_of
from moderntensor.chain.state import state_root
from moderntensor.protocol.pow import verify_pow
from modules_support import CHAIN_ID, MDT, Sim, account
from test_chain_modules_epochs import easy_config, funded, set_weights, validators


def pow_config(**params: int):
    """Real (small) proof of work: difficulty 1024, so a bad nonce really fails."""
    base = dev_config()
    return replace(base, subnets=tuple(
        replace(s, difficulty=1024, params=replace(s.params, **params)) for s in base.subnets))


def expect(code: str, fn, *args, **kwargs) -> ExecutionError:
    with pytest.raises(ExecutionError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value.message
    return info.value


def test_a_zero_mdt_address_registers_with_proof_of_work_and_the_call_is_free() -> None:
    sim = Sim(config=pow_config())
    sim.next_block(2)
    miner = account(1000)
    assert sim.balance(miner) == 0
    nonce, pow_block = sim.pow(miner, 1)
    args = {"netuid": 1, "modelName": "smollm2", "modelType": "text-generation",
            "modelVersion": "1.0.0", "powNonce": nonce, "powBlock": pow_block}
    assert sim.fee_free(miner, "registerMiner", **args) is True
    assert sim.call(miner, "registerMiner", **args) == 0
    assert uid_of(sim.state, 1, miner) == 0
    assert sim.balance(miner) == 0
    assert sim.events[-1][1:] == ("MinerRegistered", {"netuid": 1, "uid": 0, "account": miner,
                                                      "replaced": False})


def test_bad_input_is_rejected_with_a_stable_code_and_never_changes_state() -> None:
    sim = Sim(config=pow_config())
    sim.next_block(2)
    miner = account(1000)
    nonce, pow_block = sim.pow(miner, 1)
    good = {"netuid": 1, "modelName": "m", "modelType": "text-generation",
            "modelVersion": "1", "powNonce": nonce, "powBlock": pow_block}
    bad_nonce = next(n for n in range(10**6) if not verify_pow(
        chain_id=CHAIN_ID, netuid=1, address=miner,
        block_hash=__import__("modules_support").keccak(pow_block.to_bytes(8, "big")),
        nonce=n, difficulty=1024))
    root = state_root(sim.state)
    cases = [
        ("model_type_mismatch", {**good, "modelType": "image-generation"}),
        ("pow_invalid", {**good, "powNonce": bad_nonce}),
        ("pow_invalid", {**good, "netuid": 2, "modelType": "image-generation"}),  # other subnet
        ("pow_stale", {**good, "powBlock": sim.block + 5}),
        ("unknown_subnet", {**good, "netuid": 99}),
        ("invalid_model_info", {**good, "modelName": ""}),
    ]
    for code, args in cases:
        expect(code, sim.fee_free, miner, "registerMiner", **args)
        expect(code, sim.call, miner, "registerMiner", **args)
    expect("pow_invalid", sim.call, account(1001), "registerMiner", **good)  # bound to address
    assert state_root(sim.state) == root


def test_a_used_proof_cannot_be_replayed() -> None:
    sim = Sim(config=pow_config())
    sim.next_block(2)
    miner = account(1000)
    nonce, pow_block = sim.pow(miner, 1)
    args = {"netuid": 1, "modelName": "m", "modelType": "text-generation",
            "modelVersion": "1", "powNonce": nonce, "powBlock": pow_block}
    sim.call(miner, "registerMiner", **args)
    expect("pow_reused", sim.fee_free, miner, "registerMiner", **args)
    expect("pow_reused", sim.call, miner, "registerMiner", **args)


def test_registrations_per_block_are_capped() -> None:
    sim = Sim(config=easy_config(max_registrations_per_block=2))
    sim.next_block(2)
    sim.register_miner(account(1000), 1)
    sim.register_miner(account(1001), 1)
    expect("too_many_registrations", sim.register_miner, account(1002), 1)
    sim.next_block()
    assert sim.register_miner(account(1002), 1) == 2


def test_a_full_subnet_replaces_the_lowest_scoring_miner_outside_immunity() -> None:
    sim = Sim(config=easy_config(max_miners=2, immunity_period=10), funded=funded())
    sim.next_block(2)
    (validator,) = validators(sim, 1, 1)
    strong = sim.register_miner(account(1000), 1)
    weak = sim.register_miner(account(1001), 1)
    error = expect("subnet_full", sim.register_miner, account(1002), 1)
    assert error.data == {"retryAfterBlock": 3 + 10 + 1}
    sim.next_block()
    set_weights(sim, validator, 1, {strong: 60000, weak: 100})
    sim.run_to(20)                                   # epoch 0 scores them; immunity is over
    uid = sim.register_miner(account(1002), 1)
    assert uid == weak
    assert uid_of(sim.state, 1, account(1001)) is None
    assert uid_of(sim.state, 1, account(1002)) == weak
    assert sim.events[-1][2]["replaced"] is True
    subnet = get_subnet(sim.state, 1)
    assert subnet is not None and subnet.miners == 2 and subnet.n == 3


def test_difficulty_moves_toward_the_registration_target() -> None:
    sim = Sim(config=easy_config(adjustment_interval=10, target_registrations_per_interval=1,
                                 min_difficulty=1, max_difficulty=2**20))
    subnet = get_subnet(sim.state, 1)
    assert subnet is not None and subnet.difficulty == 1
    sim.next_block(2)
    for i in range(3):
        sim.register_miner(account(1000 + i), 1)
    sim.run_to(10)
    raised = get_subnet(sim.state, 1).difficulty  # type: ignore[union-attr]
    assert raised == 2                               # 1 x (3 + 1) / (2 x 1)
    sim.run_to(20)
    assert get_subnet(sim.state, 1).difficulty == 1  # type: ignore[union-attr]


def test_dev_proof_of_work_difficulty_is_quick() -> None:
    subnet = dev_config().subnets[0]
    assert subnet.difficulty <= 2**15 and subnet.params.max_difficulty <= 2**17


def test_deposit_creates_a_custom_subnet_from_netuid_5() -> None:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    owner = account(0)
    before = sim.balance(owner)
    netuid = sim.call(owner, "createSubnet", name="translation", taskType="translation",
                      params='{"tempo": 10, "maxMiners": 8}', metadata='{"suite": "x.y:Z"}')
    assert netuid == 5
    subnet = get_subnet(sim.state, 5)
    assert subnet is not None and subnet.params.tempo == 10 and subnet.weight == 0
    assert before - sim.balance(owner) == 100 * MDT == subnet.deposit
    expect("subnet_name_taken", sim.call, owner, "createSubnet", name="translation",
           taskType="translation", params="", metadata="")
    expect("invalid_subnet_params", sim.call, owner, "createSubnet", name="t2",
           taskType="translation", params='{"tempo": 0}', metadata="")
    expect("insufficient_funds", sim.call, account(500), "createSubnet", name="t3",
           taskType="translation", params="", metadata="")
    assert sim.call(owner, "setSubnetParams", netuid=5, params='{"tempo": 30}') == 5
    expect("not_subnet_owner", sim.call, account(1), "setSubnetParams", netuid=5, params="{}")
    expect("not_subnet_owner", sim.call, owner, "setSubnetParams", netuid=1, params="{}")
    assert sim.register_miner(account(1000), 5, model_type="translation") == 0
