"""SQLite persistence: blocks, transactions with receipts, logs and state leaves.

One SQLite transaction per block (WAL, ``synchronous=FULL``): when :meth:`Store.save_block`
returns, the block, its receipts and every state leaf it changed are on disk together, so a
kill -9 at any instant leaves either the whole block or none of it. Reads use the same
connection from the same thread (the node's event loop), so they never see half a block.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from moderntensor.chain.blocks import Block, Header, Receipt, ReceiptLog, end_block_tx_hash
from moderntensor.chain.errors import StoreError

DB_FILE = "chain.sqlite3"
SCHEMA_VERSION = b"2"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blocks(number INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE,
                                  header BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS txs(hash BLOB PRIMARY KEY, block INTEGER NOT NULL, idx INTEGER NOT NULL,
                               sender BLOB NOT NULL, raw BLOB NOT NULL, receipt BLOB NOT NULL)
                               WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS txs_by_block ON txs(block, idx);
CREATE TABLE IF NOT EXISTS logs(block INTEGER NOT NULL, idx INTEGER NOT NULL,
                                tx_idx INTEGER NOT NULL, tx_hash BLOB NOT NULL,
                                address BLOB NOT NULL, topic0 BLOB, topic1 BLOB, topic2 BLOB,
                                topic3 BLOB, data BLOB NOT NULL, PRIMARY KEY(block, idx))
                                WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS logs_by_address ON logs(address, block);
CREATE INDEX IF NOT EXISTS logs_by_topic0 ON logs(topic0, block);
CREATE TABLE IF NOT EXISTS state(key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
"""


try:  # the "fast" extra
    from orjson import dumps as _orjson_dumps
except ImportError:  # pragma: no cover - exercised only without the extra
    _orjson_dumps = None


def encode_receipt(receipt: Receipt) -> bytes:
    """Compact JSON. Not consensus data, so speed rules here: 20x cheaper than RLP, which was
    a quarter of a transfer's cost (the receipts root stays RLP). orjson when installed, ~5x
    faster again; the stdlib for ints past 64 bits (a gas price no one pays, but valid)."""
    code, message = receipt.error or ("", "")
    fields = [receipt.status, receipt.gas_used, receipt.cumulative_gas_used,
              receipt.effective_gas_price,
              [[log.address.hex(), [t.hex() for t in log.topics], log.data.hex()]
               for log in receipt.logs], code, message]
    if _orjson_dumps is not None:
        try:
            return _orjson_dumps(fields)
        except TypeError:
            pass
    return json.dumps(fields, separators=(",", ":")).encode()


def decode_receipt(data: bytes) -> Receipt:
    status, gas_used, cumulative, price, logs, code, message = json.loads(data)
    return Receipt(
        status=status, gas_used=gas_used, cumulative_gas_used=cumulative,
        effective_gas_price=price,
        logs=tuple(ReceiptLog(bytes.fromhex(a), tuple(bytes.fromhex(t) for t in topics),
                       bytes.fromhex(d)) for a, topics, d in logs),
        error=(code, message) if code else None)


