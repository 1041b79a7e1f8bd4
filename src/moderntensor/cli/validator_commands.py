"""``moderntensor validator run``: challenge a subnet's miners and write their weights."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from moderntensor.cli.common import (
    JSON_OPTION,
    NETUID_OPTION,
    NETWORK_OPTION,
    PASSWORD_ENV_OPTION,
    WALLET_OPTION,
    CliError,
    console,
    open_client,
    print_json,
    read_password,
    report_tx,
    resolve_netuid,
    unlock_wallet,
)
from moderntensor.config import resolve_config
from moderntensor.scoring import COMPONENTS
from moderntensor.subnets import load_suite
from moderntensor.validator import (
    ClientChainView,
    MinerEndpoint,
    RoundReport,
    StaticChainView,
    SubnetSettings,
    Validator,
)
from moderntensor.validator.core import DEFAULT_INTERVAL_S
from moderntensor.validator.rounds import DEFAULT_CHALLENGES_PER_MINER, MinerRound
from moderntensor.validator.store import MinerStats, ValidatorStore, default_store_path
from moderntensor.wallet import keystore_address

app = typer.Typer(help="Run a validator: query miners, score them, set weights.",
                  no_args_is_help=True)

MINERS_OPTION = typer.Option(
    None, "--miners", exists=True, dir_okay=False,
    help="JSON list of miners {uid, address, host, port} to query instead of the chain's "
         "metagraph (weights are then not written on chain).")
STORE_OPTION = typer.Option(None, "--store", help="Statistics database path.")


@app.command()
def run(
    netuid: int | None = typer.Option(None, "--netuid", "--subnet", "-s",
                                      help="Subnet id (default: config)."),
    interval: float = typer.Option(DEFAULT_INTERVAL_S, "--interval", min=0.0,
                                   help="Seconds from the start of one round to the next."),
    rounds: int | None = typer.Option(None, "--rounds", min=1,
                                      help="Stop after this many rounds (default: run forever)."),
    as_json: bool = typer.Option(False, "--json",
                                 help="Print one JSON summary line per round instead of a table."),
    network: str | None = typer.Option(None, "--network", help="Node URL (default: config)."),
    wallet_name: str | None = typer.Option(None, "--wallet", "-w", help="Wallet name."),
    password_env: str | None = PASSWORD_ENV_OPTION,
    miners_file: Path | None = MINERS_OPTION,
    suite: str | None = typer.Option(
        None, "--suite", help="Task type or 'package.module:Class' (default: the subnet's)."),
    store: Path | None = STORE_OPTION,
    challenges: int = typer.Option(DEFAULT_CHALLENGES_PER_MINER, "--challenges", min=1,
                                   help="Challenges per miner per round."),
    concurrency: int = typer.Option(256, "--concurrency", min=1,
                                    help="Requests in flight at once."),
    metrics_port: int | None = typer.Option(
        None, "--metrics-port", help="Serve Prometheus metrics on 127.0.0.1:PORT."),
    unsafe_code_sandbox: bool = typer.Option(
        False, "--unsafe-code-sandbox",
        help="Code subnets: run miners' code without bubblewrap isolation where it is "
             "unavailable (shown as UNSAFE in every round). Not for production."),
) -> None:
    """Query the subnet's miners every --interval seconds, score them, and set weights."""
    config = resolve_config(network=network, netuid=netuid, wallet=wallet_name)
    password, source = read_password(password_env, confirm=False,
                                     fallback=config.wallet_password.value)
    wallet = unlock_wallet(config.wallet.value, password, source, config.home.value)
    netuid = config.netuid.value
    if netuid is None:
        raise CliError("no subnet given: use --netuid, MT_NETUID or `config set netuid N`")
    if miners_file is not None:
        chain: Any = StaticChainView(
            _read_miners(miners_file),
            SubnetSettings(netuid=int(netuid), task_type=suite or "text-generation",
                       weights_rate_limit=0))
    else:
        from moderntensor.client import AsyncLuxtensorClient

        client = AsyncLuxtensorClient(config.network.value, wallet=wallet, config=config)
        chain = ClientChainView(client, int(netuid))
    validator = Validator(wallet, chain, suite=load_suite(suite) if suite else None,
                          store=store, challenges_per_miner=challenges, concurrency=concurrency,
                          home=config.home.value, owns_chain=True,
                          unsafe_code_sandbox=unsafe_code_sandbox)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr="127.0.0.1", registry=validator.metrics.registry)
    if not as_json:
        console.print(f"validator [bold]{wallet.address}[/] on {config.network.value}")
    _run_async(_serve(validator, interval, rounds, as_json))


