"""Miner registration with 0 MDT: proof of work instead of a fee, per-block caps, replacement.

The proof (see :mod:`moderntensor.protocol.pow`) binds chain id, subnet, address and the hash
of a recent block. The chain knows the hashes of the last ``POW_MAX_BLOCK_AGE`` blocks: the
end-block hook of block N stores the hash of block N-1 (its parent), so a challenge names a
block at most ``head - 1`` (``mt_getRegistrationChallenge`` does exactly that).
"""

from __future__ import annotations

from dataclasses import replace

from moderntensor.chain.modules.neurons import (
    add_neuron,
    check_serving_rate_limit,
    first_vacant,
    replace_miner,
    replacement_candidate,
    require_neuron,
)
from moderntensor.chain.modules.records import (
    HASH,
    MINER,
    SEAL,
    NeuronRecord,
    Subnet,
    checksum,
    get_neuron,
    put_neuron,
    put_subnet,
    u16,
    u64,
    uid_of,
)
from moderntensor.chain.modules.subnets import fail, require_subnet
from moderntensor.chain.state import State, kv_delete, kv_get, kv_items, kv_set
from moderntensor.protocol.pow import POW_MAX_BLOCK_AGE, adjust_difficulty, verify_pow
from moderntensor.protocol.syscalls import MAX_MODEL_FIELD


def record_block_hash(state: State, number: int, block_hash: bytes) -> None:
    """Remember ``block_hash`` of block ``number``; forget hashes too old for any proof."""
    kv_set(state, HASH, u64(number), block_hash)
    old = number - POW_MAX_BLOCK_AGE - 1
    if old >= 0:
        kv_delete(state, HASH, u64(old))


def block_hash(state: State, number: int) -> bytes | None:
    return kv_get(state, HASH, u64(number)) if number >= 0 else None


def latest_hashed_block(state: State, last_block: int) -> int | None:
    """The newest block whose hash the state knows (``last_block - 1``), or None at genesis."""
    number = last_block - 1
    return number if number >= 0 and block_hash(state, number) is not None else None


def prune_seals(state: State, block: int) -> None:
    """Drop used proofs whose block is too old to be accepted again anyway."""
    cutoff = u64(max(0, block + 1 - POW_MAX_BLOCK_AGE))
    stale = [key for key, _ in kv_items(state, SEAL) if key[:8] < cutoff]
    for key in stale:
        kv_delete(state, SEAL, key)


def _check_model(model_name: str, model_type: str, model_version: str, subnet: Subnet) -> None:
    for label, value in (("modelName", model_name), ("modelVersion", model_version)):
        if not value or len(value) > MAX_MODEL_FIELD or not value.isprintable():
            fail("invalid_model_info", f"{label} {value!r} must be 1-{MAX_MODEL_FIELD} "
                 "printable characters")
    if model_type != subnet.task_type:
        fail("model_type_mismatch", f"subnet {subnet.netuid} serves {subnet.task_type!r}, "
             f"not {model_type!r}; register on a subnet of your model's task type",
             taskType=subnet.task_type)


def check_registration(state: State, *, chain_id: int, block: int, sender: bytes, netuid: int,
                       model_name: str, model_type: str, model_version: str, pow_nonce: int,
                       pow_block: int) -> tuple[Subnet, int | None]:
    """Every check of ``registerMiner`` without changing state.

    Returns the subnet and the uid the newcomer replaces (None: a new uid). Cheap checks come
    first; the proof's replay check comes before ``already_registered`` so that replaying a
    used proof is reported as what it is.
    """
    subnet = require_subnet(state, netuid)
    _check_model(model_name, model_type, model_version, subnet)
    in_block = subnet.regs_in_block if subnet.regs_block == block else 0
    if in_block >= subnet.params.max_registrations_per_block:
        fail("too_many_registrations", f"block {block} already holds {in_block} registrations "
             f"on subnet {netuid} (the limit); retry in the next block",
             retryAfterBlock=block + 1)
    if not 0 <= pow_block <= block or block - pow_block > POW_MAX_BLOCK_AGE:
        fail("pow_stale", f"powBlock {pow_block} is not within the last {POW_MAX_BLOCK_AGE} "
             "blocks; fetch a new mt_getRegistrationChallenge", currentBlock=block)
    seed = block_hash(state, pow_block)
    if seed is None:
        fail("pow_stale", f"the chain has no hash for block {pow_block} (too old or too new); "
             "fetch a new mt_getRegistrationChallenge", currentBlock=block)
    if not 0 <= pow_nonce < 2**64 or not verify_pow(
            chain_id=chain_id, netuid=netuid, address=sender, block_hash=seed, nonce=pow_nonce,
            difficulty=subnet.difficulty):
        fail("pow_invalid", f"the proof of work does not meet difficulty {subnet.difficulty} "
             f"for chain {chain_id}, subnet {netuid}, {checksum(sender)} and block {pow_block}",
             difficulty=subnet.difficulty)
    if kv_get(state, SEAL, _seal_key(pow_block, netuid, sender, pow_nonce)) is not None:
        fail("pow_reused", "this proof of work was already used; solve a new challenge")
    if uid_of(state, netuid, sender) is not None:
        fail("already_registered", f"{checksum(sender)} already has uid "
             f"{uid_of(state, netuid, sender)} on subnet {netuid}")
    vacant = first_vacant(state, subnet)
    if vacant is not None:
        return subnet, vacant
    if subnet.miners < subnet.params.max_miners:
        return subnet, None
    uid, free_at = replacement_candidate(state, subnet, block)
    if uid is None:
        fail("subnet_full", f"subnet {netuid} has {subnet.miners} miners (the maximum) and all "
             f"are in their immunity period; retry at block {free_at}",
             retryAfterBlock=free_at)
    return subnet, uid


