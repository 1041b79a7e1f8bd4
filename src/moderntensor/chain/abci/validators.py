"""The consensus validator set: which CometBFT validators vote, with what power.

Rule today: the genesis set (CometBFT's genesis file) votes, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from moderntensor.chain.state import State


class ValidatorSet:
    """Tracks the set CometBFT announced and answers FinalizeBlock's validator updates."""

    def __init__(self) -> None:
        self.genesis: list[Any] = []

    def set_genesis(self, validators: Iterable[Any]) -> None:
        self.genesis = list(validators)

    def updates(self, state: State, height: int) -> list[Any]:
        """Validator power changes to apply after block ``height`` (none: the set is fixed)."""
        return []
