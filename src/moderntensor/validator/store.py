"""The validator's own memory: per-miner moving statistics in SQLite (WAL), across restarts.

One row per (subnet, uid, miner address): when a uid is taken over by a new address the
newcomer starts fresh. The store also keeps the validator's secret challenge seed, its round
counter and the block of its last weight submission.

>>> store = ValidatorStore(":memory:")
>>> store.next_round(1), store.next_round(1)
(1, 2)
"""

from __future__ import annotations

import math
import secrets
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from moderntensor.scoring import MinerScore

SEED_BYTES = 32

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS miner_stats (
    netuid INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    address TEXT NOT NULL,
    accuracy REAL NOT NULL,
    latency REAL NOT NULL,
    availability REAL NOT NULL,
    consistency REAL NOT NULL,
    latency_s REAL,
    rounds INTEGER NOT NULL,
    queries INTEGER NOT NULL,
    valid INTEGER NOT NULL,
    last_round INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (netuid, uid, address)
);
CREATE TABLE IF NOT EXISTS submissions (
    netuid INTEGER NOT NULL,
    block INTEGER NOT NULL,
    round INTEGER NOT NULL,
    tx_hash TEXT,
    miners INTEGER NOT NULL,
    submitted_at REAL NOT NULL
);
"""


def default_store_path(home: str | Path, netuid: int, address: str) -> Path:
    """Where a validator keeps its statistics: ``<home>/validator/subnet-<n>-<address>.sqlite``."""
    return Path(home) / "validator" / f"subnet-{netuid}-{address.lower()}.sqlite"


@dataclass(frozen=True)
class MinerStats:
    """A miner's moving averages (``score``) and lifetime counters, as this validator saw it."""

    uid: int
    address: str
    score: MinerScore
    latency_s: float | None     # moving average of measured latency of valid answers
    rounds: int
    queries: int
    valid: int
    last_round: int

    def as_dict(self) -> dict[str, object]:
        return {
            "uid": self.uid, "address": self.address, "total": round(self.score.total, 6),
            "accuracy": round(self.score.accuracy, 6), "latency": round(self.score.latency, 6),
            "availability": round(self.score.availability, 6),
            "consistency": round(self.score.consistency, 6),
            "latency_s": None if self.latency_s is None else round(self.latency_s, 6),
            "rounds": self.rounds, "queries": self.queries, "valid": self.valid,
            "last_round": self.last_round,
        }


class ValidatorStore:
    """SQLite store; every write is one transaction, so a crash leaves the last full round."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # Owner-only: the challenge secret is here, and with it miners could predict.
            Path(self.path).touch(mode=0o600, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # -- meta ---------------------------------------------------------------------------
    def _meta(self, key: str) -> bytes | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def _set_meta(self, key: str, value: bytes) -> None:
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def challenge_secret(self) -> bytes:
        """This validator's secret seed for challenges: made once, kept for its lifetime."""
        secret = self._meta("challenge_secret")
        if secret is None:
            secret = secrets.token_bytes(SEED_BYTES)
            self._set_meta("challenge_secret", secret)
        return secret

    def sandbox(self) -> str:
        """How the last run isolated miners' code ("" when its suite runs none)."""
        return (self._meta("sandbox") or b"").decode()

    def set_sandbox(self, description: str) -> None:
        """Record how this run isolates miners' code, for ``validator status``."""
        self._set_meta("sandbox", description.encode())

    def next_round(self, netuid: int) -> int:
        """Count one more round on ``netuid`` and return its number (1, 2, ...)."""
        key = f"round:{netuid}"
        self._db.execute("BEGIN IMMEDIATE")
        try:
            current = self._meta(key)
            number = (int(current) if current else 0) + 1
            self._set_meta(key, str(number).encode())
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return number

    # -- statistics ---------------------------------------------------------------------
    def load(self, netuid: int) -> dict[tuple[int, str], MinerStats]:
        """Every miner's statistics on ``netuid``, keyed by (uid, lowercase address)."""
        rows = self._db.execute(
            "SELECT uid, address, accuracy, latency, availability, consistency, latency_s, "
            "rounds, queries, valid, last_round FROM miner_stats WHERE netuid = ?", (netuid,),
        ).fetchall()
        stats = {}
        for uid, address, acc, lat, avail, cons, latency_s, rounds, queries, valid, last in rows:
            stats[(uid, address)] = MinerStats(
                uid=uid, address=address, score=MinerScore(acc, lat, avail, cons),
                latency_s=latency_s, rounds=rounds, queries=queries, valid=valid,
                last_round=last,
            )
        return stats

    def save(self, netuid: int, stats: Iterable[MinerStats]) -> None:
        """Write (insert or replace) these miners' statistics in one transaction."""
        now = time.time()
        rows = [
            (netuid, s.uid, s.address.lower(), s.score.accuracy, s.score.latency,
             s.score.availability, s.score.consistency,
             None if s.latency_s is None or math.isnan(s.latency_s) else s.latency_s,
             s.rounds, s.queries, s.valid, s.last_round, now)
            for s in stats
        ]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                "INSERT OR REPLACE INTO miner_stats (netuid, uid, address, accuracy, latency, "
                "availability, consistency, latency_s, rounds, queries, valid, last_round, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def forget_others(self, netuid: int, keep: Iterable[tuple[int, str]]) -> int:
        """Drop rows of miners no longer in the metagraph (a uid now owned by another address)."""
        keep_set = {(uid, address.lower()) for uid, address in keep}
        stale = [key for key in self.load(netuid) if key not in keep_set]
        self._db.executemany("DELETE FROM miner_stats WHERE netuid = ? AND uid = ? AND address = ?",
                             [(netuid, uid, address) for uid, address in stale])
        return len(stale)

    # -- submissions --------------------------------------------------------------------
    def last_submission_block(self, netuid: int) -> int | None:
        row = self._db.execute("SELECT MAX(block) FROM submissions WHERE netuid = ?",
                               (netuid,)).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def record_submission(self, netuid: int, block: int, round_number: int,
                          tx_hash: str | None, miners: int) -> None:
        self._db.execute(
            "INSERT INTO submissions (netuid, block, round, tx_hash, miners, submitted_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (netuid, block, round_number, tx_hash, miners, time.time()))
