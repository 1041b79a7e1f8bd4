"""The whole ModernTensor flow on 4 CometBFT validator nodes: registration, weights and epoch
rewards, with every node reporting the same rewards, each as the formula gives from chain data.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cometbft_support import cometbft_marks
from localnet_support import rpc, wait_for
from moderntensor.localnet import Localnet, LocalnetSpec
from moderntensor.scoring import PPB

pytestmark = cometbft_marks()

NETUID = 1
SPEC = LocalnetSpec(miners=2, validators=2, subnets=(NETUID,), block_time=0.2, tempo=10,
                    min_score=0.55, interval=0.75, challenges=2, ladder=("smollm2", "echo"),
                    nodes=4)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Localnet]:
    localnet = Localnet(SPEC, tmp_path_factory.mktemp("localnet4"))
    try:
        localnet.up()
        yield localnet
    finally:
        assert localnet.stop() == []


def node_urls(net: Localnet) -> list[str]:
    return [f"http://127.0.0.1:{p.port}" for p in net.state.processes if p.role == "node"]


def paid_epochs(url: str) -> set[int]:
    records = rpc(url, "mt_getRewards", {"netuid": NETUID, "limit": 1000})["rewards"]
    return {r["epoch"] for r in records if r["role"] == "miner" and int(r["reward"]) > 0}


def test_four_nodes_run_the_flow_and_agree_on_every_reward(net: Localnet) -> None:
    urls = node_urls(net)
    assert len(urls) == 4
    wait_for(lambda: all(len(paid_epochs(u)) >= 2 for u in urls) or None, 120, "2 paid epochs")
    closed = min(max(paid_epochs(u)) for u in urls)
    views = []
    for url in urls:
        records = rpc(url, "mt_getRewards", {"netuid": NETUID, "limit": 1000})["rewards"]
        views.append(sorted((r["epoch"], r["role"], r["address"], r["reward"], r["score"],
                             r["block"]) for r in records if r["epoch"] <= closed))
    assert views[0] and all(view == views[0] for view in views[1:])
    subnet = rpc(urls[3], "mt_getSubnet", NETUID)
    records = rpc(urls[3], "mt_getRewards", {"netuid": NETUID, "limit": 1000})["rewards"]
    for epoch in {r["epoch"] for r in records if r["epoch"] <= closed}:
        miners = [r for r in records if r["epoch"] == epoch and r["role"] == "miner"]
        total = sum(r["score"] for r in miners)
        for r in miners:  # MinerReward = EpochEmission x (score / TotalScores) x SubnetWeight
            expected = int(r["emission"]) * r["score"] * r["subnetWeight"] // (total * PPB)
            assert int(r["reward"]) == expected
            assert r["subnetWeight"] == subnet["subnetWeight"]
    block = rpc(urls[0], "eth_getBlockByNumber", hex(closed * SPEC.tempo), False)
    assert {rpc(u, "eth_getBlockByNumber", hex(closed * SPEC.tempo), False)["hash"]
            for u in urls} == {block["hash"]}
