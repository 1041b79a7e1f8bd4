"""`localnet up` to first reward, phase by phase; and (``--scale``) a big localnet's block time.

    python benchmarks/localnet_startup.py             # 4 echo-grade miners, 2 validators
    python benchmarks/localnet_startup.py --scale     # manual: 64 miners, 4 validators, 3 epochs

Default run: the README's `moderntensor localnet up` settings (1 s blocks, tempo 20), timed
per phase until the chain pays the first miner reward (target < 60 s). ``--scale`` then keeps
the network running for ``--epochs`` more epochs, watching every new block (50 ms polling) to
report block-time drift, and reads each process's CPU seconds from /proc.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from moderntensor.localnet import Localnet, LocalnetSpec

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (and its reaped children), from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLOCK_TICKS


def head(url: str) -> int:
    body = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber",
                                 "params": []}, timeout=5).json()
    return int(body["result"], 16)


def watch_blocks(url: str, blocks: int) -> list[float]:
    """Wall-clock gaps between consecutive new heads over ``blocks`` blocks."""
    seen: list[float] = []
    last = head(url)
    while len(seen) <= blocks:
        number = head(url)
        if number != last:
            seen.append(time.monotonic())
            last = number
        time.sleep(0.05)
    return [b - a for a, b in itertools.pairwise(seen)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="store_true", help="64 miners, 4 validators")
    parser.add_argument("--miners", type=int)
    parser.add_argument("--validators", type=int)
    parser.add_argument("--block-time", type=float, default=1.0)
    parser.add_argument("--tempo", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=3, help="--scale: epochs to watch")
    args = parser.parse_args()
    miners = args.miners or (64 if args.scale else 4)
    validators = args.validators or (4 if args.scale else 2)
    spec = LocalnetSpec(miners=miners, validators=validators, block_time=args.block_time,
                        tempo=args.tempo, min_score=0.55)
    print(f"localnet: {miners} miners, {validators} validators, {args.block_time:g} s blocks, "
          f"tempo {args.tempo}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="mt-localnet-bench-") as tmp:
        net = Localnet(spec, Path(tmp), on_phase=lambda name, s: print(f"  {name:<22}{s:7.2f} s"))
        started = time.monotonic()
        try:
            net.up()
            net.wait_first_reward(timeout=300)
            print(f"  {'up -> first reward':<22}{time.monotonic() - started:7.2f} s "
                  "(target < 60 s with echo miners)")
            if args.scale:
                scale_report(net, args.tempo * args.epochs)
        finally:
            survivors = net.stop()
            print(f"stopped; surviving process groups: {survivors or 'none'}")


def scale_report(net: Localnet, blocks: int) -> None:
    pids = {p.pid: p.role for p in net.state.processes}
    cpu_before = {pid: cpu_seconds(pid) for pid in pids}
    wall_before = time.monotonic()
    gaps = watch_blocks(net.url, blocks)
    wall = time.monotonic() - wall_before
    used: dict[str, float] = {}
    for pid, role in pids.items():
        used[role] = used.get(role, 0.0) + cpu_seconds(pid) - cpu_before[pid]
    target = net.spec.block_time
    print(f"  {len(gaps)} block intervals: mean {statistics.mean(gaps):.3f} s, "
          f"p50 {statistics.median(gaps):.3f} s, max {max(gaps):.3f} s "
          f"(target {target:g} s; drift {statistics.mean(gaps) / target - 1:+.1%})")
    total = sum(used.values())
    print(f"  CPU over {wall:.0f} s: {total / wall:.2f} cores in all; "
          + ", ".join(f"{role} {seconds / wall:.2f}" for role, seconds in sorted(used.items())))


if __name__ == "__main__":
    main()
