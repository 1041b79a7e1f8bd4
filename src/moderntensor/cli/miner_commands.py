"""``moderntensor miner start path/to/miner.py:MyMiner``: load a MinerServer subclass and serve."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from moderntensor.cli.common import (
    JSON_OPTION,
    NETUID_OPTION,
    NETWORK_OPTION,
    PASSWORD_ENV_OPTION,
    WALLET_OPTION,
    CliError,
    err_console,
    open_client,
    report_tx,
    resolve_netuid,
)
from moderntensor.cli.miner_status import status as miner_status

if TYPE_CHECKING:
    from moderntensor.miner import MinerServer

app = typer.Typer(help="Run a miner.", no_args_is_help=True)
app.command("status")(miner_status)


@app.command()
def start(
    target: str | None = typer.Argument(
        None, help="path/to/miner.py:ClassName or package.module:Class (or use --reference)"),
    port: int = typer.Option(5000, "--port", "-p", help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host",
                             help="Interface to bind; 0.0.0.0 exposes the miner on every one."),
    external_host: str | None = typer.Option(
        None, "--external-host", help="Host validators should use (published on chain)."),
    netuid: int | None = typer.Option(None, "--netuid", "--subnet",
                                      help="Subnet id (else MT_NETUID/config; else every "
                                      "subnet the wallet is registered on)."),
    wallet: str | None = typer.Option(None, "--wallet",
                                      help="Wallet name (else MT_WALLET/config)."),
    network: str | None = typer.Option(None, "--network", help="Chain RPC URL (else config)."),
    restart: bool = typer.Option(False, "--restart", help="Restart the miner when it crashes."),
    restart_delay: float = typer.Option(1.0, "--restart-delay", hidden=True,
                                        help="First restart delay in seconds (doubles)."),
    reference: str | None = typer.Option(
        None, "--reference", help="Serve a subnet suite's reference model instead of a file: "
        "text|code|image|audio|stt|tts (or a task type)."),
    model: str | None = typer.Option(None, "--model", help="Reference model name, e.g. "
                                     "smollm2, echo, oracle, canonical (default: the suite's)."),
) -> None:
    """Load a MinerServer subclass and serve it until SIGTERM/SIGINT (then drain, exit 0)."""
    # the server stack (starlette, uvicorn, pydantic) loads only when a miner really starts
    from moderntensor.miner.supervise import supervise

    if restart:
        # the child is this very command without --restart; it resolves the same settings
        argv = [sys.executable, "-c", "from moderntensor.cli.main import run; run()",
                *[arg for arg in sys.argv[1:] if arg != "--restart"]]
        raise typer.Exit(supervise(argv, initial_delay_s=restart_delay))
    # MinerServer() takes no arguments (the seed API), so flags reach it as the environment
    # variables of the config rules; this keeps `moderntensor config show` truthful for it.
    for variable, value in (("MT_NETUID", netuid), ("MT_WALLET", wallet), ("MT_NETWORK", network)):
        if value is not None:
            os.environ[variable] = str(value)
    if reference is not None:
        from moderntensor.miner.reference import ReferenceMiner

        ReferenceMiner(reference, model).run(port=port, host=host, external_host=external_host)
        return
    if target is None:
        raise CliError("what to serve? give path/to/miner.py:ClassName or --reference NAME")
    miner_class = load_miner_class(target)
    miner_class().run(port=port, host=host, external_host=external_host)


def load_miner_class(target: str) -> type[MinerServer]:
    """The class named by ``file.py:Class`` or ``module:Class``; checks it is a MinerServer."""
    from moderntensor.miner import MinerServer  # heavy, see start()

    location, _, class_name = target.rpartition(":")
    if not location or not class_name:
        raise CliError(f"{target!r} is not path/to/miner.py:ClassName (or module:ClassName)")
    path = Path(location)
    if location.endswith(".py"):
        if not path.is_file():
            raise CliError(f"no miner file at {path}")
        sys.path.insert(0, str(path.resolve().parent))  # so the file's own imports resolve
        spec = importlib.util.spec_from_file_location(f"_mt_miner_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise CliError(f"cannot load {path} as a Python module")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(location)
    miner_class = getattr(module, class_name, None)
    if not (isinstance(miner_class, type) and issubclass(miner_class, MinerServer)):
        raise CliError(f"{class_name!r} in {location} is not a MinerServer subclass")
    return miner_class


@app.command()
def register(
    model_name: str = typer.Option(..., "--model-name", help="Your model's name."),
    model_type: str | None = typer.Option(
        None, "--model-type", help="Task type (default: the subnet's)."),
    model_version: str = typer.Option("1.0.0", "--model-version"),
    netuid: int | None = NETUID_OPTION,
    wallet: str | None = WALLET_OPTION,
    network: str | None = NETWORK_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Register as a miner with 0 MDT: solves the subnet's proof of work (progress shown)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    netuid = resolve_netuid(netuid)
    with open_client(network, wallet, password_env, signing=True) as client:
        task_type = model_type or client.get_subnet(int(netuid)).task_type
        model = {"name": model_name, "type": task_type, "version": model_version}
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=err_console, transient=True, disable=as_json) as progress:
            task = progress.add_task("solving registration proof of work", total=None)

            def on_progress(hashes: int) -> None:
                progress.update(task, description=f"solving proof of work: {hashes:,} hashes")

            result = client.register_miner(int(netuid), model, progress=on_progress)
    report_tx(result, as_json, f"Registered miner uid {result.uid} on subnet {netuid}")
