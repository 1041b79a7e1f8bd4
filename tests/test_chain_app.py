"""The state machine: fees, system calls, hooks, determinism, persistence, conservation."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from chain_fixtures import (
    ADDRESSES,
    COINBASE,
    ECHO,
    EMPTY_KEY,
    FUNDS,
    KEYS,
    make_app,
    mine,
    sign,
)
from moderntensor.chain.errors import InvalidParams, TxRejected
from moderntensor.chain.state import SUPPLY_NS, kv_get, kv_get_int, state_root, total_balance

EMPTY = bytes.fromhex(Account.from_key(EMPTY_KEY).address[2:])


def test_transfer_burns_base_fee_and_tips_the_coinbase(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    base_fee = app.next_base_fee()
    app.check_tx(sign(KEYS[0], 0, value=1000, price=3 * base_fee, tip=base_fee))
    block = mine(app)
    receipt = block.receipts[0]
    assert receipt.status == 1 and receipt.effective_gas_price == 2 * base_fee
    assert app.balance(ADDRESSES[0]) == FUNDS - 1000 - 21_000 * 2 * base_fee
    assert app.balance(COINBASE) == 21_000 * base_fee
    assert kv_get_int(app.state, SUPPLY_NS, b"burned") == 21_000 * base_fee


def test_fee_free_system_call_from_an_empty_account(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.check_tx(sign(EMPTY_KEY, 0, to=ECHO, value=0, gas=30_000, price=0, data=b"free!"))
    block = mine(app)
    assert block.receipts[0].status == 1
    assert block.receipts[0].effective_gas_price == 0
    assert kv_get(app.state, "echo", EMPTY) == b"free!"
    assert app.nonce(EMPTY) == 1
    assert app.balance(EMPTY) == 0


def test_fee_free_check_can_refuse_at_submission(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    root = state_root(app.state)
    for data, code in ((b"reject", "bad_pow"), (b"paid", "underpriced")):
        try:
            app.check_tx(sign(EMPTY_KEY, 0, to=ECHO, value=0, gas=30_000, price=0, data=data))
        except TxRejected as exc:
            assert exc.code == code
        else:
            raise AssertionError("accepted")
    assert len(app.mempool) == 0
    assert state_root(app.state) == root


def test_failed_system_call_reverts_but_pays_gas(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.check_tx(sign(KEYS[1], 0, to=ECHO, value=77, gas=30_000, data=b"fail"))
    block = mine(app)
    receipt = block.receipts[0]
    assert receipt.status == 0
    assert receipt.error == ("echo_failed", "asked to fail")
    assert receipt.logs == ()
    assert receipt.gas_used == 21_000 + 4 * 16 + 5_000
    assert kv_get(app.state, "echo", ADDRESSES[1]) is None
    assert app.balance(ECHO) == 0  # the value moved back too
    assert app.balance(ADDRESSES[1]) == FUNDS - receipt.gas_used * receipt.effective_gas_price
    assert app.nonce(ADDRESSES[1]) == 1


def test_successful_call_logs_and_view_answers_without_writing(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.check_tx(sign(KEYS[2], 0, to=ECHO, value=0, gas=30_000, data=b"hello"))
    block = mine(app)
    assert block.receipts[0].logs[0].data == b"hello"
    assert app.call(ECHO, ADDRESSES[2], sender=ADDRESSES[0]) == b"hello"
    assert kv_get(app.state, "echo", b"view") is None
    assert app.call(b"\x55" * 20, b"", sender=ADDRESSES[0]) == b""


def test_end_block_and_genesis_hooks_run(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    assert kv_get(app.state, "echo", b"genesis") == b"hi"
    blocks = [mine(app, t) for t in range(1, 5)]
    assert kv_get_int(app.state, "counter", b"blocks") == 4
    assert [len(b.end_block_logs) for b in blocks] == [0, 1, 0, 1]
    assert blocks[0].header.state_root != blocks[1].header.state_root


def test_same_blocks_give_the_same_roots(tmp_path: Path) -> None:
    raws = [sign(KEYS[i % 3], i // 3, value=i + 1) for i in range(9)]
    hashes = []
    for run in ("a", "b"):
        app = make_app(tmp_path / run)
        for raw in raws:
            app.check_tx(raw)
        hashes.append([mine(app, 10).hash, mine(app, 11).hash])
    assert hashes[0] == hashes[1]


def test_reopening_the_store_restores_state(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.check_tx(sign(KEYS[0], 0, to=ECHO, value=5, gas=30_000, data=b"kept"))
    mine(app)
    root, head = state_root(app.state), app.head
    app.store.close()
    again = make_app(tmp_path)
    assert again.head == head
    assert state_root(again.state) == root
    assert kv_get(again.state, "echo", ADDRESSES[0]) == b"kept"
    assert again.balance(ECHO) == 5


def test_abci_query_reads_accounts_and_module_state(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    assert int.from_bytes(app.query("balance", ADDRESSES[0]), "big") == FUNDS
    assert app.query("nonce", ADDRESSES[0]) == bytes(32)
    assert app.query("kv/echo", b"genesis") == b"hi"
    for path, data in (("balance", b"short"), ("nope", b"")):
        try:
            app.query(path, data)
        except InvalidParams as exc:
            assert exc.code == "invalid_params"
        else:
            raise AssertionError("accepted")


transfer = st.tuples(st.integers(0, 3), st.integers(0, 4), st.integers(0, 10**21),
                     st.integers(1, 5), st.booleans())


@settings(max_examples=20, deadline=None)
@given(st.lists(st.lists(transfer, max_size=6), min_size=1, max_size=4))
def test_supply_is_conserved(blocks: list) -> None:
    """sum(balances) == genesis + minted - burned, whatever transfers happen."""
    app = make_app(Path(tempfile.mkdtemp()), with_echo=False)
    recipients = [*ADDRESSES, b"\x77" * 20]
    for block in blocks:
        for sender, recipient, value, price_gwei, dynamic in block:
            raw = sign(KEYS[sender], app.nonce(ADDRESSES[sender], pending=True),
                       to=recipients[recipient], value=value, price=price_gwei * 10**9,
                       tip=10**9 // 2 if dynamic else None)
            with contextlib.suppress(TxRejected):  # e.g. under the base fee: nothing changes
                app.check_tx(raw)
        mine(app)
    supply = {k: kv_get_int(app.state, SUPPLY_NS, k) for k in (b"genesis", b"minted", b"burned")}
    assert total_balance(app.state) == supply[b"genesis"] + supply[b"minted"] - supply[b"burned"]
    app.store.close()


def test_receipts_round_trip_through_the_store_encoding_even_past_64_bit_prices() -> None:
    from moderntensor.chain.blocks import Receipt, ReceiptLog
    from moderntensor.chain.store import decode_receipt, encode_receipt

    for receipt in (Receipt(1, 21_000, 42_000, 10**9),
                    Receipt(0, 5, 5, 2**70, (ReceiptLog(b"a" * 20, (b"b" * 32,), b"xy"),),
                            ("call_failed", 'a "quoted" reason'))):
        assert decode_receipt(encode_receipt(receipt)) == receipt
