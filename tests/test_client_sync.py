"""The synchronous client is checked-in source with the async client's exact surface."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import httpx

from chain_support import running_node
from moderntensor.client import AsyncLuxtensorClient, LuxtensorClient, sync_codegen


def test_the_checked_in_sync_client_is_what_the_generator_writes() -> None:
    assert sync_codegen.TARGET.read_text() == sync_codegen.render(), (
        "client/sync.py is out of date: python -m moderntensor.client.sync_codegen")


def test_every_public_coroutine_has_a_sync_twin_with_its_signature_and_docstring() -> None:
    async_methods = dict(sync_codegen.public_coroutines())
    assert {"get_metagraph", "register_miner", "syscall", "transfer"} <= set(async_methods)
    for name, coroutine in async_methods.items():
        twin = vars(LuxtensorClient).get(name)
        assert twin is not None, f"LuxtensorClient lacks {name}"
        assert not inspect.iscoroutinefunction(twin)
        assert inspect.signature(twin) == inspect.signature(coroutine), name
        assert inspect.getdoc(twin) == inspect.getdoc(coroutine), name


def test_the_sync_client_has_no_public_method_the_async_one_lacks() -> None:
    sync_public = {name for name, value in vars(LuxtensorClient).items()
                   if callable(value) and not name.startswith("_")}
    async_public = {name for name in dir(AsyncLuxtensorClient) if not name.startswith("_")}
    assert sync_public - async_public == {"close"}   # the sync name of aclose


def test_closing_the_sync_client_stops_its_loop_and_may_be_repeated() -> None:
    client = LuxtensorClient("http://127.0.0.1:9")
    thread = client._runner._thread
    client.close()
    assert not thread.is_alive() and client._runner.loop.is_closed()
    client.close()
    with LuxtensorClient("http://127.0.0.1:9") as scoped:
        pass
    assert scoped._runner.loop.is_closed()


def test_the_async_client_closes_its_connections(tmp_path: Path) -> None:
    async def use_and_close(url: str) -> httpx.AsyncClient:
        async with AsyncLuxtensorClient(url) as client:
            assert await client.block_number() >= 0
            http = client._rpc._http
            assert http is not None and not http.is_closed
        return http

    with running_node(tmp_path / "node") as node:
        assert asyncio.run(use_and_close(node.url)).is_closed
