"""End to end on a real node process: an owner's custom subnet is voted in by the validators'
root vote, its miners are paid by the seed's formula at the voted weight, the owner is paid its
share, and the subnet weights sum to exactly 10^9 at every epoch."""

from __future__ import annotations

import time
from pathlib import Path

from chain_support import DEV, running_node
from moderntensor.client import LuxtensorClient
from moderntensor.scoring import MinerScore
from moderntensor.wallet import Wallet

PPB = 10**9


def wallet(index: int) -> Wallet:
    return Wallet.from_private_key(DEV[index].private_key)


def test_a_custom_subnet_voted_in_pays_its_miners_and_its_owner(tmp_path: Path) -> None:
    owner, voters, sub_validator = wallet(0), [wallet(1), wallet(2)], wallet(3)
    miner_wallets = [Wallet.create() for _ in range(2)]
    with running_node(tmp_path / "node", block_time=0.2) as node, \
            LuxtensorClient(node.url) as client:
        netuid = next(int(log.args["netuid"]) for log in client.create_subnet(
            "translation", "translation", {"tempo": 10, "commitRevealPeriod": 0}, {},
            wallet=owner).logs if log.event == "SubnetCreated")
        for voter in voters:                               # root voters: stake on subnet 1
            client.register_validator(1, stake=200, wallet=voter)
        client.register_validator(netuid, stake=200, wallet=sub_validator)
        uids = [client.register_miner(netuid, {"name": "m", "type": "translation",
                                               "version": "1"}, wallet=w).uid
                for w in miner_wallets]
        for voter in voters:
            client.vote_subnet_weights({1: 3, netuid: 1}, wallet=voter)
        row = [MinerScore(1.0, 1.0, 1.0, 1.0).to_u16()] * len(uids)
        client.set_weights(netuid, uids, *zip(*[(r[4], *r[:4]) for r in row], strict=True),
                           wallet=sub_validator)
        # the dev chain applies the root vote every 20 blocks; the subnet closes every 10:
        # the weights of all subnets sum to exactly 1.0 at every point we look
        start = client.block_number()
        while client.block_number() < start + 45:
            assert sum(s.subnet_weight_ppb for s in client.get_subnets()) == PPB
            time.sleep(0.5)
        custom = next(s for s in client.get_subnets() if s.netuid == netuid)
        assert abs(custom.subnet_weight_ppb - PPB // 4) < PPB // 65535
        rewards = client.get_rewards(netuid=netuid)
        paid = [r for r in rewards if r.role == "miner" and r.reward > 0]
        assert paid, "the voted-in subnet paid no miner"
        for reward in paid:   # EpochEmission x (score / TotalScores) x SubnetWeight
            expected = (reward.emission * reward.score / reward.total_score
                        * reward.subnet_weight)
            assert abs(reward.reward - expected) <= expected * 1e-9 + 2
            assert reward.emission == custom.epoch_emission
        owners = [r for r in rewards if r.role == "owner"]
        assert owners and all(r.address == owner.address for r in owners)
        assert all(r.reward == r.emission * 180_000_000 // PPB for r in owners)
