"""Single-node block production (the embedded default driver) and the node's server process.

:func:`open_node` builds a :class:`~.node.Node` from a spec and a data directory;
:func:`serve` runs the JSON-RPC server and the block producer on one asyncio loop until SIGINT
or SIGTERM. A block is produced every ``block_time`` seconds, empty or not, so that epochs
(every ``tempo`` blocks) advance at a steady pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from moderntensor.chain.app import App
from moderntensor.chain.eth_api import methods_for
from moderntensor.chain.extensions import ModuleInstaller
from moderntensor.chain.genesis import ChainSpec
from moderntensor.chain.installed import DEFAULT_MODULES, build_extensions
from moderntensor.chain.mempool import Mempool
from moderntensor.chain.node import Node
from moderntensor.chain.rpc import NODE_EDGE_LIMITS, build_rpc_app, edge_error_body
from moderntensor.chain.sender_pool import SenderPool
from moderntensor.chain.store import Store
from moderntensor.chain.tx_journal import JOURNAL_FILE, TxJournal
from moderntensor.chain.ws import MAX_MESSAGE_BYTES
from moderntensor.protocol.http_edges import guarded_http

log = logging.getLogger("moderntensor.chain")

MIN_BLOCK_TIME = 0.05  # seconds; below this the producer would starve the RPC server


def open_node(spec: ChainSpec, data_dir: Path, *, block_time: float = 1.0,
              modules: Iterable[ModuleInstaller] = DEFAULT_MODULES,
              mempool: Mempool | None = None) -> Node:
    """Open (or create) the chain in ``data_dir`` and wrap it in a node; transactions that
    were pending when it last stopped (its journal) are re-admitted."""
    if block_time < MIN_BLOCK_TIME:
        raise ValueError(f"block time must be >= {MIN_BLOCK_TIME} s")
    app = App(spec, Store(data_dir), build_extensions(modules), mempool)
    return Node(app, block_time=block_time, journal=TxJournal(data_dir / JOURNAL_FILE),
                sender_pool=SenderPool(spec.chain_id))


async def produce_forever(node: Node, stop: asyncio.Event) -> None:
    """Produce a block every ``node.block_time`` seconds until ``stop`` is set."""
    next_at = time.monotonic()
    while not stop.is_set():
        next_at += node.block_time
        delay = next_at - time.monotonic()
        if delay < 0:  # we fell behind (a slow block): restart the rhythm instead of bursting
            next_at = time.monotonic()
            delay = 0
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        if stop.is_set():
            break
        node.produce_block()


def serve(node: Node, host: str = "127.0.0.1", port: int = 8545,
          on_ready: Callable[[], None] | None = None,
          cors_origins: Sequence[str] | None = None) -> None:
    """Run RPC + producer in the foreground; returns after a clean shutdown. ``cors_origins``:
    the browser origins allowed to call the RPC (None: any on the dev chain, none elsewhere)."""
    app = build_rpc_app(node, methods_for(node.app.ext.rpc_methods), cors_origins)
    limits = NODE_EDGE_LIMITS
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            lifespan="off", timeout_keep_alive=30,
                            http=guarded_http(limits, edge_error_body),
                            h11_max_incomplete_event_size=limits.max_header_bytes,
                            ws_max_size=MAX_MESSAGE_BYTES)
    server = uvicorn.Server(config)

    async def main() -> None:
        stop = asyncio.Event()
        producer = asyncio.create_task(produce_forever(node, stop))
        # a producer that died (disk full, a bug) must stop the node, not leave it serving a
        # chain that no longer grows; the error surfaces when the task is awaited below
        producer.add_done_callback(lambda task: setattr(server, "should_exit", True))
        watcher = asyncio.create_task(announce_ready(server, on_ready))
        try:
            await server.serve()
        finally:
            stop.set()
            watcher.cancel()
            try:
                await producer  # finishes the block in progress before the DB closes
            finally:
                await node.aclose()

    run_on_uvicorn_loop(config, main)


def run_on_uvicorn_loop(config: uvicorn.Config,
                        main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``main()`` to completion on uvicorn's own loop choice (uvloop when installed, which
    plain asyncio.run would skip), letting Ctrl-C/SIGTERM end it through the server's graceful
    shutdown rather than killing the process before its cleanup runs."""
    loop_factory = getattr(config, "get_loop_factory", lambda: None)()
    with _quiet_resignal():
        if loop_factory is not None and sys.version_info >= (3, 11):
            with asyncio.Runner(loop_factory=loop_factory) as runner:
                runner.run(main())
        else:
            asyncio.run(main())


@contextlib.contextmanager
def _quiet_resignal() -> Iterator[None]:
    """uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to whatever
    handler was there before; with the default one the process dies before our own cleanup
    (stop the producer, close the DB) runs. A no-op handler underneath lets serve() return."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT,
                                                                     signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


async def announce_ready(server: uvicorn.Server, on_ready: Callable[[], None] | None) -> None:
    """Call ``on_ready`` once ``server`` listens (what a user waits for before using the RPC)."""
    while not server.started:
        await asyncio.sleep(0.02)
    if on_ready is not None:
        on_ready()
