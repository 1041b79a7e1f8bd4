"""``setWeights``: a permitted validator's scores of the subnet's miners, u16 fixed point.

Each weight is a MinerScore total and must equal :func:`moderntensor.scoring.combine_u16` of
the four components sent with it (so a miner can read why it scored what it did, and the chain
and the validator agree on the arithmetic). Sending all four component lists empty is allowed
(components unknown, stored as empty).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from moderntensor.chain.modules.neurons import permits, require_neuron
from moderntensor.chain.modules.records import (
    MINER,
    VALIDATOR,
    NeuronRecord,
    Subnet,
    WeightsRow,
    neuron_columns,
    put_neuron,
    put_weights,
)
from moderntensor.chain.modules.row_copies import remember_row
from moderntensor.chain.modules.subnets import fail, require_subnet
from moderntensor.chain.state import State
from moderntensor.scoring import COMPONENTS, U16_MAX, combine_u16_columns


def _pack(values: Sequence[int]) -> bytes:
    return np.asarray(values, dtype=">u2").tobytes()


def unpack(raw: bytes) -> np.ndarray:
    """A packed column back as ``int64`` (native order)."""
    return np.frombuffer(raw, dtype=">u2").astype(np.int64)


def _check_columns(n: int, uids: Sequence[int], weights: Sequence[int],
                   components: Sequence[Sequence[int]]) -> None:
    if len(weights) != len(uids):
        fail("invalid_weights", f"{len(uids)} uids but {len(weights)} weights")
    if all(len(c) == 0 for c in components):
        pass
    elif any(len(c) != len(uids) for c in components):
        fail("invalid_weights", "accuracy, latency, availability and consistency need one "
             "value per uid (or all four empty)")
    if len(uids) > n:
        fail("invalid_weights", f"{len(uids)} weights for a subnet of {n} uids")
    for name, column in (("uids", uids), ("weights", weights), *zip(
            COMPONENTS, components, strict=True)):
        if any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= U16_MAX
               for v in column):
            fail("invalid_weights", f"{name} must be u16 integers (0..{U16_MAX})")
    if len(set(uids)) != len(uids):
        fail("invalid_weights", "uids must not repeat")
    bad = [u for u in uids if u >= n]
    if bad:
        fail("invalid_weights", f"uid {bad[0]} does not exist (subnet has {n} uids)", uid=bad[0])


def _check_combined(weights: Sequence[int], components: Sequence[Sequence[int]]) -> None:
    if not components[0]:
        return
    combined = combine_u16_columns(*(np.asarray(x, dtype=np.int64) for x in components))
    mismatch = np.flatnonzero(combined != np.asarray(weights, dtype=np.int64))
    if mismatch.size:
        i = int(mismatch[0])
        fail("weights_mismatch", f"weights[{i}] = {weights[i]} but the components give "
             f"{int(combined[i])} (scoring.combine_u16); send MinerScore.to_u16() values",
             index=i, expected=int(combined[i]))


def require_permitted_validator(state: State, netuid: int, sender: bytes
                                ) -> tuple[NeuronRecord, Subnet]:
    """The sender's neuron and its subnet, or ``no_validator_permit``."""
    neuron = require_neuron(state, netuid, sender)
    subnet = require_subnet(state, netuid)
    if neuron.role != VALIDATOR or neuron.uid not in permits(state, subnet):
        fail("no_validator_permit", f"uid {neuron.uid} holds no validator permit on subnet "
             f"{netuid}: only the top {subnet.params.max_validators} validators by stake "
             f"(>= {subnet.params.min_validator_stake} base units) may set weights")
    return neuron, subnet


def check_rate_limit(neuron: NeuronRecord, subnet: Subnet, block: int) -> None:
    """``weights_rate_limited`` unless ``weights_rate_limit`` blocks passed since the last row
    (or commit) of this validator."""
    limit = subnet.params.weights_rate_limit
    if neuron.weights_block and block < neuron.weights_block + limit:
        fail("weights_rate_limited", f"setWeights is allowed once per {limit} blocks; retry at "
             f"block {neuron.weights_block + limit}",
             nextAllowedBlock=neuron.weights_block + limit)


def store_row(state: State, subnet: Subnet, neuron: NeuronRecord, block: int,
              uids: Sequence[int], weights: Sequence[int], components: Sequence[Sequence[int]],
              version_key: int) -> None:
    """Check a row (version, shape, u16, miners only, combined totals) and store it as of
    ``block``."""
    if version_key < subnet.params.weights_version:
        fail("outdated_version_key", f"versionKey {version_key} is below the "
             f"{subnet.params.weights_version} subnet {subnet.netuid} requires "
             "(weightsVersion): upgrade your validator",
             weightsVersion=subnet.params.weights_version)
    _check_columns(subnet.n, uids, weights, components)
    roles = neuron_columns(state, subnet.netuid, subnet.n).role
    not_miner = next((uid for uid in uids if roles[uid] != MINER), None)
    if not_miner is not None:
        fail("invalid_weights", f"uid {not_miner} is not a miner; weights score miners only",
             uid=not_miner)
    _check_combined(weights, components)
    accuracy, latency, availability, consistency = components
    row = WeightsRow(
        block=block, version_key=version_key, uids=_pack(uids), weights=_pack(weights),
        accuracy=_pack(accuracy), latency=_pack(latency), availability=_pack(availability),
        consistency=_pack(consistency))
    put_weights(state, subnet.netuid, neuron.uid, row)
    remember_row(state, subnet.netuid, neuron.uid, row)


def set_weights(state: State, netuid: int, sender: bytes, block: int, uids: Sequence[int],
                weights: Sequence[int], accuracy: Sequence[int], latency: Sequence[int],
                availability: Sequence[int], consistency: Sequence[int], version_key: int
                ) -> NeuronRecord:
    """Store the sender's weights row (replacing its previous one), public at once."""
    neuron, subnet = require_permitted_validator(state, netuid, sender)
    check_rate_limit(neuron, subnet, block)
    store_row(state, subnet, neuron, block, uids, weights,
              (accuracy, latency, availability, consistency), version_key)
    updated = replace(neuron, weights_block=block, last_update=block)
    put_neuron(state, netuid, updated)
    return updated
