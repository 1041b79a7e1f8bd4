"""Luxtensor clients: :class:`AsyncLuxtensorClient` (the one implementation) and
:class:`LuxtensorClient` (its generated synchronous wrapper)."""

from moderntensor.client.eth import TxTimeoutError, checksum
from moderntensor.client.luxtensor import AsyncLuxtensorClient
from moderntensor.client.sync import LuxtensorClient
from moderntensor.client.transport import ChainError, NodeUnreachableError
from moderntensor.client.types import (
           Endpoint,
           Log,
           Metagraph,
           ModelInfo,
           Neuron,
           Reward,
           SubnetInfo,
           TxResult,
)

__all__ = ["AsyncLuxtensorClient", "ChainError", "Endpoint", "Log", "LuxtensorClient",
           "Metagraph", "ModelInfo", "Neuron", "NodeUnreachableError", "Reward", "SubnetInfo",
           "TxResult", "TxTimeoutError", "checksum"]
