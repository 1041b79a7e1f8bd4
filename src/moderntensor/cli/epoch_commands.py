"""``moderntensor epoch info``: where each subnet's epoch stands and what the last one paid."""

from __future__ import annotations

from typing import Any

import typer

from moderntensor.cli.common import JSON_OPTION, NETWORK_OPTION, CliError, console, print_json
from moderntensor.config import resolve_config
from moderntensor.units import format_mdt

app = typer.Typer(help="Epochs: progress, emission and the last payout.", no_args_is_help=True)


@app.command()
def info(
    netuid: int | None = typer.Option(None, "--netuid", "--subnet",
                                      help="One subnet (default: all)."),
    network: str | None = NETWORK_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Current epoch, blocks until it closes, emission, and the last closed epoch's payout."""
    from moderntensor.client import ChainError, LuxtensorClient  # light CLI start-up

    config = resolve_config(network=network)
    with LuxtensorClient(config.network.value, config=config) as client:
        try:
            netuids = [netuid] if netuid is not None else [s.netuid for s in client.get_subnets()]
            infos = [client.get_epoch_info(n) for n in netuids]
        except ChainError as exc:
            raise CliError(exc.message, code=exc.code) from None
    if as_json:
        print_json(infos[0] if netuid is not None else infos)
        return
    for data in infos:
        _print(data)


def _mdt(value: str | int) -> str:
    return format_mdt(int(value), places=4)  # display only; --json has exact units


def _print(data: dict[str, Any]) -> None:
    done = data["tempo"] - data["blocksRemaining"]
    bar = "█" * round(20 * done / data["tempo"])
    console.print(f"[bold]subnet {data['netuid']}[/]  epoch {data['epoch']}  block "
                  f"{data['blockNumber']}  [{bar:<20}] {done}/{data['tempo']} blocks, closes at "
                  f"{data['nextEpochBlock']} ({data['blocksRemaining']} left)")
    console.print(f"  emission per epoch {_mdt(data['epochEmission'])}; this subnet's miners "
                  f"share {_mdt(data['minerEmission'])}, validators "
                  f"{_mdt(data['validatorEmission'])}")
    last = data.get("lastEpoch")
    if last is None:
        console.print("  no epoch closed yet")
        return
    console.print(f"  last epoch {last['epoch']} (block {last['block']}): "
                  f"{last['scoredMiners']} miners scored, total score "
                  f"{last['totalScore'] / 10**9:.4f}, {last['activeValidators']} active validators;"
                  f" paid miners {_mdt(last['minerPaid'])}, validators "
                  f"{_mdt(last['validatorPaid'])}, {_unpaid(last)}")


def _unpaid(last: dict[str, Any]) -> str:
    # "dust" is rounding; an epoch where nobody was scored leaves its whole pool unpaid
    if last["scoredMiners"] == 0:
        return f"unpaid {_mdt(last['dust'])} (no miner was scored; never minted)"
    return f"rounding dust {last['dust']} base units (never minted)"
