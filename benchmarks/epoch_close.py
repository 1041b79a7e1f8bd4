"""End-of-epoch processing on chain state: V validators x N miners (default 64 x 4,096).

Measures :func:`moderntensor.chain.modules.epoch_close.close_epoch` - reading every neuron and
weights row from module state, the numpy epoch, minting, payout records and logs - which is
what the end-block hook adds to a closing block. State is built directly (no PoW, no node).
Usage: ``python benchmarks/epoch_close.py [--validators 64] [--miners 4096] [--runs 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from moderntensor.chain.modules.epoch_close import close_epoch
from moderntensor.chain.modules.params import dev_config
from moderntensor.chain.modules.records import get_subnet
from moderntensor.chain.state import checkpoint, rollback
from modules_support import MDT, Sim, account


def build(validators: int, miners: int) -> Sim:
    base = dev_config()
    params = {"max_miners": miners, "max_validators": validators, "min_difficulty": 1,
              "max_registrations_per_block": 256, "weights_rate_limit": 0,
              "tempo": 100_000}
    config = replace(base, subnets=tuple(replace(s, difficulty=1,
                                                 params=replace(s.params, **params))
                                         for s in base.subnets))
    sim = Sim(config=config, funded={account(i): 10**6 * MDT for i in range(validators)})
    sim.next_block(2)
    for i in range(validators):
        sim.call(account(i), "addStake", netuid=1, amount=(1000 + i) * MDT)
        sim.call(account(i), "registerValidator", netuid=1)
    for i in range(miners):
        if i % 256 == 0:
            sim.next_block()
        sim.call(account(10**6 + i), "registerMiner", netuid=1, modelName="m",
                 modelType="text-generation", modelVersion="1", powNonce=0,
                 powBlock=sim.block - 1)
    sim.next_block()
    rng = np.random.default_rng(0)
    uids = list(range(validators, validators + miners))
    for i in range(validators):
        values = rng.integers(0, 65536, size=miners).tolist()
        sim.call(account(i), "setWeights", netuid=1, uids=uids, weights=values,
                 accuracy=values, latency=values, availability=values, consistency=values,
                 versionKey=0)
    sim.next_block()
    return sim


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--validators", type=int, default=64)
    parser.add_argument("--miners", type=int, default=4096)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    sim = build(args.validators, args.miners)
    print(f"setup {time.perf_counter() - started:.1f} s")
    subnet = get_subnet(sim.state, 1)
    assert subnet is not None
    times = []
    for _ in range(args.runs):
        point = checkpoint(sim.state)
        t = time.perf_counter()
        results = close_epoch(sim.state, subnet, sim.block, lambda name, fields: None)
        times.append((time.perf_counter() - t) * 1000)
        rollback(sim.state, point)
    assert results.active_validators == args.validators
    print(f"close_epoch {args.validators} x {args.miners}: median "
          f"{statistics.median(times):.0f} ms, min {min(times):.0f} ms ({args.runs} runs); "
          f"{results.scored_miners} miners scored")


if __name__ == "__main__":
    main()
