"""Text generation (subnet 1): the named model's replies, verified token by token.

Input ``{"prompt": str, "seed": int, "max_tokens": int}`` (seed and length are part of the input
because they decide the reply: a miner that hands ``request.input`` to its model, as the miner
guide does, passes them on); output ``{"text": str, "tokens": [int, ...]}``. The subnet names
its model (SmolLM2-135M-Instruct): a reply's **accuracy** is the share of its tokens that the
named model, sampling with the request's seed bound to the miner's own address, verifiably
produced (:mod:`moderntensor.subnets.verified_sampling`). A template parser, a lookup, a relay
or a replay scores ~0; only running the model pays.

The prompts are checkable challenges; each kind's rule below measures the *quality* of a
reply (:meth:`TextSuite.quality`, what ``benchmarks/reference_accuracy.py`` reports), not the
miner's pay. Text is *normalized* before these checks: Unicode NFKC, lower case, punctuation to
spaces (except inside numbers), whitespace collapsed.

Quality rules, by kind:

* ``fact`` (questions of ``data/facts.json``): 1 if an accepted answer appears as whole words
  within the first :data:`FACT_WINDOW_WORDS` words of the reply, else 0 (listing many guesses
  does not pay).
* ``arithmetic`` (generated ``a + b``, ``a - b``, ``a * b``): 1 if the last number in the reply
  equals the result, else 0.
* ``exact_word``: 1 if the reply is exactly the word (quotes, final punctuation and case
  ignored), 0.5 if the word is in a reply of at most 5 words, else 0.
* ``item_count`` (a list of exactly *n* items, one per line): ``max(0, 1 - |k - n| / n)`` for
  *k* distinct non-empty lines (bullets and numbering stripped).
* ``json`` (an object with a string key and an integer key): 0 unless the reply, without a
  code fence, is a JSON object; then 0.5, plus 0.25 per required key holding the right type.
* ``length`` ("describe a topic in at most *n* words, without the word 'describe'"): 0 if the
  reply lacks the topic's key word or uses the forbidden one; else 1 for up to *n* words and
  ``n / k`` for *k* > n words.

Consistency: rapidfuzz ``ratio`` of the two normalized replies, in [0, 1].
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from moderntensor.errors import InvalidInputError
from moderntensor.subnets.base import Challenge, ReferenceModel, TaskSuite
from moderntensor.subnets.models import MAX_NEW_TOKENS
from moderntensor.subnets.text_data import (
    CATEGORIES,
    EXACT_WORD_SHORT,
    FORBIDDEN_WORD,
    KEY_PAIRS,
    TOPICS,
    WORDS,
    facts,
)
from moderntensor.subnets.text_models import MODELS

TASK = "text-generation"
MAX_TEXT_CHARS = 16_000
FACT_WINDOW_WORDS = 20   # an answer must come early: a reply that lists guesses does not pay
KINDS = ("fact", "arithmetic", "exact_word", "item_count", "json", "length")
# short replies keep the named model's work per challenge ~1 s on a busy core, and still hold
# enough uncertain tokens that a reply sampled for another seed or miner diverges early
MAX_TOKENS = {"fact": 32, "arithmetic": 32, "exact_word": 16, "item_count": 48, "json": 48,
              "length": 48}

class TextInput(BaseModel):
    """A prompt for the model, and how to sample the reply (validators always set both)."""

    prompt: str = Field(min_length=1, max_length=4_000)
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_NEW_TOKENS)


class TextOutput(BaseModel):
    """The model's reply."""

    text: str = Field(max_length=MAX_TEXT_CHARS)
    tokens: list[int] | None = Field(default=None, max_length=MAX_NEW_TOKENS)


@dataclass(frozen=True)
class TextExpectation:
    """What a text challenge is checked against: the kind's answer (quality) and the miner
    the reply must be sampled for (accuracy; set by :meth:`TextSuite.for_miner`)."""

    answer: Any
    miner: str = ""


# Punctuation, except a point or comma inside a number and a leading minus: "3.5", "1,000", "-12".
_PUNCTUATION = re.compile(r"(?!(?<=\d)[.,](?=\d))(?!(?<!\w)-(?=\d))[^\w\s]")


def normalize(text: str) -> str:
    """NFKC, lower case, punctuation to spaces (not inside numbers), whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def text_of(output: Any) -> str | None:
    """The reply in an output: ``{"text": str}`` or a bare string; ``None`` if malformed."""
    if isinstance(output, dict):
        output = output.get("text")
    if isinstance(output, str) and len(output) <= MAX_TEXT_CHARS:
        return output
    return None


# --- challenges --------------------------------------------------------------------------

def make_prompt(kind: str, rng: random.Random) -> tuple[str, Any]:
    """A prompt of ``kind`` drawn from ``rng``, and what its accuracy rule checks against."""
    if kind == "fact":
        fact = rng.choice(facts())
        return f"Answer in a few words. {fact.question}", fact.answers
    if kind == "arithmetic":
        op = rng.choice("+-*")
        a, b = (rng.randint(2, 99), rng.randint(2, 99)) if op == "*" else (
            rng.randint(10, 999), rng.randint(10, 999))
        result = a + b if op == "+" else a - b if op == "-" else a * b
        return f"What is {a} {op} {b}? Reply with the number only.", result
    if kind == "exact_word":
        word = rng.choice(WORDS)
        return f'Reply with exactly one word, "{word}", and nothing else.', word
    if kind == "item_count":
        count, category = rng.randint(3, 7), rng.choice(CATEGORIES)
        return (f"List exactly {count} {category}, one per line, with no other text.", count)
    if kind == "json":
        text_key, int_key = rng.choice(KEY_PAIRS)
        return (f'Reply with only a JSON object with the keys "{text_key}" (a string) and '
                f'"{int_key}" (an integer).', (text_key, int_key))
    if kind == "length":
        limit, (topic, keyword) = rng.choice((10, 15, 20, 30)), rng.choice(TOPICS)
        return (f'Describe {topic} in at most {limit} words. Do not use the word '
                f'"{FORBIDDEN_WORD}".', (limit, keyword))
    raise InvalidInputError(f"unknown text challenge kind {kind!r}; known: {KINDS}")


# --- accuracy rules ----------------------------------------------------------------------

def _contains_phrase(words: list[str], phrase: str) -> bool:
    target = normalize(phrase).split()
    return any(words[i:i + len(target)] == target for i in range(len(words) - len(target) + 1))


def score_fact(reply: str, answers: tuple[str, ...]) -> float:
    """1 if an accepted answer is among the reply's first words."""
    words = normalize(reply).split()[:FACT_WINDOW_WORDS]
    return 1.0 if any(_contains_phrase(words, answer) for answer in answers) else 0.0


