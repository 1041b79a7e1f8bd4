"""Helpers for chain tests: real node processes on 127.0.0.1 free ports, always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account

from moderntensor.chain.genesis import DEV_CHAIN_ID, dev_accounts

DEV = dev_accounts()
NODE_CMD = [sys.executable, "-c", "from moderntensor.cli.main import run; run()", "node", "start"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class NodeProcess:
    proc: subprocess.Popen
    url: str
    data_dir: Path
    log_path: Path

    def rpc(self, method: str, *params: Any) -> Any:
        body = httpx.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                          "params": list(params)}, timeout=10).json()
        if "error" in body:
            raise AssertionError(f"{method} failed: {body['error']}")
        return body["result"]

    def rpc_batch(self, method: str, params_list: list[list[Any]]) -> list[Any]:
        """One HTTP request, many calls; results in order (raises on any error)."""
        payload = [{"jsonrpc": "2.0", "id": i, "method": method, "params": params}
                   for i, params in enumerate(params_list)]
        body = httpx.post(self.url, json=payload, timeout=30).json()
        by_id = {item["id"]: item for item in body}
        errors = [item["error"] for item in body if "error" in item]
        if errors:
            raise AssertionError(f"{method} failed: {errors[:3]}")
        return [by_id[i]["result"] for i in range(len(params_list))]

    def raw(self, payload: Any) -> httpx.Response:
        return httpx.post(self.url, json=payload, timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=5)

    def wait_for_block(self, number: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while int(self.rpc("eth_blockNumber"), 16) < number:
            if time.monotonic() > deadline:
                raise AssertionError(f"block {number} not reached in {timeout}s")
            time.sleep(0.05)


def start_node(data_dir: Path, *, block_time: float = 0.2, dev: bool = True,
               extra: tuple[str, ...] = (), env: dict[str, str] | None = None,
               node_cmd: tuple[str, ...] = tuple(NODE_CMD)) -> NodeProcess:
    port = free_port()
    args = [*node_cmd, "--data-dir", str(data_dir), "--rpc-port", str(port),
            "--block-time", str(block_time), *extra]
    if dev:
        args.append("--dev")
    log_path = data_dir.parent / f"node-{port}.log"
    log_file = log_path.open("w")
    proc = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    node = NodeProcess(proc, f"http://127.0.0.1:{port}", data_dir, log_path)
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"node exited with {proc.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{node.url}/health", timeout=1).status_code == 200:
                return node
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            node.stop()
            raise AssertionError(f"node did not start:\n{log_path.read_text()}")
        time.sleep(0.1)


@contextmanager
def running_node(data_dir: Path, **kwargs: Any) -> Iterator[NodeProcess]:
    node = start_node(data_dir, **kwargs)
    try:
        yield node
    finally:
        node.stop()


def sign_transfer(index: int, to: str, value: int, nonce: int, *, gas_price: int = 2 * 10**9,
                  eip1559: bool = False, chain_id: int = DEV_CHAIN_ID) -> bytes:
    tx: dict[str, Any] = {"to": to, "value": value, "gas": 21_000, "nonce": nonce,
                          "chainId": chain_id}
    if eip1559:
        tx.update(maxFeePerGas=gas_price, maxPriorityFeePerGas=gas_price // 2)
    else:
        tx["gasPrice"] = gas_price
    return bytes(Account.sign_transaction(tx, DEV[index].private_key).raw_transaction)
