"""Parameters: the network's emission and deposits, each subnet's hyperparameters, genesis.

Everything is an integer (base units, blocks, ppb, u16). Genesis config comes from
``spec.modules["moderntensor"]`` (camelCase JSON, every key optional). Its ``preset``
(``"dev"``: :func:`dev_config`, ``"production"``: :func:`production_config`) is the base the
other keys override; without one, chain id 1337 gets the dev preset and others production.

>>> cfg = dev_config()
>>> [s.netuid for s in cfg.subnets], sum(s.weight for s in cfg.subnets)
([1, 2, 3, 4], 1000000000)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from moderntensor.chain.errors import ExecutionError, GenesisError
from moderntensor.chain.modules.epoch_math import DEFAULT_KAPPA, check_subnet_weights
from moderntensor.errors import InvalidInputError
from moderntensor.protocol.pow import (
    DEFAULT_POW_DIFFICULTY,
    MAX_POW_DIFFICULTY,
    MIN_POW_DIFFICULTY,
)
from moderntensor.scoring import PPB
from moderntensor.units import BASE_PER_MDT

DEV_CHAIN_ID = 1337                  # same as genesis.DEV_CHAIN_ID (not imported: no cycle)
MAX_MINERS = 16_384                  # the largest subnet the epoch is benchmarked for
MAX_VALIDATORS = 256
VALIDATOR_SLOTS_FACTOR = 2           # registered validators <= 2 x maxValidators (permit waitlist)
MAX_AMOUNT = 2**128 - 1              # stakes, deposits, emissions fit u128 with room to spare
MAX_NAME_LENGTH = 64
TASK_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
DEV_DIFFICULTY = 2**15               # ~0.5 s at ~60k keccak/s on a busy core: well under 5 s
DEV_MAX_DIFFICULTY = 2**17           # adjustment never pushes dev registration past ~3 s
GENESIS_TASKS = ("text-generation", "image-generation", "code-generation", "audio")
GENESIS_WEIGHTS = (400_000_000, 250_000_000, 200_000_000, 150_000_000)  # ppb; sum = 1.0


class ParamsError(ExecutionError):
    code = "invalid_subnet_params"


@dataclass(frozen=True)
class SubnetParams:
    """A subnet's hyperparameters (JSON names are the camelCase of these)."""

    tempo: int = 75                          # blocks per epoch
    max_miners: int = 1024
    max_validators: int = 64
    immunity_period: int = 4096              # blocks a new miner cannot be replaced
    min_validator_stake: int = 1000 * BASE_PER_MDT
    min_score: int = 0                       # ppb; scores under it are paid nothing
    kappa: int = DEFAULT_KAPPA               # ppb; consensus needs more than kappa of the stake
    weights_rate_limit: int = 100            # blocks between two setWeights of a validator
    serving_rate_limit: int = 50             # blocks between two serveEndpoint of a neuron
    activity_cutoff: int = 225               # weights older than this (blocks) do not count
    max_registrations_per_block: int = 1
    target_registrations_per_interval: int = 4
    adjustment_interval: int = 360           # blocks between difficulty adjustments
    min_difficulty: int = MIN_POW_DIFFICULTY
    max_difficulty: int = MAX_POW_DIFFICULTY
    commit_reveal_period: int = 10           # blocks from commitWeights to revealWeights; 0 off
    weights_version: int = 0                 # weights rows need versionKey >= this


# (low, high) of each parameter; validate() names the offending one.
PARAM_BOUNDS: dict[str, tuple[int, int]] = {
    "tempo": (1, 100_000),
    "max_miners": (1, MAX_MINERS),
    "max_validators": (1, MAX_VALIDATORS),
    "immunity_period": (0, 10**7),
    "min_validator_stake": (0, MAX_AMOUNT),
    "min_score": (0, PPB),
    "kappa": (0, PPB - 1),
    "weights_rate_limit": (0, 10**7),
    "serving_rate_limit": (0, 10**7),
    "activity_cutoff": (1, 10**8),
    "commit_reveal_period": (0, 10**6),
    "weights_version": (0, 2**64 - 1),
    "max_registrations_per_block": (1, 256),
    "target_registrations_per_interval": (1, 10**4),
    "adjustment_interval": (1, 10**7),
    "min_difficulty": (1, MAX_POW_DIFFICULTY),
    "max_difficulty": (1, MAX_POW_DIFFICULTY),
}
PARAM_NAMES = tuple(f.name for f in fields(SubnetParams))


