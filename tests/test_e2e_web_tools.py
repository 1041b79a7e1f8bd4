"""What web tools see of a running localnet: ethers 6 over WebSocket, and the explorer page in
headless Chromium. Both need tools from outside Python (Node.js with ethers installed in
tests/js/node_modules, the Debian chromium package); .ci/run installs them and sets
MT_REQUIRE_WEB_TOOLS=1, which turns a missing tool from a skip into a failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from localnet_support import REPO, rpc, wait_for
from moderntensor.chain.genesis import dev_accounts
from moderntensor.localnet import Localnet, LocalnetSpec
from moderntensor.protocol.syscalls import SYSTEM_ADDRESS

pytestmark = pytest.mark.e2e

SPEC = LocalnetSpec(miners=2, validators=1, subnets=(1,), block_time=0.3, tempo=10,
                    min_score=0.3, interval=0.75, challenges=2, ladder=("oracle", "echo"))
NETUID = 1
JS_DIR = REPO / "tests" / "js"
ABI = REPO / "src" / "moderntensor" / "protocol" / "abi" / "ModernTensor.json"


def require_tool(available: bool, what: str) -> None:
    if not available:
        if os.environ.get("MT_REQUIRE_WEB_TOOLS") == "1":
            pytest.fail(f"{what} is missing (MT_REQUIRE_WEB_TOOLS=1)")
        pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Localnet]:
    localnet = Localnet(SPEC, tmp_path_factory.mktemp("webnet"))
    try:
        localnet.up()
        yield localnet
    finally:
        assert localnet.stop() == []


def miner_rewards(url: str) -> list[dict]:
    records = rpc(url, "mt_getRewards", {"netuid": NETUID, "limit": 1000})["rewards"]
    return [r for r in records if r["role"] == "miner" and int(r["reward"]) > 0]


def test_ethers_receives_epoch_rewarded_over_websocket_and_decodes_a_revert(
        net: Localnet) -> None:
    node = shutil.which("node")
    require_tool(node is not None and (JS_DIR / "node_modules" / "ethers").is_dir(),
                 "Node.js with ethers 6 (npm install in tests/js)")
    ws_url = net.url.replace("http://", "ws://")
    done = subprocess.run([node, str(JS_DIR / "ethers_check.mjs"), ws_url, str(ABI),
                           dev_accounts()[9].private_key, SYSTEM_ADDRESS],
                          capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["estimate"] == {"rejected": True, "code": "CALL_EXCEPTION",
                                "reason": seen["estimate"]["reason"]}
    assert seen["estimate"]["reason"].startswith("unknown_subnet: ")
    event = seen["event"]
    assert event is not None, "no EpochRewarded within 60 s"
    assert event["netuid"] == NETUID
    logs = rpc(net.url, "eth_getLogs", {"fromBlock": hex(event["block"]),
                                        "toBlock": hex(event["block"])})
    assert event["txHash"] in {entry["transactionHash"] for entry in logs}
    assert int(event["txHash"], 16) != 0
