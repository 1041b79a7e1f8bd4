"""``moderntensor gateway keys`` and ``usage`` as an operator runs them (real processes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "moderntensor.cli"]


def gateway(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "gateway", *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_keys_live_in_mt_home_by_default_and_list_without_the_secret(mt_home: Path) -> None:
    made = json.loads(gateway("keys", "create", "--name", "app", "--rpm", "5", "--json").stdout)
    assert made["key"].startswith("mt-") and made["requests_per_minute"] == 5
    assert (mt_home / "gateway" / "gateway.sqlite").is_file()
    listed = gateway("keys", "list", "--json").stdout
    assert made["key_id"] in listed and made["key"] not in listed
    table = gateway("keys", "list")
    assert table.returncode == 0 and "app" in table.stdout and made["key"] not in table.stdout


def test_revoking_an_unknown_key_is_one_clear_line_and_exit_1(mt_home: Path) -> None:
    result = gateway("keys", "revoke", "0123abcd")
    assert result.returncode == 1
    assert "unknown_key" in result.stderr and "Traceback" not in result.stderr


def test_a_zero_rate_limit_is_refused_by_the_command_line(mt_home: Path) -> None:
    result = gateway("keys", "create", "--name", "app", "--rpm", "0")
    assert result.returncode == 2 and "--rpm" in result.stderr


def test_usage_of_a_fresh_database_is_empty(mt_home: Path) -> None:
    assert json.loads(gateway("usage", "--json").stdout) == []
