"""Serving the gateway: uvicorn behind the project's HTTP edge guard, 127.0.0.1 by default."""

from __future__ import annotations

from pathlib import Path

from moderntensor.gateway.app import build_app
from moderntensor.gateway.errors import edge_error_json
from moderntensor.gateway.service import Gateway
from moderntensor.miner.runner import DrainingServer, uvicorn_config

DEFAULT_PORT = 8080
GRACE_S = 10.0   # SIGTERM: finish in-flight requests this long


def default_db_path(home: Path) -> Path:
    """Where keys and usage live unless ``--db`` says otherwise."""
    return Path(home) / "gateway" / "gateway.sqlite"


async def serve(gateway: Gateway, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                fast: bool | None = None) -> None:
    """Run until SIGINT/SIGTERM; in-flight requests drain for up to ``GRACE_S``."""
    config = uvicorn_config(build_app(gateway), host=host, port=port, fast=fast,
                            grace_s=GRACE_S, error_json=edge_error_json)
    await DrainingServer(config).serve()
