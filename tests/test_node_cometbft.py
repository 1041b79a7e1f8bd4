"""``moderntensor node start --consensus cometbft``: one validator, JSON-RPC through CometBFT."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from eth_utils import to_checksum_address

from chain_support import running_node, sign_transfer
from cometbft_support import cometbft_marks
from localnet_support import port_free
from moderntensor.chain.abci.home import Ports

pytestmark = [*cometbft_marks(), pytest.mark.skipif(
    not all(port_free(p) for p in (Ports().p2p, Ports().rpc, Ports().abci)),
    reason="CometBFT's default ports 26656-26658 are in use")]

RECIPIENT = to_checksum_address("0x" + "7e" * 20)


def engine_pids(data_dir: Path) -> list[int]:
    """Live cometbft processes whose home is in ``data_dir``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        argv = cmdline.split(b"\0")
        if argv[0].endswith(b"cometbft") and str(data_dir).encode() in cmdline:
            found.append(int(entry.name))
    return found


def test_a_transfer_commits_through_cometbft_and_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    extra = ("--consensus", "cometbft")
    with running_node(data_dir, block_time=0.2, extra=extra) as node:
        node.wait_for_block(2)
        tx_hash = node.rpc("eth_sendRawTransaction",
                           "0x" + sign_transfer(0, RECIPIENT, 99, 0).hex())
        node.wait_for_block(int(node.rpc("eth_blockNumber"), 16) + 2)
        receipt = node.rpc("eth_getTransactionReceipt", tx_hash)
        assert receipt["status"] == "0x1"
        assert (data_dir / "cometbft" / "config" / "genesis.json").is_file()
    assert node.proc.returncode == 0
    assert engine_pids(data_dir) == []  # a clean stop takes CometBFT down with the node
    with running_node(data_dir, block_time=0.2, extra=extra) as again:
        assert again.rpc("eth_getTransactionReceipt", tx_hash)["blockHash"] == receipt[
            "blockHash"]
        again.wait_for_block(int(receipt["blockNumber"], 16) + 3)
        assert again.rpc("eth_getBalance", RECIPIENT, "latest") == hex(99)


def test_the_node_stops_with_an_error_when_its_engine_dies(tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    with running_node(data_dir, block_time=0.2, extra=("--consensus", "cometbft")) as node:
        node.wait_for_block(1)
        [engine] = engine_pids(data_dir)
        os.kill(engine, signal.SIGKILL)
        assert node.proc.wait(timeout=15) != 0
    assert "cometbft exited" in node.log_path.read_text()
