"""The pending-transaction journal: every admitted raw transaction, appended to a file.

A node that is killed between answering ``eth_sendRawTransaction`` and mining the transaction
would otherwise forget it (the mempool lives in memory). Like geth's ``transactions.rlp``, each
admitted transaction is appended as one RLP byte string; at start the node replays the file
through the full admission checks (signature, nonce, balance), so a transaction that was mined,
replaced or became invalid meanwhile is simply not re-admitted. The file is then rewritten with
what is really pending, and again after a block whenever it has grown well past the mempool.

Each append is one ``write`` to the kernel: it survives ``kill -9`` of the node (the kernel
keeps the page), not a power cut; rewrites are atomic (temporary file, fsync, rename).
A torn last record from a crash mid-write is skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from rlp.codec import consume_length_prefix, encode_raw
from rlp.exceptions import DecodingError

log = logging.getLogger("moderntensor.chain")

JOURNAL_FILE = "transactions.rlp"
REWRITE_SLACK = 1_024  # records beyond twice the pending count before a rewrite pays off


class TxJournal:
    """Append-only file of raw transactions, one RLP string each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records = 0  # records in the file (replayed or appended), to decide rewrites
        self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - held open for appends

    def load(self) -> list[bytes]:
        """Every complete record in the file, in the order it was written."""
        data = self.path.read_bytes()
        raws: list[bytes] = []
        position = 0
        while position < len(data):
            try:
                _, kind, length, start = consume_length_prefix(data, position)
            except DecodingError:
                break
            if kind is not bytes or start + length > len(data):
                break
            raws.append(data[start:start + length])
            position = start + length
        if position < len(data):
            log.warning("%s: %d trailing bytes are not a whole record (a write cut short); "
                        "ignored", self.path, len(data) - position)
        self.records = len(raws)
        return raws

    def append(self, raw: bytes) -> None:
        """Record one admitted transaction (one unbuffered write)."""
        self._file.write(encode_raw(raw))
        self.records += 1

    def needs_rewrite(self, pending: int) -> bool:
        """True when most records are no longer pending (mined, replaced or dropped)."""
        return self.records > 2 * pending + REWRITE_SLACK

    def rewrite(self, raws: Iterable[bytes]) -> None:
        """Replace the file's contents with ``raws`` atomically."""
        records = [encode_raw(raw) for raw in raws]
        temporary = self.path.with_suffix(".tmp")
        with open(temporary, "wb") as out:
            out.write(b"".join(records))
            out.flush()
            os.fsync(out.fileno())
        self._file.close()
        os.replace(temporary, self.path)
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115
        self.records = len(records)

    def close(self) -> None:
        self._file.close()
