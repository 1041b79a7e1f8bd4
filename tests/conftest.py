"""Shared fixtures: an isolated ModernTensor home for every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from chain_fixtures import make_app
from moderntensor.chain.eth_api import methods_for
from moderntensor.chain.node import Node
from moderntensor.chain.rpc import build_rpc_app


@pytest.fixture(autouse=True)
def mt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own MT_HOME and a clean MT_* environment."""
    home = tmp_path / "mt-home"
    for var in ("MT_WALLET", "MT_WALLET_PASSWORD", "MT_NETWORK", "MT_NETUID", "MT_SUBNET"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MT_HOME", str(home))
    return home


@pytest.fixture
def echo_node(tmp_path: Path) -> Iterator[Node]:
    """An in-process node with the example echo module, at a fixed clock."""
    app = make_app(tmp_path)
    yield Node(app, block_time=1, clock=lambda: 1_700_000_000)
    app.store.close()


@pytest.fixture
def echo_client(echo_node: Node) -> TestClient:
    """The RPC app of :func:`echo_node`, served in-process."""
    return TestClient(build_rpc_app(echo_node, methods_for(echo_node.app.ext.rpc_methods)))
