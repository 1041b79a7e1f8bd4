"""A real 4-validator CometBFT testnet on 127.0.0.1: agreement, crash faults and recovery.

Needs the ``cometbft`` binary (CI installs it; see .ci/run). Without it these tests skip, unless
``MT_REQUIRE_COMETBFT=1`` says the binary must be there.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from cometbft_support import cometbft_marks
from moderntensor.chain.abci.home import Ports, configure, find_binary, init_node
from moderntensor.chain.genesis import dev_accounts
from moderntensor.client.transport import NodeUnreachableError
from moderntensor.localnet.processes import spawn, stop_groups
from moderntensor.localnet.testnet import Testnet, TestnetNode, distinct_free_ports

pytestmark = cometbft_marks()

DEV = dev_accounts()
RECIPIENT = to_checksum_address("0x" + "5a" * 20)


def rpc(url: str, method: str, params: list[Any] | None = None) -> Any:
    """One JSON-RPC call; raises AssertionError with the node's error."""
    body = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                 "params": params or []}, timeout=10).json()
    if "error" in body:
        raise AssertionError(f"{method} on {url}: {body['error'].get('message')}")
    return body["result"]


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Testnet]:
    testnet = Testnet.create(tmp_path_factory.mktemp("testnet"), 4, timeout_commit="200ms")
    try:
        testnet.start()
        yield testnet
    finally:
        assert testnet.stop() == []


def transfer(node: TestnetNode, sender: int, nonce: int, value: int) -> str:
    tx = Account.sign_transaction({"to": RECIPIENT, "value": value, "gas": 21_000,
                                   "maxFeePerGas": 5 * 10**9, "maxPriorityFeePerGas": 10**9,
                                   "nonce": nonce, "chainId": 1337, "type": 2},
                                  DEV[sender].private_key)
    return rpc(node.url, "eth_sendRawTransaction", ["0x" + tx.raw_transaction.hex()])