class Store:
    """The node's database in ``data_dir``; one writer (this object), many readers."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DB_FILE
        try:
            # autocommit (isolation_level=None): we open exactly one transaction per block.
            # check_same_thread=False: callers serialize access (the node's one event loop);
            # in-process tests drive it from two threads in turn.
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the chain database {self.path}: {exc}") from None
        version = self.get_meta("schema")
        if version is None:
            self.db.execute("INSERT INTO meta VALUES('schema', ?)", (SCHEMA_VERSION,))
        elif version != SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema {version!r}; this node reads "
                             f"{SCHEMA_VERSION!r}")

    def close(self) -> None:
        self.db.close()

    def get_meta(self, key: str) -> bytes | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def set_meta_once(self, key: str, value: bytes) -> None:
        """Record a fact about this chain (genesis hash); refuse a different one later."""
        existing = self.get_meta(key)
        if existing is None:
            self.db.execute("INSERT INTO meta VALUES(?, ?)", (key, value))
        elif existing != value:
            raise StoreError(f"{self.path} belongs to another chain ({key} differs); use "
                             "another --data-dir or remove it")

    def save_block(self, block: Block, changes: dict[bytes, bytes | None]) -> None:
        """Write the block, its transactions, receipts, logs and state changes atomically."""
        number = block.number
        logs_rows = []
        log_index = 0
        tx_rows = []
        for idx, (tx, receipt) in enumerate(zip(block.transactions, block.receipts, strict=True)):
            tx_rows.append((tx.hash, number, idx, tx.sender, tx.raw, encode_receipt(receipt)))
            for entry in receipt.logs:
                logs_rows.append(_log_row(number, log_index, idx, tx.hash, entry))
                log_index += 1
        for entry in block.end_block_logs:
            logs_rows.append(_log_row(number, log_index, len(block.transactions),
                                      end_block_tx_hash(block.hash), entry))
            log_index += 1
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT INTO blocks VALUES(?, ?, ?)",
                       (number, block.hash, block.header.encode()))
            db.executemany("INSERT INTO txs VALUES(?, ?, ?, ?, ?, ?)", tx_rows)
            db.executemany("INSERT INTO logs VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", logs_rows)
            db.executemany("INSERT OR REPLACE INTO state VALUES(?, ?)",
                           [(k, v) for k, v in changes.items() if v is not None])
            db.executemany("DELETE FROM state WHERE key=?",
                           [(k,) for k, v in changes.items() if v is None])
            db.execute("INSERT OR REPLACE INTO meta VALUES('head', ?)", (str(number).encode(),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def head_number(self) -> int | None:
        value = self.get_meta("head")
        return None if value is None else int(value)

    def header(self, number: int) -> Header | None:
        row = self.db.execute("SELECT header FROM blocks WHERE number=?", (number,)).fetchone()
        return None if row is None else Header.decode(row[0])

    def block_number_of(self, block_hash: bytes) -> int | None:
        row = self.db.execute("SELECT number FROM blocks WHERE hash=?", (block_hash,)).fetchone()
        return None if row is None else row[0]

    def block_txs(self, number: int) -> list[tuple[bytes, bytes, bytes]]:
        """(sender, raw, receipt blob) of each transaction in the block, in order."""
        return [(bytes(s), bytes(r), bytes(rc)) for s, r, rc in self.db.execute(
            "SELECT sender, raw, receipt FROM txs WHERE block=? ORDER BY idx", (number,))]

    def tx(self, tx_hash: bytes) -> tuple[int, int, bytes, bytes, bytes] | None:
        """(block, index, sender, raw, receipt blob) of a committed transaction."""
        row = self.db.execute("SELECT block, idx, sender, raw, receipt FROM txs WHERE hash=?",
                              (tx_hash,)).fetchone()
        return None if row is None else (row[0], row[1], bytes(row[2]), bytes(row[3]),
                                         bytes(row[4]))

    def state_leaves(self) -> Iterator[tuple[bytes, bytes]]:
        for key, value in self.db.execute("SELECT key, value FROM state"):
            yield bytes(key), bytes(value)

    def logs(self, first: int, last: int, addresses: list[bytes],
             topics: list[list[bytes] | None], limit: int) -> list[tuple]:
        """ReceiptLog rows in [first, last] matching the eth_getLogs filter, in chain order."""
        sql = ["SELECT block, idx, tx_idx, tx_hash, address, topic0, topic1, topic2, topic3, "
               "data FROM logs WHERE block BETWEEN ? AND ?"]
        args: list = [first, last]
        if addresses:
            sql.append(f"AND address IN ({','.join('?' * len(addresses))})")
            args.extend(addresses)
        for position, options in enumerate(topics[:4]):
            if options:
                sql.append(f"AND topic{position} IN ({','.join('?' * len(options))})")
                args.extend(options)
        sql.append("ORDER BY block, idx LIMIT ?")
        args.append(limit)
        return self.db.execute(" ".join(sql), args).fetchall()


def _log_row(number: int, index: int, tx_idx: int, tx_hash: bytes, entry: ReceiptLog) -> tuple:
    topics = list(entry.topics) + [None] * (4 - len(entry.topics))
    return (number, index, tx_idx, tx_hash, entry.address, *topics, entry.data)

