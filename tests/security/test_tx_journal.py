"""Accepted transactions survive a restart: the pending-transaction journal.

A hash answered by eth_sendRawTransaction is a promise; kill -9 before the block that would
mine it must not break it. Replay re-checks everything, so a journal cannot smuggle anything in.
"""

from __future__ import annotations

import time
from pathlib import Path

import rlp

from chain_fixtures import KEYS, sign, spec
from chain_support import DEV, running_node, sign_transfer, start_node
from moderntensor.chain.app import App
from moderntensor.chain.node import Node
from moderntensor.chain.store import Store
from moderntensor.chain.tx_journal import JOURNAL_FILE, TxJournal

RECIPIENT = "0x000000000000000000000000000000000000bEEF"


def open_node(data_dir: Path) -> Node:
    return Node(App(spec(), Store(data_dir)), journal=TxJournal(data_dir / JOURNAL_FILE))


def test_kill_9_before_mining_then_restart_mines_the_answered_transaction(tmp_path: Path) -> None:
    data_dir = tmp_path / "chain"
    node = start_node(data_dir, block_time=60)  # no block will come before the kill
    try:
        raw = "0x" + sign_transfer(4, RECIPIENT, 12_345, 0).hex()
        tx_hash = node.rpc("eth_sendRawTransaction", raw)
        assert node.rpc("eth_getTransactionReceipt", tx_hash) is None
    finally:
        node.kill9()
    with running_node(data_dir, block_time=0.2) as restarted:
        deadline = time.monotonic() + 10
        while (receipt := restarted.rpc("eth_getTransactionReceipt", tx_hash)) is None:
            assert time.monotonic() < deadline, "the journaled transaction was not mined"
            time.sleep(0.05)
        assert receipt["status"] == "0x1"
        assert restarted.rpc("eth_getBalance", RECIPIENT, "latest") == hex(12_345)
        assert restarted.rpc("eth_getTransactionCount", DEV[4].address, "latest") == "0x1"


def test_replay_readmits_pending_transactions_in_nonce_order(tmp_path: Path) -> None:
    node = open_node(tmp_path)
    hashes = [node.submit(sign(KEYS[0], nonce)) for nonce in range(3)]
    node.submit(sign(KEYS[1], 0))
    node.close()
    again = open_node(tmp_path)
    assert all(h in again.app.mempool for h in hashes)
    assert len(again.app.mempool) == 4


def test_replay_drops_what_was_mined_and_keeps_the_rest(tmp_path: Path) -> None:
    node = open_node(tmp_path)
    node.submit(sign(KEYS[0], 0))
    node.produce_block()
    later = node.submit(sign(KEYS[0], 1))
    node.close()
    again = open_node(tmp_path)
    assert list(again.app.mempool.by_hash) == [later]
    assert again.journal is not None and again.journal.records == 1  # rewritten to what pends


def test_replay_rechecks_every_record_so_a_forged_one_is_not_admitted(tmp_path: Path) -> None:
    node = open_node(tmp_path)
    node.close()
    forged = bytearray(sign(KEYS[0], 0))
    forged[-5] ^= 0xFF  # the signature no longer matches: another sender, or none
    with (tmp_path / JOURNAL_FILE).open("ab") as journal:
        journal.write(rlp.encode(bytes(forged)))
        journal.write(rlp.encode(b"\x02not a transaction"))
    again = open_node(tmp_path)
    assert len(again.app.mempool) == 0


def test_a_torn_last_record_is_skipped_and_earlier_ones_replayed(tmp_path: Path) -> None:
    node = open_node(tmp_path)
    kept = node.submit(sign(KEYS[0], 0))
    node.close()
    with (tmp_path / JOURNAL_FILE).open("ab") as journal:
        journal.write(rlp.encode(sign(KEYS[0], 1))[:40])  # kill -9 in the middle of a write
    again = open_node(tmp_path)
    assert list(again.app.mempool.by_hash) == [kept]


def test_the_journal_is_rewritten_once_mined_records_dominate(tmp_path: Path) -> None:
    node = open_node(tmp_path)
    assert node.journal is not None
    for nonce in range(40):
        node.submit(sign(KEYS[0], nonce))
    node.produce_block()
    assert node.journal.records == 40  # below the slack: not worth a rewrite yet
    node.journal.records += 2_000  # as if thousands had been mined before
    node.submit(sign(KEYS[0], 40))
    node.produce_block()
    assert node.journal.records == len(node.app.mempool) == 0
    assert (tmp_path / JOURNAL_FILE).stat().st_size == 0
