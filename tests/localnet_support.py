"""Helpers for the localnet end-to-end tests: JSON-RPC reads, waiting, the guide's snippets."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[1]
# The seed's miner guide: the shared copy next to the repository when present, else the
# verbatim copy shipped in docs/ (tests check that the two agree).
SHARED_GUIDE = REPO.parent / "shared" / "MINER_GUIDE.md"
GUIDE = REPO / "docs" / "MINER_GUIDE.md"
USER_GUIDE = REPO / "docs" / "guide.md"  # this project's own guide; its blocks run too


def rpc(url: str, method: str, *params: Any) -> Any:
    body = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                 "params": list(params)}, timeout=10).json()
    if "error" in body:
        raise AssertionError(f"{method}{params} failed: {body['error']}")
    return body["result"]


def batch(url: str, calls: list[tuple[str, list[Any]]]) -> list[Any]:
    payload = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
               for i, (m, p) in enumerate(calls)]
    answers = {a["id"]: a for a in httpx.post(url, json=payload, timeout=10).json()}
    for i in range(len(calls)):
        if "error" in answers[i]:
            raise AssertionError(f"{calls[i]} failed: {answers[i]['error']}")
    return [answers[i]["result"] for i in range(len(calls))]


def wait_for(check: Callable[[], T | None], timeout: float, what: str,
             poll_s: float = 0.2) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except (httpx.HTTPError, OSError):
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll_s)


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        # as the node's server binds: a port only in TIME_WAIT from an earlier run is free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def python_blocks(markdown: str) -> list[str]:
    """The ```python code blocks of a markdown document, in order."""
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.DOTALL)


def head(url: str) -> int:
    return int(rpc(url, "eth_blockNumber"), 16)
