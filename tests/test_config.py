"""config: argument > environment > config.toml > default, each value knowing its source."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderntensor.config import resolve_config, set_config_value
from moderntensor.errors import ConfigError


def test_defaults() -> None:
    cfg = resolve_config()
    assert (cfg.network.value, cfg.network.source) == ("http://127.0.0.1:8545", "default")
    assert (cfg.wallet.value, cfg.wallet.source) == ("default", "default")
    assert cfg.home.source == "env:MT_HOME"


def test_file_beats_default(mt_home: Path) -> None:
    set_config_value("network", "http://127.0.0.1:9000")
    cfg = resolve_config()
    assert cfg.network.value == "http://127.0.0.1:9000"
    assert cfg.network.source == f"file:{mt_home / 'config.toml'}"


def test_env_beats_file(monkeypatch: pytest.MonkeyPatch) -> None:
    set_config_value("netuid", "1")
    monkeypatch.setenv("MT_NETUID", "3")
    cfg = resolve_config()
    assert (cfg.netuid.value, cfg.netuid.source) == (3, "env:MT_NETUID")


def test_the_former_subnet_names_still_set_the_netuid(
        mt_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mt_home.mkdir(parents=True, exist_ok=True)
    (mt_home / "config.toml").write_text('subnet = 2\n', encoding="utf-8")
    assert resolve_config().netuid.value == 2            # the file key "subnet"
    monkeypatch.setenv("MT_SUBNET", "3")
    assert resolve_config().netuid.source == "env:MT_SUBNET"
    monkeypatch.setenv("MT_NETUID", "4")                 # the new name wins over the old
    assert resolve_config().netuid.value == 4
    assert resolve_config(subnet=5).netuid.value == 5    # the keyword argument
    set_config_value("subnet", "6")                      # `config set subnet 6`
    assert "netuid = 6" in (mt_home / "config.toml").read_text(encoding="utf-8")


def test_argument_beats_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_WALLET", "envwallet")
    cfg = resolve_config(wallet="argwallet")
    assert (cfg.wallet.value, cfg.wallet.source) == ("argwallet", "argument")


def test_password_is_never_shown_in_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_WALLET_PASSWORD", "hunter2")
    rows = resolve_config().as_rows()
    assert "hunter2" not in repr(rows)
    assert ("wallet_password", "********", "env:MT_WALLET_PASSWORD") in rows


def test_config_file_is_private(mt_home: Path) -> None:
    path = set_config_value("wallet", "miner1")
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("network", "localhost:8545", "not an http"),
        ("subnet", "one", "not an integer"),
        ("subnet", "70000", "out of range"),
        ("wallet", "../x", "may use only"),
        ("wallet_password", "x", "cannot set"),
        ("colour", "blue", "cannot set"),
    ],
)
def test_bad_values_are_rejected_and_nothing_written(
    mt_home: Path, key: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        set_config_value(key, value)
    assert not (mt_home / "config.toml").exists()


def test_broken_config_file_is_a_clear_error(mt_home: Path) -> None:
    mt_home.mkdir(parents=True)
    (mt_home / "config.toml").write_text("network = [unclosed")
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolve_config()


def test_unknown_key_in_file_is_named(mt_home: Path) -> None:
    mt_home.mkdir(parents=True)
    (mt_home / "config.toml").write_text('netwrok = "http://x"\n')
    with pytest.raises(ConfigError, match="netwrok"):
        resolve_config()


def test_bad_env_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_NETWORK", "ftp://nope")
    with pytest.raises(ConfigError, match="not an http"):
        resolve_config()
