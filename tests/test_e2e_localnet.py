"""The whole mining flow on a real localnet: register -> receive -> respond -> score -> reward.

One localnet (node, 2 staked validators, 4 echo-grade miners of differing quality, all separate
processes on 127.0.0.1) serves every test of this module, in order; the last ones break it on
purpose (a miner killed mid-epoch, the node killed with -9) and the module ends by checking
that stopping it leaves no process behind. Fast blocks and a short tempo keep it under a minute
or two.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from localnet_support import (
    GUIDE,
    SHARED_GUIDE,
    USER_GUIDE,
    batch,
    head,
    port_free,
    python_blocks,
    rpc,
    wait_for,
)
from moderntensor.localnet import Localnet, LocalnetSpec, render, snapshot
from moderntensor.localnet.processes import CLI, live_groups
from moderntensor.scoring import PPB
from moderntensor.wallet import Wallet

pytestmark = pytest.mark.e2e

TEMPO = 10
BLOCK_S = 0.3
EPOCH_S = TEMPO * BLOCK_S
MIN_SCORE = 0.3    # flaky (the named model failing half its requests) ~0.6; the template
                   # parser (oracle) and echo ~0: no model sampled their replies
SPEC = LocalnetSpec(miners=4, validators=2, subnets=(1,), block_time=BLOCK_S, tempo=TEMPO,
                    min_score=MIN_SCORE, interval=0.75, challenges=3,
                    ladder=("smollm2", "flaky", "oracle", "echo"))
NETUID = 1
GUIDE_PORT = 8545  # the guide says http://localhost:8545


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Localnet]:
    port = GUIDE_PORT if port_free(GUIDE_PORT) else None
    localnet = Localnet(SPEC, tmp_path_factory.mktemp("localnet"), rpc_port=port)
    try:
        localnet.up()
        yield localnet
    finally:
        assert localnet.stop() == []


def miners(net: Localnet) -> dict[str, Any]:
    """model name -> process info of the localnet's miners."""
    return {p.model: p for p in net.state.by_role("miner")}


def closed_epochs_with_rewards(net: Localnet) -> set[int]:
    records = rpc(net.url, "mt_getRewards", {"netuid": NETUID, "limit": 1000})["rewards"]
    return {r["epoch"] for r in records if r["role"] == "miner" and int(r["reward"]) > 0}


def test_first_reward_is_paid_within_a_minute(net: Localnet) -> None:
    assert net.wait_first_reward(timeout=60) < 60
    assert sum(net.state.phases.values()) < 60