_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def score_arithmetic(reply: str, result: int) -> float:
    """1 if the last number of the reply is the result."""
    numbers = _NUMBER.findall(unicodedata.normalize("NFKC", reply))
    if not numbers:
        return 0.0
    try:
        return 1.0 if float(numbers[-1].replace(",", "")) == result else 0.0
    except ValueError:
        return 0.0


def score_exact_word(reply: str, word: str) -> float:
    """1 for exactly the word, 0.5 for the word inside a reply of a few words."""
    words = normalize(reply).split()
    if words == [word]:
        return 1.0
    return 0.5 if word in words and len(words) <= EXACT_WORD_SHORT else 0.0


_BULLET = re.compile(r"^\s*(?:[-*•]+|\d+[.)]|[a-z][.)])\s*", re.IGNORECASE)


def score_item_count(reply: str, count: int) -> float:
    """``1 - |distinct items - count| / count``, at least 0."""
    items = {normalize(_BULLET.sub("", line)) for line in reply.splitlines()}
    items.discard("")
    return max(0.0, 1.0 - abs(len(items) - count) / count)


_FENCED = re.compile(r"^```[a-z]*\s*\n?(.*?)\n?```$", re.DOTALL | re.IGNORECASE)


def score_json(reply: str, keys: tuple[str, str]) -> float:
    """0.5 for a JSON object, + 0.25 each for a str under the first key, an int under the second."""
    body = reply.strip()
    fenced = _FENCED.match(body)
    try:
        value = json.loads(fenced.group(1) if fenced else body)
    except ValueError:
        return 0.0
    if not isinstance(value, dict):
        return 0.0
    text_key, int_key = keys
    score = 0.5 + (0.25 if isinstance(value.get(text_key), str) else 0.0)
    number = value.get(int_key)
    return score + (0.25 if isinstance(number, int) and not isinstance(number, bool) else 0.0)


def score_length(reply: str, expected: tuple[int, str]) -> float:
    """On topic and without the forbidden word: 1 for up to ``limit`` words, then ``limit / k``."""
    limit, keyword = expected
    words = normalize(reply).split()
    if keyword not in words or FORBIDDEN_WORD in words:
        return 0.0
    return 1.0 if len(words) <= limit else limit / len(words)


RULES = {"fact": score_fact, "arithmetic": score_arithmetic, "exact_word": score_exact_word,
         "item_count": score_item_count, "json": score_json, "length": score_length}


class TextSuite(TaskSuite):
    """Checkable text challenges: facts, arithmetic and verifiable instructions."""

    task_type: ClassVar[str] = TASK
    tasks: ClassVar[tuple[str, ...]] = (TASK,)
    latency_target_s: ClassVar[float] = 2.0
    timeout_s: ClassVar[float] = 12.0
    input_model: ClassVar[type[BaseModel]] = TextInput
    output_model: ClassVar[type[BaseModel]] = TextOutput

    def make_challenge(self, rng: random.Random) -> Challenge:
        """A challenge of a uniformly drawn kind."""
        kind = rng.choice(KINDS)
        prompt, expected = make_prompt(kind, rng)
        input = {"prompt": prompt, "seed": rng.getrandbits(63), "max_tokens": MAX_TOKENS[kind]}
        return Challenge(task=TASK, input=input, expected=TextExpectation(expected), kind=kind)

    def for_miner(self, challenge: Challenge, miner: str) -> Challenge:
        """The challenge for the miner at ``miner``: its reply must be sampled for that address."""
        return replace(challenge, expected=replace(challenge.expected, miner=miner))

    def accuracy(self, challenge: Challenge, output: Any) -> float:
        """Share of the reply's tokens the named model verifiably sampled for this miner."""
        from moderntensor.subnets.verified_sampling import verify_reply

        expected = challenge.expected
        if not isinstance(expected, TextExpectation) or not expected.miner:
            return 0.0
        return verify_reply(challenge.input["prompt"], challenge.input["seed"],
                            expected.miner, output, challenge.input["max_tokens"])

    def quality(self, challenge: Challenge, output: Any) -> float:
        """How right the reply is by its kind's rule (module docstring), in [0, 1]."""
        reply = text_of(output)
        rule = RULES.get(challenge.kind)
        if reply is None or rule is None:
            return 0.0
        return min(1.0, max(0.0, rule(reply, challenge.expected.answer)))

    def consistency(self, a: Any, b: Any) -> float:
        text_a, text_b = text_of(a), text_of(b)
        if text_a is None or text_b is None:
            return 0.0
        return fuzz.ratio(normalize(text_a), normalize(text_b)) / 100.0

    def reference_models(self) -> dict[str, type[ReferenceModel]]:
        return dict(MODELS)
