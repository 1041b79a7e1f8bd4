"""Sender recovery off the node's thread: the worker's answers, and big batches over real HTTP."""

from __future__ import annotations

import asyncio
import io
import pickle
import time
from pathlib import Path

import httpx

from chain_support import running_node, sign_transfer
from moderntensor.chain.genesis import DEV_CHAIN_ID
from moderntensor.chain.sender_pool import MIN_BATCH, SenderPool, serve_worker
from moderntensor.chain.txs import decode_transaction

RECIPIENT = "0x" + "42" * 20


def frame(raws: list[bytes]) -> bytes:
    return len(raws).to_bytes(4, "big") + b"".join(
        len(raw).to_bytes(4, "big") + raw for raw in raws)


def test_the_worker_answers_each_transaction_decoded_in_order_and_none_when_rejected() -> None:
    good = [sign_transfer(i, RECIPIENT, 1, 0) for i in range(3)]
    wrong_chain = sign_transfer(0, RECIPIENT, 1, 1, chain_id=1)
    source = io.BytesIO(frame([good[0], b"\xc0", good[1]]) + frame([wrong_chain, good[2]]))
    sink = io.BytesIO()
    serve_worker(DEV_CHAIN_ID, source, sink)
    out = io.BytesIO(sink.getvalue())
    answers = []
    while header := out.read(4):
        answers.append(pickle.loads(out.read(int.from_bytes(header, "big"))))
    assert [len(a) for a in answers] == [3, 2]
    first, second = answers
    assert first[0] == decode_transaction(good[0], DEV_CHAIN_ID) and first[1] is None
    assert first[2].sender == decode_transaction(good[1], DEV_CHAIN_ID).sender
    assert second[0] is None and second[1].raw == good[2]


def test_a_small_batch_never_starts_a_worker() -> None:
    async def scenario() -> None:
        pool = SenderPool(DEV_CHAIN_ID)
        raws = [sign_transfer(0, RECIPIENT, 1, nonce) for nonce in range(MIN_BATCH - 1)]
        assert await pool.decode(raws) == {}
        assert pool._starting is None
        await pool.aclose()

    asyncio.run(scenario())


def test_a_big_batch_gets_every_valid_sender_once_the_worker_is_up() -> None:
    asyncio.run(big_batch_scenario())


async def big_batch_scenario() -> None:
    pool = SenderPool(DEV_CHAIN_ID)
    raws = [sign_transfer(1, RECIPIENT, 1, nonce) for nonce in range(MIN_BATCH)] + [b"\x01junk"]
    try:
        assert await pool.decode(raws) == {}  # the node's thread works while it starts
        deadline = time.monotonic() + 30
        while not (hints := await pool.decode(raws)):
            assert time.monotonic() < deadline, "the worker did not start"
            await asyncio.sleep(0.05)
        assert hints == {raw: decode_transaction(raw, DEV_CHAIN_ID) for raw in raws[:-1]}
    finally:
        await pool.aclose()
    assert pool._starting is not None and all(
        worker.process.returncode is not None for worker in pool._starting.result())


def test_big_batches_over_http_admit_valid_transactions_and_refuse_bad_ones_as_usual(
        tmp_path: Path) -> None:
    with running_node(tmp_path / "node") as node, httpx.Client(timeout=30) as client:
        nonce = 0
        for round_ in range(6):  # the first batches run while the worker starts
            raws = [sign_transfer(2, RECIPIENT, 1, nonce + i) for i in range(MIN_BATCH)]
            nonce += MIN_BATCH
            batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction",
                      "params": ["0x" + raw.hex()]} for i, raw in enumerate(raws)]
            batch.append({"jsonrpc": "2.0", "id": "bad", "method": "eth_sendRawTransaction",
                          "params": ["0x" + sign_transfer(2, RECIPIENT, 1, 0).hex()]})
            replies = {r["id"]: r for r in client.post(node.url, json=batch).json()}
            assert all("result" in replies[i] for i in range(MIN_BATCH)), round_
            assert replies["bad"]["error"]["data"]["reason"] in ("nonce_too_low",
                                                                  "already_known")
            time.sleep(0.1)
        deadline = time.monotonic() + 10
        sender = "0x" + decode_transaction(raws[0], DEV_CHAIN_ID).sender.hex()
        while int(node.rpc("eth_getTransactionCount", sender, "latest"), 16) < nonce:
            assert time.monotonic() < deadline
            time.sleep(0.05)