def test_rewards_follow_the_guide_formula_from_on_chain_scores(net: Localnet) -> None:
    wait_for(lambda: len(closed_epochs_with_rewards(net)) >= 3, 12 * EPOCH_S, "3 paid epochs")
    by_model = miners(net)
    addresses = [p.address for p in net.state.processes if p.address]

    def consistent_read() -> list[Any] | None:
        # rewards and balances from one block: retry when a block lands between the reads
        calls = [("eth_blockNumber", []), ("mt_getRewards", [{"netuid": NETUID, "limit": 1000}]),
                 ("mt_getSubnet", [NETUID]), ("mt_getMetagraph", [NETUID]),
                 *[("eth_getBalance", [a, "latest"]) for a in addresses], ("eth_blockNumber", [])]
        results = batch(net.url, calls)
        return results if results[0] == results[-1] else None

    results = wait_for(consistent_read, 10, "a read within one block", poll_s=0.01)
    records, subnet, graph = results[1]["rewards"], results[2], results[3]
    balances = {a.lower(): int(b, 16) for a, b in zip(addresses, results[4:-1], strict=True)}
    epochs = sorted({r["epoch"] for r in records})
    assert len(epochs) >= 3
    paid: dict[str, int] = {}
    both_paid: list[list[int]] = []
    for epoch in epochs:
        rows = [r for r in records if r["epoch"] == epoch]
        miner_rows = [r for r in rows if r["role"] == "miner"]
        total = sum(r["score"] for r in miner_rows)
        for r in miner_rows:
            # MinerReward = EpochEmission x (score / TotalScores) x SubnetWeight, floored
            assert r["totalScore"] == total
            assert int(r["emission"]) == int(subnet["epochEmission"])
            assert r["subnetWeight"] == subnet["subnetWeight"]
            expected = int(r["emission"]) * r["score"] * r["subnetWeight"] // (total * PPB)
            assert int(r["reward"]) == expected
            assert r["score"] >= MIN_SCORE * PPB  # under min_score: no payout at all
        validator_rows = [r for r in rows if r["role"] == "validator"]
        assert 1 <= len(validator_rows) <= SPEC.validators  # whose weights were active
        if len(validator_rows) == SPEC.validators:
            both_paid.append(sorted(int(r["reward"]) for r in validator_rows))
        assert sum(int(r["reward"]) for r in validator_rows) <= int(validator_rows[0]["emission"])
        if epoch == epochs[-1]:   # the metagraph's agreement column is this epoch's
            _check_validator_pay(graph, validator_rows)
        for r in rows:
            paid[r["address"].lower()] = paid.get(r["address"].lower(), 0) + int(r["reward"])

    latest = [r for r in records if r["epoch"] == epochs[-1] and r["role"] == "miner"]
    for r in latest:  # the records carry the scores the metagraph shows for the last epoch
        uid = graph["addresses"].index(r["address"])
        assert graph["scores"][uid] == r["score"]
    reward_of = {r["address"].lower(): int(r["reward"]) for r in latest}
    honest, flaky, parser, weak = (by_model[m].address.lower()
                                   for m in ("smollm2", "flaky", "oracle", "echo"))
    assert reward_of[honest] > reward_of[flaky] > 0
    # a template parser answers right, fast and consistently, but no model sampled its replies
    assert reward_of.get(parser, 0) < reward_of[honest] / 10
    # under min_score: earns 0 (every paid row above was checked >= min_score)
    assert weak not in reward_of or reward_of[weak] == 0
    assert balances[weak] == paid.get(weak, 0)
    weak_uid = graph["addresses"].index(by_model["echo"].address)
    assert graph["scores"][weak_uid] == 0
    rows = rpc(net.url, "mt_getWeights", NETUID, None, weak_uid)["rows"]
    assert rows and all(row["weights"][0] < MIN_SCORE * 65535 for row in rows)
    # wrong answers: the validators' rows show the gate (no latency, no consistency)
    assert all(row["latency"][0] == row["consistency"][0] == 0 for row in rows)
    for info in by_model.values():  # 0-MDT miners: every unit they hold is a reward
        assert balances[info.address.lower()] == paid.get(info.address.lower(), 0)
    assert both_paid  # both validators agreed with consensus enough to be paid


