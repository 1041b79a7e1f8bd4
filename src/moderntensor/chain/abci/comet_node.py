"""A Luxtensor node whose blocks come from CometBFT: one process serving the ABCI socket and
the Ethereum JSON-RPC on one asyncio loop, with ``cometbft start`` as its child process.

The ABCI server listens before CometBFT starts; CometBFT then replays whatever blocks the app
has not committed (``Info`` reports the app's height and app hash) and joins consensus. If
CometBFT exits, the node stops too (a node that cannot follow consensus must not keep serving
reads as if it did); if the app process dies, CometBFT loses its ABCI connection and exits.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import uvicorn

from moderntensor.chain.abci.broadcast import Broadcaster, CometNode, follow_engine
from moderntensor.chain.abci.connections import start_server
from moderntensor.chain.abci.handlers import AbciHandlers
from moderntensor.chain.abci.home import (
    CometBFTError,
    comet_home,
    load_genesis_doc,
    load_spec,
    read_ports,
    require_binary,
)
from moderntensor.chain.abci.validators import ValidatorSet
from moderntensor.chain.app import App
from moderntensor.chain.eth_api import methods_for
from moderntensor.chain.extensions import ModuleInstaller
from moderntensor.chain.installed import DEFAULT_MODULES, build_extensions
from moderntensor.chain.producer import announce_ready, run_on_uvicorn_loop
from moderntensor.chain.rpc import build_rpc_app
from moderntensor.chain.store import Store

log = logging.getLogger("moderntensor.chain.abci")

ENGINE_LOG = "cometbft.log"
ENGINE_STOP_S = 10.0
SIGNAL_GRACE_S = 0.5


def open_comet_node(data_dir: Path, *, block_time: float = 1.0,
                    modules: Iterable[ModuleInstaller] = DEFAULT_MODULES) -> CometNode:
    """Open (or create) the app in ``data_dir`` with the spec of its CometBFT genesis."""
    spec = load_spec(data_dir)
    app = App(spec, Store(data_dir), build_extensions(modules))
    return CometNode(app, block_time=block_time)


def serve_cometbft(node: CometNode, data_dir: Path, host: str = "127.0.0.1", port: int = 8545,
                   on_ready: Callable[[], None] | None = None,
                   cors_origins: Sequence[str] | None = None) -> None:
    """Run ABCI + JSON-RPC + ``cometbft start`` until SIGINT/SIGTERM or until CometBFT exits."""
    binary = require_binary()
    ports = read_ports(data_dir)
    handlers = AbciHandlers(node, ValidatorSet.from_genesis(load_genesis_doc(data_dir)))
    config = uvicorn.Config(build_rpc_app(node, methods_for(node.app.ext.rpc_methods),
                                          cors_origins),
                            host=host, port=port, log_level="warning", access_log=False,
                            lifespan="off", timeout_keep_alive=30)
    server = uvicorn.Server(config)
    engine_exit: list[int] = []

    async def main() -> None:
        abci = await start_server(handlers, "127.0.0.1", ports.abci)
        engine_rpc = f"http://127.0.0.1:{ports.rpc}"
        node.broadcaster = Broadcaster(engine_rpc)
        sender = asyncio.create_task(node.broadcaster.run())
        follower = asyncio.create_task(follow_engine(node, engine_rpc))
        with (data_dir / ENGINE_LOG).open("ab") as engine_log:
            engine = await asyncio.create_subprocess_exec(
                binary, "start", "--home", str(comet_home(data_dir)), stdout=engine_log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        async def watch_engine() -> None:
            status = await engine.wait()
            # Ctrl-C reaches the whole process group: give our own handler the same moment
            await asyncio.sleep(SIGNAL_GRACE_S)
            if not server.should_exit:  # not a stop we asked for
                engine_exit.append(status)
            server.should_exit = True

        watcher = asyncio.create_task(watch_engine())
        ready = asyncio.create_task(announce_ready(server, on_ready))
        try:
            await server.serve()
        finally:
            ready.cancel()
            sender.cancel()
            follower.cancel()
            if engine.returncode is None:
                engine.terminate()
                try:
                    await asyncio.wait_for(engine.wait(), ENGINE_STOP_S)
                except asyncio.TimeoutError:
                    engine.kill()
                    await engine.wait()
            watcher.cancel()
            abci.close()
            node.store.close()

    run_on_uvicorn_loop(config, main)
    if engine_exit:
        raise CometBFTError(f"cometbft exited with status {engine_exit[0]}; see "
                            f"{data_dir / ENGINE_LOG}", code="cometbft_exited")