def _run_async(main: Coroutine[Any, Any, Any]) -> Any:
    """asyncio.run, on uvloop when it is installed (about 15% less CPU per request)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


async def _serve(validator: Validator, interval: float, rounds: int | None,
                 as_json: bool) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, validator.stop)

    def show(report: RoundReport) -> None:
        if as_json:
            typer.echo(json.dumps(report.as_dict(), separators=(",", ":")))
        else:
            console.print(status_table(report))

    async with validator:
        await validator.run(interval=interval, rounds=rounds, on_round=show)


def status_table(report: RoundReport) -> Table:
    """One round as a rich table: moving scores per miner and this round's answers."""
    weights = "weights set" if report.submission is not None else (
        f"weights failed: {report.submit_error}" if report.submit_error else "weights not due")
    title = (f"subnet {report.netuid} · round {report.round} · {report.duration_s:.2f} s · "
             f"{sum(report.outcomes.values())} requests · {weights}"
             + (f" · sandbox: {report.sandbox}" if report.sandbox else ""))
    return stats_table(report.stats, title, {m.miner.uid: m for m in report.miners})


def stats_table(stats: list[MinerStats], title: str,
                verdicts: dict[int, MinerRound] | None = None) -> Table:
    """Moving scores per miner, best first; with ``verdicts``, also the last round's answers."""
    table = Table(title=title)
    columns = ["uid", "miner", "score", *COMPONENTS, "latency ms", "rounds"]
    columns += ["this round"] if verdicts is not None else []
    for column in columns:
        table.add_column(column, justify="left" if column in ("miner", "this round") else "right")
    for row in sorted(stats, key=lambda s: -s.score.total):
        score = row.score
        cells = [str(row.uid), row.address[:10] + "…", f"{score.total:.3f}",
                 f"{score.accuracy:.3f}", f"{score.latency:.3f}", f"{score.availability:.3f}",
                 f"{score.consistency:.3f}",
                 "-" if row.latency_s is None else f"{row.latency_s * 1000:.0f}", str(row.rounds)]
        if verdicts is not None:
            verdict = verdicts.get(row.uid)
            cells.append(_answers(verdict) if verdict is not None else "")
        table.add_row(*cells)
    return table


def _answers(verdict: MinerRound) -> str:
    failures = ", ".join(f"{k} {v}" for k, v in sorted(verdict.outcomes.items()) if k != "ok")
    return f"{verdict.valid}/{verdict.queries} ok" + (f" ({failures})" if failures else "")


