"""Commit-reveal weights: a validator commits a hash of its row, and reveals the row later.

Why: weights are public the moment they are stored, so a validator could copy another's row for
free. With commit-reveal, ``commitWeights`` stores only
:func:`moderntensor.protocol.commit_hash.weights_commit_hash` of the row; the row itself
becomes a weights row (visible in ``mt_getWeights``, counted by the epoch) only when
``revealWeights`` shows the row and salt that hash to it, at least the subnet's
``commit_reveal_period`` blocks after the commit. A copier therefore only ever sees rows that
are at least that old. A commit never revealed, or a reveal that does not match, leaves no row:
it counts as no weights. A new commit replaces an unrevealed one.

The revealed row is stored as of its commit block (the block the validator judged the miners
at): a miner that re-registered after the commit does not inherit it, and the activity cutoff
counts from the commit. One pending commit per validator, keyed like its weights row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from moderntensor.chain.modules.records import NeuronRecord, neuron_key, put_neuron
from moderntensor.chain.modules.subnets import fail
from moderntensor.chain.modules.weights import (
    check_rate_limit,
    require_permitted_validator,
    store_row,
)
from moderntensor.chain.state import State, kv_delete, kv_get, kv_set
from moderntensor.errors import InvalidInputError
from moderntensor.protocol.commit_hash import weights_commit_hash

COMMITS = "mt.commit"        # netuid u16 + uid u16 -> [commit hash hex, commit block]


def get_commit(state: State, netuid: int, uid: int) -> tuple[bytes, int] | None:
    """The pending ``(hash, block)`` commit of validator ``uid``, if any."""
    raw = kv_get(state, COMMITS, neuron_key(netuid, uid))
    if not raw:
        return None
    digest, block = json.loads(raw)
    return bytes.fromhex(digest), block


def commit_weights(state: State, netuid: int, sender: bytes, block: int, commit_hash: bytes
                   ) -> tuple[NeuronRecord, int]:
    """Store the sender's commitment; returns its neuron and the first block it may reveal."""
    neuron, subnet = require_permitted_validator(state, netuid, sender)
    period = subnet.params.commit_reveal_period
    if period == 0:
        fail("commit_reveal_disabled", f"subnet {netuid} has commit-reveal off "
             "(commitRevealPeriod 0): use setWeights")
    check_rate_limit(neuron, subnet, block)
    if not isinstance(commit_hash, bytes) or len(commit_hash) != 32:
        fail("invalid_weights", "the commit hash must be 32 bytes")
    kv_set(state, COMMITS, neuron_key(netuid, neuron.uid),
           json.dumps([commit_hash.hex(), block], separators=(",", ":")).encode())
    updated = replace(neuron, weights_block=block, last_update=block)
    put_neuron(state, netuid, updated)
    return updated, block + period


def reveal_weights(state: State, netuid: int, sender: bytes, block: int, uids: Sequence[int],
                   weights: Sequence[int], components: Sequence[Sequence[int]],
                   version_key: int, salt: bytes) -> NeuronRecord:
    """Check the row against the sender's pending commit and store it (module docstring)."""
    neuron, subnet = require_permitted_validator(state, netuid, sender)
    pending = get_commit(state, netuid, neuron.uid)
    if pending is None:
        fail("no_commit", f"uid {neuron.uid} has no pending commit on subnet {netuid}: "
             "call commitWeights first")
    digest, committed = pending
    due = committed + subnet.params.commit_reveal_period
    if block < due:
        fail("reveal_too_early", f"this commit may be revealed from block {due} (commit at "
             f"{committed} + commitRevealPeriod {subnet.params.commit_reveal_period})",
             revealBlock=due)
    try:
        expected = weights_commit_hash(sender, netuid, uids, weights, *components,
                                       version_key, salt)
    except (InvalidInputError, OverflowError, TypeError, ValueError):
        expected = b""   # unencodable columns: store_row below names what is wrong
    if expected and expected != digest:
        fail("reveal_mismatch", "the revealed row and salt do not hash to the commit "
             "(protocol.commit_hash.weights_commit_hash)")
    store_row(state, subnet, neuron, committed, uids, weights, components, version_key)
    if not expected:
        fail("reveal_mismatch", "the revealed row cannot be hashed")
    kv_delete(state, COMMITS, neuron_key(netuid, neuron.uid))
    return neuron
