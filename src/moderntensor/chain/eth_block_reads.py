"""Block reads by index and count: ``eth_getBlockTransactionCountByHash``/``ByNumber``,
``eth_getTransactionByBlockHashAndIndex``/``NumberAndIndex`` and ``eth_getBlockReceipts``.

An unknown block answers null, as in geth; so does an index past the block's transactions.
"""

from __future__ import annotations

from typing import Any

from moderntensor.chain.eth_json import receipt_json, tx_json
from moderntensor.chain.rpc_params import (
    expect_count,
    parse_block_number,
    parse_hash,
    parse_quantity,
    quantity,
)


def _by_number(node: Any, value: Any) -> Any:
    return node.block(parse_block_number(value, node.head.number))


def _by_hash(node: Any, value: Any) -> Any:
    return node.block_by_hash(parse_hash(value, "block hash"))


def _by_number_or_hash(node: Any, value: Any) -> Any:
    """A tag, a number, a block hash, or EIP-1898 ``{blockHash}``/``{blockNumber}``."""
    if isinstance(value, dict):
        if "blockHash" in value:
            return _by_hash(node, value["blockHash"])
        value = value.get("blockNumber", "latest")
    if isinstance(value, str) and len(value) == 66:
        return _by_hash(node, value)
    return _by_number(node, value)


def _count(block: Any) -> str | None:
    return None if block is None else quantity(len(block.transactions))


def _at(block: Any, raw_index: Any) -> dict[str, Any] | None:
    index = parse_quantity(raw_index, "index")
    if block is None or index >= len(block.transactions):
        return None
    return tx_json(block.transactions[index], block, index)


def count_by_hash(node: Any, params: list) -> str | None:
    expect_count(params, 1, 1)
    return _count(_by_hash(node, params[0]))


def count_by_number(node: Any, params: list) -> str | None:
    expect_count(params, 1, 1)
    return _count(_by_number(node, params[0]))


def tx_by_hash_and_index(node: Any, params: list) -> dict[str, Any] | None:
    expect_count(params, 2, 2)
    return _at(_by_hash(node, params[0]), params[1])


def tx_by_number_and_index(node: Any, params: list) -> dict[str, Any] | None:
    expect_count(params, 2, 2)
    return _at(_by_number(node, params[0]), params[1])


def block_receipts(node: Any, params: list) -> list[dict[str, Any]] | None:
    expect_count(params, 1, 1)
    block = _by_number_or_hash(node, params[0])
    if block is None:
        return None
    return [receipt_json(block, i) for i in range(len(block.transactions))]


BLOCK_READ_METHODS = {
    "eth_getBlockTransactionCountByHash": count_by_hash,
    "eth_getBlockTransactionCountByNumber": count_by_number,
    "eth_getTransactionByBlockHashAndIndex": tx_by_hash_and_index,
    "eth_getTransactionByBlockNumberAndIndex": tx_by_number_and_index,
    "eth_getBlockReceipts": block_receipts,
}
