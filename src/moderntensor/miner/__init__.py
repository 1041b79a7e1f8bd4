"""MinerServer: a signed, rate-limited, bounded HTTP server around a miner's ``inference``.

Names load on first use, so light modules of this package (``supervise``) import fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ChainPermitSource": "moderntensor.miner.permits",
    "PermitDeniedError": "moderntensor.miner.permits",
    "PermitSource": "moderntensor.miner.permits",
    "PermitView": "moderntensor.miner.permits",
    "StaticPermitSource": "moderntensor.miner.permits",
    "MinerRequest": "moderntensor.miner.request",
    "MinerServer": "moderntensor.miner.server",
    "MinerSettings": "moderntensor.miner.settings",
}

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

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'moderntensor.miner' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
