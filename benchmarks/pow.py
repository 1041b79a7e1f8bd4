"""Registration proof of work (protocol/pow.py): hashes/s and solve times at the dev difficulty.

    python benchmarks/pow.py [--solves 30] [--hashes 300000] [--workers 2]

Prints: raw keccak256 of the 94-byte preimage in a bare loop (the ceiling, baseline), the
solver's hashes/s on one core (``solve_pow`` with an unreachable difficulty and a hash budget),
the same with ``--workers`` processes, and the distribution of one-core solve times over
``--solves`` random challenges at ``DEV_POW_DIFFICULTY``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time

from eth_hash.auto import keccak

from moderntensor.protocol.pow import (
    DEV_POW_DIFFICULTY,
    PowNotFoundError,
    pow_prefix,
    solve_pow,
)

ADDRESS = "0x" + "ab" * 20


def raw_rate(hashes: int) -> float:
    prefix = pow_prefix(1337, 1, ADDRESS, b"\x01" * 32)
    start = time.perf_counter()
    for nonce in range(hashes):
        keccak(prefix + nonce.to_bytes(8, "big"))
    return hashes / (time.perf_counter() - start)


def solver_rate(hashes: int, workers: int) -> float:
    start = time.perf_counter()
    with contextlib.suppress(PowNotFoundError):
        solve_pow(chain_id=1337, netuid=1, address=ADDRESS, block_hash=b"\x01" * 32,
                  difficulty=2**250, max_hashes=hashes, workers=workers)
    return hashes / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--solves", type=int, default=30)
    parser.add_argument("--hashes", type=int, default=300_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"raw keccak loop (baseline):  {raw_rate(args.hashes):>10,.0f} hashes/s")
    print(f"solve_pow, 1 core:           {solver_rate(args.hashes, 1):>10,.0f} hashes/s")
    print(f"solve_pow, {args.workers} workers:        "
          f"{solver_rate(args.hashes * args.workers, args.workers):>10,.0f} hashes/s "
          "(includes process start-up)")
    times = []
    for i in range(args.solves):
        start = time.perf_counter()
        solve_pow(chain_id=1337, netuid=1, address=ADDRESS, block_hash=os.urandom(32),
                  difficulty=DEV_POW_DIFFICULTY)
        times.append(time.perf_counter() - start)
        del i
    times.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    print(f"dev difficulty {DEV_POW_DIFFICULTY} ({args.solves} solves, 1 core): "
          f"mean {statistics.mean(times):.2f} s, median {statistics.median(times):.2f} s, "
          f"p95 {p95:.2f} s, max {times[-1]:.2f} s")


if __name__ == "__main__":
    main()
