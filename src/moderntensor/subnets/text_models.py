"""Reference models for text generation: SmolLM2, a fixture oracle, and weak test miners.

``oracle`` is a FIXTURE: it reads the suite's own prompt templates and answers them right, to
prove that scoring can reach 1.0. ``slow``, ``flaky`` and ``inconsistent`` are the oracle made
worse in exactly one component each; ``echo`` and ``random`` are simply bad.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from functools import cache
from typing import Any, ClassVar

from moderntensor.subnets.base import ReferenceModel
from moderntensor.subnets.models import FlakyModel, SlowModel, SmolLM2Model
from moderntensor.subnets.text_data import TOPICS, WORDS, facts


def prompt_of(input: Any) -> str:
    """The prompt in a request input: ``{"prompt": str}`` or a bare string."""
    return str(input.get("prompt", "")) if isinstance(input, dict) else str(input)


class SmolLM2Text(SmolLM2Model):
    """SmolLM2-135M-Instruct answering the prompt as one chat message."""

    def prompt(self, input: Any) -> str:
        return prompt_of(input)


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
    """The oracle, answering after a delay between the suite's target (2 s) and timeout (12 s)."""

    name: ClassVar[str] = "slow"
    inner: ClassVar[type[ReferenceModel]] = OracleText
    delay_s: ClassVar[float] = 6.0


class FlakyText(FlakyModel):
    """The oracle, failing every other request."""

    name: ClassVar[str] = "flaky"
    inner: ClassVar[type[ReferenceModel]] = OracleText


MODELS: dict[str, type[ReferenceModel]] = {
    model.name: model
    for model in (SmolLM2Text, OracleText, EchoText, RandomText, InconsistentText, SlowText,
                  FlakyText)
}
