"""EIP-2: a signature's high-s twin (r, n - s) recovers the same signer; only the low form passes.

Transactions (whose hash would change with the twin) and mtauth/1 requests and answers alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rlp
from coincurve import PublicKey
from eth_account import Account
from eth_account._utils.legacy_transactions import Transaction
from eth_utils import keccak

from chain_fixtures import KEYS, sign, spec
from moderntensor.chain.app import App
from moderntensor.chain.errors import TxRejected
from moderntensor.chain.store import Store
from moderntensor.chain.txs import SECP256K1_N
from moderntensor.protocol.auth import (
    SIGNATURE_HEADER,
    AuthError,
    ReplayCache,
    eip191_digest,
    request_message,
    sign_request,
    sign_response,
    verify_request,
    verify_response,
)

VALIDATOR, MINER = Account.create(), Account.create()
NONCE = 1_750_000_000_000_000_000  # verified "now": freshness is not what is tested here
BODY, PATH = b'{"subnet":1,"task":"text-generation","input":{"prompt":"hi"}}', "/v1/inference"


def high_s_twin(signature: str) -> str:
    """The same signature with s -> n - s and the recovery bit flipped (still recovers)."""
    raw = bytes.fromhex(signature[2:])
    s = int.from_bytes(raw[32:64], "big")
    v = 27 + (1 - (raw[64] - 27))
    return "0x" + (raw[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([v])).hex()


def high_s_legacy_tx(raw: bytes) -> bytes:
    tx = rlp.decode(raw, Transaction)
    flipped = tx.v + 1 if (tx.v - 35) % 2 == 0 else tx.v - 1
    return rlp.encode(tx.copy(v=flipped, s=SECP256K1_N - tx.s))


def test_a_high_s_transaction_is_refused_and_its_low_s_original_admitted(tmp_path: Path) -> None:
    app = App(spec(), Store(tmp_path / "chain"))
    original = sign(KEYS[0], 0)
    with pytest.raises(TxRejected) as refused:
        app.check_tx(high_s_legacy_tx(original))
    assert refused.value.code == "high_s_signature"
    assert len(app.mempool) == 0
    assert app.check_tx(original).nonce == 0


def test_the_high_s_twin_of_a_request_signature_recovers_the_signer_but_is_refused() -> None:
    headers = sign_request(VALIDATOR, "POST", PATH, BODY, receiver=MINER.address, nonce=NONCE)
    twin = high_s_twin(headers[SIGNATURE_HEADER])
    text = request_message("POST", PATH, BODY, VALIDATOR.address, MINER.address, NONCE)
    with pytest.raises(AuthError) as refused:
        verify_request({**headers, SIGNATURE_HEADER: twin}, "POST", PATH, BODY,
                       receiver=MINER.address, replay_cache=ReplayCache(), now_ns=NONCE)
    assert refused.value.code == "high_s_signature"
    # the twin is a real signature by the same key: only the EIP-2 rule stops it
    raw = bytes.fromhex(twin[2:])
    public = PublicKey.from_signature_and_message(raw[:64] + bytes([raw[64] - 27]),
                                                  eip191_digest(text), hasher=None)
    assert "0x" + keccak(public.format(compressed=False)[1:])[-20:].hex() \
        == VALIDATOR.address.lower()


def test_the_high_s_twin_of_a_response_signature_is_refused() -> None:
    answer = b'{"output":"4","latency_ms":1.0}'
    headers = sign_response(MINER, answer, request_nonce=NONCE, validator=VALIDATOR.address)
    verify_response(headers, answer, request_nonce=NONCE, miner=MINER.address,
                    validator=VALIDATOR.address)
    with pytest.raises(AuthError) as refused:
        verify_response({**headers, SIGNATURE_HEADER: high_s_twin(headers[SIGNATURE_HEADER])},
                        answer, request_nonce=NONCE, miner=MINER.address,
                        validator=VALIDATOR.address)
    assert refused.value.code == "high_s_signature"
