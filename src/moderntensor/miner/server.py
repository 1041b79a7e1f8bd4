"""MinerServer: subclass it, implement ``inference``, call ``run``.

>>> class Echo(MinerServer):  # doctest: +SKIP
...     def inference(self, request):
...         return {"output": request.input, "latency_ms": request.elapsed_ms}
>>> Echo().run(port=5000)  # doctest: +SKIP

Wallet, subnet and network come from the config rules (argument > MT_* environment >
config.toml > default); every other knob is a :class:`MinerSettings` field passed as a
keyword argument (``max_batch=16``, ``cache_size=1024``, ``workers=2``, ...).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Coroutine, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from starlette.types import ASGIApp

from moderntensor.config import Config, resolve_config
from moderntensor.miner.app import MinerRuntime
from moderntensor.miner.endpoint import TaskSchema
from moderntensor.miner.permits import ChainPermitSource, PermitSource, StaticPermitSource
from moderntensor.miner.request import MinerRequest
from moderntensor.miner.runner import DrainingServer, TlsFiles, listening_socket, uvicorn_config
from moderntensor.miner.serving import PublicEndpoint, keep_endpoint_published
from moderntensor.miner.settings import MinerSettings
from moderntensor.protocol.auth import Signer
from moderntensor.subnets import SUITES, load_suite
from moderntensor.wallet import Wallet

log = logging.getLogger("moderntensor.miner")

ALLOW_ENV = "MT_MINER_ALLOW"  # comma-separated validator addresses: a static allow-list


class MinerServer:
    """A miner: a signed, rate-limited, bounded HTTP server around your ``inference``.

    Override ``inference(self, request)`` (sync or ``async def``) and, for micro-batching,
    optionally ``inference_batch(self, requests)`` returning one result per request.
    ``request`` has ``.input``, ``.params``, ``.netuid``, ``.task``, ``.sender``, ``.nonce``
    and ``.elapsed_ms``. Return ``{"output": ..., "latency_ms": ...}`` or just the output.
    ``subnet=`` (and ``request.subnet``) are the former names of ``netuid``, still accepted.
    """

    model_name: ClassVar[str | None] = None  # shown by /health; defaults to the class name
    # task names served beyond the registered suites' (checked only against the generic
    # envelope); any other task is refused as 400 unknown_task
    custom_tasks: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        wallet: Signer | str | None = None,
        netuid: int | None = None,
        network: str | None = None,
        subnet: int | None = None,
        metagraph_source: PermitSource | Iterable[str] | Mapping[str, int] | None = None,
        home: str | Path | None = None,
        settings: MinerSettings | None = None,
        **overrides: Any,
    ) -> None:
        self.config: Config = resolve_config(
            home=home, wallet=wallet if isinstance(wallet, str) else None,
            network=network, netuid=netuid, subnet=subnet)
        self.wallet: Signer = (wallet if wallet is not None and not isinstance(wallet, str)
                               else Wallet.from_config(self.config))
        self.netuid: int | None = self.config.netuid.value
        self.network: str = self.config.network.value
        self.settings = (settings or MinerSettings()).with_overrides(**overrides)
        self.permit_source, self.permit_origin = self._permit_source(metagraph_source)

    # -- what a miner implements ---------------------------------------------------------
    def inference(self, request: MinerRequest) -> Any:
        """Answer one request; override this (or ``inference_batch``)."""
        raise NotImplementedError(f"{type(self).__name__} must define inference(self, request)")

    # -- serving ---------------------------------------------------------------------------
    def build_app(self, *, public_host: str | None = None, port: int | None = None,
                  protocol: str = "http") -> ASGIApp:
        """The ASGI app; ``protocol://public_host:port`` is published on chain when given."""
        batch = getattr(self, "inference_batch", None)
        if type(self).inference is MinerServer.inference and batch is None:
            raise NotImplementedError(f"{type(self).__name__} must define inference(self, request)")
        single = self.inference if batch is None else _no_single
        on_started = None
        if public_host is not None and port is not None and self.permit_origin == "chain":
            async def on_started() -> None:
                await keep_endpoint_published(
                    network=self.network, wallet=self.wallet, netuid=self.netuid,
                    endpoint=PublicEndpoint(public_host, port, protocol),
                    retry_s=self.settings.permit_refresh_s)
        runtime = MinerRuntime(
            signer=self.wallet, netuid=self.netuid, permit_source=self.permit_source,
            settings=self.settings, inference=single, inference_batch=batch,
            task_schemas=registered_task_schemas(), custom_tasks=self.custom_tasks,
            model_name=self.model_name or type(self).__name__, on_started=on_started)
        self.runtime = runtime
        return runtime.build()

    def run(self, port: int = 5000, host: str = "127.0.0.1", *,
            external_host: str | None = None, external_port: int | None = None,
            tls: TlsFiles | None = None, external_protocol: str | None = None,
            replica: bool = False) -> None:
        """Serve until SIGTERM/SIGINT, then drain in-flight requests and return.

        Binds ``host:port`` (127.0.0.1 unless told otherwise). Validators are told, on chain,
        ``external_protocol://external_host:external_port``: by default this host and port,
        and ``https`` when ``tls`` (certificate and key files) is given or a reverse proxy in
        front terminates TLS (``external_protocol="https"``). ``replica=True`` shares the port
        with other processes of this miner (SO_REUSEPORT): the kernel spreads connections and
        a dead replica's share goes to the live ones; give them one ``replay_store``.
        """
        _run_loop(self.serve(port=port, host=host, external_host=external_host,
                             external_port=external_port, tls=tls,
                             external_protocol=external_protocol, replica=replica),
                  fast=self.settings.fast)

    async def serve(self, port: int = 5000, host: str = "127.0.0.1", *,
                    external_host: str | None = None, external_port: int | None = None,
                    tls: TlsFiles | None = None, external_protocol: str | None = None,
                    replica: bool = False) -> None:
        """``run`` for code that already has an event loop."""
        _configure_logging()
        protocol = external_protocol or ("https" if tls is not None else "http")
        app = self.build_app(public_host=external_host or host, port=external_port or port,
                             protocol=protocol)
        config = uvicorn_config(app, host=host, port=port, fast=self.settings.fast,
                                grace_s=self.settings.grace_s, edges=self.settings.edge_limits(),
                                tls=tls)
        server = DrainingServer(config)
        log.info("miner %s address=%s netuid=%s permits=%s listening on %s:%d%s",
                 type(self).__name__, self.wallet.address, self.netuid, self.permit_origin,
                 host, port, " (replica)" if replica else "")
        await server.serve(sockets=[listening_socket(host, port, reuse_port=replica)])

    # -- helpers ---------------------------------------------------------------------------
    def _permit_source(self, given: Any) -> tuple[PermitSource, str]:
        if callable(given):
            return given, "custom"
        if given is not None:
            return StaticPermitSource(given), "static"
        allow = os.environ.get(ALLOW_ENV, "").strip()
        if allow:
            addresses = [a.strip() for a in allow.split(",") if a.strip()]
            return StaticPermitSource(addresses), f"static:env:{ALLOW_ENV}"
        # without a netuid the miner serves every subnet its wallet is registered on
        return ChainPermitSource(self.network, self.netuid, address=self.wallet.address), "chain"


