"""The `moderntensor` command, run as a real process: wallets and config from the shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from moderntensor import Wallet

CLI = [sys.executable, "-m", "moderntensor.cli"]


def mt(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=full_env,
                          timeout=60, check=False, stdin=subprocess.DEVNULL)


def test_version() -> None:
    result = mt("--version")
    assert result.returncode == 0 and result.stdout.startswith("moderntensor ")


def test_create_then_load_in_new_process_then_restore(mt_home: Path) -> None:
    created = mt("wallet", "create", "--name", "alice", "--password-env", "PW", "--json",
                 env={"PW": "s3cret"})
    assert created.returncode == 0, created.stderr
    info = json.loads(created.stdout)

    shown = json.loads(mt("wallet", "show", "--name", "alice", "--json").stdout)
    assert shown["address"] == info["address"]

    load = subprocess.run(
        [sys.executable, "-c",
         "from moderntensor import Wallet; print(Wallet.load('alice', 's3cret').address)"],
        capture_output=True, text=True, env=os.environ.copy(), timeout=60, check=True,
    )
    assert load.stdout.strip() == info["address"]
    assert Wallet.from_mnemonic(info["mnemonic"]).address == info["address"]


def test_import_from_mnemonic_env(mt_home: Path) -> None:
    phrase = "test test test test test test test test test test test junk"
    result = mt("wallet", "import", "--name", "dev", "--mnemonic-env", "MN",
                "--password-env", "PW", "--json", env={"MN": phrase, "PW": "pw"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["address"] == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert phrase not in result.stdout + result.stderr
    assert mt("wallet", "address", "--name", "dev").stdout.strip() == (
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")


def test_list_json(mt_home: Path) -> None:
    mt("wallet", "create", "--name", "w1", "--password-env", "PW", env={"PW": "pw"})
    listed = json.loads(mt("wallet", "list", "--json").stdout)
    assert [w["name"] for w in listed] == ["w1"]


@pytest.mark.parametrize(
    ("args", "env", "code"),
    [
        (["wallet", "show", "--name", "ghost"], {}, "wallet_not_found"),
        (["wallet", "create", "--password-env", "NOPE"], {}, "cli_error"),
        (["wallet", "import", "--mnemonic-env", "MN", "--password-env", "PW"],
         {"MN": "abandon " * 12, "PW": "pw"}, "invalid_mnemonic"),
        (["wallet", "import"], {}, "cli_error"),
        (["config", "set", "network", "not-a-url"], {}, "config_error"),
    ],
)
def test_user_errors_print_one_line_and_exit_nonzero(
    args: list[str], env: dict[str, str], code: str
) -> None:
    result = mt(*args, env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"[{code}]" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_debug_flag_shows_the_traceback() -> None:
    result = mt("--debug", "wallet", "show", "--name", "ghost")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_config_set_and_show(mt_home: Path) -> None:
    assert mt("config", "set", "netuid", "3").returncode == 0
    shown = json.loads(mt("config", "show", "--json").stdout)
    assert shown["netuid"]["value"] == "3"
    assert shown["netuid"]["source"].startswith("file:")


def test_config_set_accepts_the_former_key_subnet(mt_home: Path) -> None:
    assert mt("config", "set", "subnet", "4").returncode == 0
    assert json.loads(mt("config", "show", "--json").stdout)["netuid"]["value"] == "4"


def test_refuses_to_overwrite_existing_wallet(mt_home: Path) -> None:
    env = {"PW": "pw"}
    mt("wallet", "create", "--name", "x", "--password-env", "PW", env=env)
    again = mt("wallet", "create", "--name", "x", "--password-env", "PW", env=env)
    assert again.returncode == 1 and "[wallet_exists]" in again.stderr


def test_a_wrong_password_names_where_it_came_from(mt_home: Path) -> None:
    mt("wallet", "create", "--name", "alice", "--password-env", "PW", env={"PW": "right"})
    sent = mt("wallet", "transfer", "0x" + "22" * 20, "1", "--name", "alice",
              "--network", "http://127.0.0.1:1", env={"MT_WALLET_PASSWORD": "wrong"})
    assert sent.returncode != 0
    assert "wrong password for wallet 'alice' (the password came from env:MT_WALLET_PASSWORD)" \
        in sent.stderr


def test_without_a_terminal_a_missing_password_says_how_to_give_one(mt_home: Path) -> None:
    created = mt("wallet", "create", "--name", "bob")
    assert created.returncode != 0
    assert "--password-env VAR or set MT_WALLET_PASSWORD" in created.stderr
