"""Accuracy of each reference model on seeded challenges of the text and code suites.

Shows the ordering a validator should find (fixture > SmolLM2 > random) and what the real
model scores per kind. SmolLM2 needs the models extra. Run:
``python benchmarks/reference_accuracy.py [--text 60] [--code 20]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import defaultdict

from moderntensor.subnets.base import TaskSuite
from moderntensor.subnets.code import CodeSuite
from moderntensor.subnets.text import TextSuite


def measure(suite: TaskSuite, count: int, names: tuple[str, ...]) -> None:
    rng = random.Random(2026)
    challenges = [suite.make_challenge(rng) for _ in range(count)]
    for name in names:
        model = suite.reference_models()[name]()
        by_kind: dict[str, list[float]] = defaultdict(list)
        started = time.perf_counter()
        for challenge in challenges:
            output = model.generate(challenge.task, challenge.input, challenge.params)
            by_kind[challenge.kind].append(suite.accuracy(challenge, output))
        elapsed = time.perf_counter() - started
        everything = [score for scores in by_kind.values() for score in scores]
        kinds = ", ".join(f"{kind} {statistics.mean(scores):.2f}"
                          for kind, scores in sorted(by_kind.items()))
        print(f"{suite.task_type:16} {name:10} accuracy {statistics.mean(everything):.3f} "
              f"({kinds}) in {elapsed:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--text", type=int, default=60)
    parser.add_argument("--code", type=int, default=20)
    args = parser.parse_args()
    measure(TextSuite(), args.text, ("oracle", "smollm2", "echo", "random"))
    measure(CodeSuite(), args.code, ("canonical", "smollm2", "echo", "random"))


if __name__ == "__main__":
    main()
