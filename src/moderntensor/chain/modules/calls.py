"""The handlers of the state-changing system calls, one per entry of
``protocol/syscall_table.py``: unpack the ABI arguments, run the module function, emit the log.

A handler is ``handler(state, system, call, args, emit) -> result`` (the call's ABI outputs);
a fee-free call's check is ``check(state, call, args)`` and raises what the handler would.
"""

from __future__ import annotations

from typing import Any

from eth_utils import to_canonical_address

from moderntensor.chain.modules import (
    delegation,
    dissolve,
    hotkeys,
    neurons,
    registration,
    root,
    staking,
    subnets,
    weight_commits,
    weights,
)
from moderntensor.chain.modules.subnets import fail
from moderntensor.chain.modules.system import Call, Emit
from moderntensor.chain.state import State
from moderntensor.scoring import COMPONENTS


def register_miner(state: State, system: bytes, call: Call, args: dict[str, Any],
                    emit: Emit) -> int:
    neuron, replaced = registration.register_miner(
        state, chain_id=call.chain_id, block=call.block, sender=call.sender,
        netuid=args["netuid"], model_name=args["modelName"], model_type=args["modelType"],
        model_version=args["modelVersion"], pow_nonce=args["powNonce"],
        pow_block=args["powBlock"])
    emit("MinerRegistered", {"netuid": args["netuid"], "uid": neuron.uid,
                             "account": call.sender, "replaced": replaced is not None})
    return neuron.uid


def register_validator(state: State, system: bytes, call: Call, args: dict[str, Any],
                        emit: Emit) -> int:
    neuron = staking.register_validator(state, system, call.sender, args["netuid"], call.block,
                                call.value)
    if call.value:
        emit("StakeAdded", {"netuid": args["netuid"], "account": call.sender,
                            "amount": call.value})
    emit("ValidatorRegistered", {"netuid": args["netuid"], "uid": neuron.uid,
                                 "account": call.sender})
    return neuron.uid


def add_stake(state: State, system: bytes, call: Call, args: dict[str, Any],
               emit: Emit) -> int:
    amount = args.get("amount", 0)
    if call.value and amount not in (0, call.value):
        fail("invalid_amount", "send the stake either as value or as amount, not both")
    if call.value:   # the core already moved the value to the system address
        amount = call.value
        stake = staking.book_stake(state, args["netuid"], call.sender, amount)
    else:
        stake = staking.add_stake(state, system, call.sender, args["netuid"], amount)
    emit("StakeAdded", {"netuid": args["netuid"], "account": call.sender, "amount": amount})
    return stake


def remove_stake(state: State, system: bytes, call: Call, args: dict[str, Any],
                  emit: Emit) -> int:
    remaining, release = staking.remove_stake(state, call.sender, args["netuid"], args["amount"],
                                      call.block)
    emit("StakeRemoved", {"netuid": args["netuid"], "account": call.sender,
                          "amount": args["amount"], "releaseBlock": release})
    return remaining


def delegate_stake(state: State, system: bytes, call: Call, args: dict[str, Any],
                   emit: Emit) -> int:
    amount = args.get("amount", 0)
    if call.value and amount not in (0, call.value):
        fail("invalid_amount", "send the stake either as value or as amount, not both")
    validator = to_canonical_address(args["validator"])
    held = delegation.delegate(state, system, call.sender, args["netuid"], validator,
                               call.value or amount, paid=bool(call.value))
    emit("StakeDelegated", {"netuid": args["netuid"], "validator": validator,
                            "account": call.sender, "amount": call.value or amount})
    return held


def undelegate_stake(state: State, system: bytes, call: Call, args: dict[str, Any],
                     emit: Emit) -> int:
    validator = to_canonical_address(args["validator"])
    remaining, release = delegation.undelegate(state, call.sender, args["netuid"], validator,
                                               args["amount"], call.block)
    emit("StakeUndelegated", {"netuid": args["netuid"], "validator": validator,
                              "account": call.sender, "amount": args["amount"],
                              "releaseBlock": release})
    return remaining


def set_take(state: State, system: bytes, call: Call, args: dict[str, Any], emit: Emit) -> int:
    take = delegation.set_take(state, call.sender, args["take"], call.block)
    emit("TakeSet", {"account": call.sender, "take": take})
    return take


def set_coldkey(state: State, system: bytes, call: Call, args: dict[str, Any],
                emit: Emit) -> int:
    coldkey = to_canonical_address(args["coldkey"])
    hotkeys.set_coldkey(state, call.sender, coldkey)
    emit("ColdkeySet", {"hotkey": call.sender, "coldkey": coldkey})
    return len(hotkeys.subnets_of(state, call.sender))


def check_set_coldkey(state: State, call: Call, args: dict[str, Any]) -> None:
    hotkeys.check_set_coldkey(state, call.sender, to_canonical_address(args["coldkey"]))


def swap_hotkey(state: State, system: bytes, call: Call, args: dict[str, Any],
                emit: Emit) -> int:
    old, new = (to_canonical_address(args[k]) for k in ("oldHotkey", "newHotkey"))
    moved = hotkeys.swap_hotkey(state, call.sender, old, new)
    emit("HotkeySwapped", {"coldkey": call.sender, "oldHotkey": old, "newHotkey": new})
    return len(moved)


