"""Replicas and reachability: copies of one miner share a port and a replay memory, and a
miner behind a forwarded port is reached where it says it is."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chain_support import free_port, running_node
from miner_support import FAST_LIMITS, envelope, serving_config, signed_headers
from moderntensor.client import AsyncLuxtensorClient, LuxtensorClient
from moderntensor.miner.reference import ReferenceMiner
from moderntensor.miner.replay_store import SharedReplayStore
from moderntensor.miner.runner import TlsFiles, uvicorn_config
from moderntensor.protocol.messages import INFERENCE_PATH
from moderntensor.validator import ClientChainView, Validator
from moderntensor.wallet import Wallet

DEV_MNEMONIC = "test test test test test test test test test test test junk"
VALIDATOR = Wallet.from_mnemonic(DEV_MNEMONIC, account_index=5)
PASSWORD = "replica-pw"


def test_two_stores_on_one_file_accept_a_nonce_once(tmp_path: Path) -> None:
    one = SharedReplayStore(tmp_path / "replay.sqlite", max_age_ns=10**10)
    two = SharedReplayStore(tmp_path / "replay.sqlite", max_age_ns=10**10)
    assert one.claim("0xabc", 42) and not two.claim("0xabc", 42) and two.seen("0xabc", 42)
    assert two.claim("0xabc", 43) and two.claim("0xdef", 42)
    assert (tmp_path / "replay.sqlite").stat().st_mode & 0o777 == 0o600


def register(url: str, miner: Wallet) -> None:
    with LuxtensorClient(url) as client:
        client.register_validator(1, 200, wallet=VALIDATOR)
        client.register_miner(1, {"name": "smollm2", "type": "text-generation"}, wallet=miner)


def wait_for_endpoint(url: str, miner: Wallet, port: int) -> None:
    deadline = time.monotonic() + 30
    with LuxtensorClient(url) as client:
        while True:
            endpoint = client.get_neuron(1, miner.address).endpoint
            if endpoint is not None and endpoint.port == port:
                return
            assert time.monotonic() < deadline, "the miner never published its endpoint"
            time.sleep(0.2)


def validator_rounds(url: str, store: Path, rounds: int, between: object = None) -> list:
    async def main() -> list:
        reports = []
        async with AsyncLuxtensorClient(url, wallet=VALIDATOR) as client, \
                Validator(VALIDATOR, ClientChainView(client, 1), store=store) as validator:
            for index in range(rounds):
                if index == 1 and callable(between):
                    between()
                reports.append(await validator.run_round())
        return reports
    return asyncio.run(main())


@contextlib.contextmanager
def replica(home: Path, url: str, port: int, log: Path) -> Iterator[subprocess.Popen]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MT_")},
           "MT_HOME": str(home), "MT_WALLET_PASSWORD": PASSWORD, "MT_NETWORK": url}
    process = subprocess.Popen(
        [sys.executable, "-m", "moderntensor.cli", "miner", "start", "--reference", "text",
         "--model", "smollm2", "--port", str(port), "--replica", "--netuid", "1"],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_ready(port: int, logs: list[Path]) -> None:
    """Until every replica logged that it listens and the shared port answers ready."""
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline, [log.read_text() for log in logs]
        listening = all("listening on" in log.read_text() for log in logs if log.exists())
        with contextlib.suppress(httpx.HTTPError), httpx.Client() as http:
            ready = http.get(f"http://127.0.0.1:{port}/health").json()["status"] == "ready"
            if listening and ready:
                return
        time.sleep(0.1)


@pytest.mark.e2e
def test_a_miner_keeps_availability_while_one_of_two_replicas_is_killed(tmp_path: Path) -> None:
    miner = Wallet.create(num_words=12)
    miner.save("default", PASSWORD, home=tmp_path / "home", scrypt_n=2**10)
    port = free_port()
    with running_node(tmp_path / "node", block_time=0.2) as node, \
            replica(tmp_path / "home", node.url, port, tmp_path / "a.log") as first, \
            replica(tmp_path / "home", node.url, port, tmp_path / "b.log"):
        node.wait_for_block(1)
        register(node.url, miner)
        wait_ready(port, [tmp_path / "a.log", tmp_path / "b.log"])
        wait_for_endpoint(node.url, miner, port)

        # a request answered by one replica is refused by both as a replay
        body = envelope({"prompt": "What is 2 + 3?"}, task="text-generation")
        for _ in range(6):
            headers = signed_headers(VALIDATOR.account, miner.address, body)
            answers = []
            for _ in range(2):   # two fresh connections: the kernel may pick either replica
                with httpx.Client() as http:
                    answers.append(http.post(f"http://127.0.0.1:{port}{INFERENCE_PATH}",
                                             content=body, headers=headers))
            assert answers[0].status_code == 200, answers[0].text
            assert answers[1].status_code == 401 and "replayed_nonce" in answers[1].text

        def kill_first() -> None:
            os.killpg(first.pid, signal.SIGKILL)
            # until it is gone its listening socket still takes its share of connections
            first.wait(timeout=10)

        reports = validator_rounds(node.url, tmp_path / "v.sqlite", 4, between=kill_first)
        for report in reports:
            (verdict,) = report.miners
            assert verdict.score.availability == 1.0, (report.round, verdict.outcomes)


def forward(listen_port: int, target_port: int) -> threading.Event:
    """A port-forwarding shim on 127.0.0.1 (as NAT or a cloud GPU host would do)."""
    stop = threading.Event()
    server = socket.create_server(("127.0.0.1", listen_port))
    server.settimeout(0.2)

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def accept() -> None:
        with server:
            while not stop.is_set():
                try:
                    client, _ = server.accept()
                except TimeoutError:
                    continue
                upstream = socket.create_connection(("127.0.0.1", target_port))
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return stop


def test_validators_reach_a_miner_at_its_external_port(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MT_MINER_ALLOW", raising=False)
    miner = Wallet.create(num_words=12)
    bound, published = free_port(), free_port()
    with running_node(tmp_path / "node", block_time=0.2) as node:
        node.wait_for_block(1)
        register(node.url, miner)
        model = ReferenceMiner("text", "smollm2", wallet=miner.account, netuid=1,
                                network=node.url, **FAST_LIMITS)
        app = model.build_app(public_host="127.0.0.1", port=published)
        config = uvicorn_config(app, host="127.0.0.1", port=bound, fast=False, grace_s=1.0,
                                edges=model.settings.edge_limits())
        stop = forward(published, bound)
        try:
            with serving_config(config):
                wait_for_endpoint(node.url, miner, published)
                (report,) = validator_rounds(node.url, tmp_path / "v.sqlite", 1)
        finally:
            stop.set()
    (verdict,) = report.miners
    assert verdict.miner.url == f"http://127.0.0.1:{published}"
    assert verdict.outcomes == {"ok": verdict.queries} and verdict.score.availability == 1.0


def self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_a_miner_with_a_certificate_publishes_https_and_validators_use_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))   # the validator trusts this certificate
    miner = Wallet.create(num_words=12)
    port = free_port()
    with running_node(tmp_path / "node", block_time=0.2) as node:
        node.wait_for_block(1)
        register(node.url, miner)
        model = ReferenceMiner("text", "smollm2", wallet=miner.account, netuid=1,
                                network=node.url, **FAST_LIMITS)
        app = model.build_app(public_host="127.0.0.1", port=port, protocol="https")
        config = uvicorn_config(app, host="127.0.0.1", port=port, fast=False, grace_s=1.0,
                                edges=model.settings.edge_limits(),
                                tls=TlsFiles(str(cert), str(key)))
        with serving_config(config):
            wait_for_endpoint(node.url, miner, port)
            (report,) = validator_rounds(node.url, tmp_path / "v.sqlite", 1)
    (verdict,) = report.miners
    assert verdict.miner.url == f"https://127.0.0.1:{port}"
    assert verdict.outcomes == {"ok": verdict.queries}
