"""Entry point: builds the command tree and turns errors into one clear line."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from moderntensor import __version__
from moderntensor.cli import config_commands as config_cli
from moderntensor.cli import epoch_commands as epoch_cli
from moderntensor.cli import gateway_commands as gateway_cli
from moderntensor.cli import localnet_commands as localnet_cli
from moderntensor.cli import miner_commands as miner_cli
from moderntensor.cli import node_commands as node_cli
from moderntensor.cli import subnet_commands as subnet_cli
from moderntensor.cli import testnet_commands as testnet_cli
from moderntensor.cli import validator_commands as validator_cli
from moderntensor.cli import wallet_commands as wallet_cli
from moderntensor.cli.common import err_console
from moderntensor.errors import ModernTensorError

app = typer.Typer(
    name="moderntensor",
    help="ModernTensor: wallets, the Luxtensor node, miners and validators.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(wallet_cli.app, name="wallet")
app.add_typer(config_cli.app, name="config")
app.add_typer(node_cli.app, name="node")
app.add_typer(subnet_cli.app, name="subnet")
app.add_typer(miner_cli.app, name="miner")
app.add_typer(validator_cli.app, name="validator")
app.add_typer(localnet_cli.app, name="localnet")
app.add_typer(testnet_cli.app, name="testnet")
app.add_typer(epoch_cli.app, name="epoch")
app.add_typer(gateway_cli.app, name="gateway")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"moderntensor {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    """ModernTensor command line."""


def run() -> None:
    """Console-script entry: user errors print one line and exit 1; --debug shows tracebacks."""
    debug = "--debug" in sys.argv[1:]
    try:
        app()
    except ModernTensorError as exc:
        if debug:
            raise
        err_console.print(f"[red]error[/] {escape(f'[{exc.code}]')}: {escape(exc.message)}",
                          highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