@dataclass(frozen=True)
class NetworkParams:
    """Chain-wide parameters of the ModernTensor modules."""

    miner_emission_per_block: int = BASE_PER_MDT         # EpochEmission = this x tempo
    validator_emission_per_block: int = BASE_PER_MDT // 4
    subnet_deposit: int = 1000 * BASE_PER_MDT            # locked by createSubnet
    unbonding_period: int = 7200                         # blocks before removed stake returns
    reward_history_epochs: int = 256                     # payout records kept per subnet
    root_voters: int = 64                                # validators whose votes set weights
    root_tempo: int = 360                                # blocks between subnet weight updates
    owner_share: int = 180_000_000                       # ppb of a subnet's miner emission


@dataclass(frozen=True)
class GenesisSubnet:
    netuid: int
    name: str
    task_type: str
    weight: int                                          # ppb
    difficulty: int
    params: SubnetParams


@dataclass(frozen=True)
class ModuleConfig:
    network: NetworkParams
    subnets: tuple[GenesisSubnet, ...] = field(default_factory=tuple)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def params_to_json(params: SubnetParams) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in PARAM_NAMES:
        value = getattr(params, name)
        out[camel(name)] = str(value) if name == "min_validator_stake" else value
    return out


def validate_params(params: SubnetParams) -> SubnetParams:
    """Raise :class:`ParamsError` (code ``invalid_subnet_params``) naming the bad field."""
    for name, (low, high) in PARAM_BOUNDS.items():
        value = getattr(params, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ParamsError(f"{camel(name)} = {value!r} is outside [{low}, {high}]",
                                data={"param": camel(name), "value": str(value)})
    if params.min_difficulty > params.max_difficulty:
        raise ParamsError("minDifficulty must not exceed maxDifficulty",
                            data={"param": "minDifficulty"})
    return params


def params_from_json(data: Any, base: SubnetParams) -> SubnetParams:
    """``base`` with the camelCase keys of ``data`` applied (ints or decimal strings)."""
    if data is None:
        return base
    if not isinstance(data, dict):
        raise ParamsError("subnet params are a JSON object of camelCase names")
    names = {camel(n): n for n in PARAM_NAMES}
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ParamsError(f"unknown subnet params {unknown}; known: {sorted(names)}",
                            data={"param": unknown[0]})
    changes = {names[key]: _int(value, key) for key, value in data.items()}
    return validate_params(replace(base, **changes))


def check_task_type(task_type: str) -> str:
    if not isinstance(task_type, str) or not TASK_TYPE_RE.match(task_type):
        raise ParamsError(f"task type {task_type!r} must be 1-64 of a-z, 0-9 and '-'",
                            data={"param": "taskType"})
    return task_type


def check_name(name: str) -> str:
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_LENGTH or not name.isprintable():
        raise ParamsError(f"subnet name {name!r} must be 1-{MAX_NAME_LENGTH} printable chars",
                            data={"param": "name"})
    return name


def dev_params() -> SubnetParams:
    """Short epochs and easy work, so a laptop sees registrations and rewards in seconds."""
    return SubnetParams(tempo=20, max_miners=256, max_validators=16, immunity_period=100,
                        min_validator_stake=100 * BASE_PER_MDT, weights_rate_limit=2,
                        serving_rate_limit=2, activity_cutoff=60, commit_reveal_period=2,
                        max_registrations_per_block=8, target_registrations_per_interval=16,
                        adjustment_interval=100, min_difficulty=MIN_POW_DIFFICULTY,
                        max_difficulty=DEV_MAX_DIFFICULTY)


def dev_config() -> ModuleConfig:
    """Dev chain: EpochEmission 1000 MDT (50 MDT/block x tempo 20), the guide's numbers."""
    network = NetworkParams(miner_emission_per_block=50 * BASE_PER_MDT,
                            validator_emission_per_block=10 * BASE_PER_MDT,
                            subnet_deposit=100 * BASE_PER_MDT, unbonding_period=20,
                            root_voters=16, root_tempo=20)
    return ModuleConfig(network, _genesis_subnets(dev_params(), DEV_DIFFICULTY))


def production_config() -> ModuleConfig:
    return ModuleConfig(NetworkParams(),
                        _genesis_subnets(SubnetParams(), DEFAULT_POW_DIFFICULTY))


def _genesis_subnets(params: SubnetParams, difficulty: int) -> tuple[GenesisSubnet, ...]:
    return tuple(GenesisSubnet(i + 1, task, task, weight, difficulty, params)
                 for i, (task, weight) in enumerate(zip(GENESIS_TASKS, GENESIS_WEIGHTS,
                                                        strict=True)))


def config_from_spec(chain_id: int, modules: dict[str, Any]) -> ModuleConfig:
    """The module config of a chain spec (see the module docstring for defaults)."""
    data = modules.get("moderntensor")
    preset = data.get("preset") if isinstance(data, dict) else None
    if preset not in (None, "dev", "production"):
        raise GenesisError(f"modules.moderntensor.preset {preset!r} is not 'dev' or "
                           "'production'")
    dev = preset == "dev" or (preset is None and chain_id == DEV_CHAIN_ID)
    base = dev_config() if dev else production_config()
    if data is None:
        return base
    try:
        return _config_from_json({k: v for k, v in data.items() if k != "preset"}
                                 if isinstance(data, dict) else data, base)
    except (InvalidInputError, ExecutionError) as exc:
        raise GenesisError(f"modules.moderntensor: {exc.message}") from None


def _config_from_json(data: Any, base: ModuleConfig) -> ModuleConfig:
    if not isinstance(data, dict):
        raise ParamsError("modules.moderntensor is an object {network, subnets}")
    network = base.network
    net_in = data.get("network") or {}
    names = {camel(f.name): f.name for f in fields(NetworkParams)}
    for key, value in net_in.items():
        if key not in names:
            raise ParamsError(f"unknown network param {key!r}; known: {sorted(names)}")
        network = replace(network, **{names[key]: _int(value, key)})
    subnets = base.subnets
    if "subnets" in data:
        default = base.subnets[0].params if base.subnets else SubnetParams()
        subnets = tuple(_genesis_subnet(entry, default, base) for entry in data["subnets"])
    netuids = [s.netuid for s in subnets]
    if len(set(netuids)) != len(netuids) or any(not 0 < n < 2**16 for n in netuids):
        raise ParamsError(f"genesis netuids {netuids} must be unique, 1..65535")
    if subnets:
        check_subnet_weights(s.weight for s in subnets)
    return ModuleConfig(network, subnets)


def _genesis_subnet(entry: Any, default: SubnetParams, base: ModuleConfig) -> GenesisSubnet:
    if not isinstance(entry, dict):
        raise ParamsError("each genesis subnet is an object")
    task = check_task_type(entry.get("taskType", ""))
    difficulty = base.subnets[0].difficulty if base.subnets else DEFAULT_POW_DIFFICULTY
    return GenesisSubnet(netuid=_int(entry.get("netuid"), "netuid"),
                         name=check_name(entry.get("name", task)), task_type=task,
                         weight=_int(entry.get("weight"), "weight"),
                         difficulty=_int(entry.get("difficulty", difficulty), "difficulty"),
                         params=params_from_json(entry.get("params"), default))


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ParamsError(f"{name} must be an integer", data={"param": name})
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise ParamsError(f"{name} must be a non-negative integer (or decimal string), "
                            f"got {value!r}", data={"param": name})
    return value
