"""Luxtensor clients: :class:`AsyncLuxtensorClient` (the one implementation) and
:class:`LuxtensorClient` (its generated synchronous wrapper)."""

from moderntensor.client.core import TxTimeoutError, checksum
from moderntensor.client.luxtensor import AsyncLuxtensorClient
from moderntensor.client.sync import LuxtensorClient
from moderntensor.client.transport import ChainError, NodeUnreachableError
from moderntensor.client.types import Log, TxResult
from moderntensor.client.views import Endpoint, Metagraph, ModelInfo, Neuron, Reward, SubnetInfo

__all__ = ["AsyncLuxtensorClient", "ChainError", "Endpoint", "Log", "LuxtensorClient",
           "Metagraph", "ModelInfo", "Neuron", "NodeUnreachableError", "Reward", "SubnetInfo",
           "TxResult", "TxTimeoutError", "checksum"]
