"""Varied HumanEval problems: renamed, and asking for a transformed result, so public answers fail.

HumanEval's solutions are public, so a miner could look the answer up by its prompt. Every code
challenge is therefore a *variant*: the function gets a fresh name (~90,000 of them) and the
docstring asks for the documented result transformed by the type of what the function returns: a
bool negated, a number plus *k* (1-9), a string followed by ``#k``, a list followed by *k*
(never a transform that could leave a result unchanged, as reversing a palindrome would). The
validator knows the reference outputs of every check (:mod:`.humaneval_cases`) and applies the
same transform, so no reference code runs. A public solution, found by prompt or not, returns
the untransformed result under the old name and scores 0; a model that reads the docstring can
solve the variant.

>>> Variant("HumanEval/0", "bright_lantern_42", "add", 3).apply([1, 2.5])
[4, 5.5]
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_ADJECTIVES = ("amber", "bright", "calm", "clever", "crisp", "eager", "gentle", "golden",
               "hidden", "humble", "lively", "lucky", "mellow", "nimble", "quiet", "rapid",
               "silent", "steady", "swift", "tidy", "vivid", "warm", "wise", "young",
               "bold", "brave", "fresh", "keen", "merry", "proud")
_NOUNS = ("anchor", "beacon", "canyon", "cedar", "comet", "delta", "ember", "falcon", "fjord",
          "glacier", "harbor", "island", "lantern", "maple", "meadow", "nebula", "orchard",
          "pebble", "prairie", "quartz", "raven", "ridge", "river", "summit", "thicket",
          "tundra", "valley", "willow", "zephyr", "atlas")
NOTES = {
    "negate": "Variant: return the opposite of the boolean described above.",
    "add": "Variant: return the number described above plus {k}.",
    "extend": "Variant: return the string described above followed by '#{k}', or the list "
              "described above with {k} appended.",
}


def transform_for(outputs: Sequence[Any]) -> str | None:
    """The transform that fits every reference output, or ``None`` when none fits all."""
    if not outputs:
        return None
    if all(isinstance(value, bool) for value in outputs):
        return "negate"
    if all(type(value) in (int, float) for value in outputs):
        return "add"
    if all(isinstance(value, str) for value in outputs) or all(
            isinstance(value, list) for value in outputs):
        return "extend"
    return None


@dataclass(frozen=True)
class Variant:
    """One variant of a problem: its new function name and the transform of its result."""

    task_id: str
    entry_point: str
    transform: str        # "negate" | "add" | "extend"; "none": the plain problem
    k: int = 1            # the addend of "add", the suffix of "extend"

    def apply(self, values: Sequence[Any]) -> list[Any]:
        """The reference outputs transformed: what this variant's checks expect."""
        return [self.apply_one(value) for value in values]

    def apply_one(self, value: Any) -> Any:
        if self.transform == "none":
            return value
        if self.transform == "negate":
            return not value
        if self.transform == "add":
            return value + self.k
        return value + f"#{self.k}" if isinstance(value, str) else [*value, self.k]

    def undo(self, value: Any) -> Any:
        """A miner's output turned back into the plain problem's (for a task's oracle)."""
        if self.transform == "none":
            return value
        if self.transform == "negate":
            return not value if isinstance(value, bool) else None
        if self.transform == "add":
            is_number = type(value) in (int, float)
            return value - self.k if is_number else None
        suffix: Any = f"#{self.k}" if isinstance(value, str) else [self.k]
        if isinstance(value, str | list) and value[len(value) - len(suffix):] == suffix:
            return value[:len(value) - len(suffix)]
        return None

    def prompt(self, prompt: str, entry_point: str) -> str:
        """The problem's prompt renamed, with the variant's note closing its docstring."""
        if self.transform == "none":
            return prompt
        renamed = re.sub(rf"\b{re.escape(entry_point)}\b", self.entry_point, prompt)
        note = NOTES[self.transform].format(k=self.k)
        for quotes in ('"""', "'''"):
            end = renamed.rfind(quotes)
            if end >= 0:
                return f"{renamed[:end].rstrip()}\n    {note}\n    {renamed[end:]}"
        return renamed + f"    # {note}\n"

    def to_json(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "entry_point": self.entry_point,
                "transform": self.transform, "k": self.k}


def variant_of(expected: Any, entry_points: dict[str, str]) -> Variant | None:
    """The variant a challenge's ``expected`` names: its JSON, or a bare task id for the plain
    problem (``entry_points``: task id -> function name); ``None`` when it names none."""
    if isinstance(expected, str) and expected in entry_points:
        return Variant(expected, entry_points[expected], "none")
    if isinstance(expected, dict):
        try:
            variant = Variant(**expected)
        except TypeError:
            return None
        if variant.transform in NOTES and isinstance(variant.k, int):
            return variant
    return None


def draw_variant(task_id: str, transform: str, rng: random.Random) -> Variant:
    """A fresh name and addend for ``task_id``'s variant with ``transform``."""
    name = f"{rng.choice(_ADJECTIVES)}_{rng.choice(_NOUNS)}_{rng.randint(10, 109)}"
    return Variant(task_id, name, transform, rng.randint(1, 9))


def variant_solution(solution: str, entry_point: str, variant: Variant) -> str:
    """Whole definitions solving ``variant`` from the plain problem's solution.

    ``solution`` is the complete original function (prompt + body); the variant's function
    calls it and transforms the result, as a model reading the docstring would.
    """
    transform = {"negate": "not result", "add": f"result + {variant.k}",
                 "extend": f"result + '#{variant.k}' if isinstance(result, str) "
                           f"else [*result, {variant.k}]"}[variant.transform]
    return (f"{solution.rstrip()}\n\n\ndef {variant.entry_point}(*args, **kwargs):\n"
            f"    result = {entry_point}(*args, **kwargs)\n    return {transform}\n")
