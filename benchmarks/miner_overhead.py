"""MinerServer overhead: signed requests/s and server-side time outside the model (echo model).

Starts a real miner process on 127.0.0.1 (echo model, Server-Timing on), then drives it from
this process with a lean keep-alive HTTP/1.1 client over several connections. Requests are
signed in chunks just before each chunk is sent (nonces stay fresh); only sending is timed, so
the client's signing does not count against the server. Reports, per mode (uvloop+httptools+
orjson on, then off): throughput, client latency p50/p99, server overhead p50/p99 (auth +
validation + dispatch + response signing, from the Server-Timing header), and the server's
RSS after warm-up and at the end.

    python benchmarks/miner_overhead.py                 # 20k requests per mode
    python benchmarks/miner_overhead.py --requests 100000 --modes fast
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from eth_account import Account

from moderntensor.protocol.auth import KeySigner, sign_request, verify_response
from moderntensor.protocol.messages import INFERENCE_PATH

OVERHEAD = re.compile(rb"overhead;dur=([0-9.]+)")
port_owner: dict[int, int] = {}  # port -> pid of the miner process serving it


def serve(port: int, fast: bool) -> None:
    """The miner process: an echo model, limits opened up for one busy validator."""
    from moderntensor.miner import MinerServer

    class EchoMiner(MinerServer):
        custom_tasks = ("echo",)

        def inference(self, request: Any) -> Any:
            return {"output": request.input, "latency_ms": request.elapsed_ms}

    overrides = json.loads(os.environ.get("BENCH_MINER_SETTINGS", "{}"))  # other benchmarks
    miner = EchoMiner(wallet=Account.from_key(os.environ["BENCH_MINER_KEY"]), netuid=1,
                      metagraph_source=[os.environ["BENCH_VALIDATOR"]], fast=fast,
                      rate_per_s=1e9, rate_burst=1e9, queue_size=1024, server_timing=True,
                      **overrides)
    miner.run(port=port)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (robust to neighbours, unlike wall time)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def signed_requests(validator: Any, miner: str, count: int, start: int) -> list[bytes]:
    raw = []
    for i in range(start, start + count):
        body = json.dumps({"subnet": 1, "task": "echo", "input": f"prompt {i}"}).encode()
        headers = sign_request(validator, "POST", INFERENCE_PATH, body, receiver=miner)
        lines = [f"POST {INFERENCE_PATH} HTTP/1.1", "Host: 127.0.0.1",
                 "Content-Type: application/json", f"Content-Length: {len(body)}",
                 *(f"{k}: {v}" for k, v in headers.items())]
        raw.append(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return raw


async def drive(port: int, requests: list[bytes], connections: int,
                overheads: list[float], latencies: list[float], rate: float | None = None
                ) -> float:
    """Send ``requests`` over ``connections`` keep-alive connections, as fast as answers come
    back or (with ``rate``) paced at that many requests/s in all; returns elapsed seconds."""
    queue = list(reversed(requests))
    started = time.perf_counter()
    interval = connections / rate if rate else 0.0

    async def connection(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        due = started + index * interval / connections
        while queue:
            if interval:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                due += interval
                if not queue:
                    break
            request = queue.pop()
            sent = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - sent) * 1000)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode())
            overheads.append(float(OVERHEAD.search(head).group(1)))
        writer.close()

    await asyncio.gather(*(connection(i) for i in range(connections)))
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1]


def run_phase(port: int, signer: Any, miner: str, total: int, connections: int, chunk: int,
              rate: float | None, offset: int, rss: list[int] | None = None) -> dict[str, Any]:
    overheads: list[float] = []
    latencies: list[float] = []
    elapsed = 0.0
    for start in range(0, total, chunk):
        batch = signed_requests(signer, miner, min(chunk, total - start), offset + start)
        elapsed += asyncio.run(drive(port, batch, connections, overheads, latencies, rate))
        if rss is not None:
            rss.append(rss_kib(port_owner[port]))
    return {"req_per_s": round(total / elapsed),
            "overhead_p50_ms": round(percentile(overheads, 0.5), 3),
            "overhead_p99_ms": round(percentile(overheads, 0.99), 3),
            "latency_p50_ms": round(percentile(latencies, 0.5), 3),
            "latency_p99_ms": round(percentile(latencies, 0.99), 3)}


def bench(fast: bool, total: int, connections: int, chunk: int, rate: float) -> dict[str, Any]:
    validator, miner = Account.create(), Account.create()
    signer = KeySigner.wrap(validator)  # cheap client-side signing leaves the CPU to the server
    port = free_port()
    env = {**os.environ, "BENCH_MINER_KEY": miner.key.hex(), "BENCH_VALIDATOR": validator.address}
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port),
                             "--fast" if fast else "--no-fast"], env=env,
                            stderr=subprocess.DEVNULL)
    try:
        wait_listening(port)
        check_one_signed_answer(port, validator, miner.address)
        run_phase(port, signer, miner.address, 2000, connections, chunk, None, 0)  # warm-up
        port_owner[port] = proc.pid
        rss_start = rss_kib(proc.pid)
        rss: list[int] = []
        cpu_start = cpu_seconds(proc.pid)
        saturated = run_phase(port, signer, miner.address, total, connections, chunk, None,
                              10**6, rss)
        saturated["server_cpu_us_per_request"] = round(
            (cpu_seconds(proc.pid) - cpu_start) / total * 1e6)
        paced = run_phase(port, signer, miner.address, max(2000, total // 5), 4, chunk, rate,
                          2 * 10**6)
        rss_end = rss_kib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"mode": "uvloop+httptools+orjson" if fast else "asyncio+h11+json",
            "requests": total, "saturated_16_conns": saturated,
            f"paced_{rate:g}_per_s": paced,
            "rss_mib": {"after_warmup": mib(rss_start), "quarter": mib(rss[len(rss) // 4]),
                        "half": mib(rss[len(rss) // 2]), "end_of_saturated": mib(rss[-1]),
                        "end": mib(rss_end)}}


def mib(kib: int) -> float:
    return round(kib / 1024, 1)


def wait_listening(port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def check_one_signed_answer(port: int, validator: Any, miner: str) -> None:
    """The benchmark measures the real thing: one answer is verified end to end."""
    import httpx

    body = b'{"subnet":1,"task":"echo","input":"check"}'
    headers = sign_request(validator, "POST", INFERENCE_PATH, body, receiver=miner)
    response = httpx.post(f"http://127.0.0.1:{port}{INFERENCE_PATH}", content=body,
                          headers={**headers, "Content-Type": "application/json"})
    response.raise_for_status()
    verify_response(response.headers, response.content,
                    request_nonce=int(headers["X-MT-Nonce"]), miner=miner,
                    validator=validator.address)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--chunk", type=int, default=2_000, help="requests signed per round")
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="requests/s of the paced phase (overhead at a steady load)")
    parser.add_argument("--modes", choices=["both", "fast", "plain"], default="both")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--fast", action=argparse.BooleanOptionalAction, default=True,
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.fast)
        return
    modes = {"both": [True, False], "fast": [True], "plain": [False]}[args.modes]
    for fast in modes:
        print(json.dumps(bench(fast, args.requests, args.connections, args.chunk, args.rate)),
              flush=True)


if __name__ == "__main__":
    main()
