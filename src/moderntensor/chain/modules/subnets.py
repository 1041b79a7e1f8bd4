"""Subnets: genesis subnets, ``createSubnet``, owner tuning, and epoch timing.

A subnet's epoch ``k`` covers blocks ``created + k*tempo + 1 .. created + (k+1)*tempo`` and is
closed at the end of its last block (:func:`closes_at`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, NoReturn

from moderntensor.chain.errors import ExecutionError
from moderntensor.chain.modules.params import (
    ModuleConfig,
    ParamsError,
    SubnetParams,
    check_name,
    check_task_type,
    params_from_json,
    validate_params,
)
from moderntensor.chain.modules.records import (
    Subnet,
    get_network,
    get_subnet,
    highest_netuid,
    netuids,
    put_netuids,
    put_network,
    put_subnet,
)
from moderntensor.chain.state import InsufficientBalance, State, transfer

FIRST_CUSTOM_NETUID = 5           # 1-4 are the genesis subnets
MAX_SUBNETS = 1024                # bounds the per-block work of the end-block hook
MAX_METADATA_BYTES = 1024


def fail(code: str, message: str, **data: Any) -> NoReturn:
    """Revert the system call with a stable ``code`` and a message a person can act on."""
    raise ExecutionError(message, code=code, data=data or None)


def require_subnet(state: State, netuid: int) -> Subnet:
    subnet = get_subnet(state, netuid)
    if subnet is None:
        fail("unknown_subnet", f"subnet {netuid} does not exist; `moderntensor subnet list` "
             "shows the subnets there are", netuid=netuid)
    return subnet


def init_genesis(state: State, config: ModuleConfig) -> None:
    """Write the network params and the genesis subnets (weights sum to 1, checked by config)."""
    put_network(state, config.network)
    for spec in config.subnets:
        validate_params(spec.params)
        put_subnet(state, Subnet(
            netuid=spec.netuid, name=spec.name, task_type=spec.task_type, owner="", deposit=0,
            metadata="", created_block=0, weight=spec.weight, difficulty=spec.difficulty,
            n=0, miners=0, validators=0, regs_block=0, regs_in_block=0, regs_in_interval=0,
            params=spec.params))
    put_netuids(state, [s.netuid for s in config.subnets])


def check_metadata(metadata: str) -> str:
    """Metadata is empty or a JSON object (e.g. ``{"suite": "pkg.module:Suite"}``)."""
    if metadata == "":
        return metadata
    if len(metadata.encode()) > MAX_METADATA_BYTES:
        raise ParamsError(f"metadata is over {MAX_METADATA_BYTES} bytes",
                            data={"param": "metadata"})
    try:
        parsed = json.loads(metadata)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ParamsError("metadata must be a JSON object, e.g. {\"suite\": \"pkg.mod:Cls\"}",
                            data={"param": "metadata"})
    return metadata


def create_subnet(state: State, system: bytes, owner: bytes, block: int, name: str,
                  task_type: str, params_json: str, metadata: str) -> Subnet:
    """Lock the network's subnet deposit from ``owner`` and open subnet ``5+``.

    ``params_json`` is a JSON object of camelCase parameter overrides ("" = defaults of
    subnet 1). The new subnet starts with subnet weight 0 (see docs/rpc.md).
    """
    check_name(name)
    check_task_type(task_type)
    check_metadata(metadata)
    existing = netuids(state)
    if len(existing) >= MAX_SUBNETS:
        fail("too_many_subnets", f"the chain already has {MAX_SUBNETS} subnets")
    subnets = [get_subnet(state, n) for n in existing]
    if any(s is not None and s.name == name for s in subnets):
        fail("subnet_name_taken", f"a subnet named {name!r} exists; pick another name")
    base = subnets[0].params if subnets and subnets[0] is not None else SubnetParams()
    params = params_from_json(_json_object(params_json), base)
    deposit = get_network(state).subnet_deposit
    try:
        transfer(state, owner, system, deposit)
    except InsufficientBalance as exc:   # a RpcError of the core: revert with our reason
        fail("insufficient_funds", f"creating a subnet locks {deposit} base units: "
             f"{exc.message}", deposit=str(deposit))
    netuid = max(FIRST_CUSTOM_NETUID - 1, highest_netuid(state)) + 1
    difficulty = subnets[0].difficulty if subnets and subnets[0] is not None else 1
    difficulty = min(max(difficulty, params.min_difficulty), params.max_difficulty)
    subnet = Subnet(netuid=netuid, name=name, task_type=task_type, owner=owner.hex(),
                    deposit=deposit, metadata=metadata, created_block=block, weight=0,
                    difficulty=difficulty, n=0, miners=0, validators=0, regs_block=0,
                    regs_in_block=0, regs_in_interval=0, params=params)
    put_subnet(state, subnet)
    put_netuids(state, [*existing, netuid])
    return subnet


def set_subnet_params(state: State, sender: bytes, netuid: int, params_json: str,
                      block: int) -> Subnet:
    """The owner of a custom subnet tunes its hyperparameters (JSON object of overrides)."""
    subnet = require_subnet(state, netuid)
    if not subnet.owner or subnet.owner != sender.hex():
        fail("not_subnet_owner", f"only the owner of subnet {netuid} may tune it",
             owner=("0x" + subnet.owner) if subnet.owner else None)
    params = params_from_json(_json_object(params_json), subnet.params)
    if params.max_miners < subnet.miners:
        raise ParamsError(f"maxMiners {params.max_miners} is below the {subnet.miners} "
                            "registered miners", data={"param": "maxMiners"})
    difficulty = min(max(subnet.difficulty, params.min_difficulty), params.max_difficulty)
    updated = replace(subnet, params=replace(params, tempo=subnet.params.tempo),
                      difficulty=difficulty)
    if params.tempo != subnet.params.tempo:
        updated = retime_epochs(updated, block, params.tempo)
    put_subnet(state, updated)
    return updated


def _json_object(text: str) -> dict[str, Any] | None:
    if text == "":
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ParamsError("params must be a JSON object of camelCase names, e.g. "
                            "{\"tempo\": 100}", data={"param": "params"})
    return value


# -- epoch timing ---------------------------------------------------------------------------------

def epoch_index(subnet: Subnet, block: int) -> int:
    """The epoch that block ``block`` belongs to (0 for the creation block itself)."""
    base, first = _epoch_anchor(subnet)
    return first + max(0, block - base - 1) // subnet.params.tempo


def closes_at(subnet: Subnet, block: int) -> bool:
    """True when the end of ``block`` closes an epoch of ``subnet``."""
    since = block - _epoch_anchor(subnet)[0]
    return since > 0 and since % subnet.params.tempo == 0


def next_close(subnet: Subnet, block: int) -> int:
    """The block whose end closes the epoch that ``block`` belongs to."""
    base, first = _epoch_anchor(subnet)
    return base + (epoch_index(subnet, block) - first + 1) * subnet.params.tempo


def retime_epochs(subnet: Subnet, block: int, tempo: int) -> Subnet:
    """``subnet`` with ``tempo`` from ``block`` on, its epoch numbering unbroken: the epoch in
    progress keeps its index and start and closes ``tempo`` blocks after its start, or at the
    end of the next block when that is already past (a shorter tempo)."""
    current = epoch_index(subnet, block)
    started_after = next_close(subnet, block) - subnet.params.tempo
    anchor = max(started_after, block + 1 - tempo)
    return replace(subnet, params=replace(subnet.params, tempo=tempo),
                   epoch_anchor_block=anchor, epoch_anchor_index=current)


def _epoch_anchor(subnet: Subnet) -> tuple[int, int]:
    if subnet.epoch_anchor_block < 0:
        return subnet.created_block, 0
    return subnet.epoch_anchor_block, subnet.epoch_anchor_index
