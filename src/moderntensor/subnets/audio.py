"""Audio (subnet 4): speech-to-text and text-to-speech, both scored by word error rate.

- ``speech-to-text``: the validator has espeak-ng speak a sentence from the grammar in
  :mod:`moderntensor.subnets.speech` (random voice, speed and pitch; half the clips with white
  noise at 15-25 dB SNR) and sends it as a 16 kHz WAV; the miner answers ``{"text": ...}``.
- ``text-to-speech``: the validator sends a sentence; the miner answers
  ``{"audio_wav_b64": ...}`` (16-bit mono PCM at 16, 22.05 or 24 kHz, 0.2-15 s, <= 1 MiB);
  the validator transcribes it with pocketsphinx constrained to the sentence grammar.

Accuracy is ``1 - WER`` (jiwer) against the sentence, clipped to [0, 1]; audio that breaks
the limits scores 0 with the reason in :meth:`AudioSuite.evaluate`.
"""

from __future__ import annotations

import base64
import binascii
import random
from dataclasses import dataclass
from typing import Any, ClassVar

import jiwer
import numpy as np
from pydantic import BaseModel, Field, ValidationError, model_validator

from moderntensor.errors import InvalidInputError, ModernTensorError
from moderntensor.subnets.base import Challenge, ReferenceModel, TaskSuite
from moderntensor.subnets.speech import (
    ESPEAK_RATE,
    ESPEAK_VOICES,
    MAX_TEXT_CHARS,
    RECOGNISER_RATE,
    VOCABULARY,
    AudioDecodeError,
    add_noise,
    decode_wav,
    encode_wav,
    normalise,
    recogniser,
    resample,
    sentence,
    synthesise,
)

STT = "speech-to-text"
TTS = "text-to-speech"
TTS_RATES: tuple[int, ...] = (16_000, 22_050, 24_000)   # espeak-ng speaks at 22.05 kHz
MAX_TTS_SECONDS = 15.0
MAX_STT_SECONDS = 20.0
MAX_WAV_BYTES = 1024 * 1024
MAX_WAV_B64 = (MAX_WAV_BYTES + 2) // 3 * 4


class SpeechToTextInput(BaseModel):
    """STT request input: a WAV clip (16-bit mono PCM), base64."""

    audio_wav_b64: str = Field(min_length=1, max_length=MAX_WAV_B64)


class SpeechToTextOutput(BaseModel):
    """STT response output: the words heard."""

    text: str = Field(max_length=2000)


class TextToSpeechInput(BaseModel):
    """TTS request input: the sentence to speak."""

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class TextToSpeechOutput(BaseModel):
    """TTS response output: a WAV clip (16-bit mono PCM, 16/22.05/24 kHz, <= 15 s), base64."""

    audio_wav_b64: str = Field(min_length=1, max_length=MAX_WAV_B64)


class _OneOf(BaseModel):
    @model_validator(mode="after")
    def _exactly_one(self) -> _OneOf:
        given = [name for name, value in self if value is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {list(type(self).model_fields)}, got {given}")
        return self


class AudioInput(_OneOf):
    """Either task's input: ``text`` (TTS) or ``audio_wav_b64`` (STT)."""

    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT_CHARS)
    audio_wav_b64: str | None = Field(default=None, min_length=1, max_length=MAX_WAV_B64)


class AudioOutput(_OneOf):
    """Either task's output: ``text`` (STT) or ``audio_wav_b64`` (TTS)."""

    text: str | None = Field(default=None, max_length=2000)
    audio_wav_b64: str | None = Field(default=None, min_length=1, max_length=MAX_WAV_B64)


@dataclass(frozen=True)
class AudioScore:
    """Accuracy with its evidence: what was heard or read, or why the output was rejected."""

    accuracy: float
    transcript: str = ""
    error: str | None = None


def word_accuracy(reference: str, hypothesis: str) -> float:
    """``1 - WER`` of a hypothesis against a reference, clipped to [0, 1]."""
    reference, hypothesis = normalise(reference), normalise(hypothesis)
    if not reference:
        return 1.0 if not hypothesis else 0.0
    if not hypothesis:
        return 0.0
    return float(min(1.0, max(0.0, 1.0 - jiwer.wer(reference, hypothesis))))


def read_wav_b64(b64: str, *, rates: tuple[int, ...], max_seconds: float) -> tuple[np.ndarray, int]:
    """Samples and rate of a base64 WAV within the limits; AudioDecodeError otherwise."""
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise AudioDecodeError("audio_wav_b64 is not valid base64") from None
    if len(raw) > MAX_WAV_BYTES:
        raise AudioDecodeError(f"audio is larger than {MAX_WAV_BYTES} bytes", data=len(raw))
    return decode_wav(raw, rates=rates, max_seconds=max_seconds)


def _transcribe_tts(output: Any) -> str:
    b64 = TextToSpeechOutput.model_validate(output).audio_wav_b64
    samples, rate = read_wav_b64(b64, rates=TTS_RATES, max_seconds=MAX_TTS_SECONDS)
    return recogniser().transcribe(samples, rate)


