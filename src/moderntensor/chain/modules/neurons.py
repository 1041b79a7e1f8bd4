"""Neurons: uids, the address index, validator lists, permits, endpoints, replacement.

A subnet's uids are dense (``0..n-1``); a miner replaced when the subnet is full hands its uid
to the newcomer. Validators of a subnet are also listed in ``mt.vals`` (uid, address) so that
permits - the top ``max_validators`` by stake with at least ``min_validator_stake`` - are
computed without reading every neuron.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace

from moderntensor.chain.modules.records import (
    MINER,
    VACANT_ADDRESS,
    NeuronRecord,
    Subnet,
    address_bytes,
    checksum,
    get_neuron,
    get_results,
    neuron_columns,
    put_neuron,
    put_subnet,
    put_validator_list,
    set_uid,
    uid_of,
    validator_list,
    validator_stake,
)
from moderntensor.chain.modules.subnets import fail, require_subnet
from moderntensor.chain.state import State

PROTOCOLS = ("http", "https")
MAX_HOST_LENGTH = 253                 # DNS names are at most 253 characters
HOST_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def require_neuron(state: State, netuid: int, address: bytes) -> NeuronRecord:
    """The sender's neuron on ``netuid``, or revert with ``not_registered``."""
    require_subnet(state, netuid)
    uid = uid_of(state, netuid, address)
    neuron = None if uid is None else get_neuron(state, netuid, uid)
    if neuron is None:
        fail("not_registered", f"{checksum(address)} has no uid on subnet {netuid}; register "
             "first", netuid=netuid)
    return neuron


def add_neuron(state: State, subnet: Subnet, neuron: NeuronRecord, address: bytes) -> Subnet:
    """Append ``neuron`` (its uid must be ``subnet.n``) and count it in the subnet."""
    put_neuron(state, subnet.netuid, neuron)
    set_uid(state, subnet.netuid, address, neuron.uid)
    if neuron.role == MINER:
        updated = replace(subnet, n=subnet.n + 1, miners=subnet.miners + 1)
    else:
        put_validator_list(state, subnet.netuid,
                           [*validator_list(state, subnet.netuid), (neuron.uid, address)])
        updated = replace(subnet, n=subnet.n + 1, validators=subnet.validators + 1)
    put_subnet(state, updated)
    return updated


def replace_miner(state: State, subnet: Subnet, neuron: NeuronRecord, address: bytes) -> None:
    """Give the uid of a replaced miner to ``neuron`` (same uid); the old address leaves."""
    old = get_neuron(state, subnet.netuid, neuron.uid)
    if old is not None:
        set_uid(state, subnet.netuid, address_bytes(old.address), None)
    put_neuron(state, subnet.netuid, neuron)
    set_uid(state, subnet.netuid, address, neuron.uid)


def immune_until(subnet: Subnet, neuron: NeuronRecord) -> int:
    """The last block at which ``neuron`` cannot be replaced."""
    return neuron.registered_block + subnet.params.immunity_period


