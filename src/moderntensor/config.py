"""Where every setting comes from, in one explicit order.

Resolution order, first match wins: explicit argument > environment variable >
``<home>/config.toml`` > built-in default. Each :class:`Setting` remembers its source so
``moderntensor config show`` can say why a value is what it is.

>>> cfg = resolve_config(network="http://127.0.0.1:9000")
>>> cfg.network.value, cfg.network.source
('http://127.0.0.1:9000', 'argument')
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import tomli_w

from moderntensor.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_NETWORK = "http://127.0.0.1:8545"
DEFAULT_WALLET = "default"
CONFIG_FILE = "config.toml"

# Keys a user may set in config.toml, with the environment variable that overrides each.
ENV_VARS = {
    "wallet": "MT_WALLET",
    "wallet_password": "MT_WALLET_PASSWORD",
    "network": "MT_NETWORK",
    "netuid": "MT_NETUID",
}
# Former names, still read: MT_SUBNET and the config.toml key "subnet" (documented aliases).
ENV_ALIASES = {"netuid": "MT_SUBNET"}
FILE_ALIASES = {"subnet": "netuid"}
FILE_KEYS = ("wallet", "network", "netuid")  # the password never goes into a file
DEFAULTS: dict[str, Any] = {"wallet": DEFAULT_WALLET, "network": DEFAULT_NETWORK, "netuid": None,
                            "wallet_password": None}


@dataclass(frozen=True)
class Setting:
    """A resolved value and where it came from (argument, env:VAR, file, default)."""

    value: Any
    source: str


@dataclass(frozen=True)
class Config:
    home: Setting
    wallet: Setting
    wallet_password: Setting
    network: Setting
    netuid: Setting

    def as_rows(self) -> list[tuple[str, str, str]]:
        """(name, shown value, source) for display; the password is never shown."""
        rows = []
        for name in ("home", "wallet", "network", "netuid", "wallet_password"):
            setting: Setting = getattr(self, name)
            shown = setting.value
            if name == "wallet_password" and shown is not None:
                shown = "********"
            rows.append((name, "" if shown is None else str(shown), setting.source))
        return rows


def resolve_home(home: str | Path | None = None) -> Setting:
    """The ModernTensor home directory: argument > ``MT_HOME`` > ``~/.moderntensor``."""
    if home is not None:
        return Setting(Path(home).expanduser(), "argument")
    if os.environ.get("MT_HOME"):
        return Setting(Path(os.environ["MT_HOME"]).expanduser(), "env:MT_HOME")
    return Setting(Path.home() / ".moderntensor", "default")


def config_path(home: Path) -> Path:
    return home / CONFIG_FILE


def read_config_file(home: Path) -> dict[str, Any]:
    path = config_path(home)
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    data = {FILE_ALIASES.get(key, key): value for key, value in data.items()}
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise ConfigError(f"{path} has unknown keys {unknown}; allowed: {list(FILE_KEYS)}")
    return {key: validate_value(key, value) for key, value in data.items()}


def validate_value(key: str, value: Any) -> Any:
    """Check one setting; raise :class:`ConfigError` saying what a valid value looks like."""
    if key == "network":
        parsed = urlparse(str(value))
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigError(f"network {value!r} is not an http(s) URL like {DEFAULT_NETWORK}")
        return str(value)
    if key == "netuid":
        try:
            netuid = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"netuid {value!r} is not an integer subnet id") from None
        if not 0 <= netuid < 2**16:
            raise ConfigError(f"netuid {netuid} is out of range 0..65535")
        return netuid
    if key == "wallet":
        name = str(value)
        if not is_valid_name(name):
            raise ConfigError(
                f"wallet name {name!r} may use only letters, digits, '-', '_' and '.' (max 64)"
            )
        return name
    if key == "wallet_password":
        return str(value)
    raise ConfigError(f"unknown setting {key!r}; known: {sorted(ENV_VARS)}")


def is_valid_name(name: str) -> bool:
    return (
        0 < len(name) <= 64
        and not name.startswith(".")
        and all(c.isascii() and (c.isalnum() or c in "-_.") for c in name)
    )


def resolve_config(
    *,
    home: str | Path | None = None,
    wallet: str | None = None,
    wallet_password: str | None = None,
    network: str | None = None,
    netuid: int | None = None,
    subnet: int | None = None,
) -> Config:
    """Resolve every setting: explicit argument > environment > config.toml > default.

    ``subnet`` is the former name of ``netuid`` (as are ``MT_SUBNET`` and the file key
    ``subnet``); when both are given, ``netuid`` wins.
    """
    netuid = netuid if netuid is not None else subnet
    home_setting = resolve_home(home)
    file_values = read_config_file(home_setting.value)
    explicit = {"wallet": wallet, "wallet_password": wallet_password, "network": network,
                "netuid": netuid}
    resolved: dict[str, Setting] = {}
    for key, env_var in ENV_VARS.items():
        if explicit[key] is not None:
            resolved[key] = Setting(validate_value(key, explicit[key]), "argument")
        elif (found := _env_source(key, env_var)) is not None:
            resolved[key] = Setting(validate_value(key, os.environ[found]), f"env:{found}")
        elif key in file_values:
            resolved[key] = Setting(file_values[key], f"file:{config_path(home_setting.value)}")
        else:
            resolved[key] = Setting(DEFAULTS[key], "default")
    return Config(home=home_setting, **resolved)


def _env_source(key: str, env_var: str) -> str | None:
    """The environment variable that sets ``key``: its own, else its former name, else None."""
    for name in (env_var, ENV_ALIASES.get(key)):
        if name and os.environ.get(name):
            return name
    return None


def set_config_value(key: str, value: str, *, home: str | Path | None = None) -> Path:
    """Validate and write one key into config.toml (created 0600 if missing)."""
    key = FILE_ALIASES.get(key, key)
    if key not in FILE_KEYS:
        raise ConfigError(f"cannot set {key!r} in the config file; settable: {list(FILE_KEYS)}")
    home_path: Path = resolve_home(home).value
    data = read_config_file(home_path)
    data[key] = validate_value(key, value)
    home_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = config_path(home_path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)
    return path
