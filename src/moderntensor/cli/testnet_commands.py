"""``moderntensor testnet up|status|down``: N Luxtensor validators under CometBFT consensus on
this machine (127.0.0.1, one process per node, started in the background)."""

from __future__ import annotations

from pathlib import Path

import typer

from moderntensor.cli.common import JSON_OPTION, CliError, console, print_json, print_table
from moderntensor.config import resolve_home

app = typer.Typer(help="Run a multi-node CometBFT testnet on this machine.",
                  no_args_is_help=True)

DATA_DIR_OPTION = typer.Option(None, "--data-dir",
                               help="Testnet directory (default: <MT_HOME>/testnet).")


def _data_dir(data_dir: Path | None) -> Path:
    return (data_dir or Path(resolve_home().value) / "testnet").resolve()


@app.command()
def up(
    nodes: int = typer.Option(4, "--nodes", min=1, max=16, help="Validator nodes."),
    block_time: float = typer.Option(1.0, "--block-time", min=0.05,
                                     help="CometBFT timeout_commit in seconds."),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Create keys, one genesis and peered configs, start every node, wait for block 1."""
    from moderntensor.localnet.testnet import Testnet

    directory = _data_dir(data_dir)
    net = Testnet.create(directory, nodes, timeout_commit=f"{int(block_time * 1000)}ms")
    try:
        net.start()
    except BaseException:
        net.stop()
        raise
    for node in net.nodes:
        console.print(f"  node{node.index}  RPC [bold]{node.url}[/]  CometBFT RPC "
                      f"{node.comet_url}  log {node.log}")
    console.print(f"{nodes} nodes up in {directory}; stop them with `moderntensor testnet down`")


@app.command()
def status(data_dir: Path | None = DATA_DIR_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Each node's height and CometBFT peer count."""

    net = _load(data_dir)
    rows = net.status()
    if as_json:
        print_json(rows)
        return
    print_table("Luxtensor testnet", ["node", "running", "height", "peers", "url"],
                [[r["node"], r["running"], r.get("height"), r.get("peers"), r["url"]]
                 for r in rows])


@app.command()
def down(data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """Stop every node of the testnet (its data stays for a later look)."""
    survivors = _load(data_dir).stop()
    if survivors:
        raise CliError(f"process groups {survivors} survived SIGKILL", code="stop_failed")
    console.print("testnet stopped")


def _load(data_dir: Path | None):
    from moderntensor.localnet.testnet import Testnet

    directory = _data_dir(data_dir)
    net = Testnet.load(directory)
    if net is None:
        raise CliError(f"no testnet recorded in {directory}; start one with "
                       "`moderntensor testnet up`", code="no_testnet")
    return net
