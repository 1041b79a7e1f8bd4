"""Property: total supply = genesis + minted - burned, whatever mix of the stake and subnet
calls runs (delegation, take, root votes, dissolve, deregister, epochs), block after block."""

from __future__ import annotations

from eth_utils import to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderntensor.chain.errors import ExecutionError
from moderntensor.chain.modules.records import netuids
from modules_support import MDT, Sim, account
from test_chain_modules_epochs import easy_config, funded, miners, set_weights, validators

OWNER = account(7)
ACTIONS = st.lists(st.tuples(st.sampled_from(
    ["delegate", "undelegate", "take", "vote", "weights", "blocks", "dissolve", "deregister",
     "unstake"]), st.integers(0, 3), st.integers(1, 60)), min_size=1, max_size=25)


def world() -> tuple[Sim, list[bytes], list[int]]:
    sim = Sim(config=easy_config(), funded=funded(12))
    sim.next_block(2)
    sim.call(OWNER, "createSubnet", name="translation", taskType="translation",
             params='{"tempo": 10, "commitRevealPeriod": 0}', metadata="")
    vals = validators(sim, 1, 2) + validators(sim, 5, 2, first=2)
    uids = miners(sim, 1, 2) + miners(sim, 5, 2, first=2000)
    sim.next_block()
    return sim, vals, uids


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=ACTIONS)
def test_supply_holds_through_any_mix_of_calls(actions: list[tuple[str, int, int]]) -> None:
    sim, vals, uids = world()
    nominator = account(8 + 0)
    for name, pick, amount in actions:
        validator = vals[pick]
        netuid = 1 if pick < 2 else 5
        try:
            if name == "delegate":
                sim.call(nominator, "delegateStake", netuid=netuid,
                         validator=to_checksum_address(validator), amount=amount * MDT)
            elif name == "undelegate":
                sim.call(nominator, "undelegateStake", netuid=netuid,
                         validator=to_checksum_address(validator), amount=amount * MDT // 4)
            elif name == "take":
                sim.call(validator, "setTake", take=amount * 3_000_000)
            elif name == "vote":
                sim.call(validator, "voteSubnetWeights", netuids=sorted(netuids(sim.state)),
                         weights=[amount + i for i in range(len(netuids(sim.state)))])
            elif name == "weights":
                targets = uids[:2] if netuid == 1 else uids[2:]
                set_weights(sim, validator, netuid, dict.fromkeys(targets, amount * 1000))
            elif name == "dissolve":
                sim.call(OWNER, "dissolveSubnet", netuid=5)
            elif name == "deregister":
                sim.call(account(1000 + pick % 2), "deregister", netuid=1)
            elif name == "unstake":
                sim.call(validator, "removeStake", netuid=netuid, amount=amount * MDT // 8)
        except ExecutionError:
            pass   # refused calls change nothing; the property must hold either way
        sim.next_block(1 + amount % 7)
        assert sim.total_balances() == sim.supply()
