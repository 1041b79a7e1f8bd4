"""Polling filters: ``eth_newFilter``, ``eth_newBlockFilter``, ``eth_newPendingTransactionFilter``,
``eth_getFilterChanges``, ``eth_getFilterLogs``, ``eth_uninstallFilter``.

Filters live in the node's memory only (a restart forgets them, as in geth). They are bounded:
at most :data:`MAX_FILTERS` at once (the oldest-polled one is evicted for a new one), each
expires :data:`FILTER_TTL_S` seconds after its last poll, and a pending-transaction filter keeps
at most :data:`MAX_PENDING_HASHES` unread hashes (the oldest are dropped).
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moderntensor.chain.errors import InvalidParams, NotFound
from moderntensor.chain.log_query import LogQuery, logs_of, parse_log_query, read_logs
from moderntensor.chain.rpc_params import data, expect_count

MAX_FILTERS = 1_000
FILTER_TTL_S = 300.0  # geth's deadline: five minutes without a poll
MAX_PENDING_HASHES = 10_000
MAX_BLOCK_HASHES = 1_000  # block hashes one eth_getFilterChanges returns (the rest next time)


@dataclass
class _Filter:
    kind: str  # "logs", "blocks" or "pending"
    polled_at: float
    next_block: int  # the first block not yet reported (block and log filters)
    query: LogQuery | None = None
    pending: deque[bytes] = field(default_factory=lambda: deque(maxlen=MAX_PENDING_HASHES))


class FilterRegistry:
    """The node's installed filters. ``clock`` is monotonic seconds (injectable for tests)."""

    def __init__(self, node: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self.node = node
        self.clock = clock
        self._filters: dict[str, _Filter] = {}

    def __len__(self) -> int:
        return len(self._filters)

    def install(self, kind: str, query: LogQuery | None = None) -> str:
        """A new filter's id; evicts expired filters, then the least recently polled if full."""
        self.expire()
        if len(self._filters) >= MAX_FILTERS:
            oldest = min(self._filters, key=lambda key: self._filters[key].polled_at)
            del self._filters[oldest]
        if kind == "pending" and not self._filters_of("pending"):
            self.node.on_tx.append(self._on_tx)
        filter_id = "0x" + secrets.token_hex(16)
        start = self.node.head.number + 1
        if query is not None and query.first is not None:
            start = query.first
        self._filters[filter_id] = _Filter(kind, self.clock(), start, query)
        return filter_id

    def uninstall(self, filter_id: str) -> bool:
        removed = self._filters.pop(filter_id, None) is not None
        self._unhook_if_idle()
        return removed

    def changes(self, filter_id: str) -> list[Any]:
        """What happened since the last poll: block hashes, tx hashes or logs."""
        entry = self._get(filter_id)
        head = self.node.head.number
        if entry.kind == "pending":
            hashes = [data(h) for h in entry.pending]
            entry.pending.clear()
            return hashes
        if entry.kind == "blocks":
            last = min(head, entry.next_block + MAX_BLOCK_HASHES - 1)
            hashes = [data(self.node.header(n).hash) for n in range(entry.next_block, last + 1)]
            entry.next_block = max(entry.next_block, last + 1)
            return hashes
        query = entry.query
        assert query is not None
        last = head if query.last is None else min(query.last, head)
        logs = read_logs(self.node, query, entry.next_block, last)
        entry.next_block = max(entry.next_block, last + 1)
        return logs

    def all_logs(self, filter_id: str) -> list[Any]:
        entry = self._get(filter_id)
        if entry.kind != "logs" or entry.query is None:
            raise InvalidParams("eth_getFilterLogs takes a log filter (eth_newFilter)",
                                code="not_a_log_filter")
        return logs_of(self.node, entry.query)

    def expire(self) -> None:
        deadline = self.clock() - FILTER_TTL_S
        for key in [k for k, f in self._filters.items() if f.polled_at < deadline]:
            del self._filters[key]
        self._unhook_if_idle()

    def _get(self, filter_id: Any) -> _Filter:
        self.expire()
        entry = self._filters.get(filter_id) if isinstance(filter_id, str) else None
        if entry is None:
            raise NotFound("filter not found (unknown, uninstalled, or expired after "
                           f"{FILTER_TTL_S:.0f} s without a poll)", code="filter_not_found")
        entry.polled_at = self.clock()
        return entry

    def _filters_of(self, kind: str) -> list[_Filter]:
        return [f for f in self._filters.values() if f.kind == kind]

    def _on_tx(self, tx: Any) -> None:
        for entry in self._filters_of("pending"):
            entry.pending.append(tx.hash)

    def _unhook_if_idle(self) -> None:
        if not self._filters_of("pending") and self._on_tx in self.node.on_tx:
            self.node.on_tx.remove(self._on_tx)


def new_filter(node: Any, params: list) -> str:
    expect_count(params, 1, 1)
    return node.filters.install("logs", parse_log_query(params[0], node.head.number))


def new_block_filter(node: Any, params: list) -> str:
    expect_count(params, 0, 0)
    return node.filters.install("blocks")


def new_pending_transaction_filter(node: Any, params: list) -> str:
    expect_count(params, 0, 1)  # geth takes an optional "full transactions" flag; hashes only
    return node.filters.install("pending")


def get_filter_changes(node: Any, params: list) -> list[Any]:
    expect_count(params, 1, 1)
    return node.filters.changes(params[0])


def get_filter_logs(node: Any, params: list) -> list[Any]:
    expect_count(params, 1, 1)
    return node.filters.all_logs(params[0])


def uninstall_filter(node: Any, params: list) -> bool:
    expect_count(params, 1, 1)
    return node.filters.uninstall(params[0]) if isinstance(params[0], str) else False


FILTER_METHODS = {
    "eth_newFilter": new_filter, "eth_newBlockFilter": new_block_filter,
    "eth_newPendingTransactionFilter": new_pending_transaction_filter,
    "eth_getFilterChanges": get_filter_changes, "eth_getFilterLogs": get_filter_logs,
    "eth_uninstallFilter": uninstall_filter,
}
