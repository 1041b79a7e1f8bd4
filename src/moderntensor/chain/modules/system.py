"""The ModernTensor system contract: dispatch by the call table, fee-free policy, end-block hook.

ABI decoding lives in :mod:`.install` (the codec of ``protocol/syscalls.py``); here a call is
``(name, args)`` with Python values, so the state machine is testable without encoding. Which
function runs a call, whether it is free and whether it takes value is the table's to say
(``protocol/syscall_table.py``); the handlers are in :mod:`.calls` and :mod:`.view_calls`.
Every state change emits a log through ``emit(event, args)``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moderntensor.chain.modules.epoch_close import close_epoch
from moderntensor.chain.modules.params import ModuleConfig
from moderntensor.chain.modules.records import META, get_subnet, netuids
from moderntensor.chain.modules.registration import (
    adjust_registration_difficulty,
    prune_seals,
    record_block_hash,
)
from moderntensor.chain.modules.root import update_subnet_weights
from moderntensor.chain.modules.staking import release_unbonded
from moderntensor.chain.modules.subnets import closes_at, fail, init_genesis
from moderntensor.chain.state import State, kv_set_int
from moderntensor.protocol import syscalls

Emit = Callable[[str, dict[str, Any]], None]
RETRY_NEXT_BLOCK = ("too_many_registrations",)   # free calls a later block can still accept


@dataclass(frozen=True)
class Call:
    """Who calls, in which block, on which chain, with how much value."""

    sender: bytes
    block: int
    chain_id: int
    value: int = 0


Handler = Callable[[State, bytes, Call, dict[str, Any], Emit], Any]
FreeCheck = Callable[[State, Call, dict[str, Any]], None]


@functools.cache
def resolve(path: str) -> Callable[..., Any]:
    """The function a table entry names as ``"package.module:function"``."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def genesis(state: State, config: ModuleConfig) -> None:
    init_genesis(state, config)


def _entry(name: str) -> syscalls.Syscall:
    entry = syscalls.TABLE.get(name)
    if entry is None:
        fail("unknown_call", f"the system contract has no call {name!r}")
    return entry


def execute(state: State, system: bytes, call: Call, name: str, args: dict[str, Any],
            emit: Emit) -> Any:
    """Run system call ``name``; raises ExecutionError (with a stable code) to revert."""
    entry = _entry(name)
    if call.value and not (entry.payable or entry.is_view):
        payable = [e.name for e in syscalls.SYSCALLS if e.payable]
        fail("value_not_accepted", f"{name} takes no MDT value; send value 0 "
             f"({' and '.join(payable)} stake what is sent)")
    handler: Handler = resolve(entry.handler)
    return handler(state, system, call, args, emit)


def check_fee_free(state: State, call: Call, name: str, args: dict[str, Any]) -> bool:
    """Whether ``name`` runs without gas; raises ExecutionError if it could not succeed.

    The table's fee rule decides (``registerMiner``: its proof of work is the fee;
    ``serveEndpoint`` of a registered neuron). Every check that can fail is run here so that a
    free call that would fail is refused at submission and never enters a block.
    """
    entry = _entry(name)
    if entry.free_check is None:
        return False
    if call.value:
        fail("value_not_accepted", f"{name} takes no MDT value; send value 0")
    check: FreeCheck = resolve(entry.free_check)
    check(state, call, args)
    return True


def end_block(state: State, system: bytes, number: int, parent_hash: bytes,
              emit: Emit) -> None:
    """Per block: release unbonded stake, apply the root vote, close due epochs, adjust
    difficulty, keep hashes."""
    for address, netuid, amount in release_unbonded(state, system, number):
        emit("StakeReleased", {"netuid": netuid, "account": address, "amount": amount})
    update_subnet_weights(state, number)   # before the closes: they pay at the new weights
    for netuid in netuids(state):
        subnet = get_subnet(state, netuid)
        if subnet is None:
            continue
        if closes_at(subnet, number):
            close_epoch(state, subnet, number, emit)
        adjust_registration_difficulty(state, subnet, number)
    if number >= 1:
        record_block_hash(state, number - 1, parent_hash)
    prune_seals(state, number)
    kv_set_int(state, META, b"block", number)
