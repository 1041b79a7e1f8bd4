"""Speech plumbing for the audio suite: sentence grammar, WAV codec, espeak-ng, pocketsphinx.

Sentences come from a small word grammar chosen for words that espeak-ng pronounces and
pocketsphinx's bundled US-English model recognises reliably (no near-homophones such as
six/eight or car/dog). The same grammar, as JSGF, constrains the recogniser, which is what
makes an offline CPU recogniser fast (~0.1 s per clip) and accurate enough to score with.
"""

from __future__ import annotations

import functools
import io
import random
import re
import shutil
import subprocess
import tempfile
import threading
import wave
from pathlib import Path
from typing import Any

import numpy as np

from moderntensor.errors import InvalidInputError, ModernTensorError

ADJECTIVES = ("big", "small", "young", "happy", "quiet", "tall", "funny", "angry")
COLOURS = ("red", "green", "blue", "yellow", "brown", "orange", "purple", "white")
NOUNS = ("dog", "cat", "horse", "bird", "house", "tree", "boat", "ball", "table", "window",
         "garden", "river", "apple", "teacher", "doctor", "farmer", "monkey", "rabbit")
NUMBERS = ("two", "three", "four", "five", "seven", "eight", "nine", "ten")
VERBS = ("sees", "likes", "finds", "follows", "paints", "watches", "carries", "helps")
PLACES = ("near", "behind", "under", "above")
VOCABULARY: frozenset[str] = frozenset(
    (*ADJECTIVES, *COLOURS, *NOUNS, *NUMBERS, *VERBS, *PLACES, "the", "are", "and",
     *(f"{noun}s" for noun in NOUNS)))

RECOGNISER_RATE = 16_000          # pocketsphinx's acoustic model is trained at 16 kHz
ESPEAK_RATE = 22_050              # what espeak-ng writes
ESPEAK_VOICES = ("en-us", "en-us+m3", "en-us+f2", "en-us+f4")  # the ones pocketsphinx hears best
MAX_TEXT_CHARS = 300              # longest text a TTS request may ask for


class AudioDecodeError(InvalidInputError):
    """Audio that cannot be scored: not RIFF/WAVE, truncated, wrong format, rate or length."""

    code = "invalid_audio"


class SpeechToolMissingError(ModernTensorError):
    """espeak-ng or pocketsphinx is not installed on this machine."""

    code = "speech_tool_missing"


def clause(rng: random.Random) -> str:
    """One clause of the grammar, 6-8 words (about 2.5 s of speech)."""
    form = rng.randrange(3)
    if form == 0:
        return (f"the {rng.choice(ADJECTIVES)} {rng.choice(COLOURS)} {rng.choice(NOUNS)} "
                f"{rng.choice(VERBS)} the {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}")
    if form == 1:
        return (f"{rng.choice(NUMBERS)} {rng.choice(COLOURS)} {rng.choice(NOUNS)}s are "
                f"{rng.choice(PLACES)} the {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}")
    return (f"the {rng.choice(NOUNS)} {rng.choice(VERBS)} {rng.choice(NUMBERS)} "
            f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}s")


def sentence(rng: random.Random, clauses: int = 1) -> str:
    """A sentence of ``clauses`` clauses joined by "and"; two make a ~5 s clip."""
    return " and ".join(clause(rng) for _ in range(clauses))


def jsgf_grammar() -> str:
    """The sentence grammar in JSGF, for constraining the recogniser."""
    def alt(words: tuple[str, ...]) -> str:
        return "(" + " | ".join(words) + ")"

    plural = tuple(f"{noun}s" for noun in NOUNS)
    return "\n".join([
        "#JSGF V1.0;", "grammar sentences;",
        "public <sentence> = <clause> [and <clause>];",
        "<clause> = <described> | <counted> | <acting>;",
        f"<described> = the {alt(ADJECTIVES)} {alt(COLOURS)} {alt(NOUNS)} {alt(VERBS)} "
        f"the {alt(ADJECTIVES)} {alt(NOUNS)};",
        f"<counted> = {alt(NUMBERS)} {alt(COLOURS)} {alt(plural)} are {alt(PLACES)} "
        f"the {alt(ADJECTIVES)} {alt(NOUNS)};",
        f"<acting> = the {alt(NOUNS)} {alt(VERBS)} {alt(NUMBERS)} {alt(ADJECTIVES)} {alt(plural)};",
        ""])


def normalise(text: str) -> str:
    """Lower case, letters and single spaces only: what WER compares."""
    return " ".join(re.sub(r"[^a-z' ]+", " ", text.lower()).split())


# ---------------------------------------------------------------- WAV codec (stdlib wave)

