"""The validator role: challenge a subnet's miners, score them, write weights on chain."""

from moderntensor.validator.chainview import (
    ChainView,
    ClientChainView,
    MinerEndpoint,
    StaticChainView,
    SubnetSettings,
    WeightSubmission,
)
from moderntensor.validator.core import RoundReport, Validator, ValidatorError
from moderntensor.validator.metrics import ValidatorMetrics
from moderntensor.validator.query import MinerQuerier, Outcome, QueryResult
from moderntensor.validator.store import MinerStats, ValidatorStore

# The name before SubnetSettings (a client type is called SubnetInfo); kept for existing code.
SubnetInfo = SubnetSettings

__all__ = [
    "ChainView",
    "ClientChainView",
    "MinerEndpoint",
    "MinerQuerier",
    "MinerStats",
    "Outcome",
    "QueryResult",
    "RoundReport",
    "StaticChainView",
    "SubnetSettings",
    "Validator",
    "ValidatorError",
    "ValidatorMetrics",
    "ValidatorStore",
    "WeightSubmission",
]
