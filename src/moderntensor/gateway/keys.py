"""API keys and usage in one SQLite file: keys are stored only as SHA-256 hashes.

A key is ``mt-`` + 32 random bytes (base64url); a secret that strong needs no slow hash, and
a fast one keeps the per-request lookup cheap. The key is shown once, at creation; afterwards
only its id (a short public handle) and its hash exist. Revocation is a timestamp, read on every
request, so ``gateway keys revoke`` in another process takes effect at the next request.

>>> store = KeyStore(":memory:")
>>> key, record = store.create("ci", requests_per_minute=60)
>>> store.verify(key).key_id == record.key_id
True
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from moderntensor.errors import InvalidInputError

KEY_PREFIX = "mt-"
MAX_KEY_CHARS = 128
DEFAULT_REQUESTS_PER_MINUTE = 60

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    key_hash BLOB NOT NULL UNIQUE,
    name TEXT NOT NULL,
    requests_per_minute INTEGER NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS usage (
    key_id TEXT NOT NULL,
    at REAL NOT NULL,
    endpoint TEXT NOT NULL,
    netuid INTEGER,
    miner_uid INTEGER,
    status INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    latency_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_by_key ON usage (key_id, at);
"""


@dataclass(frozen=True)
class ApiKey:
    """One key as listed: never the secret itself."""

    key_id: str
    name: str
    requests_per_minute: int
    created_at: float
    revoked_at: float | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "active": self.active}


@dataclass(frozen=True)
class UsageRecord:
    """One answered (or refused) request of a key."""

    endpoint: str
    status: int
    netuid: int | None = None
    miner_uid: int | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0


def default_db_path(home: Path) -> Path:
    """Where keys and usage live unless ``--db`` says otherwise."""
    return Path(home) / "gateway" / "gateway.sqlite"


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class KeyStore:
    """The gateway's keys and usage; one connection, used from one thread at a time."""

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, fast
        self._db.execute("PRAGMA busy_timeout=5000")   # the CLI may write while the server runs
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def create(self, name: str, *, requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE
               ) -> tuple[str, ApiKey]:
        """A new key: returns the secret (shown once) and its record."""
        if not 1 <= len(name) <= 64:
            raise InvalidInputError("a key name is 1 to 64 characters", code="invalid_name")
        if not 1 <= requests_per_minute <= 1_000_000:
            raise InvalidInputError("requests per minute is 1 to 1000000",
                                    code="invalid_rate_limit")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        record = ApiKey(secrets.token_hex(6), name, requests_per_minute, time.time(), None)
        self._db.execute("INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, NULL)",
                         (record.key_id, hash_key(key), name, requests_per_minute,
                          record.created_at))
        return key, record

    def verify(self, key: str) -> ApiKey | None:
        """The active key ``key`` is, or None (unknown, revoked or malformed)."""
        if not key.startswith(KEY_PREFIX) or len(key) > MAX_KEY_CHARS:
            return None
        row = self._db.execute(
            "SELECT key_id, name, requests_per_minute, created_at, revoked_at FROM api_keys "
            "WHERE key_hash = ?", (hash_key(key),)).fetchone()
        if row is None or row[4] is not None:
            return None
        return ApiKey(*row)

    def list(self) -> list[ApiKey]:
        rows = self._db.execute("SELECT key_id, name, requests_per_minute, created_at, "
                                "revoked_at FROM api_keys ORDER BY created_at").fetchall()
        return [ApiKey(*row) for row in rows]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke by id; revoking twice keeps the first time. Unknown id: InvalidInputError."""
        self._db.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND "
                         "revoked_at IS NULL", (time.time(), key_id))
        for record in self.list():
            if record.key_id == key_id:
                return record
        raise InvalidInputError(f"no API key with id {key_id!r}; see `gateway keys list`",
                                code="unknown_key")

    def record(self, key_id: str, usage: UsageRecord) -> None:
        self._db.execute("INSERT INTO usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (key_id, time.time(), usage.endpoint, usage.netuid, usage.miner_uid,
                          usage.status, usage.prompt_tokens, usage.completion_tokens,
                          round(usage.latency_ms, 3)))

    def usage(self, *, since: float = 0.0) -> list[dict[str, Any]]:
        """Per key and endpoint since ``since`` (unix time): requests, errors, tokens, latency."""
        rows = self._db.execute(
            "SELECT u.key_id, k.name, u.endpoint, COUNT(*), SUM(u.status >= 400), "
            "SUM(u.prompt_tokens), SUM(u.completion_tokens), AVG(u.latency_ms) "
            "FROM usage u JOIN api_keys k USING (key_id) WHERE u.at >= ? "
            "GROUP BY u.key_id, u.endpoint ORDER BY k.name, u.endpoint", (since,)).fetchall()
        names = ("key_id", "name", "endpoint", "requests", "errors", "prompt_tokens",
                 "completion_tokens", "mean_latency_ms")
        return [dict(zip(names, (*row[:7], round(row[7], 1)), strict=True)) for row in rows]
