"""Epoch computation (chain/modules/epoch_math.py) against a naive per-miner loop, in the same run.

    python benchmarks/epoch.py [--repeats 5] [--sizes 64x4096,256x16384]

For each size: random u16 weights (80% of entries set, the rest 0), stakes of 1-10^6 MDT,
then ``epoch_rewards`` (vectorised: one sort of the whole matrix, one matmul) timed over
``--repeats`` runs (min and median: on a shared machine the min is the cost, the median shows
the noise), and a per-miner Python loop over the same integer definition as the baseline,
whose scores and rewards must match exactly. The load average is printed for context.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from moderntensor.chain.modules.epoch_math import DEFAULT_KAPPA, epoch_rewards, stake_shares
from moderntensor.scoring import PPB, U16_MAX, split_rewards

MDT = 10**18
EMISSION = 1000 * MDT
SUBNET_WEIGHT = 150_000_000


def inputs(validators: int, miners: int, seed: int = 0) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    weights = rng.integers(0, U16_MAX + 1, size=(validators, miners), dtype=np.uint16)
    weights[rng.random((validators, miners)) < 0.2] = 0
    stakes = [int(s) * MDT for s in rng.integers(1, 10**6, size=validators)]
    return weights, stakes


def naive(weights: np.ndarray, stakes: list[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The same definition, one miner at a time (what a first implementation looks like)."""
    shares = stake_shares(stakes)
    total = int(shares.sum())
    threshold = DEFAULT_KAPPA * total // PPB
    scores = []
    for column in weights.T.astype(np.int64):
        order = np.argsort(-column, kind="stable")
        running = np.cumsum(shares[order])
        first = int(np.argmax(running > threshold))
        agreed = int(column[order[first]]) if running[first] > threshold else 0
        weighted = int(shares @ np.minimum(column, agreed))
        scores.append(weighted * PPB // (total * U16_MAX))
    return tuple(scores), split_rewards(EMISSION, scores, SUBNET_WEIGHT).rewards


def timed(fn, repeats: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--sizes", default="64x4096,256x16384")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'validators x miners':>20} {'epoch_rewards min / median':>27} "
          f"{'naive loop min':>15} {'speed-up (min)':>15}")
    for size in args.sizes.split(","):
        validators, miners = (int(x) for x in size.split("x"))
        weights, stakes = inputs(validators, miners)
        fast_s, fast_median, result = timed(lambda w=weights, s=stakes: epoch_rewards(
            w, s, epoch_emission=EMISSION, subnet_weight=SUBNET_WEIGHT), args.repeats)
        slow_s, _, (scores, rewards) = timed(lambda w=weights, s=stakes: naive(w, s),
                                             max(1, args.repeats // 2))
        assert result.scores == scores and result.miner_rewards == rewards, "results differ"
        print(f"{validators:>9} x {miners:<8} {fast_s * 1e3:>12.1f} / {fast_median * 1e3:>6.1f} ms"
              f" {slow_s * 1e3:>12.0f} ms {slow_s / fast_s:>14.1f}x")


if __name__ == "__main__":
    main()
