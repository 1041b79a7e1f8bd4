"""What the client returns: small frozen dataclasses, amounts as int base units.

Transactions come back as :class:`TxResult` (with decoded :class:`Log` entries); the chain's
``mt_`` reads (shapes in docs/rpc.md) as :class:`SubnetInfo`, :class:`Neuron`,
:class:`Metagraph`, :class:`Reward`. u16 components and ppb scores are converted to floats in
[0, 1] for people and numpy, while the exact integers stay available (``*_u16`` / ``*_ppb``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from moderntensor.scoring import COMPONENTS, PPB, U16_MAX
from moderntensor.units import format_mdt


@dataclass(frozen=True)
class Log:
    address: str
    topics: list[str]
    data: str
    event: str | None = None            # decoded event name, when the ABI knows it
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TxResult:
    """A mined transaction: hash, block, status, fee, logs; ``uid`` for registrations (and
    model updates)."""

    tx_hash: str
    block_number: int
    status: int
    gas_used: int
    effective_gas_price: int
    logs: list[Log] = field(default_factory=list)
    uid: int | None = None
    error: dict[str, Any] | None = None  # the node's revert reason: {"code", "message"}

    @property
    def ok(self) -> bool:
        return self.status == 1

    @property
    def fee(self) -> int:
        return self.gas_used * self.effective_gas_price

    def __str__(self) -> str:
        extra = f", uid {self.uid}" if self.uid is not None else ""
        state = "ok" if self.ok else "failed"
        fee = format_mdt(self.fee)
        return f"{self.tx_hash} ({state}, block {self.block_number}{extra}, fee {fee})"


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    protocol: str = "http"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.protocol}://{host}:{self.port}"

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Endpoint | None:
        if not data:
            return None
        return cls(host=str(data["host"]), port=int(data["port"]),
                   protocol=str(data.get("protocol", "http")))


@dataclass(frozen=True)
class ModelInfo:
    name: str
    type: str
    version: str

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ModelInfo | None:
        return cls(str(data["name"]), str(data["type"]), str(data["version"])) if data else None


@dataclass(frozen=True)
class SubnetInfo:
    """One subnet: identity, parameters and the current epoch's emission (``mt_getSubnet``)."""

    netuid: int
    name: str
    task_type: str
    owner: str
    subnet_weight: float
    subnet_weight_ppb: int
    difficulty: int
    params: dict[str, Any]
    miners: int
    validators: int
    epoch: int
    next_epoch_block: int
    epoch_emission: int
    metadata: dict[str, Any] = field(default_factory=dict)  # e.g. {"suite": "pkg.mod:Class"}
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def tempo(self) -> int:
        return int(self.params["tempo"])

    @property
    def weights_rate_limit(self) -> int:
        return int(self.params["weightsRateLimit"])

    @property
    def commit_reveal_period(self) -> int:
        """Blocks from ``commitWeights`` to ``revealWeights``; 0: commit-reveal is off."""
        return int(self.params.get("commitRevealPeriod", 0))

    @property
    def min_validator_stake(self) -> int:
        return int(self.params["minValidatorStake"])

    @property
    def owner_share(self) -> float:
        """The owner's share of the subnet's miner emission (0 for genesis subnets)."""
        return int(self.raw.get("ownerShare", 0)) / PPB

    @property
    def min_score(self) -> float:
        return int(self.params["minScore"]) / PPB

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubnetInfo:
        return cls(
            netuid=int(data["netuid"]), name=str(data["name"]), task_type=str(data["taskType"]),
            owner=str(data["owner"]), subnet_weight=int(data["subnetWeight"]) / PPB,
            subnet_weight_ppb=int(data["subnetWeight"]), difficulty=int(data["difficulty"]),
            params=dict(data["params"]), miners=int(data["miners"]),
            validators=int(data["validators"]), epoch=int(data["epoch"]),
            next_epoch_block=int(data["nextEpochBlock"]),
            epoch_emission=int(data["epochEmission"]),
            metadata=dict(data.get("metadata") or {}),
            raw=data,
        )