def register_miner(state: State, *, chain_id: int, block: int, sender: bytes, netuid: int,
                   model_name: str, model_type: str, model_version: str, pow_nonce: int,
                   pow_block: int) -> tuple[NeuronRecord, int | None]:
    """Register ``sender`` as a miner; returns the neuron and the replaced address's uid."""
    subnet, replaced = check_registration(
        state, chain_id=chain_id, block=block, sender=sender, netuid=netuid,
        model_name=model_name, model_type=model_type, model_version=model_version,
        pow_nonce=pow_nonce, pow_block=pow_block)
    kv_set(state, SEAL, _seal_key(pow_block, netuid, sender, pow_nonce), b"\x01")
    uid = subnet.n if replaced is None else replaced
    neuron = NeuronRecord(uid=uid, address=checksum(sender), role=MINER, model_name=model_name,
                    model_type=model_type, model_version=model_version, host="", port=0,
                    protocol="", registered_block=block, last_update=block, served_block=0,
                    weights_block=0)
    in_block = subnet.regs_in_block if subnet.regs_block == block else 0
    counted = replace(subnet, regs_block=block, regs_in_block=in_block + 1,
                      regs_in_interval=subnet.regs_in_interval + 1)
    if replaced is None:
        add_neuron(state, counted, neuron, sender)
    else:
        old = get_neuron(state, netuid, replaced)
        replace_miner(state, counted, neuron, sender)
        put_subnet(state, counted)
        return neuron, None if old is None else replaced
    return neuron, None


def adjust_registration_difficulty(state: State, subnet: Subnet, block: int) -> Subnet:
    """Every ``adjustment_interval`` blocks, move difficulty toward the registration target."""
    since = block - subnet.created_block
    if since <= 0 or since % subnet.params.adjustment_interval:
        return subnet
    difficulty = adjust_difficulty(subnet.difficulty, subnet.regs_in_interval,
                                   subnet.params.target_registrations_per_interval,
                                   minimum=subnet.params.min_difficulty,
                                   maximum=subnet.params.max_difficulty)
    updated = replace(subnet, difficulty=difficulty, regs_in_interval=0)
    put_subnet(state, updated)
    return updated


def _seal_key(pow_block: int, netuid: int, sender: bytes, nonce: int) -> bytes:
    return u64(pow_block) + u16(netuid) + sender + u64(nonce)


def check_model_update(state: State, netuid: int, sender: bytes, block: int, model_name: str,
                       model_type: str, model_version: str) -> NeuronRecord:
    """Every check of ``updateModelInfo`` without changing state; returns the miner.

    The same field rules as registration; one change per ``serving_rate_limit`` blocks,
    shared with ``serveEndpoint`` (both change what validators see of a miner).
    """
    neuron = require_neuron(state, netuid, sender)
    if neuron.role != MINER:
        fail("not_a_miner", f"uid {neuron.uid} on subnet {netuid} is a validator; only a "
             "miner has model info", netuid=netuid)
    subnet = require_subnet(state, netuid)
    _check_model(model_name, model_type, model_version, subnet)
    check_serving_rate_limit(neuron, subnet, block)
    return neuron


def update_model_info(state: State, netuid: int, sender: bytes, block: int, model_name: str,
                      model_type: str, model_version: str) -> NeuronRecord:
    """Replace a miner's model name/type/version (what it serves); keeps uid, scores, stake."""
    neuron = check_model_update(state, netuid, sender, block, model_name, model_type,
                                model_version)
    updated = replace(neuron, model_name=model_name, model_type=model_type,
                      model_version=model_version, served_block=block, last_update=block)
    put_neuron(state, netuid, updated)
    return updated
