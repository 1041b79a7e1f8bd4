"""Serving an ASGI app with uvicorn: fast loop/parser when available, graceful drain on signals."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

from moderntensor.protocol.http_edges import EdgeLimits, ErrorBody, guarded_http
from moderntensor.protocol.messages import error_body

log = logging.getLogger("moderntensor.miner")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@dataclass(frozen=True)
class TlsFiles:
    """A PEM certificate (chain) and its private key: the miner then speaks HTTPS itself."""

    certfile: str
    keyfile: str


def listening_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """The bound socket uvicorn serves on; ``reuse_port`` lets replicas of one miner share
    the port (Linux/BSD SO_REUSEPORT: the kernel spreads new connections among them)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        hint = "" if reuse_port else " (another copy of this miner? start both as replicas)"
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}{hint}"
                      ) from None
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: Any, *, host: str, port: int, fast: bool | None,
                   grace_s: float, edges: EdgeLimits | None = None,
                   error_json: ErrorBody | None = None,
                   tls: TlsFiles | None = None) -> uvicorn.Config:
    """uvloop + httptools when ``fast`` (or installed, for None); asyncio + h11 otherwise.

    Either parser runs behind ``edges`` (header size/count, slow heads and bodies, connections
    per peer), refusing with ``error_json`` bodies (default: the miner's JSON error bodies).
    """
    use_uvloop = fast is not False and _installed("uvloop")
    edges = edges or EdgeLimits()
    return uvicorn.Config(
        app, host=host, port=port,
        loop="uvloop" if use_uvloop else "asyncio",
        http=guarded_http(edges, error_json or _error_json, fast=fast is not False),
        h11_max_incomplete_event_size=edges.max_header_bytes,
        lifespan="on", access_log=False, log_config=None, server_header=False,
        timeout_graceful_shutdown=grace_s,
        ssl_certfile=tls.certfile if tls else None, ssl_keyfile=tls.keyfile if tls else None,
    )


def _error_json(code: str, message: str) -> bytes:
    return json.dumps(error_body(code, message), separators=(",", ":")).encode()


class DrainingServer(uvicorn.Server):
    """uvicorn's server, except that SIGTERM/SIGINT drain in-flight requests and then return
    normally (exit status 0) instead of re-raising the signal after shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # only the main thread may set signal handlers (tests run servers in threads)
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, sig: int, frame: Any) -> None:
        if self.should_exit:
            self.force_exit = True  # a second signal: stop waiting for stragglers
            return
        log.info("received %s: draining in-flight requests", signal.Signals(sig).name)
        self.should_exit = True
