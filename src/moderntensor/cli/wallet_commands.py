"""``moderntensor wallet ...``: create, import and inspect encrypted wallets."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from moderntensor.cli.common import (
    JSON_OPTION,
    NETWORK_OPTION,
    PASSWORD_ENV_OPTION,
    CliError,
    console,
    open_client,
    print_json,
    print_table,
    read_password,
    report_tx,
    resolved_address,
    secret_from_env,
)
from moderntensor.config import resolve_config
from moderntensor.units import format_mdt, to_base
from moderntensor.wallet import Wallet, keystore_address, keystore_path, list_wallets

app = typer.Typer(help="Create, import and inspect wallets.", no_args_is_help=True)

NAME_OPTION = typer.Option(None, "--name", "-n", help="Wallet name (default: the config's).")


def _name(name: str | None) -> str:
    return name or resolve_config().wallet.value


@app.command()
def create(
    name: str | None = NAME_OPTION,
    words: int = typer.Option(24, "--words", help="Mnemonic length: 12, 15, 18, 21 or 24."),
    password_env: str | None = PASSWORD_ENV_OPTION,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing wallet."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a wallet from a new mnemonic and save it encrypted."""
    name = name or resolve_config().wallet.value
    wallet, path = _new_wallet(name, password_env, words=words, overwrite=overwrite)
    if as_json:
        print_json({"name": name, "address": wallet.address, "keystore": str(path),
                    "mnemonic": wallet.mnemonic})
        return
    console.print(f"Created wallet [bold]{name}[/]  address [bold green]{wallet.address}[/]")
    console.print(f"Keystore: {path}")
    console.print("[yellow]Write down your mnemonic and keep it secret; it is shown only once:[/]")
    console.print(f"[bold]{wallet.mnemonic}[/]")


