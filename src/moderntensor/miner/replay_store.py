"""One replay memory for every replica of a miner: (sender, nonce) pairs in a SQLite file.

Replicas of one miner identity (several processes on one port, see docs/miner.md) must not
each accept the same signed request once: a request captured on the way to one replica would
otherwise be answered again by another. They share this store, and a pair is *claimed* with
one ``INSERT`` on its primary key, so of two replicas racing for one pair exactly one wins.
Pairs older than the freshness window are deleted: the window refuses them anyway.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

PRUNE_EVERY = 1024   # claims between two deletions of expired pairs


class SharedReplayStore:
    """A :class:`~moderntensor.protocol.auth.ReplayStore` in a SQLite file (WAL, 0600)."""

    def __init__(self, path: str | Path, *, max_age_ns: int) -> None:
        self.path = Path(path)
        self.max_age_ns = max_age_ns
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path.touch(mode=0o600, exist_ok=True)
        # one connection, used from the event loop thread; the lock covers test threads
        self._db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")   # a lost pair after a crash is stale anyway
        self._db.execute("CREATE TABLE IF NOT EXISTS seen (sender TEXT NOT NULL, "
                         "nonce INTEGER NOT NULL, PRIMARY KEY (sender, nonce)) WITHOUT ROWID")
        self._lock = threading.Lock()
        self._claims = 0

    def seen(self, sender: str, nonce: int) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM seen WHERE sender = ? AND nonce = ?",
                                    (sender, nonce)).fetchone() is not None

    def claim(self, sender: str, nonce: int, *, now_ns: int | None = None) -> bool:
        with self._lock:
            inserted = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)",
                                        (sender, nonce)).rowcount == 1
            self._claims += 1
            if self._claims % PRUNE_EVERY == 0:
                now_ns = time.time_ns() if now_ns is None else now_ns
                self._db.execute("DELETE FROM seen WHERE nonce < ?", (now_ns - self.max_age_ns,))
            return inserted

    def close(self) -> None:
        with self._lock:
            self._db.close()
