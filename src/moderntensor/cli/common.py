"""Pieces every command group shares: consoles, JSON output, secrets from prompts or env."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from moderntensor.errors import ModernTensorError

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
