"""One validator round against many echo miners: round time, overhead, requests per second.

    python benchmarks/validator_round.py [--miners 256] [--challenges 1] [--rounds 5]
                                         [--delay 0.0] [--no-uvloop]

A child process hosts ``--miners`` echo miners on as many ports of 127.0.0.1 (one uvicorn
server, one socket per miner, each miner its own key). Each miner does what MinerServer's
hot path does cryptographically: verifies the mtauth/1 request signature and signs its answer,
after sleeping ``--delay`` seconds (the "model"). The validator (this process) runs full
rounds: plan, sign, send, measure, verify, score, store, weights. The round's overhead is its
wall time minus the slowest miner's latency as the miner sees it (``--delay``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

from moderntensor.protocol.auth import ReplayCache, sign_response, verify_request
from moderntensor.subnets.base import Challenge, ReferenceModel, TaskSuite
from moderntensor.validator import MinerEndpoint, StaticChainView, SubnetSettings, Validator
from moderntensor.wallet import Wallet


def miner_wallet(index: int) -> Wallet:
    return Wallet.from_private_key(hashlib.sha256(f"bench-miner-{index}".encode()).digest())


class EchoSuite(TaskSuite):
    """Echo task: any well-formed, signed answer is right (the benchmark measures transport)."""

    task_type: ClassVar[str] = "echo"
    tasks: ClassVar[tuple[str, ...]] = ("echo",)
    latency_target_s: ClassVar[float] = 1.0
    timeout_s: ClassVar[float] = 10.0
    input_model = None  # type: ignore[assignment]
    output_model = None  # type: ignore[assignment]

    def make_challenge(self, rng: random.Random) -> Challenge:
        return Challenge(task="echo", input={"text": f"{rng.getrandbits(64):016x}"})

    def accuracy(self, challenge: Challenge, output: Any) -> float:
        return 1.0 if output == challenge.input else 0.0

    def consistency(self, a: Any, b: Any) -> float:
        return 1.0 if a == b else 0.0

    def reference_models(self) -> dict[str, type[ReferenceModel]]:
        return {}


# -- the miners' process --------------------------------------------------------------------
def serve(count: int, delay: float) -> None:
    import uvicorn

    sockets, wallets = [], {}
    for index in range(count):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sockets.append(sock)
        wallets[sock.getsockname()[1]] = miner_wallet(index)
    cache = ReplayCache()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        wallet = wallets[scope["server"][1]]
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        verified = verify_request(headers, "POST", scope["path"], body,
                                  receiver=wallet.address, replay_cache=cache)
        if delay:
            await asyncio.sleep(delay)
        content = json.dumps({"output": json.loads(body)["input"], "latency_ms": 0}).encode()
        signed = sign_response(wallet, content, request_nonce=verified.nonce,
                               validator=verified.sender)
        out = [(b"content-type", b"application/json")]
        out += [(k.lower().encode(), v.encode()) for k, v in signed.items()]
        await send({"type": "http.response.start", "status": 200, "headers": out})
        await send({"type": "http.response.body", "body": content})

    config = uvicorn.Config(app, loop="uvloop", http="httptools", access_log=False,
                            log_config=None, lifespan="off", backlog=2048)
    print(json.dumps([[port, w.address] for port, w in wallets.items()]), flush=True)
    uvicorn.Server(config).run(sockets=sockets)


# -- the validator ----------------------------------------------------------------------------
def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bench(miners: list[MinerEndpoint], args: argparse.Namespace,
                miners_pid: int) -> list[dict[str, Any]]:
    info = SubnetSettings(netuid=1, task_type="echo", weights_rate_limit=0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        validator = Validator(Wallet.create(num_words=12), StaticChainView(miners, info),
                              suite=EchoSuite(), store=Path(tmp) / "bench.sqlite",
                              challenges_per_miner=args.challenges,
                              repeat_share=0.25 if args.challenges > 1 else 0.0,
                              concurrency=args.concurrency)
        async with validator:
            for number in range(args.rounds):
                cpu, miners_cpu = time.process_time(), process_cpu_s(miners_pid)
                report = await validator.run_round()
                cpu = time.process_time() - cpu
                miners_cpu = process_cpu_s(miners_pid) - miners_cpu
                requests = sum(report.outcomes.values())
                latencies = [m.latency_s for m in report.miners if m.latency_s is not None]
                rows.append({
                    "round": number + 1, "round_s": report.duration_s,
                    "query_s": report.query_s, "requests": requests,
                    "ok": report.outcomes.get("ok", 0), "outcomes": dict(report.outcomes),
                    "overhead_s": report.duration_s - args.delay,
                    "req_per_s": requests / report.duration_s,
                    "max_latency_s": max(latencies, default=float("nan")),
                    "validator_cpu_ms_per_request": 1000 * cpu / max(requests, 1),
                    "validator_cpu_s": cpu, "miners_cpu_s": miners_cpu,
                })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--miners", type=int, default=256)
    parser.add_argument("--challenges", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=1024)
    parser.add_argument("--no-uvloop", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.miners, args.delay)
        return
    child = subprocess.Popen([sys.executable, __file__, "--serve", "--miners", str(args.miners),
                              "--delay", str(args.delay)], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None
        listing = json.loads(child.stdout.readline())
        time.sleep(0.5)
        miners = [MinerEndpoint(uid, address, "127.0.0.1", port)
                  for uid, (port, address) in enumerate(listing)]
        if args.no_uvloop:
            rows = asyncio.run(bench(miners, args, child.pid))
        else:
            import uvloop

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                rows = runner.run(bench(miners, args, child.pid))
    finally:
        child.terminate()
        child.wait(timeout=10)
    warm = rows[1:] or rows
    summary = {
        "miners": args.miners, "challenges_per_miner": args.challenges, "delay_s": args.delay,
        "uvloop": not args.no_uvloop, "rounds": rows,
        "cold_round_s": rows[0]["round_s"],
        "warm_round_s_median": statistics.median(r["round_s"] for r in warm),
        "warm_overhead_s_max": max(r["overhead_s"] for r in warm),
        "warm_req_per_s_median": statistics.median(r["req_per_s"] for r in warm),
        "warm_cpu_ms_per_request_median": statistics.median(
            r["validator_cpu_ms_per_request"] for r in warm),
        "all_ok": all(r["ok"] == r["requests"] for r in rows),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for r in rows:
        print(f"round {r['round']}: {r['round_s']:.3f} s ({r['requests']} requests, "
              f"{r['outcomes']}, {r['req_per_s']:.0f} req/s, overhead {r['overhead_s']:.3f} s, "
              f"slowest measured {r['max_latency_s']:.3f} s, "
              f"CPU: validator {r['validator_cpu_s']:.3f} s "
              f"({r['validator_cpu_ms_per_request']:.2f} ms/request), "
              f"miners {r['miners_cpu_s']:.3f} s)")
    print(f"warm median {summary['warm_round_s_median']:.3f} s, "
          f"max overhead {summary['warm_overhead_s_max']:.3f} s, "
          f"{summary['warm_req_per_s_median']:.0f} req/s, "
          f"{summary['warm_cpu_ms_per_request_median']:.2f} ms validator CPU/request; "
          f"all ok: {summary['all_ok']}")


if __name__ == "__main__":
    main()
