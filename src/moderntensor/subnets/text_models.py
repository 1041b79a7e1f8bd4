"""Reference models for text generation: the subnet's named model, and named cheats.

``smollm2`` is the honest miner: SmolLM2-135M-Instruct sampling with verified sampling
(:mod:`.verified_sampling`), bound to the serving miner's address. ``slow`` and ``flaky`` are
that model made worse in one component each (latency, availability).

The rest are CHEATS kept to show that they earn nothing: ``oracle`` is a template parser that
reads the suite's own prompt templates and answers them right (quality 1.0, accuracy ~0, as
no model sampled it); ``inconsistent`` wraps its answers in random chatter; ``echo``,
``constant`` and ``random`` need no model at all.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from functools import cache
from typing import Any, ClassVar

from moderntensor.subnets.base import ReferenceModel
from moderntensor.subnets.models import FlakyModel, SlowModel, max_tokens_of
from moderntensor.subnets.text_data import TOPICS, WORDS, facts


def prompt_of(input: Any) -> str:
    """The prompt in a request input: ``{"prompt": str}`` or a bare string."""
    return str(input.get("prompt", "")) if isinstance(input, dict) else str(input)


class SmolLM2Text(ReferenceModel):
    """SmolLM2-135M-Instruct, the subnet's named model, sampling for the serving miner.

    Returns ``{"text", "tokens"}`` sampled with the input's ``seed`` (else ``params["seed"]``,
    else 0) bound to the address given to :meth:`serve_as` (the zero address until then), for
    at most the input's ``max_tokens`` (else ``params["max_tokens"]``, else 128).
    """

    name: ClassVar[str] = "smollm2"
    default_max_tokens: ClassVar[int] = 128

    def __init__(self) -> None:
        self.address = "0x" + "00" * 20
        self.last_usage: dict[str, int] = {}   # token counts of the latest reply, for metrics

    def serve_as(self, address: str) -> None:
        self.address = address

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        from moderntensor.subnets.verified_sampling import MAX_SEED, named_model, sampling_seed

        given = {**params, **input} if isinstance(input, dict) else params
        seed = given.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            seed = 0
        model = named_model(verifier=False)
        prompt = prompt_of(input)
        reply = model.sample(prompt, sampling_seed(seed, self.address),
                             max_tokens_of(given, self.default_max_tokens))
        self.last_usage = {"prompt_tokens": reply.prompt_tokens,
                           "completion_tokens": len(reply.tokens)}
        return {"text": reply.text, "tokens": list(reply.tokens)}


@cache
def _answers_by_question() -> dict[str, str]:
    return {fact.question: fact.answers[0] for fact in facts()}


def _arithmetic(match: re.Match[str]) -> str:
    a, op, b = int(match[1]), match[2], int(match[3])
    return str(a + b if op == "+" else a - b if op == "-" else a * b)


# The suite's instruction templates, and how to follow each one.
_TEMPLATES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"What is (-?\d+) ([+\-*]) (-?\d+)\?"), _arithmetic),
    (re.compile(r'exactly one word, "(\w+)"'), lambda match: match[1]),
    (re.compile(r"List exactly (\d+) (.+?), one per line"),
     lambda match: "\n".join(f"{match[2]} {index}" for index in range(1, int(match[1]) + 1))),
    (re.compile(r'keys "(\w+)" \(a string\) and "(\w+)" \(an integer\)'),
     lambda match: json.dumps({match[1]: "example", match[2]: 1})),
    (re.compile(r"Describe (.+?) in at most"),
     lambda match: f"{dict(TOPICS).get(match[1], match[1]).capitalize()}: calm and bright."),
)


def oracle_answer(prompt: str) -> str:
    """The right answer to a prompt made by :func:`moderntensor.subnets.text.make_prompt`."""
    question = prompt.removeprefix("Answer in a few words. ")
    if question in _answers_by_question():
        return _answers_by_question()[question]
    for pattern, answer in _TEMPLATES:
        if match := pattern.search(prompt):
            return answer(match)
    return prompt


class OracleText(ReferenceModel):
    """FIXTURE: answers every suite challenge correctly, deterministically."""

    name: ClassVar[str] = "oracle"

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        return {"text": oracle_answer(prompt_of(input))}


class ConstantText(ReferenceModel):
    """CHEAT: the same short answer to everything."""

    name: ClassVar[str] = "constant"

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        return {"text": "42"}


class EchoText(ReferenceModel):
    """Repeats the prompt: consistent and fast, rarely right."""

    name: ClassVar[str] = "echo"

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        return {"text": prompt_of(input)}


class RandomText(ReferenceModel):
    """Random words and numbers: right only by chance, different every time."""

    name: ClassVar[str] = "random"

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)  # noqa: S311 (a weak fixture, not cryptography)

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        vocabulary = (*WORDS, *(str(self._rng.randint(0, 999)) for _ in range(4)))
        count = self._rng.randint(4, 12)  # never a lone word that a repeat could match
        return {"text": " ".join(self._rng.choice(vocabulary) for _ in range(count))}


_PREFIXES = ("", "Sure! ", "Here you go: ", "Answer: ", "Well, I think ", "Okay. ")
_SUFFIXES = ("", " Hope this helps.", " That is my answer.", " Let me know if you need more.")


class InconsistentText(ReferenceModel):
    """The oracle's answer wrapped in random chatter: answers repeats differently."""

    name: ClassVar[str] = "inconsistent"

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)  # noqa: S311 (a weak fixture, not cryptography)

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        answer = oracle_answer(prompt_of(input))
        return {"text": self._rng.choice(_PREFIXES) + answer + self._rng.choice(_SUFFIXES)}


class SlowText(SlowModel):
    """The named model, answering after a delay between the suite's target (2 s) and timeout
    (12 s): slow but right."""

    name: ClassVar[str] = "slow"
    inner: ClassVar[type[ReferenceModel]] = SmolLM2Text
    delay_s: ClassVar[float] = 3.0


class FlakyText(FlakyModel):
    """The named model, failing every other request."""

    name: ClassVar[str] = "flaky"
    inner: ClassVar[type[ReferenceModel]] = SmolLM2Text


MODELS: dict[str, type[ReferenceModel]] = {
    model.name: model
    for model in (SmolLM2Text, OracleText, EchoText, ConstantText, RandomText, InconsistentText,
                  SlowText, FlakyText)
}
