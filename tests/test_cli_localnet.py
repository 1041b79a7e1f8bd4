"""``moderntensor localnet up|status|down`` as a user runs them: Ctrl-C and `down` leave nothing."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from localnet_support import wait_for
from moderntensor.localnet import LocalnetSpec, LocalnetState, miner_models
from moderntensor.localnet.processes import CLI, live_groups
from moderntensor.localnet.spec import genesis_json
from moderntensor.localnet.status import render

pytestmark = pytest.mark.e2e

SMALL = ["--miners", "1", "--validators", "1", "--block-time", "0.3", "--tempo", "10"]


def recorded_groups(data_dir: Path) -> list[int]:
    state = LocalnetState.load(data_dir)
    assert state is not None
    return [p.pid for p in state.processes]


def status(data_dir: Path) -> dict:
    out = subprocess.run([*CLI, "localnet", "status", "--json", "--data-dir", str(data_dir)],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return json.loads(out)


def test_ctrl_c_stops_every_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "ln"
    log = (tmp_path / "up.log").open("w")
    up = subprocess.Popen([*CLI, "localnet", "up", *SMALL, "--data-dir", str(data_dir)],
                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                          env={**os.environ, "COLUMNS": "160"})
    try:
        wait_for(lambda: "validators running" in (LocalnetState.load(data_dir) or
                                                  LocalnetState("", "", {})).phases,
                 60, "localnet up")
        report = status(data_dir)
        assert all(p["running"] for p in report["processes"])
        assert {p["role"] for p in report["processes"]} == {"node", "miner", "validator"}
        assert report["chain"]["block"] > 0
        # piped, not a terminal: the table is printed plainly (once per epoch), not redrawn
        wait_for(lambda: "next epoch in" in (tmp_path / "up.log").read_text(), 30,
                 "the table in the piped output")
        assert "\x1b[" not in (tmp_path / "up.log").read_text()
        groups = recorded_groups(data_dir)
        os.killpg(up.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends
        assert up.wait(timeout=30) == 0
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
        for pgid in recorded_groups(data_dir) if data_dir.exists() else []:
            if pgid in live_groups():
                os.killpg(pgid, signal.SIGKILL)
    assert "no process left" in (tmp_path / "up.log").read_text()
    assert not set(groups) & set(live_groups())


def test_detach_then_down(tmp_path: Path) -> None:
    data_dir = tmp_path / "ln"
    try:
        done = subprocess.run([*CLI, "localnet", "up", *SMALL, "--detach", "--data-dir",
                               str(data_dir)], capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "dev-only wallets" in done.stdout and "password" in done.stdout
        groups = recorded_groups(data_dir)
        assert set(groups) <= set(live_groups())   # still running after `up` returned
        assert "localnet env" in done.stdout
        miner = next(p for p in LocalnetState.load(data_dir).processes if p.role == "miner")
        cli = shlex.join(CLI)
        script = (f'eval "$({cli} localnet env --data-dir {shlex.quote(str(data_dir))})" && '
                  f"{cli} miner status --json --wallet {miner.wallet} --netuid {miner.netuid}")
        inspected = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                                   timeout=120, check=False)
        assert inspected.returncode == 0, inspected.stderr
        report = json.loads(inspected.stdout)
        assert report["registered"] and report["address"] == miner.address
        down = subprocess.run([*CLI, "localnet", "down", "--data-dir", str(data_dir)],
                              capture_output=True, text=True, timeout=60, check=False)
        assert down.returncode == 0 and "no process left" in down.stdout
        assert not set(groups) & set(live_groups())
    finally:
        for pgid in recorded_groups(data_dir) if (data_dir / "localnet.json").exists() else []:
            if pgid in live_groups():
                os.killpg(pgid, signal.SIGKILL)


def test_miner_ladder_and_genesis() -> None:
    spec = LocalnetSpec(miners=6, tempo=7, min_score=0.25)
    text = ["smollm2", "oracle", "echo", "random", "flaky"]
    assert miner_models(spec, text) == [
        "smollm2", "oracle", "flaky", "echo", "random", "smollm2"]
    code = ["variant-reference", "smollm2", "canonical", "echo"]
    assert miner_models(LocalnetSpec(miners=3), code) == ["variant-reference", "canonical", "echo"]
    smol = LocalnetSpec(miners=2, model="smollm2")
    assert miner_models(smol, code) == ["smollm2", "variant-reference"]
    subnets = genesis_json(spec)["modules"]["moderntensor"]["subnets"]
    assert [s["netuid"] for s in subnets] == [1, 2, 3, 4]
    assert sum(s["weight"] for s in subnets) == 10**9
    assert all(s["params"]["tempo"] == 7 and s["params"]["minScore"] == 250_000_000
               for s in subnets)
    with pytest.raises(ValueError, match="validators"):
        LocalnetSpec(validators=10)


def test_dev_node_tempo_flag(tmp_path: Path) -> None:
    from chain_support import running_node

    with running_node(tmp_path / "node", extra=("--tempo", "5")) as node:
        assert node.rpc("mt_getEpochInfo", 1)["tempo"] == 5
        assert node.rpc("mt_getSubnet", 3)["params"]["tempo"] == 5


def test_up_with_the_code_subnet_refuses_before_starting_anything_without_bubblewrap(
        tmp_path: Path) -> None:
    data_dir = tmp_path / "ln"
    done = subprocess.run([*CLI, "localnet", "up", *SMALL, "--subnets", "3", "--detach",
                           "--data-dir", str(data_dir)], capture_output=True, text=True,
                          timeout=120, check=False, env={**os.environ, "PATH": str(tmp_path)})
    assert done.returncode != 0
    assert "sandbox_unavailable" in done.stderr and "install bubblewrap" in done.stderr
    assert "--unsafe-code-sandbox" in done.stderr and "Traceback" not in done.stderr
    assert LocalnetState.load(data_dir) is None    # no process was started, nothing recorded


def test_the_live_table_says_how_miners_code_is_isolated() -> None:
    view = {"url": "http://127.0.0.1:1", "block": 1, "dataDir": "/x", "subnets": [],
            "sandbox": "UNSAFE (--unsafe-code-sandbox): no bubblewrap"}
    console = Console(width=200, record=True)
    console.print(render(view))
    assert "miners' code runs in: UNSAFE (--unsafe-code-sandbox)" in console.export_text()
