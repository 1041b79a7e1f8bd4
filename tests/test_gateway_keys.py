"""API keys and usage in SQLite: hashed at rest, revocable from another process, metered."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderntensor.errors import InvalidInputError
from moderntensor.gateway.keys import KeyStore, UsageRecord


def test_a_created_key_verifies_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.sqlite")
    key, record = store.create("app", requests_per_minute=30)
    found = store.verify(key)
    assert found is not None and found.key_id == record.key_id
    assert found.requests_per_minute == 30
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert key.encode() not in raw and key[3:].encode() not in raw


def test_a_key_revoked_by_another_process_fails_at_its_next_check(tmp_path: Path) -> None:
    server, cli = KeyStore(tmp_path / "k.sqlite"), KeyStore(tmp_path / "k.sqlite")
    key, record = server.create("app")
    assert server.verify(key) is not None
    assert cli.revoke(record.key_id).active is False
    assert server.verify(key) is None


def test_revoking_twice_keeps_the_first_revocation_time(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "k.sqlite")
    _, record = store.create("app")
    first = store.revoke(record.key_id).revoked_at
    assert store.revoke(record.key_id).revoked_at == first


def test_revoking_an_unknown_id_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        KeyStore(tmp_path / "k.sqlite").revoke("nope")
    assert caught.value.code == "unknown_key"


@pytest.mark.parametrize("key", ["", "sk-abc", "mt-" + "x" * 200, "mt-wrong"])
def test_malformed_or_unknown_keys_do_not_verify(tmp_path: Path, key: str) -> None:
    store = KeyStore(tmp_path / "k.sqlite")
    store.create("app")
    assert store.verify(key) is None


@pytest.mark.parametrize(("name", "rpm", "code"), [("", 10, "invalid_name"),
                                                   ("x" * 65, 10, "invalid_name"),
                                                   ("app", 0, "invalid_rate_limit")])
def test_bad_names_and_rate_limits_are_refused(tmp_path: Path, name: str, rpm: int,
                                               code: str) -> None:
    store = KeyStore(tmp_path / "k.sqlite")
    with pytest.raises(InvalidInputError) as caught:
        store.create(name, requests_per_minute=rpm)
    assert caught.value.code == code and store.list() == []


def test_usage_sums_requests_errors_and_words_per_key_and_endpoint(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "k.sqlite")
    _, a = store.create("a")
    store.record(a.key_id, UsageRecord("completions", 200, 1, 0, 5, 7, 10.0))
    store.record(a.key_id, UsageRecord("completions", 200, 1, 1, 3, 1, 30.0))
    store.record(a.key_id, UsageRecord("completions", 503, latency_ms=2.0))
    store.record(a.key_id, UsageRecord("audio.speech", 200, 4, 0, 2, 0, 100.0))
    rows = {r["endpoint"]: r for r in store.usage()}
    assert rows["completions"] == {"key_id": a.key_id, "name": "a", "endpoint": "completions",
                                   "requests": 3, "errors": 1, "prompt_tokens": 8,
                                   "completion_tokens": 8, "mean_latency_ms": 14.0}
    assert rows["audio.speech"]["requests"] == 1
    assert store.usage(since=4_000_000_000) == []
