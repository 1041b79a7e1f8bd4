"""``moderntensor miner start path/to/miner.py:MyMiner``: load a MinerServer subclass and serve."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from moderntensor.cli.common import (
    JSON_OPTION,
    NETUID_OPTION,
    NETWORK_OPTION,
    PASSWORD_ENV,
    PASSWORD_ENV_OPTION,
    WALLET_OPTION,
    YES_OPTION,
    CliError,
    confirm,
    err_console,
    open_client,
    read_password,
    report_tx,
    resolve_netuid,
    unlock_wallet,
)
from moderntensor.cli.miner_status import status as miner_status

if TYPE_CHECKING:
    from moderntensor.miner import MinerServer

app = typer.Typer(help="Run a miner.", no_args_is_help=True)
TLS_CERT_OPTION = typer.Option(None, "--tls-cert",
                               help="PEM certificate: serve HTTPS and publish https (--tls-key).")
TLS_KEY_OPTION = typer.Option(None, "--tls-key", help="PEM private key of --tls-cert.")
MODEL_NAME_OPTION = typer.Option(..., "--model-name", help="Your model's name.")
MODEL_TYPE_OPTION = typer.Option(None, "--model-type", help="Task type (default: the subnet's).")
MODEL_VERSION_OPTION = typer.Option("1.0.0", "--model-version")
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
    external_port: int | None = typer.Option(
        None, "--external-port", min=1, max=65535,
        help="Port validators should use when it differs from --port (NAT, port forwarding)."),
    tls_cert: Path | None = TLS_CERT_OPTION,
    tls_key: Path | None = TLS_KEY_OPTION,
    external_protocol: str | None = typer.Option(
        None, "--external-protocol", help="Publish http or https (https when a reverse proxy in "
        "front terminates TLS; default: https with --tls-cert, else http)."),
    replica: bool = typer.Option(
        False, "--replica", help="Share --port with other copies of this miner on this machine "
        "(one identity, one endpoint; replay memory shared in MT_HOME)."),
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
    _ask_password_once()
    serving = _serving_options(port, external_host, external_port, tls_cert, tls_key,
                               external_protocol, replica)
    if reference is not None:
        from moderntensor.miner.reference import ReferenceMiner

        miner: MinerServer = ReferenceMiner(reference, model)
    elif target is None:
        raise CliError("what to serve? give path/to/miner.py:ClassName or --reference NAME")
    else:
        miner = load_miner_class(target)()
    if replica:
        from moderntensor.config import resolve_config

        # one replay memory for every replica on this port: a request is answered once
        store = resolve_config().home.value / "miner" / f"replay-{port}.sqlite"
        miner.settings = miner.settings.with_overrides(replay_store=str(store))
    miner.run(port=port, host=host, **serving)


def _serving_options(port: int, external_host: str | None, external_port: int | None,
                     tls_cert: Path | None, tls_key: Path | None,
                     external_protocol: str | None, replica: bool) -> dict[str, Any]:
    """The keyword arguments of ``MinerServer.run`` that say how validators reach it."""
    from moderntensor.miner.runner import TlsFiles

    if (tls_cert is None) != (tls_key is None):
        raise CliError("give --tls-cert and --tls-key together")
    for path in (tls_cert, tls_key):
        if path is not None and not path.is_file():
            raise CliError(f"no such file: {path}")
    if external_protocol not in (None, "http", "https"):
        raise CliError(f"--external-protocol must be http or https, not {external_protocol!r}")
    tls = TlsFiles(str(tls_cert), str(tls_key)) if tls_cert and tls_key else None
    return {"external_host": external_host, "external_port": external_port, "tls": tls,
            "external_protocol": external_protocol, "replica": replica}


def _ask_password_once() -> None:
    """In a terminal, ask for the wallet password as `register` does, and check it now;
    MinerServer() then finds it by the config rules (this process's environment only)."""
    from moderntensor.config import resolve_config
    from moderntensor.wallet import keystore_path

    config = resolve_config()
    if (config.wallet_password.value is not None or not sys.stdin.isatty()
            or not keystore_path(config.wallet.value, config.home.value).exists()):
        return  # from the environment, no terminal, or a miner that brings its own wallet
    password, source = read_password(None, confirm=False)
    unlock_wallet(config.wallet.value, password, source, config.home.value)
    os.environ[PASSWORD_ENV] = password


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
    model_name: str = MODEL_NAME_OPTION,
    model_type: str | None = MODEL_TYPE_OPTION,
    model_version: str = MODEL_VERSION_OPTION,
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
        model = _model_info(client, int(netuid), model_name, model_type, model_version)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=err_console, transient=True, disable=as_json) as progress:
            task = progress.add_task("solving registration proof of work", total=None)

            def on_progress(hashes: int) -> None:
                progress.update(task, description=f"solving proof of work: {hashes:,} hashes")

            result = client.register_miner(int(netuid), model, progress=on_progress)
    report_tx(result, as_json, f"Registered miner uid {result.uid} on subnet {netuid}")


@app.command("update-model")
def update_model(
    model_name: str = MODEL_NAME_OPTION,
    model_type: str | None = MODEL_TYPE_OPTION,
    model_version: str = MODEL_VERSION_OPTION,
    netuid: int | None = NETUID_OPTION,
    wallet: str | None = WALLET_OPTION,
    network: str | None = NETWORK_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change the model your miner says it serves (fee-free; keeps your uid and history)."""
    netuid = resolve_netuid(netuid)
    with open_client(network, wallet, password_env, signing=True) as client:
        result = client.update_model_info(
            int(netuid), _model_info(client, int(netuid), model_name, model_type, model_version))
    report_tx(result, as_json, f"Model of uid {result.uid} on subnet {netuid} is now "
              f"{model_name} {model_version}")


@app.command()
def deregister(
    netuid: int | None = NETUID_OPTION,
    wallet: str | None = WALLET_OPTION,
    network: str | None = NETWORK_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    yes: bool = YES_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Leave a subnet as a miner (fee-free): your uid goes to the next registration."""
    netuid = resolve_netuid(netuid)
    confirm(yes, "deregistering gives your uid away",
            f"Leave subnet {netuid}? Your uid goes to the next miner that registers")
    with open_client(network, wallet, password_env, signing=True) as client:
        result = client.deregister(int(netuid))
    report_tx(result, as_json, f"Left subnet {netuid} (uid {result.uid} is free)")


def _model_info(client: Any, netuid: int, name: str, task_type: str | None,
                version: str) -> dict[str, str]:
    """``model_info`` for the client; the type defaults to the subnet's task type."""
    return {"name": name, "type": task_type or client.get_subnet(netuid).task_type,
            "version": version}
