"""The ModernTensor system contract: calls by name, fee-free policy, and the end-block hook.

ABI decoding lives in :mod:`.install` (the codec of ``protocol/syscalls.py``); here a call is
``(name, args)`` with Python values, so the state machine is testable without encoding. Every
state change emits a log through ``emit(event, args)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moderntensor.chain.modules.epochs import close_epoch
from moderntensor.chain.modules.neurons import check_serve, serve_endpoint
from moderntensor.chain.modules.params import ModuleConfig
from moderntensor.chain.modules.records import (
    META,
    get_subnet,
    netuids,
)
from moderntensor.chain.modules.registration import (
    adjust_registration_difficulty,
    check_registration,
    prune_seals,
    record_block_hash,
    register_miner,
)
from moderntensor.chain.modules.staking import (
    add_stake,
    book_stake,
    register_validator,
    release_unbonded,
    remove_stake,
)
from moderntensor.chain.modules.subnets import (
    closes_at,
    create_subnet,
    fail,
    init_genesis,
    set_subnet_params,
)
from moderntensor.chain.modules.weights import set_weights
from moderntensor.chain.state import State, kv_set_int

Emit = Callable[[str, dict[str, Any]], None]
FEE_FREE_CALLS = ("registerMiner", "serveEndpoint")
RETRY_NEXT_BLOCK = ("too_many_registrations",)   # free calls a later block can still accept


@dataclass(frozen=True)
class Call:
    """Who calls, in which block, on which chain, with how much value."""

    sender: bytes
    block: int
    chain_id: int
    value: int = 0


def genesis(state: State, config: ModuleConfig) -> None:
    init_genesis(state, config)


def execute(state: State, system: bytes, call: Call, name: str, args: dict[str, Any],
            emit: Emit) -> Any:
    """Run system call ``name``; raises ExecutionError (with a stable code) to revert."""
    handler = CALLS.get(name)
    if handler is None:
        fail("unknown_call", f"the system contract has no call {name!r}")
    if call.value and name not in VALUE_CALLS:
        fail("value_not_accepted", f"{name} takes no MDT value; send value 0 (addStake and "
             "registerValidator stake what is sent)")
    return handler(state, system, call, args, emit)


def _register_miner(state: State, system: bytes, call: Call, args: dict[str, Any],
                    emit: Emit) -> int:
    neuron, replaced = register_miner(
        state, chain_id=call.chain_id, block=call.block, sender=call.sender,
        netuid=args["subnet"], model_name=args["modelName"], model_type=args["modelType"],
        model_version=args["modelVersion"], pow_nonce=args["powNonce"],
        pow_block=args["powBlock"])
    emit("MinerRegistered", {"subnet": args["subnet"], "uid": neuron.uid,
                             "account": call.sender, "replaced": replaced is not None})
    return neuron.uid


def _register_validator(state: State, system: bytes, call: Call, args: dict[str, Any],
                        emit: Emit) -> int:
    neuron = register_validator(state, system, call.sender, args["subnet"], call.block,
                                call.value)
    if call.value:
        emit("StakeAdded", {"subnet": args["subnet"], "account": call.sender,
                            "amount": call.value})
    emit("ValidatorRegistered", {"subnet": args["subnet"], "uid": neuron.uid,
                                 "account": call.sender})
    return neuron.uid


def _add_stake(state: State, system: bytes, call: Call, args: dict[str, Any],
               emit: Emit) -> int:
    amount = args.get("amount", 0)
    if call.value and amount not in (0, call.value):
        fail("invalid_amount", "send the stake either as value or as amount, not both")
    if call.value:   # the core already moved the value to the system address
        amount = call.value
        stake = book_stake(state, args["subnet"], call.sender, amount)
    else:
        stake = add_stake(state, system, call.sender, args["subnet"], amount)
    emit("StakeAdded", {"subnet": args["subnet"], "account": call.sender, "amount": amount})
    return stake


def _remove_stake(state: State, system: bytes, call: Call, args: dict[str, Any],
                  emit: Emit) -> int:
    remaining, release = remove_stake(state, call.sender, args["subnet"], args["amount"],
                                      call.block)
    emit("StakeRemoved", {"subnet": args["subnet"], "account": call.sender,
                          "amount": args["amount"], "releaseBlock": release})
    return remaining


def _serve_endpoint(state: State, system: bytes, call: Call, args: dict[str, Any],
                    emit: Emit) -> int:
    neuron = serve_endpoint(state, args["subnet"], call.sender, call.block, args["host"],
                            args["port"], args["protocol"])
    emit("EndpointServed", {"subnet": args["subnet"], "uid": neuron.uid,
                            "account": call.sender, "host": args["host"],
                            "port": args["port"], "protocol": args["protocol"]})
    return neuron.uid


def _set_weights(state: State, system: bytes, call: Call, args: dict[str, Any],
                 emit: Emit) -> int:
    neuron = set_weights(state, args["subnet"], call.sender, call.block, args["uids"],
                         args["weights"], args["accuracy"], args["latency"],
                         args["availability"], args["consistency"], args["versionKey"])
    emit("WeightsSet", {"subnet": args["subnet"], "uid": neuron.uid, "account": call.sender,
                        "count": len(args["uids"])})
    return neuron.uid


def _create_subnet(state: State, system: bytes, call: Call, args: dict[str, Any],
                   emit: Emit) -> int:
    subnet = create_subnet(state, system, call.sender, call.block, args["name"],
                           args["taskType"], args.get("params", ""), args.get("metadata", ""))
    emit("SubnetCreated", {"netuid": subnet.netuid, "owner": call.sender, "name": subnet.name,
                           "taskType": subnet.task_type, "deposit": subnet.deposit})
    return subnet.netuid


def _set_subnet_params(state: State, system: bytes, call: Call, args: dict[str, Any],
                       emit: Emit) -> int:
    subnet = set_subnet_params(state, call.sender, args["subnet"], args["params"])
    emit("SubnetParamsSet", {"netuid": subnet.netuid, "owner": call.sender})
    return subnet.netuid


Handler = Callable[[State, bytes, Call, dict[str, Any], Emit], Any]
CALLS: dict[str, Handler] = {
    "registerMiner": _register_miner,
    "registerValidator": _register_validator,
    "addStake": _add_stake,
    "removeStake": _remove_stake,
    "serveEndpoint": _serve_endpoint,
    "setWeights": _set_weights,
    "createSubnet": _create_subnet,
    "setSubnetParams": _set_subnet_params,
}
VALUE_CALLS = ("addStake", "registerValidator")   # these stake the MDT sent with them


def check_fee_free(state: State, call: Call, name: str, args: dict[str, Any]) -> bool:
    """Whether ``name`` runs without gas; raises ExecutionError if it could not succeed.

    ``registerMiner`` (its proof of work is the fee) and ``serveEndpoint`` of a registered
    neuron are free. Every check that can fail is run here so that a free call that would
    fail is refused at submission and never enters a block.
    """
    if name == "registerMiner":
        if call.value:
            fail("value_not_accepted", "registerMiner takes no MDT value; send value 0")
        check_registration(
            state, chain_id=call.chain_id, block=call.block, sender=call.sender,
            netuid=args["subnet"], model_name=args["modelName"], model_type=args["modelType"],
            model_version=args["modelVersion"], pow_nonce=args["powNonce"],
            pow_block=args["powBlock"])
        return True
    if name == "serveEndpoint":
        if call.value:
            fail("value_not_accepted", "serveEndpoint takes no MDT value; send value 0")
        check_serve(state, args["subnet"], call.sender, call.block, args["host"], args["port"],
                    args["protocol"])
        return True
    return False


def end_block(state: State, system: bytes, number: int, parent_hash: bytes,
              emit: Emit) -> None:
    """Per block: release unbonded stake, close due epochs, adjust difficulty, keep hashes."""
    for address, netuid, amount in release_unbonded(state, system, number):
        emit("StakeReleased", {"subnet": netuid, "account": address, "amount": amount})
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