def encode_wav(samples: np.ndarray, rate: int) -> bytes:
    """16-bit mono PCM WAV of float samples in [-1, 1] (or int16)."""
    if samples.dtype != np.int16:
        samples = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def decode_wav(raw: bytes, *, rates: tuple[int, ...], max_seconds: float,
               min_seconds: float = 0.2) -> tuple[np.ndarray, int]:
    """Float samples in [-1, 1] and the rate of a 16-bit mono PCM WAV within the limits.

    Raises :class:`AudioDecodeError` naming what is wrong; the duration is checked from the
    header before any sample is read.
    """
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise AudioDecodeError("audio is not a RIFF/WAVE file", data=raw[:12].hex())
    try:
        with wave.open(io.BytesIO(raw), "rb") as source:
            channels, width, rate, frames = (source.getnchannels(), source.getsampwidth(),
                                             source.getframerate(), source.getnframes())
            if channels != 1 or width != 2:
                raise AudioDecodeError(
                    f"audio must be 16-bit mono PCM, got {channels} channel(s) of "
                    f"{8 * width}-bit", data=[channels, width])
            if rate not in rates:
                raise AudioDecodeError(f"sample rate {rate} Hz is not one of {list(rates)}",
                                       data=rate)
            seconds = frames / rate
            if not min_seconds <= seconds <= max_seconds:
                raise AudioDecodeError(
                    f"audio lasts {seconds:.2f} s; allowed {min_seconds}..{max_seconds} s",
                    data=seconds)
            data = source.readframes(frames)
    except (wave.Error, EOFError) as exc:
        raise AudioDecodeError(f"malformed WAV: {exc}") from None
    if len(data) != frames * 2:
        raise AudioDecodeError(f"truncated WAV: header says {frames} frames, data holds "
                               f"{len(data) // 2}", data=[frames, len(data) // 2])
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0, rate


def resample(samples: np.ndarray, rate: int, target: int = RECOGNISER_RATE) -> np.ndarray:
    """Band-limited resampling through the FFT (exact for these short clips, numpy only)."""
    if rate == target:
        return samples
    length = round(len(samples) * target / rate)
    spectrum = np.fft.rfft(samples)[: length // 2 + 1]
    return (np.fft.irfft(spectrum, length) * (length / len(samples))).astype(np.float32)


def add_noise(samples: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White noise at a signal-to-noise ratio in dB."""
    power = float(np.mean(samples ** 2)) or 1e-8
    noise = rng.normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), len(samples))
    return np.clip(samples + noise, -1.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------- espeak-ng

def espeak_available() -> bool:
    """True when the espeak-ng program is on PATH."""
    return shutil.which("espeak-ng") is not None


def synthesise(text: str, *, voice: str = "en-us", speed: int = 165, pitch: int = 50) -> bytes:
    """WAV bytes (22.05 kHz mono) of espeak-ng speaking ``text``.

    The text goes through stdin, never argv, and only letters and spaces reach espeak-ng.
    """
    program = shutil.which("espeak-ng")
    if program is None:
        raise SpeechToolMissingError(
            "espeak-ng is not installed (Debian: apt-get install -y espeak-ng)")
    clean = normalise(text)[:MAX_TEXT_CHARS]
    with tempfile.TemporaryDirectory(prefix="mt-espeak-") as folder:
        # A file, not --stdout: a WAV written to a pipe carries placeholder sizes.
        path = Path(folder) / "speech.wav"
        try:
            subprocess.run([program, "-v", voice, "-s", str(speed), "-p", str(pitch),
                            "-w", str(path)], input=clean.encode(), check=True, timeout=30,
                           capture_output=True)
            return path.read_bytes()
        except (subprocess.SubprocessError, OSError) as exc:
            raise ModernTensorError(f"espeak-ng failed: {exc}", code="speech_synthesis_failed",
                                    data=voice) from None


# ---------------------------------------------------------------- pocketsphinx

class Recogniser:
    """pocketsphinx constrained to the sentence grammar; one decoder, used under a lock."""

    def __init__(self) -> None:
        try:
            from pocketsphinx import Decoder  # a 38 MB model: load on first use
        except ImportError:
            raise SpeechToolMissingError(
                "pocketsphinx is not installed (pip install pocketsphinx)") from None
        self._decoder: Any = Decoder(samprate=RECOGNISER_RATE, lm=None, loglevel="FATAL")
        self._decoder.add_jsgf_string("sentences", jsgf_grammar())
        self._decoder.activate_search("sentences")
        self._lock = threading.Lock()

    def transcribe(self, samples: np.ndarray, rate: int) -> str:
        """Words heard in float samples at ``rate`` (resampled to 16 kHz)."""
        # Silence around the clip lets the decoder close the last word, and a faint fixed
        # dither (-60 dBFS) keeps digital silence (log 0 in the features) from derailing the
        # search: without it pocketsphinx drops the final word of many espeak-ng clips.
        pad = np.zeros(int(0.3 * RECOGNISER_RATE), dtype=np.float32)
        speech = np.concatenate([pad, resample(samples, rate), pad])
        speech += np.random.default_rng(0).normal(0.0, 1e-3, len(speech)).astype(np.float32)
        pcm = (np.clip(speech, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        with self._lock:
            self._decoder.start_utt()
            self._decoder.process_raw(pcm, full_utt=True)
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
        # None when no path through the grammar fits: nothing recognisable was said.
        return normalise(hyp.hypstr) if hyp is not None else ""


@functools.lru_cache(maxsize=1)
def recogniser() -> Recogniser:
    """The process-wide recogniser (loading takes ~0.3 s)."""
    return Recogniser()
