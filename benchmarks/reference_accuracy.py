"""Accuracy of each reference model on seeded challenges of the text and code suites.

Shows what a validator pays for: on text, accuracy is verified sampling of the named model
(SmolLM2 1.0; a template parser that answers right, echo and random 0), and the suite's
per-kind rules measure the *quality* of the replies; on code, varied HumanEval problems (the
variant reference 1.0, the public-answer lookup 0). Run:
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

MINER = "0x" + "ab" * 20   # the address every model serves as, and challenges are bound to


def measure(suite: TaskSuite, count: int, names: tuple[str, ...]) -> None:
    rng = random.Random(2026)
    challenges = [suite.for_miner(suite.make_challenge(rng), MINER) for _ in range(count)]
    quality = getattr(suite, "quality", None)
    for name in names:
        model = suite.reference_models()[name]()
        model.serve_as(MINER)
        accuracy: list[float] = []
        by_kind: dict[str, list[float]] = defaultdict(list)
        started = time.perf_counter()
        for challenge in challenges:
            output = model.generate(challenge.task, challenge.input, challenge.params)
            accuracy.append(suite.accuracy(challenge, output))
            if quality is not None:
                by_kind[challenge.kind].append(quality(challenge, output))
        elapsed = time.perf_counter() - started
        line = (f"{suite.task_type:16} {name:18} accuracy {statistics.mean(accuracy):.3f}")
        if by_kind:
            everything = [score for scores in by_kind.values() for score in scores]
            kinds = ", ".join(f"{kind} {statistics.mean(scores):.2f}"
                              for kind, scores in sorted(by_kind.items()))
            line += f" quality {statistics.mean(everything):.3f} ({kinds})"
        print(f"{line} in {elapsed:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--text", type=int, default=60)
    parser.add_argument("--code", type=int, default=20)
    args = parser.parse_args()
    measure(TextSuite(), args.text, ("smollm2", "oracle", "echo", "constant", "random"))
    code = CodeSuite()
    code.prepare()
    measure(code, args.code, ("variant-reference", "canonical", "smollm2", "echo", "random"))


if __name__ == "__main__":
    main()
