"""Ethereum JSON shapes of blocks, transactions, receipts and logs (what web3.py expects)."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

from moderntensor.chain.blocks import (
    EMPTY_LIST_HASH,
    ZERO_HASH,
    Block,
    Header,
    ReceiptLog,
    logs_bloom,
)
from moderntensor.chain.rpc_params import data, quantity
from moderntensor.chain.txs import SignedTx, effective_gas_price


def address(value: bytes) -> str:
    return to_checksum_address(value)


def tx_json(tx: SignedTx, block: Block | None = None, index: int | None = None) -> dict[str, Any]:
    """A transaction; ``block`` None means pending (blockHash/blockNumber null)."""
    if block is None:
        gas_price = tx.max_fee
    elif tx.type == 2:
        gas_price = effective_gas_price(tx, block.header.base_fee)
    else:
        gas_price = tx.max_fee
    result: dict[str, Any] = {
        "hash": data(tx.hash), "type": quantity(tx.type), "chainId": quantity(tx.chain_id),
        "nonce": quantity(tx.nonce), "from": address(tx.sender), "to": address(tx.to),
        "value": quantity(tx.value), "gas": quantity(tx.gas), "gasPrice": quantity(gas_price),
        "input": data(tx.data), "v": quantity(tx.v), "r": quantity(tx.r), "s": quantity(tx.s),
        "blockHash": data(block.hash) if block else None,
        "blockNumber": quantity(block.number) if block else None,
        "transactionIndex": quantity(index) if block is not None and index is not None else None,
    }
    if tx.type >= 1:
        result["accessList"] = [
            {"address": address(a), "storageKeys": ["0x" + k.to_bytes(32, "big").hex()
                                                    for k in keys]}
            for a, keys in tx.access_list]
        result["yParity"] = quantity(tx.v)
    if tx.type == 2:
        result["maxFeePerGas"] = quantity(tx.max_fee)
        result["maxPriorityFeePerGas"] = quantity(tx.max_priority_fee)
    return result


def log_json(entry: ReceiptLog, header: Header, block_hash: bytes, tx_hash: bytes, tx_index: int,
             log_index: int) -> dict[str, Any]:
    return {"address": address(entry.address), "topics": [data(t) for t in entry.topics],
            "data": data(entry.data), "blockNumber": quantity(header.number),
            "blockHash": data(block_hash), "transactionHash": data(tx_hash),
            "transactionIndex": quantity(tx_index), "logIndex": quantity(log_index),
            "removed": False}


def receipt_json(block: Block, index: int) -> dict[str, Any]:
    tx = block.transactions[index]
    receipt = block.receipts[index]
    first_log = sum(len(r.logs) for r in block.receipts[:index])
    block_hash = block.hash
    logs = [log_json(entry, block.header, block_hash, tx.hash, index, first_log + i)
            for i, entry in enumerate(receipt.logs)]
    result: dict[str, Any] = {
        "transactionHash": data(tx.hash), "transactionIndex": quantity(index),
        "blockHash": data(block_hash), "blockNumber": quantity(block.number),
        "from": address(tx.sender), "to": address(tx.to),
        "cumulativeGasUsed": quantity(receipt.cumulative_gas_used),
        "gasUsed": quantity(receipt.gas_used),
        "effectiveGasPrice": quantity(receipt.effective_gas_price),
        "contractAddress": None, "logs": logs, "logsBloom": data(logs_bloom(receipt.logs)),
        "status": quantity(receipt.status), "type": quantity(tx.type),
    }
    if receipt.error is not None:  # a failed system call says why (non-standard, additive)
        result["error"] = {"code": receipt.error[0], "message": receipt.error[1]}
    return result


def block_json(block: Block, full: bool) -> dict[str, Any]:
    header = block.header
    block_hash = block.hash
    if full:
        txs: list[Any] = [tx_json(tx, block, i) for i, tx in enumerate(block.transactions)]
    else:
        txs = [data(tx.hash) for tx in block.transactions]
    size = len(header.encode()) + sum(len(tx.raw) for tx in block.transactions)
    return {
        "number": quantity(header.number), "hash": data(block_hash),
        "parentHash": data(header.parent_hash), "nonce": "0x0000000000000000",
        "mixHash": data(ZERO_HASH), "sha3Uncles": data(EMPTY_LIST_HASH),
        "logsBloom": data(header.logs_bloom), "transactionsRoot": data(header.transactions_root),
        "stateRoot": data(header.state_root), "receiptsRoot": data(header.receipts_root),
        "miner": address(header.coinbase), "difficulty": "0x0", "totalDifficulty": "0x0",
        "extraData": "0x", "size": quantity(size), "gasLimit": quantity(header.gas_limit),
        "gasUsed": quantity(header.gas_used), "timestamp": quantity(header.timestamp),
        "baseFeePerGas": quantity(header.base_fee), "transactions": txs, "uncles": [],
    }

