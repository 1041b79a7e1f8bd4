"""Pieces every command group shares: consoles, JSON output, secrets from prompts or env."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from moderntensor.config import resolve_config
from moderntensor.errors import ModernTensorError

if TYPE_CHECKING:
    from moderntensor.client import LuxtensorClient

console = Console()
err_console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")
PASSWORD_ENV_OPTION = typer.Option(
    None, "--password-env", metavar="VAR",
    help="Read the wallet password from this environment variable instead of a prompt.",
)


class CliError(ModernTensorError):
    code = "cli_error"


def print_json(data: Any) -> None:
    """Plain JSON on stdout (no rich markup) so scripts can parse it."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    console.print(table)


def secret_from_env(var: str, what: str) -> str:
    value = os.environ.get(var)
    if not value:
        raise CliError(f"environment variable {var} (the {what}) is not set or empty")
    return value


def read_password(password_env: str | None, *, confirm: bool, fallback: str | None = None) -> str:
    """The wallet password: --password-env VAR > MT_WALLET_PASSWORD (fallback) > hidden prompt."""
    if password_env:
        return secret_from_env(password_env, "wallet password")
    if fallback:
        return fallback
    if not sys.stdin.isatty():
        raise CliError("no password given: use --password-env VAR or set MT_WALLET_PASSWORD")
    return typer.prompt("Wallet password", hide_input=True, confirmation_prompt=confirm)


NETWORK_OPTION = typer.Option(None, "--network", help="Node RPC URL (else MT_NETWORK/config).")
WALLET_OPTION = typer.Option(None, "--wallet", "-w", help="Wallet name (else MT_WALLET/config).")
NETUID_OPTION = typer.Option(None, "--netuid", "--subnet",
                             help="Subnet id (else MT_NETUID/config).")


def resolve_netuid(netuid: int | None) -> int:
    """The subnet to act on: --netuid, else MT_NETUID / config.toml; none is a clear error."""
    netuid = netuid if netuid is not None else resolve_config().netuid.value
    if netuid is None:
        raise CliError("which subnet? pass --netuid N or set MT_NETUID")
    return int(netuid)


def open_client(
    network: str | None = None,
    wallet: str | None = None,
    password_env: str | None = None,
    *,
    signing: bool = False,
) -> LuxtensorClient:
    """A client for the resolved network; with ``signing``, the resolved wallet unlocked."""
    from moderntensor.client import LuxtensorClient
    from moderntensor.wallet import Wallet

    config = resolve_config(network=network, wallet=wallet)
    signer = None
    if signing:
        password = read_password(password_env, confirm=False,
                                 fallback=config.wallet_password.value)
        signer = Wallet.load(config.wallet.value, password, home=config.home.value)
    return LuxtensorClient(config.network.value, wallet=signer, config=config)


def resolved_address(address: str | None, wallet: str | None) -> str:
    """An explicit address, else the resolved wallet's (read from its keystore, no password)."""
    from moderntensor.wallet import keystore_address

    return address or keystore_address(resolve_config(wallet=wallet).wallet.value)


def report_tx(result: Any, as_json: bool, message: str) -> None:
    """A mined transaction, for people or (``--json``) for scripts."""
    if as_json:
        print_json({"tx_hash": result.tx_hash, "block": result.block_number, "uid": result.uid,
                    "fee": str(result.fee), "status": result.status})
    else:
        console.print(f"{message}: {result}")
