"""Pieces every command group shares: consoles, JSON output, secrets from prompts or env."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from moderntensor.config import ENV_VARS, resolve_config
from moderntensor.errors import ModernTensorError

if TYPE_CHECKING:
    from moderntensor.client import LuxtensorClient

console = Console()
err_console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")
PASSWORD_ENV = ENV_VARS["wallet_password"]
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


def read_password(password_env: str | None, *, confirm: bool, fallback: str | None = None,
                  new: bool = False) -> tuple[str, str]:
    """The wallet password and where it came from (for messages): --password-env VAR >
    MT_WALLET_PASSWORD (``fallback``) > hidden prompt.

    A ``new`` password (wallet create/import) is typed when there is a terminal, even when
    MT_WALLET_PASSWORD is set: after ``eval "$(moderntensor localnet env)"`` that variable
    holds the localnet's dev password, which must not silently protect a personal wallet.
    """
    if password_env:
        return secret_from_env(password_env, "wallet password"), f"env:{password_env}"
    interactive = sys.stdin.isatty()
    if fallback and not (new and interactive):
        return fallback, f"env:{PASSWORD_ENV}"
    if not interactive:
        raise CliError(f"no password given: use --password-env VAR or set {PASSWORD_ENV} "
                       "(or run the command in a terminal to be asked)", code="password_required")
    if fallback:
        err_console.print(f"{PASSWORD_ENV} is set but a new wallet's password is typed here; "
                          f"pass --password-env {PASSWORD_ENV} to use it instead.")
    return typer.prompt("Wallet password", hide_input=True,
                        confirmation_prompt=confirm), "prompt"


def unlock_wallet(name: str, password: str, source: str, home: Any) -> Any:
    """``Wallet.load``, with a wrong password reported together with where it came from."""
    from moderntensor.errors import WrongPasswordError
    from moderntensor.wallet import Wallet

    try:
        return Wallet.load(name, password, home=home)
    except WrongPasswordError as exc:
        raise CliError(f"{exc} (the password came from {source})",
                       code="wrong_password") from None


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

    config = resolve_config(network=network, wallet=wallet)
    signer = None
    if signing:
        password, source = read_password(password_env, confirm=False,
                                         fallback=config.wallet_password.value)
        signer = unlock_wallet(config.wallet.value, password, source, config.home.value)
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


YES_OPTION = typer.Option(False, "--yes", help="Do not ask for confirmation.")


def confirm(yes: bool, consequence: str, question: str) -> None:
    """Go on when ``yes`` or the person at the terminal agrees to ``question``; without a
    terminal, refuse with ``consequence`` and the ``--yes`` to pass (scripts say it)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError(f"{consequence}: pass --yes to confirm")
    typer.confirm(question, abort=True)

