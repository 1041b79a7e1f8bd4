"""The text suite's data: the word lists and topics its prompts draw from, and the factual
questions of ``data/facts.json``. Shared by the suite (:mod:`.text`) and its reference models
(:mod:`.text_models`), which answer the same prompts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

WORDS = ("apple", "river", "silver", "garden", "window", "orange", "planet", "forest", "bridge",
         "candle", "mirror", "pencil", "rocket", "violet", "harbor", "meadow")
CATEGORIES = ("fruits", "colors", "animals", "countries", "vegetables", "musical instruments",
              "sports", "metals")
# (topic, the word that shows a reply is on topic)
TOPICS = (("the ocean", "ocean"), ("a city at night", "city"), ("the winter season", "winter"),
          ("a mountain hike", "mountain"), ("how rain forms", "rain"), ("a busy market", "market"),
          ("the night sky", "sky"), ("a public library", "library"))
FORBIDDEN_WORD = "describe"   # the length prompt forbids it, so echoing the prompt scores 0
EXACT_WORD_SHORT = 5          # partial credit for the exact word only inside a short reply
KEY_PAIRS = (("name", "age"), ("city", "population"), ("title", "year"), ("product", "price"),
             ("language", "version"), ("team", "score"))


@dataclass(frozen=True)
class Fact:
    """A question with every accepted answer."""

    question: str
    answers: tuple[str, ...]


@cache
def facts() -> tuple[Fact, ...]:
    """The factual questions shipped in ``moderntensor/subnets/data/facts.json``."""
    source = resources.files("moderntensor.subnets").joinpath("data/facts.json")
    data = json.loads(source.read_text(encoding="utf-8"))
    return tuple(Fact(item["question"], tuple(item["answers"])) for item in data["facts"])
