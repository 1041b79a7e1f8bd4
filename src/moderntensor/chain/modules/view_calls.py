"""``eth_call`` views of the system contract: small fixed-shape answers for web3.py users.

Rich reads are the ``mt_*`` methods (docs/rpc.md); these views exist so a plain Ethereum
contract object can read the essentials: counts, uids, stakes, neurons, epochs, challenges.
Each is the handler of a ``view`` entry of ``protocol/syscall_table.py`` (same signature as a
call's handler; ``call`` and ``emit`` go unused).
"""

from __future__ import annotations

from typing import Any

from eth_utils import to_canonical_address

from moderntensor.chain.modules.epoch_close import epoch_emission
from moderntensor.chain.modules.neurons import permits
from moderntensor.chain.modules.records import (
    address_bytes,
    get_neuron,
    get_results,
    get_stake,
    last_block,
    netuids,
    uid_of,
)
from moderntensor.chain.modules.registration import block_hash, latest_hashed_block
from moderntensor.chain.modules.subnets import epoch_index, fail, next_close, require_subnet
from moderntensor.chain.modules.system import Call, Emit
from moderntensor.chain.state import State


def view_subnets(state: State, system: bytes, call: Call, args: dict[str, Any],
                 emit: Emit) -> list[int]:
    return netuids(state)


def view_subnet(state: State, system: bytes, call: Call, args: dict[str, Any],
                emit: Emit) -> tuple[Any, ...]:
    s = require_subnet(state, args["netuid"])
    p = s.params
    return (s.name, s.task_type, s.weight, p.tempo, p.max_miners, p.max_validators,
            p.immunity_period, p.min_validator_stake, s.difficulty, s.miners, s.validators)


def view_uid(state: State, system: bytes, call: Call, args: dict[str, Any],
             emit: Emit) -> tuple[bool, int]:
    require_subnet(state, args["netuid"])
    uid = uid_of(state, args["netuid"], to_canonical_address(args["account"]))
    return (uid is not None, uid or 0)


def view_stake(state: State, system: bytes, call: Call, args: dict[str, Any],
               emit: Emit) -> int:
    require_subnet(state, args["netuid"])
    return get_stake(state, args["netuid"], to_canonical_address(args["account"]))


def view_neuron(state: State, system: bytes, call: Call, args: dict[str, Any],
                emit: Emit) -> tuple[Any, ...]:
    subnet = require_subnet(state, args["netuid"])
    neuron = get_neuron(state, subnet.netuid, args["uid"])
    if neuron is None:
        fail("unknown_neuron", f"no uid {args['uid']} on subnet {subnet.netuid}")
    results = get_results(state, subnet.netuid)
    score = 0
    if results is not None and neuron.registered_block <= results.block:
        score = results.score_of(neuron.uid)
    account = address_bytes(neuron.address)
    return (neuron.address, neuron.role, get_stake(state, subnet.netuid, account),
            neuron.uid in permits(state, subnet), score, neuron.host, neuron.port,
            neuron.registered_block, neuron.last_update)


def view_epoch(state: State, system: bytes, call: Call, args: dict[str, Any],
               emit: Emit) -> tuple[int, int, int, int]:
    subnet = require_subnet(state, args["netuid"])
    block = last_block(state) + 1
    return (epoch_index(subnet, block), next_close(subnet, block), subnet.params.tempo,
            epoch_emission(state, subnet))


def view_challenge(state: State, system: bytes, call: Call, args: dict[str, Any],
                   emit: Emit) -> tuple[int, bytes, int]:
    subnet = require_subnet(state, args["netuid"])
    number = latest_hashed_block(state, last_block(state))
    if number is None:
        fail("not_ready", "no block hash to work on yet; retry after block 2")
    seed = block_hash(state, number)
    return (number, seed or b"\x00" * 32, subnet.difficulty)
