"""The root vote sets subnet weights; a custom subnet earns once voted in; its owner is paid."""

from __future__ import annotations

from moderntensor.chain.modules.params import GENESIS_WEIGHTS
from moderntensor.chain.modules.records import get_network, get_subnet, netuids
from moderntensor.chain.modules.root import normalise_ppb
from moderntensor.chain.state import SUPPLY_NS, kv_get_int
from moderntensor.scoring import PPB
from modules_support import MDT, Sim, account
from test_chain_modules_epochs import easy_config, funded, miners, set_weights, validators
from test_chain_modules_registration import expect

OWNER = account(7)


def weights(sim: Sim) -> dict[int, int]:
    return {n: get_subnet(sim.state, n).weight for n in netuids(sim.state)}


def network_with_custom_subnet() -> tuple[Sim, list[bytes]]:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    assert sim.call(OWNER, "createSubnet", name="translation", taskType="translation",
                    params='{"tempo": 20, "commitRevealPeriod": 0}', metadata="") == 5
    voters = validators(sim, 1, 3)                  # root voters: stake on subnet 1
    return sim, voters


def test_weights_hold_until_someone_votes() -> None:
    sim, _ = network_with_custom_subnet()
    sim.run_to(3 * get_network(sim.state).root_tempo)
    assert weights(sim) == dict(zip([1, 2, 3, 4, 5], [*GENESIS_WEIGHTS, 0], strict=True))


def test_votes_of_the_stake_majority_give_a_custom_subnet_weight_summing_to_one() -> None:
    sim, voters = network_with_custom_subnet()
    for voter in voters:
        sim.call(voter, "voteSubnetWeights", netuids=[1, 2, 3, 4, 5],
                 weights=[40, 20, 10, 10, 20])
    sim.run_to(get_network(sim.state).root_tempo)
    decided = weights(sim)
    assert sum(decided.values()) == PPB
    # each vote is u16 shares of its own total: exact to ~1/65535
    assert abs(decided[5] - 200_000_000) < PPB // 65535 * 2
    assert abs(decided[1] - 400_000_000) < PPB // 65535 * 2


def test_a_minority_cannot_vote_its_subnet_in() -> None:
    sim, voters = network_with_custom_subnet()
    for voter in voters[:2]:
        sim.call(voter, "voteSubnetWeights", netuids=[1, 2], weights=[1, 1])
    sim.call(voters[2], "voteSubnetWeights", netuids=[5], weights=[1])   # a third of the stake
    sim.run_to(get_network(sim.state).root_tempo)
    assert weights(sim)[5] == 0
    assert weights(sim)[1] == weights(sim)[2] == PPB // 2


def test_only_top_stake_validators_vote() -> None:
    sim, _ = network_with_custom_subnet()
    expect("not_root_voter", sim.call, account(1000), "voteSubnetWeights", netuids=[5],
           weights=[1])
    voter = validators(sim, 1, 1, first=4)[0]
    expect("unknown_subnet", sim.call, voter, "voteSubnetWeights", netuids=[9], weights=[1])
    expect("invalid_weights", sim.call, voter, "voteSubnetWeights", netuids=[1, 1],
           weights=[1, 1])


def test_miners_of_a_voted_in_subnet_are_paid_by_the_formula_and_the_owner_its_share() -> None:
    sim, voters = network_with_custom_subnet()
    for voter in voters:
        sim.call(voter, "voteSubnetWeights", netuids=[1, 5], weights=[3, 1])
    validator = validators(sim, 5, 1, first=5)[0]
    uids = miners(sim, 5, 2, first=3000)
    sim.next_block()
    set_weights(sim, validator, 5, {uids[0]: 65535, uids[1]: 65535})
    owner_before = sim.balance(OWNER)
    miner_before = sim.balance(account(3000))
    # the root update at block 20 comes before subnet 5's close at 23 (created in block 3)
    sim.run_to(23)
    weight = get_subnet(sim.state, 5).weight
    assert abs(weight - PPB // 4) < PPB // 65535
    epoch_emission = get_network(sim.state).miner_emission_per_block * 20
    # EpochEmission x (score / TotalScores) x SubnetWeight, two equal miners
    assert sim.balance(account(3000)) - miner_before == epoch_emission * weight // PPB // 2
    owner_share = get_network(sim.state).owner_share
    assert sim.balance(OWNER) - owner_before == epoch_emission * weight // PPB * owner_share // PPB
    assert sim.total_balances() == sim.supply()
    assert kv_get_int(sim.state, SUPPLY_NS, b"minted") > 0


def test_normalising_gives_exactly_one_and_the_remainder_to_the_largest_fractions() -> None:
    assert normalise_ppb({1: 1, 2: 1, 3: 1}) == {1: 333_333_334, 2: 333_333_333, 3: 333_333_333}
    assert normalise_ppb({1: 0, 2: 0}) is None
    assert sum(normalise_ppb({n: n * 7919 for n in range(1, 40)}).values()) == PPB


def test_stake_counts_across_subnets_for_the_root_vote() -> None:
    sim, _ = network_with_custom_subnet()
    big = validators(sim, 2, 1, stake=150 * MDT, first=6)[0]
    sim.call(big, "addStake", netuid=3, amount=150 * MDT)
    sim.call(big, "registerValidator", netuid=3)
    sim.call(big, "voteSubnetWeights", netuids=[5], weights=[1])   # 300 MDT of 900
    sim.run_to(get_network(sim.state).root_tempo)
    assert weights(sim)[5] == PPB   # the only vote: its subnet takes the whole emission
