"""The mempool: pending transactions per sender, in nonce order, without gaps.

Rules (geth-like, simplified for a single producer):

- A sender's pending transactions have consecutive nonces from its account nonce on, so the
  *pending nonce* is ``account nonce + pending count``. A nonce below the account nonce is
  ``nonce_too_low``; above the pending nonce ``nonce_too_high`` (no queue of future txs).
- Same nonce as a pending tx: a *replacement*, accepted only if both its fee cap and its tip are
  at least :data:`PRICE_BUMP_PERCENT` higher (``replacement_underpriced`` otherwise).
- A sender's pending txs together must be affordable (value + gas x max fee, each).
- Limits: ``max_per_sender`` (``sender_limit``) and ``max_size``; when full, the newcomer evicts
  the cheapest tail transaction of another sender if it tips more, else ``mempool_full``.
- Block selection: highest tip first across senders, nonce order within a sender.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

from moderntensor.chain.errors import LimitExceeded, TxRejected
from moderntensor.chain.execution import validate_tx
from moderntensor.chain.extensions import Extensions
from moderntensor.chain.state import State, get_account
from moderntensor.chain.txs import SignedTx

PRICE_BUMP_PERCENT = 10  # geth's default replacement bump
DEFAULT_MAX_SIZE = 20_000
DEFAULT_MAX_PER_SENDER = 2_048


@dataclass(slots=True)
class _Entry:
    tx: SignedTx
    cost: int  # what it may spend: value (+ gas x max fee unless fee-free)
    fee_free: bool
    seq: int  # arrival order, the tie-breaker


class Mempool:
    def __init__(self, max_size: int = DEFAULT_MAX_SIZE,
                 max_per_sender: int = DEFAULT_MAX_PER_SENDER) -> None:
        self.max_size = max_size
        self.max_per_sender = max_per_sender
        self.by_sender: dict[bytes, dict[int, _Entry]] = {}
        self.by_hash: dict[bytes, _Entry] = {}
        self.reserved: dict[bytes, int] = {}
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self.by_hash)

    def __contains__(self, tx_hash: bytes) -> bool:
        return tx_hash in self.by_hash

    def get(self, tx_hash: bytes) -> SignedTx | None:
        entry = self.by_hash.get(tx_hash)
        return entry.tx if entry else None

    def pending(self) -> list[SignedTx]:
        """Every pending transaction, each sender's in nonce order (an order that re-admits)."""
        return [queue[nonce].tx for queue in self.by_sender.values() for nonce in sorted(queue)]

    def pending_nonce(self, state: State, sender: bytes) -> int:
        return get_account(state, sender).nonce + len(self.by_sender.get(sender, ()))

    def add(self, tx: SignedTx, state: State, ext: Extensions, *, base_fee: int,
            gas_limit: int) -> None:
        """Admit ``tx`` or raise :class:`TxRejected` saying why; nothing changes on rejection."""
        if tx.hash in self.by_hash:
            raise TxRejected(f"transaction 0x{tx.hash.hex()} is already pending",
                             code="already_known")
        queue = self.by_sender.get(tx.sender, {})
        account_nonce = get_account(state, tx.sender).nonce
        next_nonce = account_nonce + len(queue)
        if tx.nonce < account_nonce:
            raise TxRejected(f"nonce too low: tx nonce {tx.nonce}, account nonce {account_nonce}",
                             code="nonce_too_low")
        if tx.nonce > next_nonce:
            raise TxRejected(f"nonce too high: tx nonce {tx.nonce}, next expected {next_nonce} "
                             "(gaps are not queued)", code="nonce_too_high")
        old = queue.get(tx.nonce)
        if old is not None and not _bumps(tx, old.tx):
            raise TxRejected(
                f"replacement underpriced: raise both maxFeePerGas and maxPriorityFeePerGas by "
                f">= {PRICE_BUMP_PERCENT}% over the pending tx 0x{old.tx.hash.hex()}",
                code="replacement_underpriced")
        reserved = self.reserved.get(tx.sender, 0) - (old.cost if old else 0)
        fee_free = validate_tx(state, ext, tx, base_fee=base_fee, gas_limit=gas_limit, nonce=None,
                            reserved=reserved)
        if old is None:
            if len(queue) >= self.max_per_sender:
                raise LimitExceeded(f"sender 0x{tx.sender.hex()} already has "
                                    f"{len(queue)} pending txs (limit {self.max_per_sender})",
                                    code="sender_limit")
            if len(self.by_hash) >= self.max_size:
                self._evict_for(tx)
        else:
            self._drop(old)
        cost = tx.value if fee_free else tx.value + tx.gas * tx.max_fee
        entry = _Entry(tx, cost, fee_free, next(self._seq))
        self.by_sender.setdefault(tx.sender, {})[tx.nonce] = entry
        self.by_hash[tx.hash] = entry
        self.reserved[tx.sender] = self.reserved.get(tx.sender, 0) + cost

    def select(self, base_fee: int, gas_limit: int) -> list[SignedTx]:
        """Candidates for the next block: best tip first, nonce order per sender, within gas."""
        heap: list[tuple[int, int, bytes, int]] = []
        for sender, queue in self.by_sender.items():
            first = min(queue)
            heapq.heappush(heap, self._key(queue[first], base_fee, sender, first))
        chosen: list[SignedTx] = []
        gas = 0
        while heap:
            _, _, sender, nonce = heapq.heappop(heap)
            entry = self.by_sender[sender][nonce]
            if not entry.fee_free and entry.tx.max_fee < base_fee:
                continue  # this sender waits for a lower base fee
            if gas + entry.tx.gas > gas_limit:
                continue
            chosen.append(entry.tx)
            gas += entry.tx.gas
            following = self.by_sender[sender].get(nonce + 1)
            if following is not None:
                heapq.heappush(heap, self._key(following, base_fee, sender, nonce + 1))
        return chosen

    def remove_stale(self, state: State, senders: set[bytes], dropped: list[SignedTx]) -> None:
        """After a block: forget txs that are mined, and ``dropped`` ones with their successors."""
        for tx in dropped:
            queue = self.by_sender.get(tx.sender, {})
            for nonce in [n for n in queue if n >= tx.nonce]:
                self._drop(queue[nonce])
        for sender in senders:
            account_nonce = get_account(state, sender).nonce
            queue = self.by_sender.get(sender, {})
            for nonce in [n for n in queue if n < account_nonce]:
                self._drop(queue[nonce])

    def _key(self, entry: _Entry, base_fee: int, sender: bytes,
             nonce: int) -> tuple[int, int, bytes, int]:
        tip = 0 if entry.fee_free else min(entry.tx.max_priority_fee, entry.tx.max_fee - base_fee)
        return (-tip, entry.seq, sender, nonce)

    def _evict_for(self, tx: SignedTx) -> None:
        """Make room by dropping the lowest-tipping tail tx of another sender, if cheaper."""
        victim = None
        for sender, queue in self.by_sender.items():
            if sender == tx.sender or not queue:
                continue
            tail = queue[max(queue)]
            if victim is None or tail.tx.max_priority_fee < victim.tx.max_priority_fee:
                victim = tail
        if victim is None or victim.tx.max_priority_fee >= tx.max_priority_fee:
            raise LimitExceeded(f"mempool is full ({self.max_size} txs) and this tx does not tip "
                                "more than the cheapest pending one; retry later or raise the tip",
                                code="mempool_full")
        self._drop(victim)

    def _drop(self, entry: _Entry) -> None:
        tx = entry.tx
        queue = self.by_sender[tx.sender]
        del queue[tx.nonce]
        del self.by_hash[tx.hash]
        self.reserved[tx.sender] -= entry.cost
        if not queue:
            del self.by_sender[tx.sender]
            del self.reserved[tx.sender]


def _bumps(new: SignedTx, old: SignedTx) -> bool:
    def bumped(value: int) -> int:
        return value * (100 + PRICE_BUMP_PERCENT) // 100

    return new.max_fee >= bumped(old.max_fee) and new.max_priority_fee >= bumped(
        old.max_priority_fee)
