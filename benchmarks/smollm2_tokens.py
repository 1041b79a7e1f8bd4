"""SmolLM2 reference miner vs raw llama-cpp-python: generated tokens per second, same prompt.

The miner samples with verified sampling (a Python loop: one ``eval`` and one Gumbel draw over
the 49,152-token vocabulary per token); the raw library samples greedily in C. Target: the
reference model reaches >= 0.8x the raw library's tokens/s. Also: the validator's cost to
verify one reply (one batch forward pass). Run: ``python benchmarks/smollm2_tokens.py``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from moderntensor.subnets.models import open_smollm2
from moderntensor.subnets.text_models import SmolLM2Text
from moderntensor.subnets.verified_sampling import verify_reply

ADDRESS = "0x" + "ab" * 20

PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."


def raw_run(model: Any, max_tokens: int) -> tuple[int, float]:
    started = time.perf_counter()
    reply = model.create_chat_completion(messages=[{"role": "user", "content": PROMPT}],
                                         max_tokens=max_tokens, temperature=0.0, top_k=1, seed=0)
    return reply["usage"]["completion_tokens"], time.perf_counter() - started


def miner_run(model: SmolLM2Text, max_tokens: int) -> tuple[int, float]:
    started = time.perf_counter()
    model.generate("text-generation", {"prompt": PROMPT}, {"max_tokens": max_tokens})
    return model.last_usage["completion_tokens"], time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    # The raw library with the miner's load settings (without them it crashes on AMX CPUs),
    # called directly: what is measured is the miner model's own overhead.
    raw = open_smollm2()
    miner = SmolLM2Text()
    raw_run(raw, 8)
    miner_run(miner, 8)  # load and warm both before timing
    raw_rates, miner_rates = [], []
    for _ in range(args.rounds):  # interleaved, so load changes hit both alike
        tokens, seconds = raw_run(raw, args.max_tokens)
        raw_rates.append(tokens / seconds)
        tokens, seconds = miner_run(miner, args.max_tokens)
        miner_rates.append(tokens / seconds)
    raw_median, miner_median = statistics.median(raw_rates), statistics.median(miner_rates)
    print(f"raw llama-cpp-python: {raw_median:.1f} tokens/s (median of {args.rounds})")
    print(f"SmolLM2 reference miner model: {miner_median:.1f} tokens/s")
    print(f"ratio: {miner_median / raw_median:.2f}x (target >= 0.8x)")
    verify_cost(miner, args.rounds, args.max_tokens)


def verify_cost(miner: SmolLM2Text, rounds: int, max_tokens: int) -> None:
    """Seconds a validator spends verifying one reply, against the miner's seconds to make it."""
    miner.serve_as(ADDRESS)
    make, check = [], []
    for seed in range(rounds):
        started = time.perf_counter()
        reply = miner.generate("text-generation", {"prompt": PROMPT, "seed": seed}, {
            "max_tokens": max_tokens})
        made = time.perf_counter()
        share = verify_reply(PROMPT, seed, ADDRESS, reply, max_tokens)
        make.append(made - started)
        check.append(time.perf_counter() - made)
        assert share == 1.0, share
    print(f"verifying a reply: {statistics.median(check):.3f} s vs "
          f"{statistics.median(make):.3f} s to sample it "
          f"({statistics.median(make) / statistics.median(check):.1f}x cheaper)")


if __name__ == "__main__":
    main()
