"""The ABCI handlers on real app instances (SQLite stores, signed transactions): what CometBFT
would ask of each validator, without the engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from chain_fixtures import ADDRESSES, KEYS, make_app, sign
from moderntensor.chain.abci.broadcast import CometNode
from moderntensor.chain.abci.handlers import CODE_REJECTED, CODE_STALE, AbciHandlers
from moderntensor.chain.abci.pb.tendermint.abci import types_pb2 as abci
from moderntensor.chain.errors import GenesisError

ACCEPT = abci.ResponseProcessProposal.ACCEPT
REJECT = abci.ResponseProcessProposal.REJECT


def validator(path: Path) -> AbciHandlers:
    return AbciHandlers(CometNode(make_app(path)))


def at(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


def propose(handlers: AbciHandlers, height: int, seconds: int) -> list[bytes]:
    request = abci.RequestPrepareProposal(max_tx_bytes=1 << 20, height=height, time=at(seconds))
    return list(handlers.prepare_proposal(request).txs)


def decide(handlers: AbciHandlers, txs: list[bytes], height: int, seconds: int
           ) -> abci.ResponseFinalizeBlock:
    response = handlers.finalize_block(abci.RequestFinalizeBlock(txs=txs, height=height,
                                                                 time=at(seconds)))
    handlers.commit(abci.RequestCommit())
    return response


def verdict(handlers: AbciHandlers, txs: list[bytes], height: int = 1, seconds: int = 5) -> int:
    request = abci.RequestProcessProposal(txs=txs, height=height, time=at(seconds))
    return handlers.process_proposal(request).status


@pytest.fixture
def pair(tmp_path: Path) -> tuple[AbciHandlers, AbciHandlers]:
    return validator(tmp_path / "a"), validator(tmp_path / "b")


def test_process_proposal_accepts_what_an_honest_proposer_prepared(pair) -> None:
    proposer, voter = pair
    for nonce in range(3):
        proposer.check_tx(abci.RequestCheckTx(tx=sign(KEYS[0], nonce)))
    txs = propose(proposer, 1, 5)
    assert len(txs) == 3
    assert verdict(voter, txs) == ACCEPT


@pytest.mark.parametrize("bad", ["bad_nonce", "replayed", "garbage", "wrong_chain", "no_funds"])
def test_process_proposal_rejects_a_block_with_an_invalid_transaction(pair, bad) -> None:
    """A byzantine proposer's block: one invalid tx among valid ones is enough to reject it."""
    _, voter = pair
    valid = sign(KEYS[0], 0)
    invalid = {
        "bad_nonce": sign(KEYS[1], 7),
        "replayed": valid,
        "garbage": b"\x02not a transaction",
        "wrong_chain": _other_chain_tx(),
        "no_funds": sign("0x" + "99" * 32, 0),
    }[bad]
    state_before = voter.app.head.state_root
    assert verdict(voter, [valid, invalid]) == REJECT
    assert verdict(voter, [valid]) == ACCEPT  # the scratch execution left no trace
    assert voter.app.head.state_root == state_before


def test_process_proposal_rejects_a_block_over_the_gas_limit(tmp_path: Path) -> None:
    voter = AbciHandlers(CometNode(make_app(tmp_path, gas_limit=50_000)))
    assert verdict(voter, [sign(KEYS[0], 0), sign(KEYS[0], 1), sign(KEYS[0], 2)]) == REJECT


def test_two_validators_that_finalize_the_same_blocks_report_the_same_app_hashes(pair) -> None:
    proposer, voter = pair
    for height, seconds in ((1, 10), (2, 11), (3, 13)):
        proposer.check_tx(abci.RequestCheckTx(tx=sign(KEYS[0], height - 1)))
        voter.check_tx(abci.RequestCheckTx(tx=sign(KEYS[1], height - 1)))  # gossip: not ours
        txs = propose(proposer, height, seconds)
        assert verdict(voter, txs, height, seconds) == ACCEPT
        hashes = {decide(h, txs, height, seconds).app_hash for h in pair}
        assert len(hashes) == 1
        assert proposer.app.head.hash == voter.app.head.hash
    assert proposer.app.head.number == 3