@app.command("import")
def import_(
    name: str | None = NAME_OPTION,
    mnemonic_env: str | None = typer.Option(
        None, "--mnemonic-env", metavar="VAR", help="Read the mnemonic from this env variable."),
    private_key_env: str | None = typer.Option(
        None, "--private-key-env", metavar="VAR", help="Import a raw private key from this env."),
    password_env: str | None = PASSWORD_ENV_OPTION,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing wallet."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import a wallet from a mnemonic (prompted hidden by default) or a private key."""
    config = resolve_config()
    name = name or config.wallet.value
    if mnemonic_env and private_key_env:
        raise CliError("give --mnemonic-env or --private-key-env, not both")
    if private_key_env:
        wallet = Wallet.from_private_key(secret_from_env(private_key_env, "private key"))
    elif mnemonic_env:
        wallet = Wallet.from_mnemonic(secret_from_env(mnemonic_env, "mnemonic"))
    elif sys.stdin.isatty():
        wallet = Wallet.from_mnemonic(typer.prompt("Mnemonic", hide_input=True))
    else:
        raise CliError("no mnemonic given: use --mnemonic-env VAR (or run in a terminal)")
    password, _ = read_password(password_env, confirm=True,
                                fallback=config.wallet_password.value, new=True)
    path = wallet.save(name, password, overwrite=overwrite)
    if as_json:
        print_json({"name": name, "address": wallet.address, "keystore": str(path)})
    else:
        console.print(f"Imported wallet [bold]{name}[/]  address [bold green]{wallet.address}[/]")


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List the wallets in the ModernTensor home."""
    wallets = list_wallets()
    if as_json:
        print_json([{"name": name, "address": address} for name, address in wallets])
    elif not wallets:
        console.print("No wallets yet: `moderntensor wallet create`")
    else:
        print_table("Wallets", ["name", "address"], [list(row) for row in wallets])


@app.command()
def show(name: str | None = NAME_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Show a wallet's address and keystore file (no password needed)."""
    name = _name(name)
    info = {"name": name, "address": keystore_address(name), "keystore": str(keystore_path(name))}
    if as_json:
        print_json(info)
    else:
        print_table(f"Wallet {name}", ["field", "value"], [[k, v] for k, v in info.items()])


@app.command()
def address(name: str | None = NAME_OPTION) -> None:
    """Print just the wallet's address."""
    typer.echo(keystore_address(_name(name)))


@app.command()
def balance(
    address: str | None = typer.Argument(None, help="Any address (default: the wallet's)."),
    name: str | None = NAME_OPTION,
    network: str | None = NETWORK_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an MDT balance (no password needed)."""
    target = resolved_address(address, name)
    with open_client(network) as client:
        base = client.get_balance(target)
    if as_json:
        print_json({"address": target, "balance": str(base), "mdt": format_mdt(base, symbol=False)})
    else:
        console.print(f"{target}  [bold]{format_mdt(base)}[/]")


@app.command()
def transfer(
    to: str = typer.Argument(..., help="Recipient address."),
    amount: str = typer.Argument(..., help="MDT to send, e.g. 12.75"),
    name: str | None = NAME_OPTION,
    network: str | None = NETWORK_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Send MDT to an address and wait for the block."""
    with open_client(network, name, password_env, signing=True) as client:
        result = client.transfer(to, amount)
    if as_json:
        print_json({"tx_hash": result.tx_hash, "block": result.block_number,
                    "fee": str(result.fee)})
    else:
        console.print(f"Sent {format_mdt(to_base(amount))} to {to}: {result}")


@app.command("new-hotkey")
def new_hotkey(
    name: str = typer.Option(..., "--name", "-n", help="Name of the new hot key wallet."),
    coldkey: str = typer.Option(..., "--coldkey",
                                help="The cold key: a wallet name or an address."),
    password_env: str | None = PASSWORD_ENV_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a hot key for a server, owned by a cold key (see docs/keys.md)."""
    cold = _address_or_wallet(coldkey)
    wallet, path = _new_wallet(name, password_env)
    if as_json:
        print_json({"name": name, "address": wallet.address, "keystore": str(path),
                    "coldkey": cold, "mnemonic": wallet.mnemonic})
        return
    console.print(f"Created hot key [bold]{name}[/]  address [bold green]{wallet.address}[/]")
    console.print(f"[yellow]Its mnemonic, shown only once:[/] [bold]{wallet.mnemonic}[/]")
    console.print("Next: register it (it needs no MDT), then bind it to its cold key:\n"
                  f"  moderntensor wallet bind-coldkey {cold} --name {name}")


@app.command("bind-coldkey")
def bind_coldkey(
    coldkey: str = typer.Argument(..., help="The cold key: a wallet name or an address."),
    name: str | None = NAME_OPTION,
    network: str | None = NETWORK_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """From a registered hot key, once: send its rewards to the cold key from now on."""
    cold = _address_or_wallet(coldkey)
    with open_client(network, name, password_env, signing=True) as client:
        result = client.set_coldkey(cold)
    report_tx(result, as_json, f"Bound to cold key {cold}")


@app.command("swap-hotkey")
def swap_hotkey(
    old: str = typer.Argument(..., help="The hot key to retire (address)."),
    new: str = typer.Argument(..., help="The fresh hot key (address or wallet name)."),
    name: str | None = NAME_OPTION,
    network: str | None = NETWORK_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """From the cold key: move a hot key's uids, stake and history to a fresh key."""
    fresh = _address_or_wallet(new)
    with open_client(network, name, password_env, signing=True) as client:
        result = client.swap_hotkey(old, fresh)
    report_tx(result, as_json, f"Hot key {old} replaced by {fresh}")


def _new_wallet(name: str, password_env: str | None, *, words: int = 24,
                overwrite: bool = False) -> tuple[Wallet, Path]:
    """A wallet from a new mnemonic, saved encrypted under ``name`` (password prompted)."""
    wallet = Wallet.create(num_words=words)
    password, _ = read_password(password_env, confirm=True,
                                fallback=resolve_config().wallet_password.value, new=True)
    return wallet, wallet.save(name, password, overwrite=overwrite)


def _address_or_wallet(text: str) -> str:
    """``text`` if it is an address, else the address of the wallet named ``text``."""
    return text if text.startswith("0x") else keystore_address(text)

