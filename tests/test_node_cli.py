"""`moderntensor node init|start|status` as a person runs them."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from chain_support import DEV, free_port, running_node

CLI = [sys.executable, "-c", "from moderntensor.cli.main import run; run()", "node"]
FUNDED = "0x000000000000000000000000000000000000F00D"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, check=False)


def test_init_then_start_uses_the_genesis_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "chain"
    done = cli("init", "--data-dir", str(data_dir), "--chain-id", "4242",
               "--alloc", f"{FUNDED}=12.5", "--dev-accounts", "--coinbase", FUNDED,
               "--min-base-fee", "7")
    assert done.returncode == 0, done.stderr
    genesis = json.loads((data_dir / "genesis.json").read_text())
    assert genesis["chainId"] == 4242
    assert (genesis["minBaseFee"], genesis["coinbase"]) == ("7", FUNDED)
    again = cli("init", "--data-dir", str(data_dir), "--chain-id", "1")
    assert again.returncode == 1 and "--force" in again.stderr
    with running_node(data_dir, dev=False, block_time=0.5) as node:
        assert node.rpc("eth_chainId") == hex(4242)
        assert node.rpc("eth_getBalance", FUNDED, "latest") == hex(125 * 10**17)
        assert node.rpc("eth_getBalance", DEV[0].address, "latest") == hex(10_000 * 10**18)
        status = cli("status", "--rpc", node.url, "--json")
        assert status.returncode == 0, status.stderr
        info = json.loads(status.stdout)
        assert info["chain_id"] == 4242 and info["syncing"] is False and info["peers"] == 0


def test_start_without_genesis_says_how_to_create_one(tmp_path: Path) -> None:
    done = cli("start", "--data-dir", str(tmp_path / "empty"), "--rpc-port", "1")
    assert done.returncode == 1
    assert "invalid_genesis" in done.stderr and "node init" in done.stderr


def test_start_on_a_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    with running_node(tmp_path / "first") as node:
        port = node.url.rsplit(":", 1)[1]
        done = cli("start", "--dev", "--data-dir", str(tmp_path / "second"), "--rpc-port", port)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "[cli_error]" in done.stderr and "--rpc-port" in done.stderr
    assert "Dev accounts" not in done.stdout  # refused before anything is printed


def test_status_of_no_node_is_a_clear_error() -> None:
    done = cli("status", "--rpc", "http://127.0.0.1:9")
    assert done.returncode == 1
    assert "node_unreachable" in done.stderr


def test_bad_alloc_is_rejected(tmp_path: Path) -> None:
    done = cli("init", "--data-dir", str(tmp_path), "--chain-id", "5", "--alloc", "nope=1")
    assert done.returncode == 1 and "ADDRESS=MDT" in done.stderr
    done = cli("init", "--data-dir", str(tmp_path), "--chain-id", "5", "--coinbase", "0x12")
    assert done.returncode == 1 and "coinbase" in done.stderr


def test_sigterm_stops_a_dev_node_cleanly(tmp_path: Path) -> None:
    """SIGTERM: exit 0 after the DB is closed, and a --dev temp data dir is removed."""
    port = str(free_port())
    proc = subprocess.Popen([*CLI, "start", "--dev", "--rpc-port", port], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "node stopped" in out
    data_dir = re.search(r"/\S*luxtensor-dev-\w+", out)
    assert data_dir and not Path(data_dir.group(0)).exists()
