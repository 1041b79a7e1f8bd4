"""Log queries shared by ``eth_getLogs``, log filters and ``logs`` subscriptions: parsing the
filter object once, and reading matching logs from the store in chain order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moderntensor.chain.blocks import ZERO_HASH, ReceiptLog, end_block_tx_hash
from moderntensor.chain.errors import InvalidParams, LimitExceeded, NotFound
from moderntensor.chain.eth_json import log_json
from moderntensor.chain.rpc_params import parse_address, parse_block_number, parse_hash

MAX_LOG_RANGE = 10_000  # blocks one query may scan
MAX_LOGS = 10_000  # logs one query may return


@dataclass(frozen=True)
class LogQuery:
    """A parsed filter object. ``first``/``last`` None: follow the head ("latest")."""

    first: int | None
    last: int | None
    addresses: tuple[bytes, ...]
    topics: tuple[tuple[bytes, ...] | None, ...]
    block_hash: bytes | None = None

    def matches(self, entry: ReceiptLog) -> bool:
        """Whether a log passes the address and topic filters (not the block range)."""
        if self.addresses and entry.address not in self.addresses:
            return False
        for position, options in enumerate(self.topics):
            if options is not None and (position >= len(entry.topics)
                                        or entry.topics[position] not in options):
                return False
        return True


def parse_log_query(query: Any, head: int) -> LogQuery:
    """Parse an eth_getLogs / eth_newFilter object; block tags resolve against ``head`` except
    that an omitted or "latest" bound stays open (None) for filters that follow the head."""
    if not isinstance(query, dict):
        raise InvalidParams("the filter must be a JSON object")
    unknown = set(query) - {"fromBlock", "toBlock", "blockHash", "address", "topics"}
    if unknown:
        raise InvalidParams(f"unknown filter fields {sorted(unknown)[:4]}")
    block_hash = None
    first = last = None
    if "blockHash" in query:
        if "fromBlock" in query or "toBlock" in query:
            raise InvalidParams("give blockHash or fromBlock/toBlock, not both")
        block_hash = parse_hash(query["blockHash"], "blockHash")
    else:
        first = _bound(query.get("fromBlock", "latest"), head, "fromBlock")
        last = _bound(query.get("toBlock", "latest"), head, "toBlock")
    raw_addresses = query.get("address") or []
    if isinstance(raw_addresses, str):
        raw_addresses = [raw_addresses]
    if not isinstance(raw_addresses, list) or len(raw_addresses) > 100:
        raise InvalidParams("address is an address or a list of at most 100 addresses")
    addresses = tuple(parse_address(a) for a in raw_addresses)
    return LogQuery(first, last, addresses, _parse_topics(query.get("topics") or []), block_hash)


def read_logs(node: Any, query: LogQuery, first: int, last: int) -> list[dict[str, Any]]:
    """The logs matching ``query`` in blocks ``first..last`` as JSON, bounded in range and count."""
    if last - first + 1 > MAX_LOG_RANGE:
        raise LimitExceeded(f"block range {first}..{last} exceeds {MAX_LOG_RANGE} blocks; "
                            "split the query", code="range_too_large")
    if first > last:
        return []
    rows = node.store.logs(first, last, list(query.addresses),
                           [list(t) if t else None for t in query.topics], MAX_LOGS + 1)
    if len(rows) > MAX_LOGS:
        raise LimitExceeded(f"query matches more than {MAX_LOGS} logs; narrow it",
                            code="too_many_logs")
    headers: dict[int, Any] = {}
    result = []
    for number, index, tx_index, stored_hash, addr, *topic_cols, payload in rows:
        if number not in headers:
            headers[number] = node.header(number)
        header = headers[number]
        entry = ReceiptLog(bytes(addr), tuple(bytes(t) for t in topic_cols if t is not None),
                           bytes(payload))
        tx_hash = bytes(stored_hash)
        if tx_hash == ZERO_HASH:  # an end-block log written before the pseudo hash existed
            tx_hash = end_block_tx_hash(header.hash)
        result.append(log_json(entry, header, header.hash, tx_hash, tx_index, index))
    return result


def logs_of(node: Any, query: LogQuery) -> list[dict[str, Any]]:
    """eth_getLogs: the query's whole range (open bounds mean the head)."""
    head = node.head.number
    if query.block_hash is not None:
        number = node.store.block_number_of(query.block_hash)
        if number is None:
            raise NotFound("unknown block hash")
        return read_logs(node, query, number, number)
    first = head if query.first is None else query.first
    last = head if query.last is None else min(query.last, head)
    return read_logs(node, query, first, last)


def _bound(value: Any, head: int, name: str) -> int | None:
    if value in ("latest", "pending"):
        return None
    return parse_block_number(value, head, name)


def _parse_topics(value: Any) -> tuple[tuple[bytes, ...] | None, ...]:
    if not isinstance(value, list) or len(value) > 4:
        raise InvalidParams("topics is a list of at most 4 entries (null, a topic, or a list)")
    topics: list[tuple[bytes, ...] | None] = []
    for i, entry in enumerate(value):
        if entry is None:
            topics.append(None)
        elif isinstance(entry, list):
            if len(entry) > 100:
                raise InvalidParams(f"topics[{i}] lists more than 100 alternatives")
            topics.append(tuple(parse_hash(t, f"topics[{i}]") for t in entry) or None)
        else:
            topics.append((parse_hash(entry, f"topics[{i}]"),))
    return tuple(topics)


def block_logs_json(block: Any) -> list[tuple[ReceiptLog, dict[str, Any]]]:
    """Every log of a just-made block (receipts, then end-block logs) with its JSON; callers
    keep those their :meth:`LogQuery.matches` accepts."""
    block_hash = block.hash
    entries = [(entry, tx.hash, index) for index, (tx, receipt)
               in enumerate(zip(block.transactions, block.receipts, strict=True))
               for entry in receipt.logs]
    pseudo = end_block_tx_hash(block_hash)
    entries += [(entry, pseudo, len(block.transactions)) for entry in block.end_block_logs]
    return [(entry, log_json(entry, block.header, block_hash, tx_hash, tx_index, log_index))
            for log_index, (entry, tx_hash, tx_index) in enumerate(entries)]
