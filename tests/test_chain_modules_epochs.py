"""Epochs on chain: the guide's worked example, clipping, min_score, exact supply accounting."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderntensor.chain.modules.params import ModuleConfig, dev_config
from moderntensor.chain.modules.records import META, get_results, get_subnet
from moderntensor.chain.state import SUPPLY_NS, burn, kv_get_int
from moderntensor.scoring import PPB
from modules_support import MDT, Sim, account


def easy_config(**params: int) -> ModuleConfig:
    """Dev config with proof of work of difficulty 1 (tests of other things stay fast)."""
    base = dev_config()
    params = {"min_difficulty": 1, **params}
    subnets = tuple(replace(s, difficulty=1, params=replace(s.params, **params))
                    for s in base.subnets)
    return replace(base, subnets=subnets)


def validators(sim: Sim, netuid: int, count: int, stake: int = 200 * MDT,
               first: int = 0) -> list[bytes]:
    out = []
    for i in range(first, first + count):
        sim.call(account(i), "addStake", netuid=netuid, amount=stake)
        sim.call(account(i), "registerValidator", netuid=netuid)
        out.append(account(i))
    return out


def miners(sim: Sim, netuid: int, count: int, first: int = 1000) -> list[int]:
    uids = []
    for i in range(first, first + count):
        uids.append(sim.register_miner(account(i), netuid))
    return uids


def set_weights(sim: Sim, validator: bytes, netuid: int, weights: dict[int, int]) -> None:
    uids = sorted(weights)
    values = [weights[u] for u in uids]
    sim.call(validator, "setWeights", netuid=netuid, uids=uids, weights=values,
             accuracy=values, latency=values, availability=values, consistency=values,
             versionKey=1)


def funded(count: int = 8) -> dict[bytes, int]:
    return {account(i): 10_000 * MDT for i in range(count)}


def test_guide_worked_example_pays_exactly_12_75_mdt() -> None:
    # EpochEmission 1000 MDT (dev: 50 MDT/block x tempo 20), SubnetWeight 0.15 (subnet 4),
    # TotalScores 10.0: nine miners at 1.0, one at 0.15 and ours at 0.85 -- all via weights.
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    subnet = get_subnet(sim.state, 4)
    assert subnet is not None and subnet.weight == 150_000_000
    vals = validators(sim, 4, 4)
    uids = miners(sim, 4, 8)
    sim.next_block()
    uids += miners(sim, 4, 3, first=2000)
    ours, low, full = uids[0], uids[1], uids[2:]
    sim.next_block()
    # four equal stakes: consensus is the 3rd-highest value; these columns are not clipped
    ours_by_validator = [55705, 55705, 55705, 55704]    # mean = 0.85 exactly in ppb
    low_by_validator = [9831, 9831, 9831, 9828]         # mean = 0.15 exactly
    for i, validator in enumerate(vals):
        set_weights(sim, validator, 4, {ours: ours_by_validator[i], low: low_by_validator[i],
                                        **dict.fromkeys(full, 65535)})
    before = sim.balance(account(1000))
    sim.run_to(20)
    results = get_results(sim.state, 4)
    assert results is not None and results.epoch == 0
    assert results.total_score == 10 * PPB
    assert sim.balance(account(1000)) - before == 12_750_000_000_000_000_000  # 12.75 MDT
    record = [e for _, name, e in sim.events if name == "EpochRewarded"
              and e["account"] == account(1000)]
    assert record == [{"epoch": 0, "netuid": 4, "account": account(1000), "role": 0,
                       "score": 850_000_000, "totalScore": 10 * PPB,
                       "subnetWeight": 150_000_000, "emission": 1000 * MDT,
                       "reward": 12_750_000_000_000_000_000}]


def test_one_validator_alone_cannot_inflate_a_miner() -> None:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    honest_a, honest_b, rogue = validators(sim, 1, 3)
    friend, other = miners(sim, 1, 2)
    sim.next_block()
    set_weights(sim, honest_a, 1, {friend: 6553, other: 32768})
    set_weights(sim, honest_b, 1, {friend: 6553, other: 32768})
    set_weights(sim, rogue, 1, {friend: 65535, other: 0})
    sim.run_to(20)
    results = get_results(sim.state, 1)
    assert results is not None
    scores = [int.from_bytes(results.scores[i * 8:i * 8 + 8], "big") for i in range(5)]
    # the rogue's 1.0 is clipped to the consensus 6553: the friend gets the honest 0.1
    assert scores[friend] == 6553 * PPB // 65535
    assert int.from_bytes(results.consensus[friend * 2:friend * 2 + 2], "big") == 6553


def test_min_score_cut_pays_nothing_below_the_threshold() -> None:
    sim = Sim(config=easy_config(min_score=500_000_000), funded=funded())
    sim.next_block(2)
    (validator,) = validators(sim, 1, 1)
    weak, strong = miners(sim, 1, 2)
    sim.next_block()
    set_weights(sim, validator, 1, {weak: 26214, strong: 52428})   # 0.4 and 0.8
    sim.run_to(20)
    assert sim.balance(account(1000)) == 0
    assert sim.balance(account(1001)) == 400 * MDT                 # all of 1000 x 0.4
    results = get_results(sim.state, 1)
    assert results is not None and results.total_score == 800_000_000


def test_no_weights_means_no_minting_and_the_pool_is_counted_as_dust() -> None:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    miners(sim, 1, 2)
    minted_before = kv_get_int(sim.state, SUPPLY_NS, b"minted")
    sim.run_to(20)
    assert kv_get_int(sim.state, SUPPLY_NS, b"minted") == minted_before
    # subnet 1's miner pool (400 MDT) and validator pool (80 MDT) are unpaid dust, never minted
    assert kv_get_int(sim.state, META, b"dust") >= 480 * MDT


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stakes=st.lists(st.integers(1, 10**24), min_size=1, max_size=4),
       weights=st.lists(st.lists(st.integers(0, 65535), min_size=5, max_size=5),
                        min_size=4, max_size=4),
       unstake=st.integers(0, 3), fee=st.integers(0, 10**18))
def test_supply_after_any_epoch_is_before_plus_emission_minus_burns(
        stakes: list[int], weights: list[list[int]], unstake: int, fee: int) -> None:
    config = easy_config(min_validator_stake=1)
    sim = Sim(config=config, funded={account(i): 10**25 for i in range(4)})
    sim.next_block(2)
    for i, stake in enumerate(stakes):
        sim.call(account(i), "addStake", netuid=1, amount=stake)
        sim.call(account(i), "registerValidator", netuid=1)
    uids = miners(sim, 1, 5)
    sim.next_block()
    for i in range(len(stakes)):
        set_weights(sim, account(i), 1, dict(zip(uids, weights[i], strict=True)))
    if unstake < len(stakes):
        sim.call(account(unstake), "removeStake", netuid=1, amount=stakes[unstake])
    state = sim.state
    minted = kv_get_int(state, SUPPLY_NS, b"minted")
    burned = kv_get_int(state, SUPPLY_NS, b"burned")
    dust = kv_get_int(state, META, b"dust")
    total = sim.total_balances()
    burn(state, account(0), fee)                    # a base fee burned in the epoch's last block
    sim.run_to(20)
    pools = sum(int(x.miner_emission) + int(x.validator_emission)
                for n in (1, 2, 3, 4) if (x := get_results(state, n)) is not None)
    minted_now = kv_get_int(state, SUPPLY_NS, b"minted") - minted
    burned_now = kv_get_int(state, SUPPLY_NS, b"burned") - burned
    assert burned_now == fee
    assert sim.total_balances() == total + minted_now - burned_now   # nothing else created/lost
    assert sim.total_balances() == sim.supply()                 # genesis + minted - burned
    assert minted_now + kv_get_int(state, META, b"dust") - dust == pools   # dust never minted


@pytest.mark.parametrize("netuid", [1, 2, 3, 4])
def test_genesis_subnets_have_their_task_types_and_weights_sum_to_one(netuid: int) -> None:
    sim = Sim(config=dev_config())
    subnet = get_subnet(sim.state, netuid)
    assert subnet is not None
    assert subnet.task_type == ("text-generation", "image-generation", "code-generation",
                                "audio")[netuid - 1]
    assert sum(get_subnet(sim.state, n).weight for n in (1, 2, 3, 4)) == PPB  # type: ignore[union-attr]
