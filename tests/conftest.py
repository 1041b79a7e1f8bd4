"""Shared fixtures: an isolated ModernTensor home for every test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def mt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own MT_HOME and a clean MT_* environment."""
    home = tmp_path / "mt-home"
    for var in ("MT_WALLET", "MT_WALLET_PASSWORD", "MT_NETWORK", "MT_SUBNET"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MT_HOME", str(home))
    return home
