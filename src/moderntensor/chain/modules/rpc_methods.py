"""The ``mt_*`` JSON-RPC methods: parameter checking around :mod:`.rpc_json` (docs/rpc.md).

Each handler is ``handler(node, params) -> JSON-able``; ``node`` gives ``state``, ``head`` and
``spec``. Bad params raise ``InvalidParams``; missing things raise ``NotFound`` with a precise
``data.reason`` (``unknown_subnet``, ``unknown_neuron``).
"""

from __future__ import annotations

from typing import Any

from eth_utils import is_address, to_canonical_address, to_checksum_address

from moderntensor.chain.errors import InvalidParams, NotFound
from moderntensor.chain.modules.neurons import replacement_candidate
from moderntensor.chain.modules.records import (
    META,
    Subnet,
    get_network,
    get_neuron,
    get_subnet,
    last_block,
    netuids,
    uid_of,
)
from moderntensor.chain.modules.registration import block_hash, latest_hashed_block
from moderntensor.chain.modules.rpc_json import (
    epoch_info_json,
    metagraph_json,
    neuron_json,
    rewards_json,
    subnet_json,
    weights_json,
)
from moderntensor.chain.state import SUPPLY_NS, State, get_account, kv_get_int
from moderntensor.protocol.pow import POW_MAX_BLOCK_AGE

CLIENT_VERSION = "luxtensor/0.1.0"
DEFAULT_REWARDS_LIMIT = 100
MAX_REWARDS_LIMIT = 1000


def _param(params: list[Any], index: int, name: str, default: Any = ...) -> Any:
    if not isinstance(params, list):
        raise InvalidParams("params must be a JSON array (positional)")
    if index < len(params) and params[index] is not None:
        return params[index]
    if default is ...:
        raise InvalidParams(f"missing param {index}: {name}", data={"param": name})
    return default


MAX_INT_TEXT = 80  # characters: a 2^256 quantity is 66 in hex, 78 in decimal


def _int(value: Any, name: str, low: int = 0, high: int = 2**63 - 1) -> int:
    """An integer in [low, high] from a JSON number, a decimal string or a 0x-hex string.

    Range is checked before anything is echoed back, so a 5,000-digit number is an ordinary
    InvalidParams, never a conversion error inside the message.
    """
    if isinstance(value, str):
        if len(value) > MAX_INT_TEXT:
            raise InvalidParams(f"{name} must be an integer in [{low}, {high}], got a string "
                                f"of {len(value)} characters", data={"param": name})
        try:
            value = int(value, 16) if value.lower().startswith("0x") else int(value)
        except ValueError:
            raise InvalidParams(f"{name} must be an integer, got {value!r}",
                                data={"param": name}) from None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        shown = (f"{value!r}" if not isinstance(value, int) or value.bit_length() <= 256
                 else f"a {value.bit_length()}-bit number")
        raise InvalidParams(f"{name} must be an integer in [{low}, {high}], got {shown[:80]}",
                            data={"param": name})
    return value