def _check_validator_pay(graph: dict[str, Any], validator_rows: list[dict[str, Any]]) -> None:
    """Validator pay = pool x stake x excess^2 / sum, excess = max(0, agreement - 0.5)."""
    uid_of = {a.lower(): u for u, a in enumerate(graph["addresses"])}
    weight = {}
    for r in validator_rows:
        uid = uid_of[r["address"].lower()]
        assert graph["agreement"][uid] > PPB // 2     # honest validators agree with consensus
        weight[r["address"].lower()] = (int(graph["stakes"][uid])
                                        * (graph["agreement"][uid] - PPB // 2) ** 2)
    total = sum(weight.values())
    for r in validator_rows:
        w = weight[r["address"].lower()]
        assert r["score"] == w * PPB // total
        assert int(r["reward"]) == int(r["emission"]) * w // total


def test_every_miner_registered_fee_free_from_an_empty_wallet(net: Localnet) -> None:
    for info in net.state.by_role("miner"):
        neuron = rpc(net.url, "mt_getNeuron", NETUID, info.address)
        block = rpc(net.url, "eth_getBlockByNumber", hex(neuron["registeredBlock"]), True)
        txs = [tx for tx in block["transactions"] if tx["from"].lower() == info.address.lower()]
        assert txs, f"no registration tx of {info.name} in block {neuron['registeredBlock']}"
        assert int(txs[0]["maxFeePerGas"], 16) == 0 and int(txs[0]["nonce"], 16) == 0
        rewards = rpc(net.url, "mt_getRewards", {"address": info.address, "limit": 1000})
        assert all(r["block"] > neuron["registeredBlock"] for r in rewards["rewards"])


def test_miner_status_shows_the_components(net: Localnet) -> None:
    honest = miners(net)["smollm2"]
    out = subprocess.run([*CLI, "miner", "status", "--json", "--subnet", str(NETUID),
                          "--wallet", honest.wallet], env=net.env(), capture_output=True,
                         text=True, timeout=60, check=True).stdout
    report = json.loads(out)
    assert report["registered"] and report["address"] == honest.address
    assert report["reachable"]["ok"] and report["reachable"]["health"] == "ready"
    assert set(report["components"]) == {"accuracy", "latency", "availability", "consistency"}
    assert report["components"]["accuracy"] > 0.9 and report["score"] >= report["minScore"]
    assert len(report["feedback"]) == SPEC.validators
    assert all(f["accuracy"] is not None and f["consistency"] is not None
               for f in report["feedback"])
    assert report["recentRewards"] and int(report["balance"]) > 0
    assert report["minScore"] == pytest.approx(MIN_SCORE)
    assert report["reasons"] == [] and report["scoreBeforeCut"] == report["score"]


def test_epoch_info_status_table_and_an_unregistered_miner(net: Localnet) -> None:
    info = json.loads(subprocess.run([*CLI, "epoch", "info", "--json", "--subnet", str(NETUID)],
                                     env=net.env(), capture_output=True, text=True, timeout=60,
                                     check=True).stdout)
    # smollm2 and flaky are paid; the template parser and echo fall under min_score
    assert info["tempo"] == TEMPO and info["lastEpoch"]["scoredMiners"] >= 2
    stranger = Wallet.create(num_words=12).address
    report = json.loads(subprocess.run(
        [*CLI, "miner", "status", "--json", "--subnet", str(NETUID), "--address", stranger],
        env=net.env(), capture_output=True, text=True, timeout=60, check=True).stdout)
    assert not report["registered"] and "miner register" in report["advice"][0]
    view = snapshot(net.state)
    console = Console(record=True, width=220)
    console.print(render(view))
    table = console.export_text()
    assert all(model in table for model in ("smollm2", "flaky", "oracle", "echo"))
    assert "weights age" in table and "next epoch in" in table and "agreement" in table
    # the table explains the gate: the parser's accuracy is under the floor, the model's is not
    by_name = {m["model"]: m for m in view["subnets"][0]["miners"]}
    assert "under floor" in by_name["oracle"]["reasons"][0] and not by_name["smollm2"]["reasons"]
    assert "latency/consistency not counted" in table
    assert by_name["echo"]["scoreBeforeCut"] >= by_name["echo"]["score"] == 0


def test_miner_guide_snippets_run_as_written(net: Localnet, tmp_path: Path) -> None:
    if not net.url.endswith(f":{GUIDE_PORT}"):
        pytest.skip(f"port {GUIDE_PORT} was taken, and the guide's snippets name it")
    if not port_free(5000):
        pytest.skip("port 5000 is taken, and the guide's server snippet names it")
    if SHARED_GUIDE.is_file():
        assert GUIDE.read_text() == SHARED_GUIDE.read_text(), "docs/MINER_GUIDE.md is stale"
    create, register, serve, example = python_blocks(GUIDE.read_text())
    # The two placeholders a reader replaces: their mnemonic, and their model module.
    mnemonic = Wallet.create(num_words=24).mnemonic
    create = create.replace("your 24-word mnemonic", mnemonic)
    (tmp_path / "your_model.py").write_text(
        # subnet 1's named model, sampling for this miner's address (the input carries the
        # seed and the length): anything else is not verified and earns nothing
        "from moderntensor import Wallet\n"
        "from moderntensor.config import resolve_config\n"
        "from moderntensor.subnets.text_models import SmolLM2Text\n\n"
        "class Answerer:\n    def __init__(self):\n"
        "        self.model = SmolLM2Text()\n"
        "        self.model.serve_as(Wallet.from_config(resolve_config()).address)\n\n"
        "    def generate(self, input_data):\n"
        "        return self.model.generate('text-generation', input_data, {})\n\n"
        "def load():\n    return Answerer()\n")
    home = tmp_path / "home"
    wallet = Wallet.create(num_words=12)  # the miner's own wallet: 0 MDT, resolved by config
    wallet.save("default", "pw", home=home, scrypt_n=2**10)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MT_")},
           "MT_HOME": str(home), "MT_WALLET_PASSWORD": "pw",   # no netuid: as the guide has it
           "PYTHONPATH": str(tmp_path)}
    script = tmp_path / "steps.py"
    # the guide's example is float arithmetic (12.749999999999998); the chain pays exactly
    script.write_text("\n".join([create, register, example,
                                 "print('reward =', round(reward, 9))\n"]))
    out = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path, text=True,
                         capture_output=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert "Registration TX:" in out.stdout and "reward = 12.75" in out.stdout
    (tmp_path / "server.py").write_text(serve)
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen([sys.executable, str(tmp_path / "server.py")], env=env,
                              cwd=tmp_path, start_new_session=True, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: rpc(net.url, "mt_getNeuron", NETUID, wallet.address)["endpoint"],
                 30, "the guide's miner to publish its endpoint")
        uid = rpc(net.url, "mt_getNeuron", NETUID, wallet.address)["uid"]
        # answered signed requests: availability above 0 in a validator's latest weights
        # (a row revealed from before the miner served does not list it yet)
        wait_for(lambda: any(row["availability"] and row["availability"][0] > 0 for row in
                             rpc(net.url, "mt_getWeights", NETUID, None, uid)["rows"]),
                 30, f"a validator to score the guide's miner (log: {log.name})")
        wait_for(lambda: int(rpc(net.url, "mt_getNeuron", NETUID, wallet.address)["lastReward"])
                 > 0, 2 * EPOCH_S + 10, "the guide's miner to be paid")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        assert server.wait(timeout=20) == 0


def test_killing_a_miner_mid_epoch_lowers_its_availability_and_reward(net: Localnet) -> None:
    paid = miners(net)["flaky"]     # a paid miner that is not the top one
    neuron = rpc(net.url, "mt_getNeuron", NETUID, paid.address)
    before_availability, before_reward = neuron["availability"], int(neuron["lastReward"])
    assert before_reward > 0
    wait_for(lambda: rpc(net.url, "mt_getEpochInfo", NETUID)["blocksRemaining"]
             in range(3, TEMPO - 2), EPOCH_S * 2, "mid-epoch")
    net.kill(paid.name)
    # at least two closes; then as long as the validators' rounds take (a round waits for the
    # model's replies, seconds on a loaded 2-core machine, so the rows can lag the closes)
    closes = rpc(net.url, "mt_getEpochInfo", NETUID)["nextEpochBlock"] + 2 * TEMPO
    wait_for(lambda: head(net.url) > closes, 4 * EPOCH_S + 10, "two more epochs")

    def lowered() -> dict[str, Any] | None:
        after = rpc(net.url, "mt_getNeuron", NETUID, paid.address)
        return after if (after["availability"] < before_availability
                         and int(after["lastReward"]) < before_reward) else None

    wait_for(lowered, 60, "the dead miner's availability and reward to fall")


def test_node_kill9_and_restart_lose_no_block_and_keep_the_epoch_schedule(net: Localnet) -> None:
    number = head(net.url)
    committed = rpc(net.url, "eth_getBlockByNumber", hex(number), False)["hash"]
    net.kill("node")  # SIGKILL: no shutdown code runs
    net.restart("node")
    assert head(net.url) >= number
    assert rpc(net.url, "eth_getBlockByNumber", hex(number), False)["hash"] == committed
    info = rpc(net.url, "mt_getEpochInfo", NETUID)
    assert info["nextEpochBlock"] % TEMPO == 0  # genesis subnets: epochs close at k x tempo
    assert info["epoch"] == info["blockNumber"] // TEMPO   # the epoch of the next block
    close = info["nextEpochBlock"] + TEMPO  # one whole epoch after the restart
    wait_for(lambda: head(net.url) > close, 2 * EPOCH_S + 20, "an epoch after the restart")
    records = rpc(net.url, "mt_getRewards", {"netuid": NETUID, "limit": 50})["rewards"]
    assert any(r["block"] == close and r["role"] == "miner" for r in records)


def test_user_guide_python_blocks_run_against_the_localnet(net: Localnet, tmp_path: Path) -> None:
    # last but one: its extra validator and weights would change the scores tested above
    script = tmp_path / "guide.py"
    script.write_text("\n".join(python_blocks(USER_GUIDE.read_text())))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MT_")},
           "MT_HOME": str(tmp_path / "home"), "MT_NETWORK": net.url}
    out = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path, text=True,
                         capture_output=True, timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "MinerScore = 0.86" in out.stdout and "guide-text" not in out.stderr


def test_stopping_leaves_no_process_behind(net: Localnet) -> None:
    groups = [p.pid for p in net.state.processes]
    assert net.stop() == []
    time.sleep(0.2)
    assert not set(groups) & set(live_groups())
