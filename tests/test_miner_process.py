"""Real miner processes on 127.0.0.1: the seed snippet, the CLI, graceful drain, --restart."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from miner_support import assert_error, assert_signed_by, envelope, free_port, post
from moderntensor.wallet import Wallet

pytestmark = pytest.mark.e2e

VALIDATOR = Account.create()
CLI = str(Path(sys.executable).parent / "moderntensor")
PASSWORD = "Tr0ub4dor-and-3"
TEXT = "text-generation"  # a registered task: a miner refuses tasks it does not serve

SEED_MINER = '''
from moderntensor import MinerServer


class TinyModel:  # the stand-in for a real model
    def generate(self, prompt):
        return f"echo: {prompt}"


def load():
    return TinyModel()


class MyMiner(MinerServer):
    def __init__(self):
        super().__init__()
        self.model = load()

    def inference(self, request):
        return {"output": self.model.generate(request.input), "latency_ms": request.elapsed_ms}
'''


@pytest.fixture
def miner_env(mt_home: Path) -> dict[str, str]:
    """A saved miner wallet and the environment the config rules read it from."""
    wallet = Wallet.create(num_words=12)
    wallet.save("miner", PASSWORD, home=mt_home, scrypt_n=2**12)
    return {**os.environ, "MT_HOME": str(mt_home), "MT_WALLET": "miner",
            "MT_WALLET_PASSWORD": PASSWORD, "MT_NETUID": "1", "MT_MINER_ALLOW": VALIDATOR.address,
            "MINER_ADDRESS": wallet.address}


@contextlib.contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)


def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90  # a process start is seconds; more on a busy shared box
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise AssertionError("miner never became ready:\n" + log.read_text())


def test_the_seed_snippet_runs_as_written(tmp_path: Path, miner_env: dict[str, str]) -> None:
    port = free_port()  # the snippet's 5000 may be taken on a shared machine; nothing else changes
    script = tmp_path / "seed_miner.py"
    script.write_text(SEED_MINER + f"\nMyMiner().run(port={port})\n")
    base = f"http://127.0.0.1:{port}"
    with process([sys.executable, str(script)], miner_env, tmp_path / "miner.log") as proc:
        wait_ready(base, proc, tmp_path / "miner.log")
        with httpx.Client() as http:
            response = post(http, base, VALIDATOR, miner_env["MINER_ADDRESS"],
                            envelope({"prompt": "hi"}, task=TEXT))
        assert response.status_code == 200, response.text
        assert response.json()["output"] == "echo: {'prompt': 'hi'}"
        assert_signed_by(response, int(response.request.headers["X-MT-Nonce"]),
                         miner_env["MINER_ADDRESS"], VALIDATOR.address)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    log = (tmp_path / "miner.log").read_text()
    assert PASSWORD not in log  # the wallet password is never logged


SLOW_MINER = SEED_MINER + '''

import time


class SlowMiner(MinerServer):
    def inference(self, request):
        time.sleep(1.0)
        return "finished"


if __name__ == "__main__":
    raise SystemExit("started by `moderntensor miner start`, not run directly")
'''


def test_cli_start_serves_and_sigterm_drains_in_flight(tmp_path: Path,
                                                       miner_env: dict[str, str]) -> None:
    script = tmp_path / "slow_miner.py"
    script.write_text(SLOW_MINER)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**miner_env, "MT_NETUID": ""}  # --subnet below must be what sets it
    argv = [CLI, "miner", "start", f"{script}:SlowMiner", "--port", str(port), "--subnet", "7"]
    with process(argv, env, tmp_path / "miner.log") as proc:
        wait_ready(base, proc, tmp_path / "miner.log")
        results: list[httpx.Response] = []
        with httpx.Client(timeout=10) as http:
            wrong = post(http, base, VALIDATOR, miner_env["MINER_ADDRESS"],
                         envelope({"prompt": "x"}, task=TEXT, netuid=1))
            assert_error(wrong, 400, "wrong_subnet")  # --subnet 7 took effect
            in_flight = threading.Thread(target=lambda: results.append(post(
                http, base, VALIDATOR, miner_env["MINER_ADDRESS"],
                envelope({"prompt": "x"}, task=TEXT, netuid=7))))
            in_flight.start()
            time.sleep(0.4)  # the request is inside the model now
            proc.send_signal(signal.SIGTERM)
            in_flight.join(timeout=10)
        assert results and results[0].status_code == 200, results
        assert results[0].json()["output"] == "finished"
        assert proc.wait(timeout=15) == 0


CRASHY_MINER = '''
import os
from pathlib import Path

from moderntensor import MinerServer


class Crashy(MinerServer):
    """Crashes on its first start (a bad GPU init, say), serves on the second."""

    def __init__(self):
        marker = Path(os.environ["CRASH_MARKER"])
        if not marker.exists():
            marker.write_text("crashed once")
            raise RuntimeError("simulated crash at startup")
        super().__init__()

    def inference(self, request):
        return request.input
'''


def test_restart_brings_a_crashed_miner_back(tmp_path: Path, miner_env: dict[str, str]) -> None:
    script = tmp_path / "crashy.py"
    script.write_text(CRASHY_MINER)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**miner_env, "CRASH_MARKER": str(tmp_path / "marker")}
    argv = [CLI, "miner", "start", f"{script}:Crashy", "--port", str(port), "--restart",
            "--restart-delay", "0.1"]
    log = tmp_path / "supervisor.log"
    with process(argv, env, log) as proc:
        wait_ready(base, proc, log)
        assert (tmp_path / "marker").exists()
        assert "restarting in" in log.read_text()
        with httpx.Client() as http:
            back = post(http, base, VALIDATOR, miner_env["MINER_ADDRESS"],
                        envelope({"prompt": "back"}, task=TEXT))
            assert back.json()["output"] == {"prompt": "back"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    with pytest.raises(httpx.HTTPError):
        httpx.get(base + "/health", timeout=1)  # the child went down with the supervisor