def last_scores(state: State, subnet: Subnet) -> tuple[list[int], int]:
    """Per-uid ppb scores of the last epoch (0 where none) and the block it closed at."""
    results = get_results(state, subnet.netuid)
    if results is None:
        return [0] * subnet.n, -1
    raw = results.scores
    scores = [int.from_bytes(raw[i * 8:i * 8 + 8], "big") for i in range(len(raw) // 8)]
    return scores + [0] * (subnet.n - len(scores)), results.block


def replacement_candidate(state: State, subnet: Subnet, block: int) -> tuple[int | None, int]:
    """The miner a newcomer would replace: lowest score, then oldest, then lowest uid, among
    miners outside immunity. Returns (uid or None, first block at which one becomes free)."""
    scores, scored_at = last_scores(state, subnet)
    best: tuple[int, int, int] | None = None
    free_at = None
    for uid in range(subnet.n):
        neuron = get_neuron(state, subnet.netuid, uid)
        if neuron is None or neuron.role != MINER:
            continue
        if neuron.address == VACANT_ADDRESS:
            return uid, block            # a slot its miner left goes first, at once
        until = immune_until(subnet, neuron)
        if until >= block:
            free_at = until + 1 if free_at is None else min(free_at, until + 1)
            continue
        score = scores[uid] if neuron.registered_block <= scored_at else 0
        key = (score, neuron.registered_block, uid)
        if best is None or key < best:
            best = key
    return (None if best is None else best[2]), (free_at if free_at is not None else block)


def permits(state: State, subnet: Subnet) -> dict[int, int]:
    """``{uid: stake}`` of the validators holding a permit now."""
    ranked = []
    for uid, address in validator_list(state, subnet.netuid):
        stake = validator_stake(state, subnet.netuid, address)   # nominators' stake counts
        if stake >= subnet.params.min_validator_stake and stake > 0:
            ranked.append((-stake, uid))
    ranked.sort()
    return {uid: -neg for neg, uid in ranked[:subnet.params.max_validators]}


def check_endpoint(host: str, port: int, protocol: str) -> None:
    """An IP address or a DNS name, a port 1..65535, ``http`` or ``https``."""
    if protocol not in PROTOCOLS:
        fail("invalid_endpoint", f"protocol {protocol!r} must be one of {list(PROTOCOLS)}")
    if not 0 < port < 65536:
        fail("invalid_endpoint", f"port {port} must be in 1..65535")
    if not _valid_host(host):
        fail("invalid_endpoint", f"host {host!r} is neither an IP address nor a DNS name")


def _valid_host(host: str) -> bool:
    if not host or len(host) > MAX_HOST_LENGTH or not host.isascii():
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        labels = host.rstrip(".").split(".")
        return (all(HOST_LABEL_RE.match(label) for label in labels)
                and not labels[-1].isdigit())
    return not (address.is_unspecified or address.is_multicast)


def check_serve(state: State, netuid: int, sender: bytes, block: int, host: str, port: int,
                protocol: str) -> NeuronRecord:
    """Every check of ``serveEndpoint`` without changing state; returns the neuron."""
    neuron = require_neuron(state, netuid, sender)
    check_endpoint(host, port, protocol)
    check_serving_rate_limit(neuron, require_subnet(state, netuid), block)
    return neuron


def check_serving_rate_limit(neuron: NeuronRecord, subnet: Subnet, block: int) -> None:
    """``serveEndpoint`` and ``updateModelInfo`` (what validators see of a miner) share one
    change per ``serving_rate_limit`` blocks."""
    limit = subnet.params.serving_rate_limit
    if neuron.served_block and block < neuron.served_block + limit:
        fail("serving_rate_limited", f"serveEndpoint and updateModelInfo share one change per "
             f"{limit} blocks; retry at block {neuron.served_block + limit}",
             nextAllowedBlock=neuron.served_block + limit)


def serve_endpoint(state: State, netuid: int, sender: bytes, block: int, host: str, port: int,
                   protocol: str) -> NeuronRecord:
    """Publish where the neuron answers; rate-limited to one per ``serving_rate_limit``."""
    neuron = check_serve(state, netuid, sender, block, host, port, protocol)
    updated = replace(neuron, host=host, port=port, protocol=protocol, served_block=block,
                      last_update=block)
    put_neuron(state, netuid, updated)
    return updated


def check_deregister(state: State, netuid: int, sender: bytes) -> NeuronRecord:
    """Every check of ``deregister`` without changing state; returns the leaving miner."""
    neuron = require_neuron(state, netuid, sender)
    if neuron.role != MINER:
        fail("validators_unstake", f"uid {neuron.uid} on subnet {netuid} is a validator: "
             "validators leave by removing their stake (removeStake)", netuid=netuid)
    return neuron


def deregister(state: State, netuid: int, sender: bytes, block: int) -> NeuronRecord:
    """The miner leaves: its key is unmapped (refused from now on as ``not_registered``) and
    its uid becomes a vacant slot that no weight counts for and that the next registration
    takes first. Its reward history stays readable. Returns the neuron as it was."""
    neuron = check_deregister(state, netuid, sender)
    set_uid(state, netuid, sender, None)
    put_neuron(state, netuid, replace(
        neuron, address=VACANT_ADDRESS, model_name="", model_type="", model_version="",
        host="", port=0, protocol="", registered_block=block, last_update=block,
        served_block=0))
    return neuron


def first_vacant(state: State, subnet: Subnet) -> int | None:
    """The lowest uid a miner left, if any."""
    table = neuron_columns(state, subnet.netuid, subnet.n)
    return next((uid for uid, address in enumerate(table.address)
                 if address == VACANT_ADDRESS), None)