def test_finalize_block_answers_one_result_per_transaction_in_block_order(pair) -> None:
    proposer, _ = pair
    good = sign(KEYS[0], 0)
    response = decide(proposer, [good, sign(KEYS[0], 5), b"junk"], 1, 5)
    assert [r.code for r in response.tx_results] == [0, CODE_REJECTED, 3]
    assert response.tx_results[0].gas_used == 21_000
    assert response.app_hash == proposer.app.head.state_root


def test_check_tx_rejects_an_invalid_transaction_with_a_stable_code(pair) -> None:
    handlers, _ = pair
    response = handlers.check_tx(abci.RequestCheckTx(tx=sign(KEYS[0], 3)))
    assert response.code == CODE_REJECTED
    assert response.info == "nonce_too_high"
    assert len(handlers.app.mempool) == 0


def test_check_tx_accepts_again_a_transaction_this_node_already_admitted(pair) -> None:
    handlers, _ = pair
    raw = sign(KEYS[0], 0)
    handlers.node.submit(raw)  # eth_sendRawTransaction, then CometBFT's own CheckTx
    assert handlers.check_tx(abci.RequestCheckTx(tx=raw)).code == 0
    assert len(handlers.app.mempool) == 1


def test_recheck_drops_a_transaction_another_proposer_already_mined(pair) -> None:
    proposer, voter = pair
    raw = sign(KEYS[0], 0)
    for handlers in pair:
        handlers.check_tx(abci.RequestCheckTx(tx=raw))
    decide(voter, propose(proposer, 1, 5), 1, 5)
    recheck = abci.RequestCheckTx(tx=raw, type=abci.RECHECK)
    assert voter.check_tx(recheck).code == CODE_STALE


def test_info_reports_the_committed_height_and_app_hash_after_a_restart(tmp_path: Path) -> None:
    handlers = validator(tmp_path)
    assert handlers.info(abci.RequestInfo()).last_block_height == 0
    decide(handlers, [sign(KEYS[0], 0)], 1, 5)
    root = handlers.app.head.state_root
    handlers.app.store.close()
    reopened = validator(tmp_path).info(abci.RequestInfo())
    assert (reopened.last_block_height, reopened.last_block_app_hash) == (1, root)


def test_init_chain_answers_the_genesis_state_root(tmp_path: Path) -> None:
    handlers = validator(tmp_path)
    request = abci.RequestInitChain(initial_height=1, app_state_bytes=json.dumps(
        handlers.app.spec.to_json()).encode())
    assert handlers.init_chain(request).app_hash == handlers.app.head.state_root


def test_init_chain_refuses_a_genesis_of_another_chain(tmp_path: Path) -> None:
    handlers = validator(tmp_path)
    other = {**handlers.app.spec.to_json(), "chainId": 4242}
    with pytest.raises(GenesisError, match="differs"):
        handlers.init_chain(abci.RequestInitChain(app_state_bytes=json.dumps(other).encode()))


def test_query_answers_a_balance_and_refuses_an_unknown_path(tmp_path: Path) -> None:
    handlers = validator(tmp_path)
    address = ADDRESSES[0]
    value = handlers.query(abci.RequestQuery(path="balance", data=address)).value
    assert int.from_bytes(value, "big") == handlers.app.balance(address)
    assert handlers.query(abci.RequestQuery(path="nope")).code == CODE_REJECTED


def _other_chain_tx() -> bytes:
    from eth_account import Account

    return bytes(Account.sign_transaction({"to": "0x" + "42" * 20, "value": 1, "gas": 21_000,
                                           "gasPrice": 2 * 10**9, "nonce": 0, "chainId": 9},
                                          KEYS[2]).raw_transaction)