@app.command()
def status(
    netuid: int | None = typer.Option(None, "--netuid", "--subnet", "-s",
                                      help="Subnet id (default: config)."),
    wallet_name: str | None = typer.Option(None, "--wallet", "-w", help="Wallet name."),
    store: Path | None = STORE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show the statistics a validator has kept (no password, no chain needed)."""
    config = resolve_config(netuid=netuid, wallet=wallet_name)
    if config.netuid.value is None:
        raise CliError("no subnet given: use --netuid, MT_NETUID or `config set netuid N`")
    netuid = int(config.netuid.value)
    path = store or default_store_path(
        config.home.value, netuid, keystore_address(config.wallet.value, config.home.value))
    if not path.exists():
        raise CliError(f"no validator statistics at {path}: run `moderntensor validator run` "
                       "first (or pass --store)")
    kept = ValidatorStore(path)
    try:
        stats = list(kept.load(netuid).values())
        last_block = kept.last_submission_block(netuid)
        sandbox = kept.sandbox()
    finally:
        kept.close()
    if as_json:
        print_json({"netuid": netuid, "store": str(path), "last_weights_block": last_block,
                    "sandbox": sandbox,
                    "miners": [s.as_dict() for s in sorted(stats, key=lambda s: s.uid)]})
        return
    submitted = "never" if last_block is None else f"block {last_block}"
    console.print(stats_table(stats, f"subnet {netuid} · {len(stats)} miners · "
                                     f"weights last set: {submitted}"
                                     + (f" · sandbox: {sandbox}" if sandbox else "")))


def _read_miners(path: Path) -> list[MinerEndpoint]:
    """Miners from a JSON list of ``{"uid", "address", "host", "port"[, "protocol"]}``."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [MinerEndpoint(int(row["uid"]), str(row["address"]), str(row["host"]),
                              int(row["port"]), str(row.get("protocol", "http")))
                for row in rows]
    except (ValueError, KeyError, TypeError) as exc:
        raise CliError(f"{path} is not a JSON list of {{uid, address, host, port}}: {exc}"
                       ) from None


@app.command()
def register(
    netuid: int | None = NETUID_OPTION,
    stake: str = typer.Option("0", "--stake", help="MDT to stake with the registration."),
    wallet: str | None = WALLET_OPTION,
    network: str | None = NETWORK_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Register as a validator of a subnet, staking at least its minimum validator stake."""
    netuid = resolve_netuid(netuid)
    with open_client(network, wallet, password_env, signing=True) as client:
        result = client.register_validator(netuid, stake)
    report_tx(result, as_json, f"Registered validator uid {result.uid} on subnet {netuid}")


DELEGATE_OPTION = typer.Option(None, "--validator",
                               help="Delegate to (or take back from) this validator address.")


@app.command("stake")
def stake_(
    amount: str = typer.Argument(..., help="MDT to add to your stake."),
    netuid: int | None = NETUID_OPTION,
    validator: str | None = DELEGATE_OPTION,
    wallet: str | None = WALLET_OPTION,
    network: str | None = NETWORK_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add stake on a subnet: your own, or delegated to a validator with --validator."""
    _move_stake(amount, netuid, validator, wallet, network, password_env, as_json, add=True)


@app.command()
def unstake(
    amount: str = typer.Argument(..., help="MDT to remove (returns after unbonding)."),
    netuid: int | None = NETUID_OPTION,
    validator: str | None = DELEGATE_OPTION,
    wallet: str | None = WALLET_OPTION,
    network: str | None = NETWORK_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove stake (or a delegation, with --validator); it returns after unbonding."""
    _move_stake(amount, netuid, validator, wallet, network, password_env, as_json, add=False)


@app.command("set-take")
def set_take(
    take: float = typer.Argument(..., help="Share of your reward you keep, 0-0.18."),
    wallet: str | None = WALLET_OPTION,
    network: str | None = NETWORK_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Set your validator take: what you keep before your nominators share the rest."""
    with open_client(network, wallet, password_env, signing=True) as client:
        result = client.set_take(take)
    report_tx(result, as_json, f"Take set to {take:.2%}")


def _move_stake(amount: str, netuid: int | None, validator: str | None, wallet: str | None,
                network: str | None, password_env: str | None, as_json: bool, *,
                add: bool) -> None:
    netuid = resolve_netuid(netuid)
    with open_client(network, wallet, password_env, signing=True) as client:
        if validator is None:
            result = (client.add_stake if add else client.remove_stake)(netuid, amount)
        else:
            result = (client.delegate if add else client.undelegate)(netuid, validator, amount)
    verb = "Staked" if add else "Unstaking"
    where = f" with {validator}" if validator else ""
    report_tx(result, as_json, f"{verb} {amount} MDT on subnet {netuid}{where}")
