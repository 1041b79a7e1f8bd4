"""Copied weight rows: a row that is, value for value, a row another validator set first earns
nothing.

Each stored row with a measured value in it (one strictly between 0 and 1.0) leaves its
fingerprint, the keccak of its packed columns, with the validator that set it: the last
:data:`RECENT_ROWS` of each validator, with the block the row is as of (for a revealed row, its
commit block). At epoch close an active row is a copy when another validator left the same
fingerprint at an earlier block. Why this is sound: with commit-reveal a row becomes visible only
after it was committed, so a validator that set the same measured values later saw them first;
two validators measuring latencies independently do not land on the same u16 value for every
component of every miner. Rows of only 0s and 1.0s (every miner perfect or worthless) carry no
measurement and are never fingerprinted, so two honest validators agreeing on them are not
flagged. A copier that perturbs what it copies is not caught here; it still plays back rows that
are older than the ones they copy (docs/incentives.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from moderntensor.chain.modules.records import WeightsRow, neuron_key
from moderntensor.chain.state import State, kv_get, kv_set
from moderntensor.protocol.keccak import keccak
from moderntensor.scoring import U16_MAX

FINGERPRINTS = "mt.rowprints"
RECENT_ROWS = 8          # fingerprints kept per validator: a copy of any of them is caught
_ENTRY = 32 + 8          # keccak digest + as-of block (u64)


def fingerprint(row: WeightsRow) -> bytes | None:
    """keccak of the row's columns, or ``None`` when no value is strictly between 0 and 1.0."""
    columns = (row.uids, row.weights, row.accuracy, row.latency, row.availability,
               row.consistency)
    values = np.frombuffer(b"".join(columns[1:]), dtype=">u2")
    if not ((values > 0) & (values < U16_MAX)).any():
        return None
    return keccak(b"".join(len(c).to_bytes(4, "big") + c for c in columns))


def recent_fingerprints(state: State, netuid: int, uid: int) -> list[tuple[bytes, int]]:
    """The validator's last fingerprints, oldest first: (digest, as-of block)."""
    raw = kv_get(state, FINGERPRINTS, neuron_key(netuid, uid)) or b""
    return [(raw[i:i + 32], int.from_bytes(raw[i + 32:i + _ENTRY], "big"))
            for i in range(0, len(raw), _ENTRY)]


def remember_row(state: State, netuid: int, uid: int, row: WeightsRow) -> None:
    """Record a stored row's fingerprint with its validator (nothing for a row of extremes)."""
    digest = fingerprint(row)
    if digest is None:
        return
    entries = [*recent_fingerprints(state, netuid, uid), (digest, row.block)][-RECENT_ROWS:]
    kv_set(state, FINGERPRINTS, neuron_key(netuid, uid),
           b"".join(d + block.to_bytes(8, "big") for d, block in entries))


def copied_rows(state: State, netuid: int, rows: Mapping[int, WeightsRow],
                validators: Iterable[int]) -> set[int]:
    """The uids among ``rows`` (active rows by validator uid) whose row another of
    ``validators`` fingerprinted at an earlier block."""
    first: dict[bytes, tuple[int, int]] = {}      # digest -> (earliest block, validator uid)
    for uid in validators:
        for digest, block in recent_fingerprints(state, netuid, uid):
            if digest not in first or block < first[digest][0]:
                first[digest] = (block, uid)
    copies = set()
    for uid, row in rows.items():
        digest = fingerprint(row)
        origin = first.get(digest) if digest is not None else None
        if origin is not None and origin[1] != uid and origin[0] < row.block:
            copies.add(uid)
    return copies
