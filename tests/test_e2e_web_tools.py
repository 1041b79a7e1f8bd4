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

from cdp_browser import HeadlessChromium, chromium_path
from localnet_support import REPO, rpc, wait_for
from moderntensor.chain.genesis import dev_accounts
from moderntensor.localnet import Localnet, LocalnetSpec
from moderntensor.protocol.syscalls import SYSTEM_ADDRESS

pytestmark = pytest.mark.e2e

SPEC = LocalnetSpec(miners=2, validators=1, subnets=(1,), block_time=0.3, tempo=10,
                    min_score=0.3, interval=0.75, challenges=2, ladder=("smollm2", "echo"))
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


OUTPUT = Path(os.environ.get("MT_TEST_OUTPUT", REPO / "test-output")) / "explorer"
PAGE_ROWS = """[...document.querySelectorAll('#metagraph tbody tr[data-role=miner]')].map(tr => ({
    address: tr.dataset.address.toLowerCase(),
    score: Number(tr.querySelector('td.score').dataset.value),
    reward: tr.querySelector('td.reward').dataset.value}))"""


def rpc_rows(url: str) -> list[dict]:
    graph = rpc(url, "mt_getMetagraph", NETUID)
    totals: dict[str, int] = {}
    for record in rpc(url, "mt_getRewards", {"netuid": NETUID, "limit": 1000})["rewards"]:
        key = record["address"].lower()
        totals[key] = totals.get(key, 0) + int(record["reward"])
    return sorted(({"address": address.lower(), "score": graph["scores"][uid],
                    "reward": str(totals.get(address.lower(), 0))}
                   for uid, address in enumerate(graph["addresses"])
                   if graph["roles"][uid] == "miner"), key=lambda row: row["address"])


@pytest.fixture
def browser() -> Iterator[HeadlessChromium]:
    executable = chromium_path()
    require_tool(executable is not None, "the chromium package")
    session = HeadlessChromium(executable)
    try:
        yield session
    finally:
        session.close()


def test_explorer_shows_the_metagraph_and_rewards_and_follows_new_epochs(
        net: Localnet, browser: HeadlessChromium) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    wait_for(lambda: miner_rewards(net.url), 60, "a first miner reward")
    page = f"{net.url}/explorer/"

    browser.navigate(page + "#/")
    browser.wait_for("document.querySelector('#view h1')?.textContent === 'Network'")
    browser.screenshot(OUTPUT / "overview.png")

    browser.navigate(page + "#/subnet/1")
    browser.wait_for("document.querySelectorAll('#metagraph tbody tr[data-role=miner]').length")

    def page_matches_rpc() -> bool:
        shown = sorted(browser.evaluate(PAGE_ROWS), key=lambda row: row["address"])
        return bool(shown) and shown == rpc_rows(net.url)

    wait_for(page_matches_rpc, 20, "the page's miners, scores and rewards to match the RPC")
    browser.screenshot(OUTPUT / "subnet.png")

    epoch = int(browser.evaluate("document.getElementById('metagraph').dataset.epoch"))
    browser.wait_for(f"Number(document.getElementById('metagraph')?.dataset.epoch) > {epoch}",
                     timeout=30)  # no reload: the page redraws as the head moves
    wait_for(page_matches_rpc, 20, "the rewards of the new epoch on the page")

    browser.evaluate("document.querySelector('#metagraph tr[data-role=miner] a').click()")
    browser.wait_for("document.querySelectorAll('#reward-chart svg polyline').length")
    assert browser.evaluate("document.querySelectorAll('#reward-chart svg circle').length") >= 2
    browser.screenshot(OUTPUT / "miner.png")

    browser.navigate(page + "#/epochs/1")
    browser.wait_for("!!document.querySelector('#view table tbody tr')")
    browser.screenshot(OUTPUT / "epochs.png")
    closing_block = browser.evaluate("document.querySelector('#view table tbody tr a').textContent")
    browser.navigate(page + f"#/block/{closing_block}")
    browser.wait_for("[...document.querySelectorAll('tr.log')].some(tr => "
                     "tr.textContent.includes('EpochRewarded'))")
    browser.screenshot(OUTPUT / "block.png")

    miner = rpc(net.url, "mt_getMetagraph", NETUID)["addresses"][1]
    browser.evaluate(f"document.getElementById('query').value = {json.dumps(miner)}; "
                     "document.getElementById('search').requestSubmit()")
    browser.wait_for("location.hash === '#/neuron/1/1' && "
                     "!!document.querySelector('#score-chart svg')")
    assert browser.errors == []


def test_a_page_on_another_origin_may_call_the_dev_chain_rpc(
        net: Localnet, browser: HeadlessChromium) -> None:
    # the same node under another name is another origin (and both are loopback, so the
    # browser's private-network rules do not interfere)
    browser.navigate(net.url.replace("127.0.0.1", "localhost") + "/health")
    browser.wait_for("document.readyState === 'complete' && location.hostname === 'localhost'")
    answer = browser.evaluate(f"""fetch({json.dumps(net.url)}, {{method: 'POST',
        headers: {{'content-type': 'application/json'}},
        body: JSON.stringify({{jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: []}})}})
        .then(r => r.json()).then(b => b.result)""")
    assert answer == "0x539"