def serve_endpoint(state: State, system: bytes, call: Call, args: dict[str, Any],
                    emit: Emit) -> int:
    neuron = neurons.serve_endpoint(state, args["netuid"], call.sender, call.block, args["host"],
                            args["port"], args["protocol"])
    emit("EndpointServed", {"netuid": args["netuid"], "uid": neuron.uid,
                            "account": call.sender, "host": args["host"],
                            "port": args["port"], "protocol": args["protocol"]})
    return neuron.uid


def update_model_info(state: State, system: bytes, call: Call, args: dict[str, Any],
                      emit: Emit) -> int:
    neuron = registration.update_model_info(state, args["netuid"], call.sender, call.block,
                                            args["modelName"], args["modelType"],
                                            args["modelVersion"])
    emit("ModelInfoUpdated", {"netuid": args["netuid"], "uid": neuron.uid,
                              "account": call.sender, "modelName": args["modelName"],
                              "modelType": args["modelType"],
                              "modelVersion": args["modelVersion"]})
    return neuron.uid


def deregister(state: State, system: bytes, call: Call, args: dict[str, Any],
               emit: Emit) -> int:
    neuron = neurons.deregister(state, args["netuid"], call.sender, call.block)
    emit("MinerDeregistered", {"netuid": args["netuid"], "uid": neuron.uid,
                               "account": call.sender})
    return neuron.uid


def set_weights(state: State, system: bytes, call: Call, args: dict[str, Any],
                 emit: Emit) -> int:
    neuron = weights.set_weights(state, args["netuid"], call.sender, call.block, args["uids"],
                         args["weights"], args["accuracy"], args["latency"],
                         args["availability"], args["consistency"], args["versionKey"])
    emit("WeightsSet", {"netuid": args["netuid"], "uid": neuron.uid, "account": call.sender,
                        "count": len(args["uids"])})
    return neuron.uid


def commit_weights(state: State, system: bytes, call: Call, args: dict[str, Any],
                   emit: Emit) -> int:
    neuron, reveal_block = weight_commits.commit_weights(
        state, args["netuid"], call.sender, call.block, args["commitHash"])
    emit("WeightsCommitted", {"netuid": args["netuid"], "uid": neuron.uid,
                              "account": call.sender, "revealBlock": reveal_block})
    return reveal_block


def reveal_weights(state: State, system: bytes, call: Call, args: dict[str, Any],
                   emit: Emit) -> int:
    components = [args[name] for name in COMPONENTS]
    neuron = weight_commits.reveal_weights(
        state, args["netuid"], call.sender, call.block, args["uids"], args["weights"],
        components, args["versionKey"], args["salt"])
    emit("WeightsSet", {"netuid": args["netuid"], "uid": neuron.uid, "account": call.sender,
                        "count": len(args["uids"])})
    return neuron.uid


def create_subnet(state: State, system: bytes, call: Call, args: dict[str, Any],
                   emit: Emit) -> int:
    subnet = subnets.create_subnet(state, system, call.sender, call.block, args["name"],
                           args["taskType"], args.get("params", ""), args.get("metadata", ""))
    emit("SubnetCreated", {"netuid": subnet.netuid, "owner": call.sender, "name": subnet.name,
                           "taskType": subnet.task_type, "deposit": subnet.deposit})
    return subnet.netuid


def set_subnet_params(state: State, system: bytes, call: Call, args: dict[str, Any],
                       emit: Emit) -> int:
    subnet = subnets.set_subnet_params(state, call.sender, args["netuid"], args["params"],
                                       call.block)
    emit("SubnetParamsSet", {"netuid": subnet.netuid, "owner": call.sender})
    return subnet.netuid


def dissolve_subnet(state: State, system: bytes, call: Call, args: dict[str, Any],
                    emit: Emit) -> int:
    deposit, unbonding = dissolve.dissolve_subnet(state, system, call.sender, args["netuid"],
                                                  call.block)
    emit("SubnetDissolved", {"netuid": args["netuid"], "owner": call.sender,
                             "deposit": deposit, "unbonding": unbonding})
    return deposit


def vote_subnet_weights(state: State, system: bytes, call: Call, args: dict[str, Any],
                        emit: Emit) -> int:
    count = root.vote_subnet_weights(state, call.sender, call.block, list(args["netuids"]),
                                     list(args["weights"]))
    emit("SubnetWeightsVoted", {"account": call.sender, "count": count})
    return count


def check_register_miner(state: State, call: Call, args: dict[str, Any]) -> None:
    registration.check_registration(
        state, chain_id=call.chain_id, block=call.block, sender=call.sender,
        netuid=args["netuid"], model_name=args["modelName"], model_type=args["modelType"],
        model_version=args["modelVersion"], pow_nonce=args["powNonce"],
        pow_block=args["powBlock"])


def check_update_model_info(state: State, call: Call, args: dict[str, Any]) -> None:
    registration.check_model_update(state, args["netuid"], call.sender, call.block,
                                    args["modelName"], args["modelType"], args["modelVersion"])


def check_deregister(state: State, call: Call, args: dict[str, Any]) -> None:
    neurons.check_deregister(state, args["netuid"], call.sender)


def check_serve_endpoint(state: State, call: Call, args: dict[str, Any]) -> None:
    neurons.check_serve(state, args["netuid"], call.sender, call.block, args["host"], args["port"],
                args["protocol"])
