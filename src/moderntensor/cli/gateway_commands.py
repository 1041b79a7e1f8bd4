"""``moderntensor gateway``: the OpenAI-compatible consumer gateway, its API keys and usage."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import typer

from moderntensor.cli.common import (
    JSON_OPTION,
    NETWORK_OPTION,
    PASSWORD_ENV_OPTION,
    WALLET_OPTION,
    console,
    print_json,
    print_table,
    read_password,
    unlock_wallet,
)
from moderntensor.config import resolve_config
from moderntensor.gateway import (
    ChainDirectory,
    Gateway,
    KeyStore,
    RoutingPolicy,
    default_db_path,
    serve,
)
from moderntensor.gateway.app import DEFAULT_PORT
from moderntensor.gateway.keys import DEFAULT_REQUESTS_PER_MINUTE

app = typer.Typer(help="Serve the network through an OpenAI-compatible API.",
                  no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke the gateway's API keys.",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")

DB_OPTION = typer.Option(None, "--db", help="Keys and usage database "
                         "(default: <MT_HOME>/gateway/gateway.sqlite).")


NETUIDS_OPTION = typer.Option([], "--netuid", "--subnet", "-s",
                              help="Subnet to serve (repeat; default: every subnet).")


def _store(db: Path | None) -> KeyStore:
    return KeyStore(db or default_db_path(resolve_config().home.value))


@app.command()
def start(
    netuids: list[int] = NETUIDS_OPTION,
    port: int = typer.Option(DEFAULT_PORT, "--port", min=1, max=65535),
    host: str = typer.Option("127.0.0.1", "--host",
                             help="Interface to bind; anything but loopback is public."),
    network: str | None = NETWORK_OPTION,
    wallet_name: str | None = WALLET_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    db: Path | None = DB_OPTION,
    attempts: int = typer.Option(3, "--attempts", min=1, max=10,
                                 help="Miners tried per request before a 503."),
    timeout: float = typer.Option(30.0, "--timeout", min=0.1,
                                  help="Seconds per request, over all attempts."),
    refresh: float = typer.Option(12.0, "--refresh", min=0.5,
                                  help="Seconds between metagraph reads."),
    hedge_after: float | None = typer.Option(
        None, "--hedge-after", min=0.01,
        help="Also ask the next miner when none answered within this many seconds."),
) -> None:
    """Serve OpenAI's API from the subnets' best miners, signing as this validator."""
    from moderntensor.client import AsyncLuxtensorClient

    config = resolve_config(network=network, wallet=wallet_name)
    password, source = read_password(password_env, confirm=False,
                                     fallback=config.wallet_password.value)
    wallet = unlock_wallet(config.wallet.value, password, source, config.home.value)
    keys = KeyStore(db or default_db_path(config.home.value))
    client = AsyncLuxtensorClient(config.network.value, config=config)
    gateway = Gateway(wallet, ChainDirectory(client, tuple(netuids)), keys,
                      policy=RoutingPolicy(attempts=attempts, timeout_s=timeout,
                                          hedge_after_s=hedge_after),
                      refresh_s=refresh)
    console.print(f"gateway on http://{host}:{port}/v1 as validator {wallet.address}")
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(gateway, host=host, port=port))
    else:
        uvloop.run(serve(gateway, host=host, port=port))


@keys_app.command("create")
def keys_create(
    name: str = typer.Option(..., "--name", help="Who or what the key is for."),
    rpm: int = typer.Option(DEFAULT_REQUESTS_PER_MINUTE, "--rpm", min=1,
                            help="Requests per minute this key may make."),
    db: Path | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a key; the key itself is shown only now (only its hash is stored)."""
    key, record = _store(db).create(name, requests_per_minute=rpm)
    if as_json:
        print_json({**record.as_dict(), "key": key})
        return
    console.print(f"API key [bold]{record.key_id}[/] ({name}, {rpm}/min):\n{key}\n"
                  "Store it now: it cannot be shown again.", highlight=False)


@keys_app.command("list")
def keys_list(db: Path | None = DB_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Every key: id, name, rate limit, created, revoked (never the key itself)."""
    records = _store(db).list()
    if as_json:
        print_json([r.as_dict() for r in records])
        return
    print_table("gateway API keys", ["id", "name", "rpm", "created", "status"], [
        [r.key_id, r.name, r.requests_per_minute, _when(r.created_at),
         "active" if r.active else f"revoked {_when(r.revoked_at)}"] for r in records])


@keys_app.command("revoke")
def keys_revoke(key_id: str = typer.Argument(..., help="The key's id (see keys list)."),
                db: Path | None = DB_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Revoke a key: its next request gets 401."""
    record = _store(db).revoke(key_id)
    if as_json:
        print_json(record.as_dict())
        return
    console.print(f"revoked {record.key_id} ({record.name})")


@app.command()
def usage(
    hours: float = typer.Option(24.0, "--hours", min=0.0,
                                help="Only the last this many hours (0: everything)."),
    db: Path | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Requests, errors, words in and out, and mean miner latency, per key and endpoint."""
    since = time.time() - hours * 3600 if hours else 0.0
    rows = _store(db).usage(since=since)
    if as_json:
        print_json(rows)
        return
    columns = ["key_id", "name", "endpoint", "requests", "errors", "prompt_tokens",
               "completion_tokens", "mean_latency_ms"]
    print_table("gateway usage", columns, [[row[c] for c in columns] for row in rows])


def _when(stamp: float | None) -> str:
    return "-" if stamp is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(stamp))
