"""ValidatorStore: statistics, the secret seed and the round counter survive a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from moderntensor.scoring import MinerScore
from moderntensor.validator import MinerStats, ValidatorStore

ADDRESS = "0x" + "ab" * 20


def stats(uid: int = 1, address: str = ADDRESS, total: float = 0.5) -> MinerStats:
    return MinerStats(uid, address, MinerScore(total, total, total, total), 0.12, 3, 12, 10, 3)


def test_everything_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "v.sqlite"
    store = ValidatorStore(path)
    secret = store.challenge_secret()
    assert store.next_round(1) == 1 and store.next_round(1) == 2 and store.next_round(3) == 1
    store.save(1, [stats(1), stats(2, "0x" + "cd" * 20, 0.9)])
    store.record_submission(1, 40, 2, "0xabc", 2)
    store.close()

    reopened = ValidatorStore(path)
    assert reopened.challenge_secret() == secret and len(secret) == 32
    assert reopened.next_round(1) == 3
    assert reopened.load(1) == {(1, ADDRESS): stats(1),
                                (2, "0x" + "cd" * 20): stats(2, "0x" + "cd" * 20, 0.9)}
    assert reopened.load(2) == {}
    assert reopened.last_submission_block(1) == 40 and reopened.last_submission_block(2) is None
    reopened.close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert path.stat().st_mode & 0o077 == 0          # the secret is the owner's only


def test_a_uid_taken_over_by_a_new_address_starts_fresh(tmp_path: Path) -> None:
    store = ValidatorStore(tmp_path / "v.sqlite")
    store.save(1, [stats(1), stats(2)])
    newcomer = "0x" + "ee" * 20
    assert store.forget_others(1, [(1, ADDRESS), (2, newcomer)]) == 1
    assert set(store.load(1)) == {(1, ADDRESS)}


def test_each_store_has_its_own_secret(tmp_path: Path) -> None:
    a = ValidatorStore(tmp_path / "a.sqlite").challenge_secret()
    b = ValidatorStore(tmp_path / "b.sqlite").challenge_secret()
    assert a != b
