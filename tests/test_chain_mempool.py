"""Mempool rules: nonce order, replacement, affordability, limits, eviction, selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from chain_fixtures import ADDRESSES, FUNDS, KEYS, make_app, mine, sign
from moderntensor.chain.app import App
from moderntensor.chain.errors import LimitExceeded, TxRejected
from moderntensor.chain.mempool import Mempool
from moderntensor.chain.state import state_root


def rejected(app: App, raw: bytes) -> str:
    root, size = state_root(app.state), len(app.mempool)
    with pytest.raises(TxRejected) as info:
        app.check_tx(raw)
    assert state_root(app.state) == root and len(app.mempool) == size  # nothing changed
    return info.value.code


def test_nonces_must_follow_the_pending_ones(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.check_tx(sign(KEYS[0], 0))
    assert rejected(app, sign(KEYS[0], 2)) == "nonce_too_high"
    app.check_tx(sign(KEYS[0], 1))
    assert app.nonce(ADDRESSES[0], pending=True) == 2
    mine(app)
    assert rejected(app, sign(KEYS[0], 1, value=9)) == "nonce_too_low"
    assert len(app.mempool) == 0


def test_duplicate_is_already_known(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    raw = sign(KEYS[0], 0)
    app.check_tx(raw)
    assert rejected(app, raw) == "already_known"


def test_replacement_needs_a_ten_percent_bump(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.check_tx(sign(KEYS[0], 0, price=2 * 10**9))
    assert rejected(app, sign(KEYS[0], 0, price=2 * 10**9 + 1)) == "replacement_underpriced"
    better = app.check_tx(sign(KEYS[0], 0, price=3 * 10**9))
    assert len(app.mempool) == 1
    assert mine(app).transactions[0].hash == better.hash


def test_pending_costs_must_be_affordable_together(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    fee = 21_000 * 2 * 10**9
    app.check_tx(sign(KEYS[0], 0, value=FUNDS - 2 * fee - 5))
    assert rejected(app, sign(KEYS[0], 1, value=10)) == "insufficient_funds"
    app.check_tx(sign(KEYS[0], 1, value=5))


def test_fee_cap_below_base_fee_is_underpriced(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    assert rejected(app, sign(KEYS[0], 0, price=app.next_base_fee() - 1)) == "underpriced"


def test_gas_over_the_block_limit_is_rejected(tmp_path: Path) -> None:
    app = make_app(tmp_path, gas_limit=100_000)
    assert rejected(app, sign(KEYS[0], 0, gas=100_001)) == "exceeds_block_gas_limit"


def test_per_sender_and_total_limits(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.mempool = Mempool(max_size=3, max_per_sender=2)
    app.check_tx(sign(KEYS[0], 0, price=2 * 10**9))
    app.check_tx(sign(KEYS[0], 1, price=2 * 10**9))
    with pytest.raises(LimitExceeded) as info:
        app.check_tx(sign(KEYS[0], 2))
    assert info.value.code == "sender_limit"
    app.check_tx(sign(KEYS[1], 0, price=2 * 10**9))
    with pytest.raises(LimitExceeded) as info:  # full, and it tips no more than the others
        app.check_tx(sign(KEYS[2], 0, price=2 * 10**9))
    assert info.value.code == "mempool_full"
    app.check_tx(sign(KEYS[2], 0, price=5 * 10**9))  # tips more: evicts a cheaper tail
    assert len(app.mempool) == 3
    assert app.nonce(ADDRESSES[2], pending=True) == 1


def test_selection_orders_by_tip_and_respects_nonces(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.check_tx(sign(KEYS[0], 0, price=2 * 10**9))
    app.check_tx(sign(KEYS[0], 1, price=9 * 10**9))
    app.check_tx(sign(KEYS[1], 0, price=5 * 10**9))
    block = mine(app)
    order = [(tx.sender, tx.nonce) for tx in block.transactions]
    assert order == [(ADDRESSES[1], 0), (ADDRESSES[0], 0), (ADDRESSES[0], 1)]
    assert len(app.mempool) == 0


def test_block_gas_limit_defers_the_rest(tmp_path: Path) -> None:
    app = make_app(tmp_path, gas_limit=50_000)
    for nonce in range(3):
        app.check_tx(sign(KEYS[0], nonce))
    assert len(mine(app).transactions) == 2
    assert len(mine(app, 2).transactions) == 1