def _address(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not is_address(value):
        raise InvalidParams(f"{name} must be an address (0x + 40 hex digits), got {value!r}",
                            data={"param": name})
    return to_canonical_address(value)


def _subnet(state: State, params: list[Any], index: int = 0) -> Subnet:
    netuid = _int(_param(params, index, "netuid"), "netuid", 0, 2**16 - 1)
    subnet = get_subnet(state, netuid)
    if subnet is None:
        raise NotFound(f"subnet {netuid} does not exist; `moderntensor subnet list` (or "
                       "mt_getSubnets) shows the subnets there are",
                       code="unknown_subnet", data={"netuid": netuid})
    return subnet


def _uid(state: State, subnet: Subnet, value: Any, name: str) -> int:
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        uid = uid_of(state, subnet.netuid, _address(value, name))
    else:
        uid = _int(value, name, 0, 2**16 - 1)
    if uid is None or uid >= subnet.n:
        raise NotFound(f"no neuron {value!r} on subnet {subnet.netuid}", code="unknown_neuron",
                       data={"netuid": subnet.netuid, name: value})
    return uid


def supply_json(state: State, system: bytes) -> dict[str, str]:
    genesis = kv_get_int(state, SUPPLY_NS, b"genesis")
    minted = kv_get_int(state, SUPPLY_NS, b"minted")
    burned = kv_get_int(state, SUPPLY_NS, b"burned")
    return {"genesis": str(genesis), "minted": str(minted), "burned": str(burned),
            "total": str(genesis + minted - burned),
            "locked": str(get_account(state, system).balance),
            "dust": str(kv_get_int(state, META, b"dust"))}


def make_methods(system: bytes) -> dict[str, Any]:
    """The handlers, bound to the system address (where stake and deposits are held)."""

    def node_info(node: Any, params: list[Any]) -> dict[str, Any]:
        state = node.state
        network = get_network(state)
        return {"chainId": node.spec.chain_id, "clientVersion": CLIENT_VERSION,
                "blockNumber": node.head.number, "blockHash": "0x" + node.head.hash.hex(),
                "systemAddress": _checksum(system), "subnets": netuids(state),
                "minerEmissionPerBlock": str(network.miner_emission_per_block),
                "validatorEmissionPerBlock": str(network.validator_emission_per_block),
                "subnetDeposit": str(network.subnet_deposit),
                "unbondingPeriod": network.unbonding_period,
                "rootVoters": network.root_voters, "rootTempo": network.root_tempo,
                "ownerShare": network.owner_share,
                "supply": supply_json(state, system)}

    return {
        "mt_nodeInfo": node_info,
        "mt_getSubnets": get_subnets,
        "mt_getSubnet": get_subnet_,
        "mt_getMetagraph": get_metagraph,
        "mt_getNeuron": get_neuron_,
        "mt_getEpochInfo": get_epoch_info,
        "mt_getRewards": get_rewards,
        "mt_getWeights": get_weights,
        "mt_getRegistrationChallenge": get_registration_challenge,
    }


def get_subnets(node: Any, params: list[Any]) -> list[dict[str, Any]]:
    state = node.state
    return [subnet_json(state, s) for n in netuids(state)
            if (s := get_subnet(state, n)) is not None]

def get_subnet_(node: Any, params: list[Any]) -> dict[str, Any]:
    return subnet_json(node.state, _subnet(node.state, params))

def get_metagraph(node: Any, params: list[Any]) -> dict[str, Any]:
    return metagraph_json(node.state, _subnet(node.state, params))

def get_neuron_(node: Any, params: list[Any]) -> dict[str, Any]:
    state = node.state
    subnet = _subnet(state, params)
    uid = _uid(state, subnet, _param(params, 1, "uidOrAddress"), "uidOrAddress")
    neuron = get_neuron(state, subnet.netuid, uid)
    assert neuron is not None  # uids below n always exist
    return neuron_json(state, subnet, neuron)

def get_epoch_info(node: Any, params: list[Any]) -> dict[str, Any]:
    return epoch_info_json(node.state, _subnet(node.state, params))


def get_rewards(node: Any, params: list[Any]) -> dict[str, Any]:
    state = node.state
    query = _param(params, 0, "filter", {})
    if not isinstance(query, dict):
        raise InvalidParams("mt_getRewards takes one object: {address, netuid, fromEpoch, "
                            "toEpoch, limit}", data={"param": "filter"})
    unknown = set(query) - {"address", "netuid", "fromEpoch", "toEpoch", "limit"}
    if unknown:
        raise InvalidParams(f"unknown filter keys {sorted(unknown)}",
                            data={"param": sorted(unknown)[0]})
    address = _address(query["address"], "address") if query.get("address") else None
    if query.get("netuid") is not None:
        subnets = [_subnet(state, [query["netuid"]])]
    else:
        subnets = [s for n in netuids(state) if (s := get_subnet(state, n)) is not None]
    from_epoch = _int(query.get("fromEpoch", 0), "fromEpoch")
    to_epoch = query.get("toEpoch")
    to_epoch = None if to_epoch is None else _int(to_epoch, "toEpoch")
    limit = _int(query.get("limit", DEFAULT_REWARDS_LIMIT), "limit", 1, MAX_REWARDS_LIMIT)
    return rewards_json(state, subnets, address, from_epoch, to_epoch, limit)


def get_weights(node: Any, params: list[Any]) -> dict[str, Any]:
    state = node.state
    subnet = _subnet(state, params)
    validator = _param(params, 1, "validator", None)
    miner = _param(params, 2, "miner", None)
    return weights_json(
        state, subnet,
        None if validator is None else _uid(state, subnet, validator, "validator"),
        None if miner is None else _int(miner, "miner", 0, 2**16 - 1))


def get_registration_challenge(node: Any, params: list[Any]) -> dict[str, Any]:
    state = node.state
    subnet = _subnet(state, params)
    given = _param(params, 1, "address", None)    # optional: echoed, not part of the work
    address = None if given is None else _address(given, "address")
    last = last_block(state)
    pow_block = latest_hashed_block(state, last)
    if pow_block is None:
        raise NotFound("the chain has no block hash to work on yet; retry after block 2",
                       code="not_ready")
    seed = block_hash(state, pow_block)
    assert seed is not None
    block = last + 1
    in_block = subnet.regs_in_block if subnet.regs_block == block else 0
    full = subnet.miners >= subnet.params.max_miners
    replaceable = replacement_candidate(state, subnet, block)[0] if full else None
    return {"chainId": node.spec.chain_id, "netuid": subnet.netuid,
            "subnet": subnet.netuid,   # the former name of netuid, kept as an alias
            "blockNumber": pow_block, "blockHash": "0x" + seed.hex(),
            "difficulty": subnet.difficulty,
            "address": None if address is None else _checksum(address),
            "validUntilBlock": pow_block + POW_MAX_BLOCK_AGE,
            "taskType": subnet.task_type, "registrationsThisBlock": in_block,
            "maxRegistrationsPerBlock": subnet.params.max_registrations_per_block,
            "miners": subnet.miners, "maxMiners": subnet.params.max_miners,
            "full": full, "replaceableUid": replaceable}



def _checksum(address: bytes) -> str:
    return to_checksum_address(address)
