"""Bounded dispatch to the model: a fixed queue, a fixed set of workers, optional micro-batching.

Sync models run in a thread pool of ``workers`` threads so the event loop never blocks; async
models are awaited by the same number of worker tasks. A full queue refuses work at once
(:class:`OverloadedError`, HTTP 503) instead of letting memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from moderntensor.errors import ModernTensorError
from moderntensor.miner.request import MinerRequest

log = logging.getLogger("moderntensor.miner")


class OverloadedError(ModernTensorError):
    """The queue is full (HTTP 503 with Retry-After)."""

    code = "overloaded"


class InferenceFailedError(ModernTensorError):
    """The miner's own model raised or broke its contract (HTTP 502)."""

    code = "inference_failed"


@dataclass(slots=True)
class _Job:
    request: MinerRequest
    future: asyncio.Future[Any]


class Dispatcher:
    """``await dispatcher.submit(request)`` -> whatever ``inference`` returned for it.

    With ``batch`` set, each worker gathers up to ``max_batch`` queued requests, waiting at
    most ``batch_wait_s`` for more, and calls ``batch(requests)`` once for all of them.
    """

    def __init__(
        self,
        single: Callable[[MinerRequest], Any],
        batch: Callable[[list[MinerRequest]], Any] | None = None,
        *,
        workers: int = 1,
        queue_size: int = 64,
        max_batch: int = 8,
        batch_wait_s: float = 0.005,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._single = single
        self._batch = batch
        self.workers = workers
        self.max_batch = max_batch if batch is not None else 1
        self.batch_wait_s = batch_wait_s
        self._on_batch = on_batch
        # admission is counted, not left to the queue's size, so that "workers busy + queue
        # full" is exact: a job holds its slot from submit until its future is done
        self.capacity = workers * self.max_batch + queue_size
        self._admitted = 0
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._arrival = asyncio.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def depth(self) -> int:
        """Requests waiting for a worker."""
        return self._queue.qsize()

    def start(self) -> None:
        target = self._batch if self._batch is not None else self._single
        if not inspect.iscoroutinefunction(target):
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="mt-inference")
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._work()) for _ in range(self.workers)]

    async def stop(self) -> None:
        """Stop the workers; whatever still waits is refused as overloaded."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if not job.future.done():
                job.future.set_exception(OverloadedError("the miner is shutting down"))
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def submit(self, request: MinerRequest) -> asyncio.Future[Any]:
        """Queue ``request``; raise OverloadedError at once when the miner is at capacity."""
        if self._admitted >= self.capacity:
            raise OverloadedError(
                f"the miner is at capacity ({self.capacity} requests in hand); retry shortly")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._admitted += 1
        future.add_done_callback(self._release)
        self._queue.put_nowait(_Job(request, future))
        self._arrival.set()
        return future

    def _release(self, future: asyncio.Future[Any]) -> None:
        self._admitted -= 1

    async def _work(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            if self.max_batch > 1:
                await self._fill(jobs)
            # a job whose caller gave up (deadline passed) is not worth the model's time
            jobs = [job for job in jobs if not job.future.done()]
            if jobs:
                await self._run(jobs)

    async def _fill(self, jobs: list[_Job]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.batch_wait_s
        while len(jobs) < self.max_batch:
            while len(jobs) < self.max_batch and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            remaining = deadline - loop.time()
            if len(jobs) >= self.max_batch or remaining <= 0:
                return
            # waiting on an event, not on queue.get(), so a timeout can never lose a job
            self._arrival.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._arrival.wait(), remaining)

    async def _run(self, jobs: list[_Job]) -> None:
        requests = [job.request for job in jobs]
        started = time.perf_counter_ns()
        try:
            if self._batch is not None:
                results = list(await self._call(self._batch, requests))
                if len(results) != len(requests):
                    raise InferenceFailedError(f"inference_batch returned {len(results)} results "
                                          f"for {len(requests)} requests")
            else:
                results = [await self._call(self._single, requests[0])]
        except Exception as exc:
            log.exception("inference failed for %d request(s)", len(jobs))
            failure = exc if isinstance(exc, InferenceFailedError) else InferenceFailedError(
                f"the miner's inference raised {type(exc).__name__}")
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(failure)
            return
        finally:
            elapsed = time.perf_counter_ns() - started
            for request in requests:
                request.model_ns = elapsed
        if self._on_batch is not None:
            self._on_batch(len(jobs))
        for job, result in zip(jobs, results, strict=True):
            if not job.future.done():
                job.future.set_result(result)

    async def _call(self, fn: Callable[[Any], Any], argument: Any) -> Any:
        if self._pool is None:
            result = fn(argument)
        else:
            result = await asyncio.get_running_loop().run_in_executor(self._pool, fn, argument)
        if inspect.isawaitable(result):
            result = await result
        return result
