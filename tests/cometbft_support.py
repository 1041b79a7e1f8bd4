"""Marks for tests that run the real ``cometbft`` binary."""

from __future__ import annotations

import os

import pytest

from moderntensor.chain.abci.home import INSTALL_HINT, find_binary


def cometbft_marks() -> list[pytest.MarkDecorator]:
    """e2e, skipped with the install command when ``cometbft`` is absent; where CI sets
    ``MT_REQUIRE_COMETBFT=1`` an absent binary fails instead of skipping."""
    if find_binary() is not None:
        return [pytest.mark.e2e]
    if os.environ.get("MT_REQUIRE_COMETBFT") == "1":
        pytest.fail(f"cometbft is required here but not installed; {INSTALL_HINT}")
    return [pytest.mark.skip(reason=f"cometbft binary not installed; {INSTALL_HINT}")]
