"""Acceptance: web3.py, unchanged, against a real node process on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account
from web3 import Web3

from chain_support import DEV, NodeProcess, running_node

RECIPIENT = "0x000000000000000000000000000000000000bEEF"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    with running_node(tmp_path_factory.mktemp("web3") / "chain") as process:
        yield process


@pytest.fixture(scope="module")
def w3(node: NodeProcess) -> Web3:
    return Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 10}))


def test_reads_chain_id_balances_and_blocks(w3: Web3, node: NodeProcess) -> None:
    assert w3.eth.chain_id == 1337
    assert w3.is_connected()
    assert w3.eth.get_balance(DEV[0].address) == 10_000 * 10**18
    node.wait_for_block(1)
    block = w3.eth.get_block("latest")
    assert block["number"] >= 1
    assert w3.eth.get_block(block["hash"])["number"] == block["number"]
    assert w3.eth.get_block(0)["parentHash"] == b"\x00" * 32


@pytest.mark.parametrize("eip1559", [False, True], ids=["legacy", "eip1559"])
def test_transfer_moves_value_plus_fee_exactly(w3: Web3, eip1559: bool) -> None:
    sender = Account.from_key(DEV[1].private_key)
    before_sender = w3.eth.get_balance(sender.address)
    before_recipient = w3.eth.get_balance(RECIPIENT)
    tx = {"to": RECIPIENT, "value": 12_345, "gas": 21_000,
          "nonce": w3.eth.get_transaction_count(sender.address), "chainId": w3.eth.chain_id}
    if eip1559:
        tip = w3.eth.max_priority_fee
        tx.update(maxPriorityFeePerGas=tip, maxFeePerGas=2 * w3.eth.get_block("latest")
                  ["baseFeePerGas"] + tip)
    else:
        tx["gasPrice"] = w3.eth.gas_price
    tx_hash = w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=15, poll_latency=0.1)
    assert receipt["status"] == 1
    assert receipt["gasUsed"] == 21_000
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert w3.eth.get_balance(sender.address) == before_sender - 12_345 - fee
    assert w3.eth.get_balance(RECIPIENT) == before_recipient + 12_345
    mined = w3.eth.get_transaction(tx_hash)
    assert mined["from"] == sender.address
    assert mined["blockNumber"] == receipt["blockNumber"]
    assert mined["type"] == (2 if eip1559 else 0)
    block = w3.eth.get_block(receipt["blockNumber"], full_transactions=True)
    assert [t["hash"] for t in block["transactions"]] == [tx_hash]
    assert block["transactions"][0]["value"] == 12_345
    assert w3.eth.get_transaction_count(sender.address) == tx["nonce"] + 1


def test_fee_history_estimate_and_call(w3: Web3) -> None:
    history = w3.eth.fee_history(4, "latest", [10, 50])
    assert len(history["baseFeePerGas"]) == len(history["gasUsedRatio"]) + 1
    assert w3.eth.estimate_gas({"from": DEV[0].address, "to": RECIPIENT, "value": 1}) == 21_000
    assert w3.eth.call({"to": RECIPIENT, "data": "0x"}) == b""


def test_create_filter_and_get_new_entries_see_new_blocks(w3: Web3, node: NodeProcess) -> None:
    block_filter = w3.eth.filter("latest")
    start = w3.eth.block_number
    node.wait_for_block(start + 2)
    numbers = [w3.eth.get_block(h)["number"] for h in block_filter.get_new_entries()]
    assert len(numbers) >= 2
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    assert numbers[0] <= start + 1
    log_filter = w3.eth.filter({"fromBlock": "latest", "address": RECIPIENT})
    assert log_filter.get_new_entries() == []
    assert w3.eth.uninstall_filter(log_filter.filter_id)
