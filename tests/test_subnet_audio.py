"""Audio suite (subnet 4): WAV limits, WER scoring, espeak-ng and pocketsphinx reference models."""

from __future__ import annotations

import base64
import importlib.util
import io
import random
import wave

import numpy as np
import pytest
from pydantic import ValidationError

from moderntensor.errors import InvalidInputError
from moderntensor.subnets import load_suite
from moderntensor.subnets.audio import (
    STT,
    TTS,
    AudioNoiseModel,
    AudioOutput,
    AudioSuite,
    EspeakModel,
    PocketsphinxModel,
    SpeechModel,
    word_accuracy,
)
from moderntensor.subnets.base import Challenge
from moderntensor.subnets.speech import (
    VOCABULARY,
    AudioDecodeError,
    SpeechToolMissingError,
    decode_wav,
    encode_wav,
    espeak_available,
    jsgf_grammar,
    normalise,
    recogniser,
    sentence,
)

needs_espeak = pytest.mark.skipif(
    not espeak_available(), reason="espeak-ng missing: apt-get install -y espeak-ng")
needs_pocketsphinx = pytest.mark.skipif(
    importlib.util.find_spec("pocketsphinx") is None,
    reason="pocketsphinx missing: pip install pocketsphinx")

SENTENCE = "the happy red dog sees the quiet garden"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def tone(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def tts_challenge(text: str = SENTENCE) -> Challenge:
    return Challenge(task=TTS, input={"text": text}, expected={"text": text}, kind="tts")


def test_registered_under_its_task_type() -> None:
    suite = load_suite("audio")
    assert isinstance(suite, AudioSuite) and suite.tasks == (STT, TTS)


def test_sentences_stay_inside_the_vocabulary_and_grammar() -> None:
    rng = random.Random(5)
    grammar = jsgf_grammar()
    for _ in range(200):
        words = sentence(rng, clauses=rng.choice((1, 2))).split()
        assert set(words) <= VOCABULARY and 6 <= len(words) <= 17
    assert all(f" {word} " in grammar.replace("(", " ").replace(")", " ").replace(";", " ")
               for word in VOCABULARY - {"and"})


def test_word_accuracy_is_one_minus_wer_clipped() -> None:
    assert word_accuracy(SENTENCE, SENTENCE.upper() + ".") == 1.0
    assert word_accuracy(SENTENCE, "the happy red dog") == pytest.approx(0.5)
    assert word_accuracy(SENTENCE, "") == 0.0
    assert word_accuracy("a b", "x y z w v u") == 0.0  # WER > 1 clips to 0


def test_wav_round_trip() -> None:
    samples, rate = decode_wav(encode_wav(tone(1.0, 16_000), 16_000), rates=(16_000,),
                               max_seconds=5)
    assert rate == 16_000 and len(samples) == 16_000
    assert np.abs(samples - tone(1.0, 16_000)).max() < 1e-3


def stereo_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(b"\0" * 4 * 16_000)
    return buffer.getvalue()


GOOD = encode_wav(tone(1.0, 16_000), 16_000)


@pytest.mark.parametrize(("raw", "reason"), [
    (b"ID3\x04not a wav file at all", "not a RIFF/WAVE"),
    (GOOD[: len(GOOD) // 2], "truncated WAV"),
    (GOOD[:30], "malformed WAV"),
    (encode_wav(tone(1.0, 8_000), 8_000), "sample rate 8000 Hz"),
    (encode_wav(tone(16.0, 16_000), 16_000), "allowed 0.2..15.0 s"),
    (encode_wav(tone(0.05, 16_000), 16_000), "allowed 0.2..15.0 s"),
    (stereo_wav(), "16-bit mono"),
])
def test_malformed_tts_audio_scores_zero_with_a_reason(raw: bytes, reason: str) -> None:
    score = AudioSuite().evaluate(tts_challenge(), {"audio_wav_b64": b64(raw)})
    assert score.accuracy == 0.0
    assert score.error is not None and reason in score.error


@pytest.mark.parametrize(("output", "reason"), [
    ({"audio_wav_b64": "%%% not base64"}, "not valid base64"),
    ({"audio_wav_b64": "A" * 2_000_000}, "at most"),
    ({"text": "I am not audio"}, "audio_wav_b64"),
    (["a list"], "valid dictionary"),
])
def test_bad_tts_payloads_never_raise(output: object, reason: str) -> None:
    suite = AudioSuite()
    score = suite.evaluate(tts_challenge(), output)
    assert score.accuracy == 0.0 and score.error is not None and reason in score.error
    assert suite.accuracy(tts_challenge(), output) == 0.0
    if not (isinstance(output, dict) and "text" in output):  # text is a valid STT answer
        assert suite.consistency(output, output) == 0.0


def test_decode_errors_are_typed() -> None:
    with pytest.raises(AudioDecodeError) as info:
        decode_wav(b"RIFF", rates=(16_000,), max_seconds=5)
    assert info.value.code == "invalid_audio"


def test_stt_text_is_scored_against_the_sentence() -> None:
    challenge = Challenge(task=STT, input={}, expected={"text": SENTENCE})
    suite = AudioSuite()
    assert suite.accuracy(challenge, {"text": SENTENCE}) == 1.0
    assert suite.accuracy(challenge, {"text": "the happy red dog"}) == pytest.approx(0.5)
    assert suite.accuracy(challenge, {"text": 42}) == 0.0
    assert suite.consistency({"text": SENTENCE}, {"text": SENTENCE}) == 1.0
    assert suite.consistency({"text": ""}, {"text": ""}) == 0.0


def test_one_of_models_and_task_narrowing() -> None:
    with pytest.raises(ValidationError):
        AudioOutput.model_validate({"text": "x", "audio_wav_b64": "AAAA"})
    with pytest.raises(InvalidInputError):
        AudioSuite(tasks=("text-generation",))
    suite = AudioSuite(tasks=(TTS,))
    assert {suite.make_challenge(random.Random(i)).task for i in range(10)} == {TTS}


def test_models_refuse_the_other_task() -> None:
    with pytest.raises(InvalidInputError):
        EspeakModel().generate(STT, {"audio_wav_b64": b64(GOOD)}, {})
    with pytest.raises(InvalidInputError):
        PocketsphinxModel().generate(TTS, {"text": SENTENCE}, {})


@needs_espeak
@needs_pocketsphinx
def test_every_word_is_in_the_recogniser_dictionary() -> None:
    decoder = recogniser()._decoder
    assert [word for word in sorted(VOCABULARY) if decoder.lookup_word(word) is None] == []


@needs_espeak
@needs_pocketsphinx
def test_reference_models_beat_noise_on_both_tasks() -> None:
    suite, reference, noise = AudioSuite(), SpeechModel(), AudioNoiseModel()
    scores: dict[str, list[tuple[float, float]]] = {STT: [], TTS: []}
    for seed in range(16):
        challenge = suite.make_challenge(random.Random(seed))
        good = suite.accuracy(challenge, reference.generate(challenge.task, challenge.input, {}))
        bad = suite.accuracy(challenge, noise.generate(challenge.task, challenge.input, {}))
        scores[challenge.task].append((good, bad))
    for task, pairs in scores.items():
        good_mean, bad_mean = np.mean(pairs, axis=0)
        assert len(pairs) >= 4, task
        assert good_mean >= 0.8 and bad_mean <= 0.1, (task, pairs)


@needs_espeak
@needs_pocketsphinx
def test_stt_challenge_is_a_16khz_wav_of_the_sentence() -> None:
    challenge = AudioSuite(tasks=(STT,)).make_challenge(random.Random(2))
    raw = base64.b64decode(challenge.input["audio_wav_b64"])
    samples, rate = decode_wav(raw, rates=(16_000,), max_seconds=20)
    assert rate == 16_000 and 1.0 < len(samples) / rate < 8.0
    heard = PocketsphinxModel().generate(STT, challenge.input, {})["text"]
    assert word_accuracy(challenge.expected["text"], heard) >= 0.5


@needs_espeak
@needs_pocketsphinx
def test_tts_consistency_rewards_the_same_speech_not_noise() -> None:
    suite, espeak, noise = AudioSuite(), EspeakModel(), AudioNoiseModel()
    a = espeak.generate(TTS, {"text": SENTENCE}, {})
    assert suite.consistency(a, espeak.generate(TTS, {"text": SENTENCE}, {})) == 1.0
    n = noise.generate(TTS, {"text": SENTENCE}, {})
    assert suite.consistency(n, noise.generate(TTS, {"text": SENTENCE}, {})) == 0.0
    assert suite.accuracy(tts_challenge(), a) >= 0.75


@needs_espeak
def test_espeak_only_ever_sees_plain_words() -> None:
    out = EspeakModel().generate(TTS, {"text": "--help; <speak>Hello</speak> $(rm -rf /)"}, {})
    raw = base64.b64decode(out["audio_wav_b64"])
    assert raw[:4] == b"RIFF"
    assert normalise("--help; <speak>Hello</speak>") == "help speak hello speak"


def test_missing_espeak_is_a_typed_error_naming_the_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("moderntensor.subnets.speech.shutil.which", lambda _name: None)
    with pytest.raises(SpeechToolMissingError, match="apt-get install -y espeak-ng"):
        AudioSuite(tasks=(STT,)).make_challenge(random.Random(0))


@needs_espeak
def test_stt_challenges_come_clean_and_noisy() -> None:
    suite = AudioSuite(tasks=(STT,))
    kinds = {suite.make_challenge(random.Random(seed)).kind for seed in range(8)}
    assert kinds == {"stt-clean", "stt-noisy"}


@pytest.mark.slow
@needs_espeak
@needs_pocketsphinx
def test_reference_margin_holds_over_many_challenges() -> None:
    suite, reference, noise = AudioSuite(), SpeechModel(), AudioNoiseModel()
    good, bad = [], []
    for seed in range(100, 160):
        challenge = suite.make_challenge(random.Random(seed))
        good.append(suite.accuracy(challenge, reference.generate(challenge.task,
                                                                 challenge.input, {})))
        bad.append(suite.accuracy(challenge, noise.generate(challenge.task, challenge.input, {})))
    assert np.mean(good) >= 0.85 and np.mean(bad) <= 0.1
