"""Decode and validate signed Ethereum transactions (legacy EIP-155, EIP-2930, EIP-1559).

The RLP layouts are eth-account's own serializers and the signature recovery is eth-keys'
(libsecp256k1 through coincurve); this module only strings them together once per
transaction, without eth-account's dict round trips, which cost ~4x the recovery itself.

>>> from eth_account import Account
>>> key = "0x" + "11" * 32
>>> raw = Account.sign_transaction({"to": "0x" + "22" * 20, "value": 1, "gas": 21000,
...     "gasPrice": 10**9, "nonce": 0, "chainId": 1337}, key).raw_transaction
>>> tx = decode_transaction(bytes(raw), chain_id=1337)
>>> tx.sender == bytes.fromhex(Account.from_key(key).address[2:])
True
"""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from eth_account._utils.legacy_transactions import ChainAwareUnsignedTransaction, Transaction
from eth_account.typed_transactions.access_list_transaction import AccessListTransaction
from eth_account.typed_transactions.dynamic_fee_transaction import DynamicFeeTransaction
from eth_keys import keys
from eth_keys.exceptions import BadSignature, ValidationError
from eth_utils import keccak

from moderntensor.chain.errors import TxRejected

MAX_TX_BYTES = 128 * 1024  # geth's txMaxSize: bounds memory per mempool entry
TX_BASE_GAS = 21_000  # intrinsic cost of any transaction (yellow paper G_transaction)
TX_DATA_ZERO_GAS = 4  # per zero byte of calldata (G_txdatazero)
TX_DATA_NONZERO_GAS = 16  # per non-zero byte of calldata (EIP-2028)
ACCESS_LIST_ADDRESS_GAS = 2_400  # EIP-2930
ACCESS_LIST_KEY_GAS = 1_900  # EIP-2930
MAX_UINT64 = 2**64 - 1
MAX_UINT256 = 2**256 - 1
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

_TYPED = {1: AccessListTransaction, 2: DynamicFeeTransaction}


@dataclass(frozen=True, slots=True)
class SignedTx:
    """A decoded, signature-checked transaction. ``max_fee == max_priority_fee == gasPrice``
    for legacy and EIP-2930 transactions."""

    hash: bytes
    raw: bytes
    type: int
    chain_id: int
    nonce: int
    sender: bytes
    to: bytes
    value: int
    gas: int
    max_fee: int
    max_priority_fee: int
    data: bytes
    access_list: tuple[tuple[bytes, tuple[int, ...]], ...]
    v: int
    r: int
    s: int


def decode_transaction(raw: bytes, chain_id: int, sender: bytes | None = None) -> SignedTx:
    """Decode ``raw``, check everything that needs no state, and recover the sender.

    ``sender`` skips recovery for transactions that were already verified (read back from the
    store). Raises :class:`TxRejected` with a stable code (see :mod:`.errors`).
    """
    if len(raw) > MAX_TX_BYTES:
        raise TxRejected(f"transaction is {len(raw)} bytes; the limit is {MAX_TX_BYTES}",
                         code="tx_too_large")
    if not raw:
        raise TxRejected("empty transaction bytes", code="invalid_rlp")
    kind = raw[0]
    if kind >= 0xC0:
        tx = _decode_legacy(raw, chain_id)
    elif kind in _TYPED:
        tx = _decode_typed(raw, kind, chain_id)
    elif kind <= 0x7F:
        raise TxRejected(f"transaction type {kind} is not supported (use 0, 1 or 2)",
                         code="unsupported_tx_type")
    else:
        raise TxRejected("transaction bytes are not an RLP list or a typed envelope",
                         code="invalid_rlp")
    fields, signing_hash, tx_chain_id, v = tx
    if tx_chain_id != chain_id:
        raise TxRejected(f"transaction is for chain id {tx_chain_id}; this chain is {chain_id}",
                         code="wrong_chain_id")
    if sender is None:
        sender = _recover(signing_hash, v, fields["r"], fields["s"])
    signed = SignedTx(hash=keccak(raw), raw=raw, type=0 if kind >= 0xC0 else kind,
                      chain_id=tx_chain_id, sender=sender, v=fields["v"], **_common(fields))
    _check_ranges(signed)
    return signed


def intrinsic_gas(tx: SignedTx) -> int:
    """Gas charged before execution: base + calldata + access list (as in Ethereum)."""
    zeros = tx.data.count(0)
    gas = TX_BASE_GAS + zeros * TX_DATA_ZERO_GAS + (len(tx.data) - zeros) * TX_DATA_NONZERO_GAS
    for _, storage_keys in tx.access_list:
        gas += ACCESS_LIST_ADDRESS_GAS + len(storage_keys) * ACCESS_LIST_KEY_GAS
    return gas


def effective_gas_price(tx: SignedTx, base_fee: int) -> int:
    """What the sender pays per gas: EIP-1559 ``min(max_fee, base_fee + tip)``."""
    return min(tx.max_fee, base_fee + tx.max_priority_fee)


