"""Image suite accuracy throughput: images scored per second on one core.

Target (issue 9): >= 50 images/s on 2 cores. One process on one core is the conservative
figure; the baseline printed beside it is PNG decoding alone (the floor any check pays).

    python benchmarks/image_accuracy.py [--images 200]
"""

from __future__ import annotations

import argparse
import os
import random
import time

from moderntensor.subnets.image import TASK, ImageNoiseModel, ImageSuite, RendererModel
from moderntensor.subnets.pixels import decode_png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=200)
    args = parser.parse_args()
    suite = ImageSuite()
    rng = random.Random(2026)
    cases = []
    for model in (RendererModel(), ImageNoiseModel()):
        for _ in range(args.images // 2):
            challenge = suite.make_challenge(rng)
            cases.append((challenge, model.generate(TASK, challenge.input, {})))

    start = time.perf_counter()
    for _, output in cases:
        decode_png(output["image_png_b64"], max_bytes=1 << 20)
    decode_s = time.perf_counter() - start

    start = time.perf_counter()
    scores = [suite.accuracy(challenge, output) for challenge, output in cases]
    score_s = time.perf_counter() - start

    half = len(cases) // 2
    print(f"images: {len(cases)} ({half} renderer, {half} noise; sides 128..320 px); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"baseline, PNG decode only: {len(cases) / decode_s:8.1f} images/s")
    print(f"accuracy (decode+measure): {len(cases) / score_s:8.1f} images/s   target >= 50")
    print(f"mean accuracy renderer {sum(scores[:half]) / half:.3f}, "
          f"noise {sum(scores[half:]) / half:.3f}")


if __name__ == "__main__":
    main()
