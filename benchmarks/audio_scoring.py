"""Audio suite scoring cost for ~5 s clips (target, issue 9: STT scoring of a 5 s clip < 1 s).

Prints, as medians over --runs clips of two-clause sentences (4-6 s of speech):
- STT, validator side: making the challenge (espeak-ng + resample + noise + WAV) and scoring
  the miner's text (1 - WER);
- TTS, validator side: decoding the miner's WAV and transcribing it with the grammar-bound
  pocketsphinx, then 1 - WER;
- baselines in the same run: a bare ``jiwer.wer`` call, and pocketsphinx with its general
  English language model (no grammar) on the same clip.

    python benchmarks/audio_scoring.py [--runs 10]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import jiwer
from pocketsphinx import Decoder

from moderntensor.subnets.audio import STT, TTS, AudioSuite, SpeechModel
from moderntensor.subnets.base import Challenge
from moderntensor.subnets.speech import RECOGNISER_RATE, decode_wav, recogniser, resample


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    stt_suite, tts_suite, model = AudioSuite(tasks=(STT,)), AudioSuite(tasks=(TTS,)), SpeechModel()
    recogniser()  # load once, as a running validator has
    general = Decoder(samprate=RECOGNISER_RATE, loglevel="FATAL")
    rows: dict[str, list[float]] = {}
    durations, stt_scores, tts_scores = [], [], []
    rng = random.Random(2026)
    while len(durations) < args.runs:
        seed = rng.getrandbits(32)
        make_s, challenge = timed(lambda s=seed: stt_suite.make_challenge(random.Random(s)))
        if challenge.kind == "stt-clean" or len(challenge.expected["text"].split()) < 12:
            continue  # keep the long, noisy clips: the costlier case
        raw = base64.b64decode(challenge.input["audio_wav_b64"])
        samples, rate = decode_wav(raw, rates=(RECOGNISER_RATE,), max_seconds=20)
        durations.append(len(samples) / rate)
        miner_s, answer = timed(lambda c=challenge: model.generate(STT, c.input, {}))
        rows.setdefault("STT reference miner (grammar ASR)", []).append(miner_s)
        score_s, score = timed(lambda c=challenge, a=answer: stt_suite.accuracy(c, a))
        stt_scores.append(score)
        text = challenge.expected["text"]
        rows.setdefault("STT make challenge (espeak-ng, noise)", []).append(make_s)
        rows.setdefault("STT score answer (1 - WER)", []).append(score_s)
        rows.setdefault("STT total, validator side", []).append(make_s + score_s)
        rows.setdefault("baseline: jiwer.wer alone", []).append(
            timed(lambda t=text, h=answer["text"]: jiwer.wer(t, h))[0])

        tts_challenge = Challenge(task=TTS, input={"text": text}, expected={"text": text})
        spoken = model.generate(TTS, tts_challenge.input, {})
        tts_s, tts_score = timed(lambda c=tts_challenge, a=spoken: tts_suite.accuracy(c, a))
        tts_scores.append(tts_score)
        rows.setdefault("TTS score answer (decode + grammar ASR)", []).append(tts_s)
        pcm = (resample(samples, rate) * 32767).astype("<i2").tobytes()

        def general_asr(data: bytes = pcm) -> None:
            general.start_utt()
            general.process_raw(data, full_utt=True)
            general.end_utt()

        rows.setdefault("baseline: pocketsphinx general LM", []).append(timed(general_asr)[0])

    print(f"clips: {len(durations)}, speech {min(durations):.1f}-{max(durations):.1f} s "
          f"(median {statistics.median(durations):.1f} s), white noise 15-25 dB SNR; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, values in rows.items():
        print(f"{name:42s} median {1000 * statistics.median(values):8.1f} ms   "
              f"max {1000 * max(values):8.1f} ms")
    print(f"mean accuracy of the reference models: STT {statistics.mean(stt_scores):.3f}, "
          f"TTS {statistics.mean(tts_scores):.3f}   (target: STT scoring < 1000 ms)")


if __name__ == "__main__":
    main()
