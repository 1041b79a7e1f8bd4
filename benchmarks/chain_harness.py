"""Shared pieces of the chain benchmarks: a node process, a raw keep-alive HTTP load generator."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

NODE_CMD = [sys.executable, "-c", "from moderntensor.cli.main import run; run()", "node", "start"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Node:
    proc: subprocess.Popen
    port: int
    url: str

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def pids(self) -> list[int]:
        """The node's process and its children (the sender-recovery workers, once started)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return [self.proc.pid, *map(int, children.split())]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_node(block_time: float = 1.0, extra: tuple[str, ...] = (),
               log: Path | None = None) -> Node:
    """A dev node on a free port; its output goes to ``log`` when given, else nowhere."""
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="luxtensor-bench-"))
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        [*NODE_CMD, "--dev", "--data-dir", str(data_dir), "--rpc-port", str(port),
         "--block-time", str(block_time), *extra],
        stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return Node(proc, port, url)
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("node did not start")


def rpc(url: str, method: str, *params: object) -> object:
    body = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                 "params": list(params)}, timeout=30).json()
    if "error" in body:
        raise RuntimeError(body["error"])
    return body["result"]


async def hammer(port: int, body: bytes, seconds: float, connections: int) -> int:
    """Send ``body`` as fast as possible on ``connections`` keep-alive connections; count
    answered requests. A minimal HTTP/1.1 client, so the load generator costs little CPU."""
    request = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    deadline = time.monotonic() + seconds
    counts = [0] * connections

    async def worker(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            payload = await reader.readexactly(length)
            if b'"error"' in payload:
                raise RuntimeError(payload[:200])
            counts[index] += 1
        writer.close()

    await asyncio.gather(*(worker(i) for i in range(connections)))
    return sum(counts)


def _hammer_process(args: tuple[int, bytes, float, int]) -> int:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(hammer(*args))


def hammer_processes(port: int, body: bytes, seconds: float, connections: int,
                     processes: int = 2) -> int:
    """:func:`hammer` from several processes, so one client core is not the bottleneck."""
    from multiprocessing import Pool

    with Pool(processes) as pool:
        per = max(connections // processes, 1)
        return sum(pool.map(_hammer_process, [(port, body, seconds, per)] * processes))


def jsonrpc_body(method: str, params: list, batch: int = 0) -> bytes:
    if not batch:
        return json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                           "params": params}).encode()
    return json.dumps([{"jsonrpc": "2.0", "id": i, "method": method, "params": params}
                       for i in range(batch)]).encode()
