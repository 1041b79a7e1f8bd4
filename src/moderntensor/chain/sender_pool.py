"""Decoding (and sender recovery) for big batches of raw transactions, in worker processes.

Recovering a transaction's sender (secp256k1 public-key recovery) is the largest single cost
of ``eth_sendRawTransaction``: about 30 µs of the node's ~100 µs per transfer. The node runs
its state machine on one thread, and other threads do not help: the GIL hands over too slowly
for 30 µs calls (so does ``ProcessPoolExecutor``, whose own threads in the node contend for
it). So a batch of transactions goes down pipes to :data:`WORKERS` worker processes (split
between them, which halves the batch's wait), read and written by the node's event loop,
while the node's thread serves other requests. Each worker runs the
node's own decoder (:func:`~moderntensor.chain.txs.decode_transaction`: every stateless check
and the recovery) and sends the decoded transactions back pickled: unpickling costs the node
~3 µs a transaction against ~45 µs to decode one. Pickle is safe here because the bytes come
from the node's own child over its own pipe, never from a peer.

:meth:`moderntensor.chain.node.Node.submit` admits a decoded transaction through the mempool
as any other (every check against the state still runs). A transaction the worker rejects
comes back as None and is decoded again on the node's thread, where its error is raised as
for any other.

The workers start on the first batch of at least :data:`MIN_BATCH` transactions, so a node
that never sees one (most: validators and miners send single transactions) never starts them.
Each exits when the node closes its pipe, or dies with it.

Wire (over the worker's stdin and stdout; answers in request order): a request is ``u32 count``
then ``count`` times ``u32 length, raw``; its answer is ``u32 length`` then that many bytes of
``pickle.dumps([SignedTx | None, ...])``, one entry per raw.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import struct
import sys
from collections import deque
from collections.abc import Callable
from typing import BinaryIO

from moderntensor.chain.errors import TxRejected
from moderntensor.chain.txs import SignedTx, decode_transaction

log = logging.getLogger(__name__)

MIN_BATCH = 32  # below this the round trip to the worker costs more than it saves
MAX_QUEUED = 200  # transactions queued at a worker beyond which the node's thread does its own
WORKERS = 2  # a batch split over two halves its wait: 0.97x -> 1.01x anvil (window 1000)
_U32 = struct.Struct(">I")


class _Worker:
    """One worker process, its pipe, and the answers it still owes (in request order)."""

    def __init__(self, process: asyncio.subprocess.Process, on_gone: Callable) -> None:
        self.process = process
        self.waiting: deque[tuple[int, asyncio.Future[list[SignedTx | None]]]] = deque()
        self.pending = 0  # transactions asked and not yet answered
        self._on_gone = on_gone
        self._reader = asyncio.get_running_loop().create_task(self._read_answers())

    @classmethod
    async def start(cls, chain_id: int, on_gone: Callable) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "moderntensor.chain.sender_pool", str(chain_id),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        return cls(process, on_gone)

    async def ask(self, raws: list[bytes]) -> list[SignedTx | None]:
        answer: asyncio.Future[list[SignedTx | None]] = (
            asyncio.get_running_loop().create_future())
        self.waiting.append((len(raws), answer))
        self.pending += len(raws)
        assert self.process.stdin is not None
        self.process.stdin.write(_U32.pack(len(raws))
                                 + b"".join(_U32.pack(len(raw)) + raw for raw in raws))
        return await answer

    async def _read_answers(self) -> None:
        assert self.process.stdout is not None
        stdout = self.process.stdout
        try:
            while True:
                size = _U32.unpack(await stdout.readexactly(_U32.size))[0]
                decoded = pickle.loads(await stdout.readexactly(size))  # noqa: S301 - our child
                count, answer = self.waiting.popleft()
                self.pending -= count
                if not answer.done():
                    answer.set_result(decoded)
        except (OSError, ConnectionError, asyncio.IncompleteReadError) as exc:
            self._on_gone(exc)
            while self.waiting:
                _, answer = self.waiting.popleft()
                if not answer.done():
                    answer.set_exception(ConnectionError("decoding worker gone"))

    async def stop(self) -> None:
        self._reader.cancel()
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.close()  # the worker exits at end of input
            try:
                await asyncio.wait_for(self.process.wait(), timeout=5)
            except asyncio.TimeoutError:
                self.process.kill()


class SenderPool:
    """``workers`` worker processes that decode batches (see the module docstring); a batch is
    split over them, the least busy first."""

    def __init__(self, chain_id: int, workers: int = WORKERS) -> None:
        self.chain_id = chain_id
        self.size = workers
        self._workers: list[_Worker] = []
        self._starting: asyncio.Future[list[_Worker]] | None = None
        self._broken = False

    async def decode(self, raws: list[bytes]) -> dict[bytes, SignedTx]:
        """``{raw: decoded transaction}`` for the transactions of ``raws`` that decode; empty
        for a batch too small to be worth the trip, or when a worker is gone (the node then
        decodes every transaction itself, as without a pool)."""
        if len(raws) < MIN_BATCH or self._broken:
            return {}
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        if not self._starting.done():
            return {}  # the node's thread decodes by itself until the workers are up (~0.3 s)
        try:
            workers = self._starting.result()
            if min(worker.pending for worker in workers) >= MAX_QUEUED:
                return {}  # the workers are behind: the node's thread decodes this batch
            # split across the workers: the node's thread waits for the whole batch, so the
            # batch's latency, not only the workers' throughput, sets the pace
            step = -(-len(raws) // len(workers))
            parts = await asyncio.gather(*(
                worker.ask(raws[i:i + step]) for worker, i in zip(
                    sorted(workers, key=lambda worker: worker.pending),
                    range(0, len(raws), step), strict=False)))
        except (OSError, ConnectionError, asyncio.IncompleteReadError) as exc:
            self._give_up(exc)
            return {}
        decoded = [tx for part in parts for tx in part]
        return {raw: tx for raw, tx in zip(raws, decoded, strict=True)
                if tx is not None and tx.raw == raw}

    async def _start(self) -> list[_Worker]:
        self._workers = list(await asyncio.gather(
            *(_Worker.start(self.chain_id, self._give_up) for _ in range(self.size))))
        return self._workers

    def _give_up(self, exc: BaseException) -> None:
        if not self._broken:
            log.warning("a decoding worker is gone (%s); the node decodes transactions on "
                        "its own thread from now on", exc)
        self._broken = True

    async def aclose(self) -> None:
        """Stop the workers, if they were started."""
        self._broken = True
        for worker in self._workers:
            await worker.stop()


def decode_batch(raws: list[bytes], chain_id: int) -> bytes:
    """The worker's answer for ``raws`` (see the module docstring)."""
    decoded: list[SignedTx | None] = []
    for raw in raws:
        try:
            decoded.append(decode_transaction(raw, chain_id))
        except TxRejected:
            decoded.append(None)
    data = pickle.dumps(decoded, protocol=pickle.HIGHEST_PROTOCOL)
    return _U32.pack(len(data)) + data


def serve_worker(chain_id: int, source: BinaryIO, sink: BinaryIO) -> None:
    """The worker process: answer requests from ``source`` until it ends."""
    while header := source.read(_U32.size):
        if len(header) < _U32.size:
            return
        raws = []
        for _ in range(_U32.unpack(header)[0]):
            length = _U32.unpack(source.read(_U32.size))[0]
            raws.append(source.read(length))
        sink.write(decode_batch(raws, chain_id))
        sink.flush()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError, struct.error):
        serve_worker(int(sys.argv[1]), sys.stdin.buffer, sys.stdout.buffer)
