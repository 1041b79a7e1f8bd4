"""Blocks, receipts and logs: plain dataclasses and their hashes.

The block hash is ``keccak(rlp(header fields))``. The transactions root and the receipts root are
``keccak(rlp(list))`` of the raw transactions and of ``[status, cumulative gas, logs]`` per
receipt: a sound commitment, simpler than Ethereum's Merkle-Patricia trie (no inclusion proofs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import rlp
from rlp.codec import encode_raw

from moderntensor.chain.txs import SignedTx, big_endian
from moderntensor.protocol.keccak import keccak

ZERO_HASH = b"\x00" * 32
ZERO_ADDRESS = b"\x00" * 20
EMPTY_LIST_HASH = keccak(rlp.encode([]))  # sha3Uncles of a block without uncles
BLOOM_BYTES = 256
# Logs emitted at block end (epoch closes: EpochRewarded) belong to no transaction; they carry
# this pseudo transaction hash, keccak("luxtensor/end-block" || block hash), and the
# transaction index one past the block's last transaction, so tools never see a zero hash.
END_BLOCK_TX_TAG = b"luxtensor/end-block"


def end_block_tx_hash(block_hash: bytes) -> bytes:
    """The pseudo transaction hash of a block's end-block logs."""
    return keccak(END_BLOCK_TX_TAG + block_hash)


@dataclass(frozen=True, slots=True)
class ReceiptLog:
    address: bytes
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True, slots=True)
class Receipt:
    """The outcome of one transaction. ``error`` is the failed system call's (code, message)."""

    status: int
    gas_used: int
    cumulative_gas_used: int
    effective_gas_price: int
    logs: tuple[ReceiptLog, ...] = ()
    error: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Header:
    number: int
    parent_hash: bytes
    timestamp: int
    coinbase: bytes
    state_root: bytes
    transactions_root: bytes
    receipts_root: bytes
    logs_bloom: bytes
    gas_used: int
    gas_limit: int
    base_fee: int

    def encode(self) -> bytes:
        return rlp.encode([self.number, self.parent_hash, self.timestamp, self.coinbase,
                           self.state_root, self.transactions_root, self.receipts_root,
                           self.logs_bloom, self.gas_used, self.gas_limit, self.base_fee])

    @classmethod
    def decode(cls, data: bytes) -> Header:
        items = rlp.decode(data)
        ints = {0, 2, 8, 9, 10}
        values = [int.from_bytes(v, "big") if i in ints else bytes(v) for i, v in enumerate(items)]
        return cls(*values)

    @property
    def hash(self) -> bytes:
        return keccak(self.encode())


@dataclass(frozen=True, slots=True)
class Block:
    header: Header
    transactions: tuple[SignedTx, ...] = ()
    receipts: tuple[Receipt, ...] = field(default=(), compare=False)
    end_block_logs: tuple[ReceiptLog, ...] = field(default=(), compare=False)

    @property
    def number(self) -> int:
        return self.header.number

    @property
    def hash(self) -> bytes:
        return self.header.hash


# The roots encode thousands of items per block: byte strings go to rlp's raw encoder, which
# skips the per-item type inference of rlp.encode (the same bytes, several times cheaper).


def transactions_root(txs: tuple[SignedTx, ...] | list[SignedTx]) -> bytes:
    return keccak(encode_raw([tx.raw for tx in txs]))


def receipts_root(receipts: tuple[Receipt, ...] | list[Receipt]) -> bytes:
    return keccak(encode_raw([
        [big_endian(r.status), big_endian(r.cumulative_gas_used),
         [[log.address, list(log.topics), log.data] for log in r.logs]]
        for r in receipts
    ]))


def logs_bloom(logs: list[ReceiptLog] | tuple[ReceiptLog, ...]) -> bytes:
    """Ethereum's 2048-bit log bloom (yellow paper M3:2048) over addresses and topics."""
    bits = 0
    for log in logs:
        for item in (log.address, *log.topics):
            digest = keccak(item)
            for i in (0, 2, 4):
                bits |= 1 << (((digest[i] << 8) | digest[i + 1]) & 2047)
    return bits.to_bytes(BLOOM_BYTES, "big")