def registered_task_schemas() -> dict[str, TaskSchema]:
    """Wire task name -> input schema and size limit, from every registered suite that loads."""
    schemas: dict[str, TaskSchema] = {}
    for task_type in SUITES:
        try:
            suite = load_suite(task_type)
        except Exception as exc:  # a broken suite must not stop a miner of another task
            log.warning("suite %s not loaded, its inputs are checked generically: %s",
                        task_type, exc)
            continue
        for task in suite.tasks:
            schemas[task] = TaskSchema(suite.input_model, suite.max_request_bytes)
    return schemas


def _no_single(request: MinerRequest) -> Any:  # pragma: no cover - batching replaces it
    raise RuntimeError("this miner answers through inference_batch")


def _run_loop(main: Coroutine[Any, Any, None], *, fast: bool | None) -> None:
    """asyncio.run on uvloop when ``fast`` allows and it is installed."""
    try:
        import uvloop  # optional speed-up
    except ImportError:
        uvloop = None
    if fast is False or uvloop is None:
        asyncio.run(main)
    elif sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main)
    else:  # pragma: no cover - Python 3.10 has no asyncio.Runner
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        asyncio.run(main)


def _configure_logging() -> None:
    """key=value lines on stderr, unless the application configured logging itself."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s")
        # httpx logs every chain poll at INFO; the miner's own lines say what matters
        logging.getLogger("httpx").setLevel(logging.WARNING)
