"""Decode and validate signed Ethereum transactions (legacy EIP-155, EIP-2930, EIP-1559).

RLP is decoded by ``rlp`` into plain lists and checked field by field here (eth-account's
Serializable sedes cost ~6x the signature recovery per transaction); the signature is
recovered by libsecp256k1 through coincurve, eth-keys' own backend. A test checks every form
against eth-account's serializers.

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

import coincurve
import rlp
from rlp.codec import consume_length_prefix, length_prefix

from moderntensor.chain.errors import TxRejected
from moderntensor.protocol.keccak import keccak

MAX_TX_BYTES = 128 * 1024  # geth's txMaxSize: bounds memory per mempool entry
TX_BASE_GAS = 21_000  # intrinsic cost of any transaction (yellow paper G_transaction)
TX_DATA_ZERO_GAS = 4  # per zero byte of calldata (G_txdatazero)
TX_DATA_NONZERO_GAS = 16  # per non-zero byte of calldata (EIP-2028)
ACCESS_LIST_ADDRESS_GAS = 2_400  # EIP-2930
ACCESS_LIST_KEY_GAS = 1_900  # EIP-2930
MAX_UINT64 = 2**64 - 1
MAX_UINT256 = 2**256 - 1
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


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
    elif kind in _LAYOUTS:
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


# Field layouts of the signed RLP lists (EIP-155 legacy, EIP-2930, EIP-1559).
_LEGACY = ("nonce", "maxFeePerGas", "gas", "to", "value", "data", "v", "r", "s")
_LAYOUTS = {
    1: ("chainId", "nonce", "maxFeePerGas", "gas", "to", "value", "data", "accessList",
        "v", "r", "s"),
    2: ("chainId", "nonce", "maxPriorityFeePerGas", "maxFeePerGas", "gas", "to", "value",
        "data", "accessList", "v", "r", "s"),
}
_BYTES_FIELDS = {"to", "data", "accessList"}


def _decode_legacy(raw: bytes, chain_id: int) -> tuple[dict, bytes, int, int]:
    items = _rlp_list(raw, len(_LEGACY), "legacy")
    fields = _typed_fields(items, _LEGACY, "legacy")
    fields["maxPriorityFeePerGas"] = fields["maxFeePerGas"]
    fields["accessList"] = ()
    v = fields["v"]
    if v in (27, 28):
        raise TxRejected("transaction is not replay-protected (pre-EIP-155); sign it with "
                         f"chainId {chain_id}", code="wrong_chain_id")
    if v < 37:
        raise TxRejected(f"invalid signature v={v}", code="invalid_signature")
    tx_chain_id, recovery = divmod(v - 35, 2)
    # EIP-155: the signed payload is the first six fields, then chainId, 0, 0
    tail = rlp.encode(big_endian(tx_chain_id)) + b"\x80\x80"
    return fields, keccak(_without_signature(raw, items, tail)), tx_chain_id, recovery


def _decode_typed(raw: bytes, kind: int, chain_id: int) -> tuple[dict, bytes, int, int]:
    layout = _LAYOUTS[kind]
    what = f"type-{kind}"
    items = _rlp_list(raw[1:], len(layout), what)
    fields = _typed_fields(items, layout, what)
    fields["accessList"] = _access_list(items[layout.index("accessList")], what)
    if kind == 1:
        fields["maxPriorityFeePerGas"] = fields["maxFeePerGas"]
    if fields["v"] not in (0, 1):
        raise TxRejected(f"invalid signature y-parity {fields['v']}", code="invalid_signature")
    # the signed payload is the envelope type and every field but the signature, as sent
    unsigned = raw[:1] + _without_signature(raw[1:], items, b"")
    return fields, keccak(unsigned), fields["chainId"], fields["v"]


def _rlp_list(payload: bytes, length: int, what: str) -> list:
    # plain RLP (lists of byte strings) is several times cheaper than eth-account's
    # Serializable sedes; the checks those sedes made are made below, field by field
    try:
        items = rlp.decode(payload, strict=True)
    except Exception as exc:  # rlp raises several unrelated types for bad input
        raise TxRejected(f"malformed {what} transaction RLP: {exc}", code="invalid_rlp") from None
    if not isinstance(items, list) or len(items) != length:
        raise TxRejected(f"malformed {what} transaction RLP: expected a list of {length} "
                         "fields", code="invalid_rlp")
    return items


def _typed_fields(items: list, layout: tuple[str, ...], what: str) -> dict:
    fields: dict = {}
    for name, item in zip(layout, items, strict=True):
        if name == "accessList":
            continue
        if not isinstance(item, bytes):
            raise TxRejected(f"malformed {what} transaction RLP: {name} is not a byte string",
                             code="invalid_rlp")
        if name in _BYTES_FIELDS:
            fields[name] = item
        elif item[:1] == b"\x00":
            raise TxRejected(f"malformed {what} transaction RLP: {name} has leading zeros",
                             code="invalid_rlp")
        else:
            fields[name] = int.from_bytes(item, "big")
    if fields["to"] and len(fields["to"]) != 20:
        raise TxRejected(f"malformed {what} transaction RLP: 'to' is not 20 bytes",
                         code="invalid_rlp")
    return fields


def _access_list(item: object, what: str) -> tuple:
    bad = TxRejected(f"malformed {what} transaction RLP: access list entries are "
                     "[20-byte address, [32-byte keys]]", code="invalid_rlp")
    if not isinstance(item, list):
        raise bad
    entries = []
    for entry in item:
        if (not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], bytes)
                or len(entry[0]) != 20 or not isinstance(entry[1], list)
                or any(not isinstance(k, bytes) or len(k) != 32 for k in entry[1])):
            raise bad
        entries.append((entry[0], entry[1]))
    return tuple(entries)


def _without_signature(payload: bytes, items: list, tail: bytes) -> bytes:
    """The RLP list ``payload`` without its last three items (v, r, s), plus ``tail``: cut
    from the bytes as sent, so what is hashed is exactly what was signed."""
    _, _, _, start = consume_length_prefix(payload, 0)
    # v, r and s are short byte strings: one byte below 0x80, else a one-byte prefix
    signature = sum(1 if len(item) == 1 and item[0] < 0x80 else 1 + len(item)
                    for item in items[-3:])
    body = payload[start:len(payload) - signature] + tail
    return length_prefix(len(body), 0xC0) + body


def big_endian(value: int) -> bytes:
    """``value`` as RLP's big-endian integer (no leading zeros; zero is empty)."""
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _common(fields: dict) -> dict:
    to = fields["to"]
    if not to:
        raise TxRejected("contract creation is not supported on Luxtensor (no EVM); "
                         "set a 'to' address", code="contract_creation_unsupported")
    access_list = tuple((bytes(address), tuple(int.from_bytes(k, "big") for k in keys_))
                        for address, keys_ in fields["accessList"])
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
        # libsecp256k1 directly (eth-keys' own backend), without eth-keys' object layers
        public = coincurve.PublicKey.from_signature_and_message(
            r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([recovery]), signing_hash,
            hasher=None)
    except (ValueError, TypeError) as exc:
        raise TxRejected(f"signature does not recover a public key: {exc}",
                         code="invalid_signature") from None
    return keccak(public.format(compressed=False)[1:])[-20:]


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
