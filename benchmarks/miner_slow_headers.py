"""Slowloris against a real miner: 200 connections that send their head one byte at a time,
while a validator's signed requests keep coming.

    python benchmarks/miner_slow_headers.py [--slow 200] [--seconds 12] [--rate 200]

Phase 1 (baseline): signed requests paced at ``--rate``/s over 4 keep-alive connections.
Phase 2: the same load while ``--slow`` connections (each from its own 127.0.1.x address, as
distinct attackers would be) trickle one header byte every 0.5 s. Prints the valid requests'
latency p50/p99 in both phases, and when the miner closed the slow connections against its
header timeout (the miner's default, 10 s, unless ``--header-timeout`` says otherwise).
Run it with ``PYTHONPATH`` pointing at an older source tree to see a miner without the limits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

from eth_account import Account

from miner_overhead import (
    check_one_signed_answer,
    drive,
    free_port,
    percentile,
    signed_requests,
    wait_listening,
)
from moderntensor.protocol.auth import KeySigner

TRICKLE_S = 0.5


async def slow_client(port: int, index: int, closed_at: list[float], started: float) -> None:
    """One attacker: a partial head, then a byte every TRICKLE_S until the server hangs up."""
    source = f"127.0.1.{index % 250 + 1}"
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(b"POST /v1/inference HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    try:
        while True:
            try:
                data = await asyncio.wait_for(reader.read(65536), TRICKLE_S)
            except asyncio.TimeoutError:
                writer.write(b"x")
                continue
            if not data:
                break
    except (ConnectionResetError, BrokenPipeError):
        pass
    closed_at[index] = time.monotonic() - started
    writer.close()


async def paced_load(port: int, signer: Any, miner: str, seconds: float, rate: float,
                     offset: int) -> list[float]:
    """Signed requests at ``rate``/s over 4 connections, signed one second ahead (nonces
    stay fresh); their latencies in ms."""
    latencies: list[float] = []
    per_second = int(rate)
    for second in range(int(seconds)):
        batch = signed_requests(signer, miner, per_second, offset + second * per_second)
        await drive(port, batch, 4, [], latencies, rate)
    return latencies


async def attacked_phase(port: int, signer: Any, miner: str, seconds: float, rate: float,
                         slow: int, give_up_s: float) -> tuple[list[float], list[float]]:
    """The paced load with ``slow`` attackers; attackers still open after ``give_up_s`` are
    dropped by us (their close time stays inf: the server never closed them)."""
    closed_at = [float("inf")] * slow
    started = time.monotonic()
    attackers = [asyncio.ensure_future(slow_client(port, i, closed_at, started))
                 for i in range(slow)]
    await asyncio.sleep(0.5)  # every attacker is connected and has sent part of its head
    latencies = await paced_load(port, signer, miner, seconds, rate, 10**6)
    await asyncio.wait(attackers, timeout=max(0.0, started + give_up_s - time.monotonic()))
    for attacker in attackers:
        attacker.cancel()
    return latencies, closed_at


def summary(latencies: list[float]) -> dict[str, float]:
    return {"requests": len(latencies), "p50_ms": round(percentile(latencies, 0.5), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2), "max_ms": round(max(latencies), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--header-timeout", type=float, default=None)
    args = parser.parse_args()
    validator, miner = Account.create(), Account.create()
    signer = KeySigner.wrap(validator)
    settings: dict[str, Any] = {}
    if args.header_timeout is not None:
        settings["header_timeout_s"] = args.header_timeout
    timeout_s = settings.get("header_timeout_s", 10.0)
    port = free_port()
    env = {**os.environ, "BENCH_MINER_KEY": miner.key.hex(), "BENCH_VALIDATOR": validator.address,
           "BENCH_MINER_SETTINGS": json.dumps(settings)}
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "miner_overhead.py")
    proc = subprocess.Popen([sys.executable, script, "--serve", str(port), "--fast"], env=env,
                            stderr=subprocess.DEVNULL)
    try:
        wait_listening(port)
        check_one_signed_answer(port, validator, miner.address)
        baseline = asyncio.run(paced_load(port, signer, miner.address, args.seconds,
                                          args.rate, 0))
        latencies, closed_at = asyncio.run(attacked_phase(
            port, signer, miner.address, args.seconds, args.rate, args.slow,
            give_up_s=timeout_s + 5))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(json.dumps({
        "slow_connections": args.slow, "header_timeout_s": timeout_s,
        "baseline_no_attack": summary(baseline),
        "under_attack": summary(latencies),
        "slow_connections_closed": sum(at != float("inf") for at in closed_at),
        "closed_after_s": {"first": round(min(closed_at), 2), "last": round(max(closed_at), 2)}
        if all(at != float("inf") for at in closed_at) else "not all within timeout + 5 s",
    }, indent=1))


if __name__ == "__main__":
    main()
