"""ModernTensor: a decentralized AI inference network on the Luxtensor chain.

The public API is importable from here; heavier parts load on first use so that
``import moderntensor`` stays fast.

>>> from moderntensor import Wallet, LuxtensorClient, MinerServer  # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "Wallet": "moderntensor.wallet",
    "LuxtensorClient": "moderntensor.client",
    "AsyncLuxtensorClient": "moderntensor.client",
    "MinerServer": "moderntensor.miner",
    "Validator": "moderntensor.validator",
    "to_base": "moderntensor.units",
    "from_base": "moderntensor.units",
    "format_mdt": "moderntensor.units",
    "ModernTensorError": "moderntensor.errors",
    "resolve_config": "moderntensor.config",
}

__all__ = [  # noqa: RUF022 - grouped by role, not alphabetically
    "__version__",
    "Wallet",
    "LuxtensorClient",
    "AsyncLuxtensorClient",
    "MinerServer",
    "Validator",
    "to_base",
    "from_base",
    "format_mdt",
    "ModernTensorError",
    "resolve_config",
]

if TYPE_CHECKING:
    from moderntensor.client import AsyncLuxtensorClient, LuxtensorClient
    from moderntensor.config import resolve_config
    from moderntensor.errors import ModernTensorError
    from moderntensor.miner import MinerServer
    from moderntensor.units import format_mdt, from_base, to_base
    from moderntensor.validator import Validator
    from moderntensor.wallet import Wallet


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'moderntensor' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
