"""``LuxtensorClient``: the async client, callable from plain synchronous code.

Every public coroutine method of :class:`AsyncLuxtensorClient` gets a synchronous twin
*generated* here (same name, signature and docstring), run on one private event loop in a
daemon thread. Nothing is written twice.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from moderntensor.client.luxtensor import AsyncLuxtensorClient

T = TypeVar("T")


class _LoopThread:
    """An event loop running forever in a daemon thread; ``run`` blocks on one coroutine."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="luxtensor-client",
                                        daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)
        if not self.loop.is_running():
            self.loop.close()


class LuxtensorClient:
    """Synchronous Luxtensor client; same methods as :class:`AsyncLuxtensorClient`.

    >>> client = LuxtensorClient("http://localhost:8545")   # doctest: +SKIP
    >>> client.get_balance("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")  # doctest: +SKIP
    """

    def __init__(self, url: str | None = None, **kwargs: Any) -> None:
        self._async = AsyncLuxtensorClient(url, **kwargs)
        self._runner = _LoopThread()

    @property
    def aio(self) -> AsyncLuxtensorClient:
        """The underlying async client (for code that already runs an event loop)."""
        return self._async

    def __getattr__(self, name: str) -> Any:
        # Plain attributes (url, wallet, config) read through to the async client.
        return getattr(self._async, name)

    def close(self) -> None:
        self._runner.run(self._async.aclose())
        self._runner.stop()

    def __enter__(self) -> LuxtensorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LuxtensorClient({self._async.url!r})"


def _sync_method(name: str, coroutine_fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(coroutine_fn)
    def method(self: LuxtensorClient, *args: Any, **kwargs: Any) -> Any:
        return self._runner.run(getattr(self._async, name)(*args, **kwargs))

    return method


for _name, _fn in inspect.getmembers(AsyncLuxtensorClient, inspect.iscoroutinefunction):
    if not _name.startswith("_") and _name != "aclose":
        setattr(LuxtensorClient, _name, _sync_method(_name, _fn))
