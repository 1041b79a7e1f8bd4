"""A running node: the app, a cache of recent blocks for RPC reads, and metrics.

Everything runs on one thread (the asyncio loop that also serves RPC), so the state, the
mempool and the database are never touched concurrently, and a read never sees a block that is
not committed: :meth:`Node.produce_block` returns only after the block is on disk.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from moderntensor.chain.app import App
from moderntensor.chain.blocks import Block, Header, Receipt
from moderntensor.chain.errors import TxRejected
from moderntensor.chain.execution import BlockResult
from moderntensor.chain.filters import FilterRegistry
from moderntensor.chain.genesis import ChainSpec
from moderntensor.chain.metrics import NodeMetrics
from moderntensor.chain.sender_pool import SenderPool
from moderntensor.chain.state import State
from moderntensor.chain.store import Store, decode_receipt
from moderntensor.chain.tx_journal import TxJournal
from moderntensor.chain.txs import SignedTx, decode_transaction

log = logging.getLogger("moderntensor.chain")

RECENT_BLOCKS = 256  # blocks kept decoded in memory for receipts and block reads...
RECENT_TXS = 5_000  # ...but no more transactions than this, so memory stays flat under load


@dataclass(frozen=True)
class TxLocation:
    block: Block
    index: int

    @property
    def tx(self) -> SignedTx:
        return self.block.transactions[self.index]

    @property
    def receipt(self) -> Receipt:
        return self.block.receipts[self.index]


class Node:
    """The app plus what serving it needs. ``clock`` supplies block timestamps (seconds).

    With a ``journal``, every admitted transaction is recorded there, and the journal's
    transactions are re-admitted (fully re-checked) before the node serves anything.
    """

    peers = 0  # consensus peers; a node that makes its own blocks has none
    syncing = False  # catching up with a network (never, for a node that makes its own blocks)

    def __init__(self, app: App, *, block_time: float = 1.0,
                 clock: Callable[[], float] = time.time, journal: TxJournal | None = None,
                 sender_pool: SenderPool | None = None) -> None:
        self.app = app
        self.journal = journal
        self.block_time = block_time
        self.clock = clock
        self.metrics = NodeMetrics()
        self._recent: OrderedDict[int, Block] = OrderedDict()
        self._recent_txs: dict[bytes, tuple[int, int]] = {}
        self._last_block_at = time.monotonic()
        # RPC-side watchers (filters, subscriptions): told of each admitted tx and new block
        self.on_tx: list[Callable[[SignedTx], None]] = []
        self.on_block: list[Callable[[Block], None]] = []
        self.filters = FilterRegistry(self)
        self.sender_pool = sender_pool  # see decode_off_thread
        self._decoded: dict[bytes, SignedTx] = {}
        self.metrics.height.set(app.head.number)
        if journal is not None:
            self._replay(journal)

    @property
    def spec(self) -> ChainSpec:
        return self.app.spec

    @property
    def state(self) -> State:
        return self.app.state

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def head(self) -> Header:
        return self.app.head

    async def decode_off_thread(self, raws: list[bytes]) -> None:
        """Decode a batch about to be submitted (senders recovered) off this thread, when the
        node has a :attr:`sender_pool` (call :meth:`forget_decoded` after submitting)."""
        if self.sender_pool is not None:
            self._decoded.update(await self.sender_pool.decode(raws))

    def forget_decoded(self, raws: list[bytes]) -> None:
        """Drop what :meth:`decode_off_thread` decoded for ``raws`` (used or not)."""
        for raw in raws:
            self._decoded.pop(raw, None)

    def submit(self, raw: bytes) -> bytes:
        """Admit a raw transaction to the mempool; returns its hash or raises TxRejected."""
        try:
            tx = self.app.check_tx(raw, self._decoded.get(raw))
        except TxRejected as exc:
            self.metrics.rejected.labels(exc.code).inc()
            raise
        if self.journal is not None:  # before the hash is answered: a restart re-admits it
            self.journal.append(tx.raw)
        self.metrics.mempool_size.set(len(self.app.mempool))
        for listener in self.on_tx:
            listener(tx)
        return tx.hash

    def produce_block(self) -> Block:
        """Build, execute and persist the next block from the mempool."""
        started = time.perf_counter()
        return self.commit_block(self.app.finalize_block(int(self.clock())), started)

    def commit_block(self, result: BlockResult, started: float) -> Block:
        """Persist an executed block and serve it (``started``: when its execution began)."""
        self.app.commit(result)
        block = result.block
        self._remember(block)
        now = time.monotonic()
        count = len(block.transactions)
        self.metrics.height.set(block.number)
        self.metrics.mempool_size.set(len(self.app.mempool))
        self.metrics.txs_total.inc(count)
        self.metrics.tx_rate.set(count / max(now - self._last_block_at, 1e-3))
        self.metrics.block_seconds.observe(time.perf_counter() - started)
        self._last_block_at = now
        if self.journal is not None and self.journal.needs_rewrite(len(self.app.mempool)):
            self.journal.rewrite(tx.raw for tx in self.app.mempool.pending())
        for tx, exc in result.rejected:
            log.info("dropped tx 0x%s at execution: %s", tx.hash.hex(), exc.message)
        log.info("block %d 0x%s txs=%d gas=%d base_fee=%d", block.number,
                 block.hash.hex()[:12], count, block.header.gas_used, block.header.base_fee)
        for listener in self.on_block:
            listener(block)
        return block

    async def aclose(self) -> None:
        """:meth:`close`, after stopping the decoding workers if they run."""
        if self.sender_pool is not None:
            await self.sender_pool.aclose()
        self.close()

    def close(self) -> None:
        """Close the database and the journal (the node is unusable afterwards)."""
        if self.journal is not None:
            self.journal.close()
        self.store.close()

    def _replay(self, journal: TxJournal) -> None:
        """Re-admit the journal's transactions through every check, then keep only those."""
        raws = journal.load()
        refused: dict[str, int] = {}
        for raw in raws:
            try:
                self.app.check_tx(raw)
            except TxRejected as exc:  # mined meanwhile (nonce_too_low), replaced, or now invalid
                refused[exc.code] = refused.get(exc.code, 0) + 1
        journal.rewrite(tx.raw for tx in self.app.mempool.pending())
        self.metrics.mempool_size.set(len(self.app.mempool))
        if raws:
            log.info("journal: %d pending transactions re-admitted, %d not (%s)",
                     len(self.app.mempool), sum(refused.values()),
                     ", ".join(f"{code}={n}" for code, n in sorted(refused.items())) or "none")

    def block(self, number: int) -> Block | None:
        """A committed block with its transactions and receipts, or None."""
        if number in self._recent:
            return self._recent[number]
        if number > self.head.number or number < 0:
            return None
        header = self.store.header(number)
        if header is None:
            return None
        txs, receipts = [], []
        for sender, raw, receipt in self.store.block_txs(number):
            txs.append(decode_transaction(raw, self.spec.chain_id, sender=sender))
            receipts.append(decode_receipt(receipt))
        return Block(header, tuple(txs), tuple(receipts))

    def header(self, number: int) -> Header | None:
        """A committed block's header (no transactions decoded)."""
        if number in self._recent:
            return self._recent[number].header
        return self.store.header(number) if 0 <= number <= self.head.number else None

    def receipts(self, number: int) -> list[Receipt]:
        """A committed block's receipts, in order (transactions are not decoded)."""
        if number in self._recent:
            return list(self._recent[number].receipts)
        return [decode_receipt(receipt) for _, _, receipt in self.store.block_txs(number)]

    def block_by_hash(self, block_hash: bytes) -> Block | None:
        for block in reversed(self._recent.values()):
            if block.hash == block_hash:
                return block
        number = self.store.block_number_of(block_hash)
        return None if number is None else self.block(number)

    def find_tx(self, tx_hash: bytes) -> TxLocation | None:
        """Where a committed transaction is, or None (pending or unknown)."""
        found = self._recent_txs.get(tx_hash)
        if found is None:
            row = self.store.tx(tx_hash)
            if row is None:
                return None
            found = (row[0], row[1])
        block = self.block(found[0])
        return None if block is None else TxLocation(block, found[1])

    def _remember(self, block: Block) -> None:
        self._recent[block.number] = block
        for index, tx in enumerate(block.transactions):
            self._recent_txs[tx.hash] = (block.number, index)
        while len(self._recent) > 1 and (len(self._recent) > RECENT_BLOCKS
                                         or len(self._recent_txs) > RECENT_TXS):
            _, old = self._recent.popitem(last=False)
            for tx in old.transactions:
                self._recent_txs.pop(tx.hash, None)
