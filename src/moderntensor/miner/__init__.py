"""MinerServer: a signed, rate-limited, bounded HTTP server around a miner's ``inference``."""

from __future__ import annotations

from moderntensor.miner.permits import (
    ChainPermitSource,
    PermitDeniedError,
    PermitSource,
    PermitView,
    StaticPermitSource,
)
from moderntensor.miner.request import MinerRequest
from moderntensor.miner.server import MinerServer
from moderntensor.miner.settings import MinerSettings

__all__ = [
    "ChainPermitSource",
    "MinerRequest",
    "MinerServer",
    "MinerSettings",
    "PermitDeniedError",
    "PermitSource",
    "PermitView",
    "StaticPermitSource",
]