class AudioSuite(TaskSuite):
    """Subnet 4: STT and TTS challenges over one sentence grammar, scored by 1 - WER.

    ``tasks`` narrows the wire tasks this instance challenges with (both by default).

    >>> suite = AudioSuite(tasks=(TTS,)); challenge = suite.make_challenge(random.Random(1))
    >>> answer = suite.reference_models()["espeak"]().generate(TTS, challenge.input, {})
    >>> suite.accuracy(challenge, answer) > 0.5
    True
    """

    task_type: ClassVar[str] = "audio"
    tasks: ClassVar[tuple[str, ...]] = (STT, TTS)
    latency_target_s: ClassVar[float] = 3.0
    timeout_s: ClassVar[float] = 20.0
    max_request_bytes: ClassVar[int] = MAX_WAV_B64 + 4 * 1024
    max_response_bytes: ClassVar[int] = MAX_WAV_B64 + 4 * 1024
    input_model: ClassVar[type[BaseModel]] = AudioInput
    output_model: ClassVar[type[BaseModel]] = AudioOutput

    def __init__(self, tasks: tuple[str, ...] | None = None) -> None:
        unknown = set(tasks or ()) - set(type(self).tasks)
        if unknown:
            raise InvalidInputError(f"unknown audio tasks {sorted(unknown)}",
                                    code="unsupported_task")
        self.challenge_tasks = tasks or type(self).tasks

    def make_challenge(self, rng: random.Random) -> Challenge:
        task = rng.choice(self.challenge_tasks)
        text = sentence(rng, clauses=rng.choice((1, 2)))
        if task == TTS:
            return Challenge(task=TTS, input={"text": text}, expected={"text": text}, kind="tts")
        samples, rate = decode_wav(
            synthesise(text, voice=rng.choice(ESPEAK_VOICES), speed=rng.randint(140, 185),
                       pitch=rng.randint(30, 70)),
            rates=(ESPEAK_RATE,), max_seconds=MAX_STT_SECONDS)
        samples = resample(samples, rate)
        noisy = rng.random() < 0.5
        if noisy:
            samples = add_noise(samples, rng.uniform(15.0, 25.0),
                                np.random.default_rng(rng.getrandbits(64)))
        wav = base64.b64encode(encode_wav(samples, RECOGNISER_RATE)).decode("ascii")
        return Challenge(task=STT, input={"audio_wav_b64": wav}, expected={"text": text},
                         kind="stt-noisy" if noisy else "stt-clean")

    def evaluate(self, challenge: Challenge, output: Any) -> AudioScore:
        """Score one output with the transcript it was judged on, or the rejection reason."""
        reference = challenge.expected["text"]
        try:
            if challenge.task == STT:
                heard = SpeechToTextOutput.model_validate(output).text
            else:
                heard = _transcribe_tts(output)
        except (ValidationError, ModernTensorError) as exc:
            return AudioScore(0.0, "", str(exc))
        return AudioScore(word_accuracy(reference, heard), normalise(heard))

    def accuracy(self, challenge: Challenge, output: Any) -> float:
        return self.evaluate(challenge, output).accuracy

    def consistency(self, a: Any, b: Any) -> float:
        """``1 - WER`` between the two answers' words (TTS: their transcripts).

        An answer with no recognisable words is consistent with nothing, so two clips of
        noise score 0, not 1.
        """
        try:
            if isinstance(a, dict) and "audio_wav_b64" in a:
                words_a, words_b = _transcribe_tts(a), _transcribe_tts(b)
            else:
                words_a = SpeechToTextOutput.model_validate(a).text
                words_b = SpeechToTextOutput.model_validate(b).text
        except (ValidationError, ModernTensorError):
            return 0.0
        if not normalise(words_a) or not normalise(words_b):
            return 0.0
        return word_accuracy(words_a, words_b)

    def reference_models(self) -> dict[str, type[ReferenceModel]]:
        return {"reference": SpeechModel, "pocketsphinx": PocketsphinxModel,
                "espeak": EspeakModel, "noise": AudioNoiseModel}


def _unsupported(model: str, task: str) -> InvalidInputError:
    return InvalidInputError(f"model {model!r} does not serve task {task!r}",
                             code="unsupported_task")


class PocketsphinxModel(ReferenceModel):
    """Speech-to-text with pocketsphinx's bundled English model and the published grammar."""

    name: ClassVar[str] = "pocketsphinx"

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        if task != STT:
            raise _unsupported(self.name, task)
        b64 = SpeechToTextInput.model_validate(input).audio_wav_b64
        samples, rate = read_wav_b64(b64, rates=(8_000, *TTS_RATES, 44_100, 48_000),
                                     max_seconds=MAX_STT_SECONDS)
        return {"text": recogniser().transcribe(samples, rate)}


class EspeakModel(ReferenceModel):
    """Text-to-speech with espeak-ng's default US-English voice (22.05 kHz WAV)."""

    name: ClassVar[str] = "espeak"

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        if task != TTS:
            raise _unsupported(self.name, task)
        text = TextToSpeechInput.model_validate(input).text
        return {"audio_wav_b64": base64.b64encode(synthesise(text)).decode("ascii")}


class SpeechModel(ReferenceModel):
    """Both audio tasks: pocketsphinx for STT, espeak-ng for TTS (a full subnet-4 miner)."""

    name: ClassVar[str] = "reference"

    def __init__(self) -> None:
        self._stt, self._tts = PocketsphinxModel(), EspeakModel()

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        return (self._stt if task == STT else self._tts).generate(task, input, params)


class AudioNoiseModel(ReferenceModel):
    """Test-quality miner: random grammar words for STT, two seconds of white noise for TTS."""

    name: ClassVar[str] = "noise"

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        rng = np.random.default_rng()
        if task == STT:
            return {"text": " ".join(rng.choice(sorted(VOCABULARY), size=7))}
        if task == TTS:
            noise = rng.uniform(-0.3, 0.3, 2 * RECOGNISER_RATE).astype(np.float32)
            return {"audio_wav_b64": base64.b64encode(
                encode_wav(noise, RECOGNISER_RATE)).decode("ascii")}
        raise _unsupported(self.name, task)
