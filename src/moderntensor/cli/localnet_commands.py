"""``moderntensor localnet up|down|status``: the whole network on this machine, one command."""

from __future__ import annotations

import contextlib
import shlex
import signal
import time
from pathlib import Path
from typing import Any

import typer

from moderntensor.cli.common import JSON_OPTION, CliError, console, print_json
from moderntensor.config import resolve_home

app = typer.Typer(help="Run a local network: node, validators and miners.",
                  no_args_is_help=True)

DATA_DIR_OPTION = typer.Option(None, "--data-dir",
                               help="Localnet directory (default: <MT_HOME>/localnet).")
REFRESH_S = 1.0


def _data_dir(data_dir: Path | None) -> Path:
    return (data_dir or Path(resolve_home().value) / "localnet").resolve()


def _subnets(text: str) -> tuple[int, ...]:
    try:
        netuids = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise CliError(f"--subnets {text!r} is not a comma-separated list like 1,3") from None
    if not netuids or any(n not in (1, 2, 3, 4) for n in netuids):
        raise CliError("--subnets takes genesis subnets 1-4, e.g. 1 or 1,3")
    return netuids


@app.command()
def up(
    miners: int = typer.Option(4, "--miners", min=0, help="Miners per subnet."),
    validators: int = typer.Option(2, "--validators", min=1, max=9),
    subnets: str = typer.Option("1", "--subnets", help="Genesis subnets, e.g. 1,3."),
    model: str = typer.Option("echo", "--model", help="echo: each subnet's honest reference and "
                              "named cheats; smollm2: SmolLM2 first on every subnet."),
    block_time: float = typer.Option(1.0, "--block-time", min=0.05, help="Seconds per block."),
    tempo: int = typer.Option(20, "--tempo", min=2, help="Blocks per epoch."),
    min_score: float = typer.Option(0.55, "--min-score", min=0.0, max=1.0,
                                    help="Scores under this earn nothing."),
    interval: float | None = typer.Option(None, "--interval", min=0.1,
                                          help="Validator round interval (default: epoch/4)."),
    rpc_port: int | None = typer.Option(None, "--rpc-port", help="Node port (default: free)."),
    nodes: int = typer.Option(1, "--nodes", min=1, max=16, help="1: one node makes the blocks; "
                              "more: that many CometBFT validator nodes (needs cometbft)."),
    detach: bool = typer.Option(False, "--detach", help="Start and return; stop with `down`."),
    unsafe_code_sandbox: bool = typer.Option(
        False, "--unsafe-code-sandbox", help="Let validators score code (subnet 3) without "
        "bubblewrap isolation; the table then says UNSAFE. Only where bubblewrap cannot run."),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Start a dev node, funded+staked validators and 0-MDT miners; show rewards live."""
    from moderntensor.localnet import Localnet, LocalnetSpec

    try:
        spec = LocalnetSpec(miners=miners, validators=validators, subnets=_subnets(subnets),
                            model=model, block_time=block_time, tempo=tempo,
                            min_score=min_score, interval=interval, nodes=nodes,
                            unsafe_code_sandbox=unsafe_code_sandbox)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    directory = _data_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)

    def phase(name: str, seconds: float) -> None:
        console.print(f"  [green]✓[/] {name:<22} {seconds:6.2f} s")

    net = Localnet(spec, directory, detach=detach, rpc_port=rpc_port, on_phase=phase)
    console.print(f"Starting localnet in {directory}")
    with _sigterm_as_interrupt():
        net.up()
        console.print(f"Node RPC [bold]{net.url}[/]  logs {directory / 'logs'}")
        console.print(f"[yellow]dev-only wallets[/]: keystores in {directory / 'home'} use a "
                      f"cheap scrypt cost and one password stored in {directory / 'password'}; "
                      "never use them for real value.", soft_wrap=True)
        first = next((p for p in net.state.processes if p.role == "miner"), None)
        if first is not None:
            console.print(f"Inspect a miner from another shell: eval \"$(moderntensor localnet "
                          f"env)\" && moderntensor miner status --wallet {first.wallet} --netuid "
                          f"{first.netuid}", soft_wrap=True, highlight=False)
        if detach:
            console.print("Running in the background: `moderntensor localnet status`, "
                          f"`moderntensor localnet down` (--data-dir {directory})", soft_wrap=True)
            return
        try:
            _live(net)
        except KeyboardInterrupt:
            pass
        finally:
            _stop(net.stop)


def _live(net: Any) -> None:
    from rich.live import Live

    from moderntensor.localnet import render, snapshot
    from moderntensor.localnet.processes import alive

    node = next(p for p in net.state.processes if p.role == "node")
    console.print("Ctrl-C stops every process.")
    if not console.is_terminal:
        # piped (`| tee`): no cursor tricks; print the table plainly once per closed epoch
        printed: tuple[int, ...] = ()
        while alive(node.pid):
            with contextlib.suppress(Exception):
                view = snapshot(net.state)
                epochs = tuple(s["epoch"] for s in view["subnets"])
                if epochs != printed:
                    console.print(render(view, console.width))
                    printed = epochs
            time.sleep(REFRESH_S)
        raise CliError(f"the node stopped; see {node.log}", code="node_stopped")
    with Live(console=console, refresh_per_second=2, transient=False) as live:
        while True:
            if not alive(node.pid):
                raise CliError(f"the node stopped; see {node.log}", code="node_stopped")
            with contextlib.suppress(Exception):  # a slow read: keep the last table, try again
                live.update(render(snapshot(net.state), console.width))
            time.sleep(REFRESH_S)


def _stop(stop: Any) -> None:
    console.print("stopping localnet ...")
    survivors = stop()
    if survivors:
        raise CliError(f"process groups still alive after SIGKILL: {survivors}",
                       code="orphans")
    console.print("localnet stopped: no process left")


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Any:
    """`kill` of `localnet up` stops the network just like Ctrl-C does."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command()
def down(data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """Stop a localnet started with --detach (every process group it recorded)."""
    from moderntensor.localnet import LocalnetState, stop_state

    directory = _data_dir(data_dir)
    state = LocalnetState.load(directory)
    if state is None:
        raise CliError(f"no localnet recorded in {directory}", code="no_localnet")
    _stop(lambda: stop_state(state))


@app.command()
def status(data_dir: Path | None = DATA_DIR_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Processes of the localnet and, if its node runs, the chain's view of every neuron."""
    from moderntensor.localnet import LocalnetState, render, snapshot
    from moderntensor.localnet.processes import alive

    directory = _data_dir(data_dir)
    state = LocalnetState.load(directory)
    if state is None:
        raise CliError(f"no localnet recorded in {directory}", code="no_localnet")
    processes = [{"name": p.name, "role": p.role, "pid": p.pid, "running": alive(p.pid),
                  "port": p.port, "netuid": p.netuid, "log": p.log} for p in state.processes]
    view: dict[str, Any] | None = None
    with contextlib.suppress(Exception):  # node down: the process list still helps
        view = snapshot(state)
    if as_json:
        print_json({"processes": processes, "phases": state.phases, "chain": view})
        return
    for p in processes:
        mark = "[green]running[/]" if p["running"] else "[red]stopped[/]"
        console.print(f"{mark} {p['name']:<24} pid {p['pid']:<8} {p['log']}")
    if view is None:
        console.print(f"the node at {state.url} does not answer")
    else:
        console.print(render(view, console.width))


@app.command()
def env(data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """Shell exports that point every other command at the localnet: eval "$(... env)"."""
    from moderntensor.localnet import LocalnetState
    from moderntensor.localnet.spec import PASSWORD_FILE

    directory = _data_dir(data_dir)
    state = LocalnetState.load(directory)
    if state is None:
        raise CliError(f"no localnet recorded in {directory}", code="no_localnet")
    # the dev-only password is read from its 0600 file by the shell, never printed here
    password_file = shlex.quote(str(directory / PASSWORD_FILE))
    for line in (f"export MT_HOME={shlex.quote(str(directory / 'home'))}",
                 f"export MT_NETWORK={shlex.quote(state.url)}",
                 f'export MT_WALLET_PASSWORD="$(cat {password_file})"'):
        typer.echo(line)
