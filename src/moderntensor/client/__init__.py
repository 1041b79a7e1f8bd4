"""Luxtensor clients: :class:`AsyncLuxtensorClient` (the one implementation) and
:class:`LuxtensorClient` (its generated synchronous wrapper)."""

from moderntensor.client.core import AsyncLuxtensorClient, TxTimeoutError
from moderntensor.client.sync import LuxtensorClient
from moderntensor.client.transport import ChainError, NodeUnreachableError
from moderntensor.client.types import Log, TxResult

__all__ = ["AsyncLuxtensorClient", "ChainError", "Log", "LuxtensorClient",
           "NodeUnreachableError", "TxResult", "TxTimeoutError"]