def _decode_legacy(raw: bytes, chain_id: int) -> tuple[dict, bytes, int, int]:
    try:
        tx = rlp.decode(raw, Transaction)
    except Exception as exc:  # rlp raises several unrelated types for bad input
        raise TxRejected(f"malformed legacy transaction RLP: {exc}", code="invalid_rlp") from None
    if tx.v in (27, 28):
        raise TxRejected("transaction is not replay-protected (pre-EIP-155); sign it with "
                         f"chainId {chain_id}", code="wrong_chain_id")
    if tx.v < 37:
        raise TxRejected(f"invalid signature v={tx.v}", code="invalid_signature")
    tx_chain_id, recovery = divmod(tx.v - 35, 2)
    unsigned = ChainAwareUnsignedTransaction(
        tx.nonce, tx.gasPrice, tx.gas, tx.to, tx.value, tx.data, tx_chain_id, 0, 0)
    fields = {"nonce": tx.nonce, "maxFeePerGas": tx.gasPrice, "maxPriorityFeePerGas": tx.gasPrice,
              "gas": tx.gas, "to": tx.to, "value": tx.value, "data": tx.data,
              "accessList": (), "v": tx.v, "r": tx.r, "s": tx.s}
    return fields, keccak(rlp.encode(unsigned)), tx_chain_id, recovery


def _decode_typed(raw: bytes, kind: int, chain_id: int) -> tuple[dict, bytes, int, int]:
    cls = _TYPED[kind]
    try:
        tx = rlp.decode(raw[1:], cls._signed_transaction_serializer)
        signing_hash = keccak(raw[:1] + rlp.encode(cls._unsigned_transaction_serializer(*tx[:-3])))
    except Exception as exc:  # rlp raises several unrelated types for bad input
        raise TxRejected(f"malformed type-{kind} transaction RLP: {exc}",
                         code="invalid_rlp") from None
    fields = tx.as_dict()
    if kind == 1:
        fields["maxFeePerGas"] = fields["maxPriorityFeePerGas"] = fields.pop("gasPrice")
    if tx.v not in (0, 1):
        raise TxRejected(f"invalid signature y-parity {tx.v}", code="invalid_signature")
    return fields, signing_hash, tx.chainId, tx.v


def _common(fields: dict) -> dict:
    to = fields["to"]
    if not to:
        raise TxRejected("contract creation is not supported on Luxtensor (no EVM); "
                         "set a 'to' address", code="contract_creation_unsupported")
    # eth-account's access-list sedes yields storage keys as ints (uint256)
    access_list = tuple((bytes(entry[0]), tuple(
        k if isinstance(k, int) else int.from_bytes(k, "big") for k in entry[1]))
        for entry in fields["accessList"])
    return {"nonce": fields["nonce"], "to": bytes(to), "value": fields["value"],
            "gas": fields["gas"], "max_fee": fields["maxFeePerGas"],
            "max_priority_fee": fields["maxPriorityFeePerGas"], "data": bytes(fields["data"]),
            "access_list": access_list, "r": fields["r"], "s": fields["s"]}


def _recover(signing_hash: bytes, recovery: int, r: int, s: int) -> bytes:
    if not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        raise TxRejected("signature r/s out of range", code="invalid_signature")
    if s > SECP256K1_N // 2:  # EIP-2: (r, n - s) would be a second valid signature, a new hash
        raise TxRejected("signature s is in the upper half of the curve order; EIP-2 accepts "
                         "only the low-s form (every standard signer produces it)",
                         code="high_s_signature")
    try:
        signature = keys.Signature(vrs=(recovery, r, s))
        return signature.recover_public_key_from_msg_hash(signing_hash).to_canonical_address()
    except (BadSignature, ValidationError, ValueError) as exc:
        raise TxRejected(f"signature does not recover a public key: {exc}",
                         code="invalid_signature") from None


def _check_ranges(tx: SignedTx) -> None:
    if tx.nonce > MAX_UINT64 - 1:
        raise TxRejected("nonce exceeds 2^64-1", code="nonce_too_high")
    if tx.gas > MAX_UINT64:
        raise TxRejected("gas limit exceeds 2^64-1", code="exceeds_block_gas_limit")
    for name in ("value", "max_fee", "max_priority_fee"):
        if getattr(tx, name) > MAX_UINT256:
            raise TxRejected(f"{name} exceeds 2^256-1", code="invalid_rlp")
    if tx.max_priority_fee > tx.max_fee:
        raise TxRejected(f"maxPriorityFeePerGas {tx.max_priority_fee} exceeds maxFeePerGas "
                         f"{tx.max_fee}", code="fee_cap_below_tip")
    if tx.gas < intrinsic_gas(tx):
        raise TxRejected(f"gas limit {tx.gas} is below the intrinsic gas {intrinsic_gas(tx)}",
                         code="intrinsic_gas_too_low")
