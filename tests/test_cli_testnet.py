"""``moderntensor testnet up|status|down`` and ``node start --consensus`` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from localnet_support import wait_for
from moderntensor.chain.abci.home import find_binary
from moderntensor.localnet.processes import CLI, live_groups


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout,
                          env=env, check=False)


def test_testnet_status_without_a_testnet_says_how_to_start_one(tmp_path: Path) -> None:
    done = cli("testnet", "status", "--data-dir", str(tmp_path / "none"))
    assert done.returncode != 0
    assert "testnet up" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_node_start_refuses_an_unknown_consensus_engine(tmp_path: Path) -> None:
    done = cli("node", "start", "--dev", "--consensus", "paxos")
    assert done.returncode != 0
    assert "embedded or cometbft" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_testnet_up_without_cometbft_names_the_install_command(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
           "GOPATH": str(tmp_path / "nogo"), "GOBIN": str(tmp_path / "nogo" / "bin")}
    done = cli("testnet", "up", "--nodes", "2", "--data-dir", str(tmp_path / "tn"), env=env)
    assert done.returncode != 0
    output = done.stderr + done.stdout
    assert "go install github.com/cometbft/cometbft/cmd/cometbft@v0.38.17" in output
    assert "Traceback" not in done.stderr


@pytest.mark.e2e
@pytest.mark.skipif(find_binary() is None and os.environ.get("MT_REQUIRE_COMETBFT") != "1",
                    reason="cometbft binary not installed")
def test_testnet_up_status_down_leaves_no_process_behind(tmp_path: Path) -> None:
    data_dir = tmp_path / "tn"
    up = cli("testnet", "up", "--nodes", "2", "--block-time", "0.2", "--data-dir", str(data_dir))
    assert up.returncode == 0, up.stderr
    try:
        rows = json.loads(cli("testnet", "status", "--json", "--data-dir", str(data_dir)).stdout)
        assert [r["running"] for r in rows] == [True, True]
        assert all(r["height"] >= 1 and r["peers"] == 1 for r in rows)
        health = wait_for(lambda: _health_with_peers(rows[0]["url"]), 15, "node0's peer count")
        assert health["syncing"] is False
    finally:
        down = cli("testnet", "down", "--data-dir", str(data_dir))
    assert down.returncode == 0, down.stderr
    assert not set(live_groups()) & {r["pid"] for r in rows}


def _health_with_peers(url: str) -> dict | None:
    health = httpx.get(f"{url}/health", timeout=5).json()
    return health if health["peers"] == 1 else None
