"""``--restart``: run the miner as a child process and start it again when it crashes.

A clean exit (status 0, e.g. after SIGTERM's graceful drain) ends supervision; any other exit
restarts the child after a delay that doubles up to ``max_delay_s`` and resets once a child
has stayed up for ``stable_after_s``. SIGTERM/SIGINT are passed on to the child.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import Any

log = logging.getLogger("moderntensor.miner")


def supervise(argv: Sequence[str], *, initial_delay_s: float = 1.0, max_delay_s: float = 60.0,
              stable_after_s: float = 60.0, max_restarts: int | None = None) -> int:
    """Run ``argv`` until it exits 0 or we are told to stop; returns the last exit status."""
    stopping = threading.Event()
    child: subprocess.Popen[bytes] | None = None

    def forward(sig: int, frame: Any) -> None:
        stopping.set()
        if child is not None and child.poll() is None:
            child.send_signal(sig)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    delay, restarts = initial_delay_s, 0
    try:
        while True:
            started = time.monotonic()
            # its own process group: a terminal's Ctrl+C reaches only us, and we forward it
            # once (a second SIGINT would make the child skip its graceful drain)
            child = subprocess.Popen(list(argv), start_new_session=True)
            status = _wait(child)
            if status == 0 or stopping.is_set():
                return status
            if max_restarts is not None and restarts >= max_restarts:
                log.error("miner exited with status %d; giving up after %d restarts",
                          status, restarts)
                return status
            if time.monotonic() - started >= stable_after_s:
                delay = initial_delay_s  # it ran fine for a while: this is a fresh failure
            log.warning("miner exited with status %d; restarting in %.1f s", status, delay)
            if stopping.wait(delay):
                return status
            delay = min(delay * 2, max_delay_s)
            restarts += 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _wait(child: subprocess.Popen[bytes]) -> int:
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:  # the handler forwarded it; keep waiting for the drain
            continue
