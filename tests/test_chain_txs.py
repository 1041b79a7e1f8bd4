"""Transaction decoding: every accepted form recovers the right sender; every bad one a code."""

from __future__ import annotations

import pytest
import rlp
from eth_account import Account

from moderntensor.chain.errors import TxRejected
from moderntensor.chain.txs import SECP256K1_N, decode_transaction, intrinsic_gas

KEY = "0x" + "11" * 32
SENDER = bytes.fromhex(Account.from_key(KEY).address[2:])
TO = "0x" + "22" * 20
CHAIN = 1337


def sign(**fields: object) -> bytes:
    tx = {"to": TO, "value": 5, "gas": 21_000, "nonce": 3, "chainId": CHAIN, **fields}
    if "maxFeePerGas" not in tx and "gasPrice" not in tx:
        tx["gasPrice"] = 10**9
    return bytes(Account.sign_transaction(tx, KEY).raw_transaction)


@pytest.mark.parametrize("fields", [
    {},
    {"accessList": [{"address": TO, "storageKeys": ["0x" + "00" * 31 + "01"]}], "gas": 30_000},
    {"maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 10**9, "data": "0x00ff", "gas": 22_000},
], ids=["legacy", "eip2930", "eip1559"])
def test_decodes_like_eth_account(fields: dict) -> None:
    raw = sign(**fields)
    tx = decode_transaction(raw, CHAIN)
    assert "0x" + tx.sender.hex() == Account.recover_transaction(raw).lower()
    assert tx.sender == SENDER
    assert (tx.nonce, tx.value, tx.to) == (3, 5, bytes.fromhex(TO[2:]))
    assert tx.type == (2 if "maxFeePerGas" in fields else 1 if "accessList" in fields else 0)
    assert tx.gas >= intrinsic_gas(tx)


def test_intrinsic_gas_counts_calldata() -> None:
    tx = decode_transaction(sign(data="0x0001", gas=30_000), CHAIN)
    assert intrinsic_gas(tx) == 21_000 + 4 + 16


def reject(raw: bytes, code: str) -> None:
    with pytest.raises(TxRejected) as info:
        decode_transaction(raw, CHAIN)
    assert info.value.code == code, info.value.message


def test_wrong_chain_id_is_rejected() -> None:
    reject(sign(chainId=1), "wrong_chain_id")


def test_unprotected_legacy_tx_is_rejected() -> None:
    unsigned = {"to": TO, "value": 0, "gas": 21_000, "gasPrice": 1, "nonce": 0}
    raw = bytes(Account.sign_transaction(unsigned, KEY).raw_transaction)
    reject(raw, "wrong_chain_id")


@pytest.mark.parametrize("raw", [b"", b"\x80", b"\xc0", b"\xf8\xff" + b"\x00" * 3, b"\x02\xc0",
                                 b"\x02" + b"\xff" * 40, b"\xc1\xc0"], ids=repr)
def test_malformed_rlp_is_rejected(raw: bytes) -> None:
    reject(raw, "invalid_rlp")


def test_unknown_type_is_rejected() -> None:
    reject(b"\x05" + sign()[1:], "unsupported_tx_type")


def test_oversized_tx_is_rejected() -> None:
    reject(b"\xc0" * (128 * 1024 + 1), "tx_too_large")


def resign_legacy(raw: bytes, **changes: int) -> bytes:
    items = rlp.decode(raw)
    names = ["nonce", "gasPrice", "gas", "to", "value", "data", "v", "r", "s"]
    for name, value in changes.items():
        items[names.index(name)] = value
    return rlp.encode(items)


def test_tampered_value_recovers_another_sender() -> None:
    tx = decode_transaction(resign_legacy(sign(), value=10**20), CHAIN)
    assert tx.sender != SENDER  # the signature binds the fields: a different "sender" pays


def test_high_s_and_zero_r_are_rejected() -> None:
    raw = sign()
    s = int.from_bytes(rlp.decode(raw)[8], "big")
    reject(resign_legacy(raw, s=SECP256K1_N - s), "high_s_signature")
    reject(resign_legacy(raw, r=0), "invalid_signature")


def test_contract_creation_is_rejected() -> None:
    raw = bytes(Account.sign_transaction({"value": 0, "gas": 60_000, "gasPrice": 1, "nonce": 0,
                                          "chainId": CHAIN, "data": "0x00"}, KEY).raw_transaction)
    reject(raw, "contract_creation_unsupported")


def test_gas_below_intrinsic_and_tip_above_cap_are_rejected() -> None:
    reject(sign(gas=20_000), "intrinsic_gas_too_low")
    reject(sign(maxFeePerGas=1, maxPriorityFeePerGas=2), "fee_cap_below_tip")