@dataclass(frozen=True)
class Neuron:
    """One uid of a subnet (``mt_getNeuron``); components as floats in [0, 1]."""

    netuid: int
    uid: int
    address: str
    role: str
    stake: int
    validator_permit: bool
    score: float
    components: dict[str, float]
    endpoint: Endpoint | None
    model: ModelInfo | None
    registered_block: int
    last_update: int
    last_reward: int
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Neuron:
        return cls(
            netuid=int(data["netuid"]), uid=int(data["uid"]), address=str(data["address"]),
            role=str(data["role"]), stake=int(data["stake"]),
            validator_permit=bool(data["validatorPermit"]),
            score=int(data["score"]) / PPB,
            components={name: int(data[name]) / U16_MAX for name in COMPONENTS},
            endpoint=Endpoint.from_json(data.get("endpoint")),
            model=ModelInfo.from_json(data.get("model")),
            registered_block=int(data["registeredBlock"]), last_update=int(data["lastUpdate"]),
            last_reward=int(data["lastReward"]), raw=data,
        )


@dataclass(frozen=True)
class Metagraph:
    """A subnet's neurons as columns (index = uid), built for numpy.

    ``stakes`` and ``last_rewards`` are object arrays of Python ints (exact base units);
    ``scores`` and the four components are float arrays in [0, 1].
    """

    netuid: int
    block: int
    uids: np.ndarray
    addresses: list[str]
    roles: np.ndarray
    stakes: np.ndarray
    validator_permits: np.ndarray
    active: np.ndarray
    scores: np.ndarray
    components: dict[str, np.ndarray]
    endpoints: list[Endpoint | None]
    models: list[ModelInfo | None]
    registered_blocks: np.ndarray
    last_updates: np.ndarray
    last_rewards: np.ndarray
    delegated_stakes: np.ndarray | None = None   # nominators' stake per uid (base units)
    takes: list[int | None] | None = None        # validators' take, ppb
    coldkeys: list[str | None] | None = None     # the cold key each hot key bound itself to

    @property
    def n(self) -> int:
        return len(self.uids)

    @property
    def miner_uids(self) -> np.ndarray:
        return self.uids[self.roles == "miner"]

    @property
    def permitted_validators(self) -> dict[str, int]:
        """Address -> stake of every validator holding a permit."""
        mask = (self.roles == "validator") & self.validator_permits
        return {self.addresses[i]: int(self.stakes[i]) for i in np.flatnonzero(mask)}

    def uid_of(self, address: str) -> int | None:
        lowered = address.lower()
        for uid, candidate in zip(self.uids.tolist(), self.addresses, strict=True):
            if candidate.lower() == lowered:
                return int(uid)
        return None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Metagraph:
        def ints(key: str) -> np.ndarray:
            return np.asarray(data[key], dtype=np.int64)

        def exact(key: str) -> np.ndarray:
            return np.array([int(v) for v in data[key]], dtype=object)

        return cls(
            netuid=int(data["netuid"]), block=int(data["block"]), uids=ints("uids"),
            addresses=list(data["addresses"]), roles=np.asarray(data["roles"], dtype=str),
            stakes=exact("stakes"), validator_permits=np.asarray(data["validatorPermits"], bool),
            active=np.asarray(data["active"], dtype=bool),
            scores=np.asarray(data["scores"], dtype=np.float64) / PPB,
            components={name: np.asarray(data[name], dtype=np.float64) / U16_MAX
                        for name in COMPONENTS},
            endpoints=[Endpoint.from_json(e) for e in data["endpoints"]],
            models=[ModelInfo.from_json(m) for m in data["models"]],
            registered_blocks=ints("registeredBlocks"), last_updates=ints("lastUpdates"),
            last_rewards=exact("lastRewards"),
            delegated_stakes=exact("delegatedStakes") if "delegatedStakes" in data else None,
            takes=data.get("takes"), coldkeys=data.get("coldkeys"),
        )


@dataclass(frozen=True)
class Reward:
    """One payout record (``mt_getRewards``)."""

    epoch: int
    netuid: int
    block: int
    address: str
    role: str
    score: float
    total_score: float
    subnet_weight: float
    emission: int
    reward: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reward:
        return cls(
            epoch=int(data["epoch"]), netuid=int(data["netuid"]), block=int(data["block"]),
            address=str(data["address"]), role=str(data["role"]),
            score=int(data["score"]) / PPB, total_score=int(data["totalScore"]) / PPB,
            subnet_weight=int(data["subnetWeight"]) / PPB,
            emission=int(data["emission"]), reward=int(data["reward"]),
        )