def wait_until(condition, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (httpx.HTTPError, NodeUnreachableError):  # a node still starting
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def receipt_everywhere(net: Testnet, nodes: list[TestnetNode], tx_hash: str) -> list[dict]:
    receipts: list[dict] = []

    def all_have() -> bool:
        receipts[:] = [rpc(n.url, "eth_getTransactionReceipt", [tx_hash]) for n in nodes]
        return all(receipts)

    wait_until(all_have, what=f"receipt of {tx_hash} on every node")
    return receipts


def assert_same_chain(net: Testnet, nodes: list[TestnetNode], up_to: int) -> None:
    """Every height 1..up_to: one Luxtensor block hash and state root, one CometBFT block hash
    and app hash (CometBFT's header at h+1 carries the app hash of block h)."""
    for height in range(1, up_to + 1):
        ours = {(b["hash"], b["stateRoot"]) for b in (net.block(n, height) for n in nodes)}
        theirs = {tuple(net.comet_block(n, height).values()) for n in nodes}
        assert len(ours) == 1, f"nodes disagree on Luxtensor block {height}: {ours}"
        assert len(theirs) == 1, f"nodes disagree on CometBFT block {height}: {theirs}"
        if height > 1:
            app_hash = next(iter(theirs))[1]
            previous_root = net.block(nodes[0], height - 1)["stateRoot"]
            assert app_hash.lower() == previous_root[2:]


def heights(nodes: list[TestnetNode], net: Testnet) -> list[int]:
    return [net.height(n) for n in nodes]


def test_a_transfer_sent_to_one_node_is_committed_and_visible_on_every_node(net) -> None:
    tx_hash = transfer(net.nodes[0], sender=1, nonce=0, value=12_345)
    receipts = receipt_everywhere(net, net.nodes, tx_hash)
    assert {(r["blockNumber"], r["blockHash"], r["status"]) for r in receipts} == {
        (receipts[0]["blockNumber"], receipts[0]["blockHash"], "0x1")}
    balances = {rpc(n.url, "eth_getBalance", [RECIPIENT, "latest"]) for n in net.nodes}
    assert balances == {hex(12_345)}


def test_every_node_reports_the_same_block_and_app_hash_at_every_height(net) -> None:
    wait_until(lambda: min(heights(net.nodes, net)) >= 5, what="height 5")
    assert_same_chain(net, net.nodes, min(heights(net.nodes, net)) - 1)


def test_one_killed_node_leaves_three_that_commit_and_it_catches_up_on_restart(net) -> None:
    net.kill(3)
    alive = net.nodes[:3]
    start = max(heights(alive, net))
    wait_until(lambda: min(heights(alive, net)) >= start + 3, what="3 blocks without node3")
    tx_hash = transfer(net.nodes[1], sender=2, nonce=0, value=7)
    receipt_everywhere(net, alive, tx_hash)
    net.start([3])
    target = max(heights(alive, net))
    wait_until(lambda: net.height(net.nodes[3]) >= target, what="node3 to catch up")
    assert rpc(net.nodes[3].url, "eth_getTransactionReceipt", [tx_hash])["status"] == "0x1"
    assert_same_chain(net, net.nodes, target)


def test_two_killed_nodes_halt_the_chain_without_a_fork_and_one_restart_resumes_it(net) -> None:
    net.kill(2)
    net.kill(3)
    survivors = net.nodes[:2]
    time.sleep(1.0)  # a block in flight may still commit
    halted = heights(survivors, net)
    time.sleep(3.0)
    assert heights(survivors, net) == halted  # 2 of 4 is under 2/3 of the power: no blocks
    assert len({net.block(n, min(halted))["hash"] for n in survivors}) == 1
    net.start([2])
    wait_until(lambda: min(heights(net.nodes[:3], net)) >= max(halted) + 2, timeout=60,
               what="blocks to resume with 3 of 4")
    net.start([3])
    wait_until(lambda: net.height(net.nodes[3]) >= max(halted) + 2, timeout=60,
               what="node3 to catch up")
    assert_same_chain(net, net.nodes, max(halted) + 2)


def test_a_node_restarted_from_its_own_data_keeps_its_history(net: Testnet, tmp_path: Path
                                                             ) -> None:
    before = net.height(net.nodes[0])
    net.kill(0)
    net.start([0])
    assert net.height(net.nodes[0]) >= before
    wait_until(lambda: net.height(net.nodes[0]) >= before + 2, what="node0 back in consensus")


def test_a_new_non_validator_node_joins_with_the_genesis_and_a_peer_and_syncs(
        net: Testnet, tmp_path: Path) -> None:
    """docs/network.md's joining steps: own keys, the network's genesis, a persistent peer."""
    data_dir = tmp_path / "joiner"
    init_node(data_dir, find_binary() or "cometbft", "joiner")
    shutil.copy(Path(net.nodes[0].data_dir) / "cometbft" / "config" / "genesis.json",
                data_dir / "cometbft" / "config" / "genesis.json")
    node_id = subprocess.run([find_binary() or "cometbft", "show-node-id", "--home",
                              str(Path(net.nodes[0].data_dir) / "cometbft")],
                             capture_output=True, text=True, check=True).stdout.strip()
    p2p, rpc_port, abci, eth = distinct_free_ports(4)
    configure(data_dir, Ports(p2p=p2p, rpc=rpc_port, abci=abci),
              peers=[f"{node_id}@127.0.0.1:{net.nodes[0].p2p_port}"])
    joiner = TestnetNode(9, str(data_dir), eth, rpc_port, p2p, abci, str(tmp_path / "j.log"))
    joiner.pid = spawn(joiner.argv(), Path(joiner.log), dict(os.environ),
                       die_with_parent=True).pid
    try:
        target = net.height(net.nodes[0])
        wait_until(lambda: net.height(joiner) >= target, timeout=60, what="the joiner to sync")
        assert_same_chain(net, [net.nodes[0], joiner], target)
    finally:
        assert stop_groups([joiner.pid]) == []


def test_a_validators_operator_stake_becomes_its_voting_power_on_every_node(net) -> None:
    """Dev account 1 operates node1's validator (testnet genesis): its stake is its power.
    Last in this module: afterwards node1 alone holds more than 2/3 of the power."""
    from moderntensor.client import AsyncLuxtensorClient
    from moderntensor.wallet import Wallet

    async def register() -> None:
        async with AsyncLuxtensorClient(net.nodes[2].url) as client:
            await client.register_validator(1, 150, wallet=Wallet.from_private_key(
                DEV[1].private_key))

    asyncio.run(register())
    node1_key = json.loads((Path(net.nodes[1].data_dir) / "cometbft" / "config" /
                            "priv_validator_key.json").read_text())["address"]

    def node1_powers() -> set[str]:
        return {next(v["voting_power"] for v in httpx.get(
            f"{n.comet_url}/validators", timeout=5).json()["result"]["validators"]
            if v["address"] == node1_key) for n in net.nodes}

    wait_until(lambda: node1_powers() == {"150"}, timeout=30, what="node1 power 150")
