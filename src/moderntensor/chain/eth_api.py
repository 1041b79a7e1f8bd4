"""The standard Ethereum JSON-RPC methods web3.py needs, over a :class:`~.node.Node`.

Each handler is ``handler(node, params) -> JSON-able`` and validates its own parameters.
:func:`methods_for` merges this table with the modules' ``Extensions.rpc_methods``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from moderntensor.chain.errors import (
    CallReverted,
    ExecutionError,
    InvalidParams,
    NotFound,
    TxRejected,
)
from moderntensor.chain.eth_block_reads import BLOCK_READ_METHODS
from moderntensor.chain.eth_json import address, block_json, receipt_json, tx_json
from moderntensor.chain.filters import FILTER_METHODS
from moderntensor.chain.log_query import logs_of, parse_log_query
from moderntensor.chain.rpc_params import (
    data,
    expect_count,
    param,
    parse_address,
    parse_block_number,
    parse_bool,
    parse_call,
    parse_data,
    parse_hash,
    parse_quantity,
    quantity,
    require_latest,
)
from moderntensor.chain.txs import TX_BASE_GAS, TX_DATA_NONZERO_GAS, TX_DATA_ZERO_GAS

try:
    CLIENT_VERSION = f"Luxtensor/v{version('moderntensor')}/python"
except PackageNotFoundError:  # running from a source tree that is not installed
    CLIENT_VERSION = "Luxtensor/unknown/python"
SUGGESTED_TIP = 10**9  # 1 gwei: what eth_maxPriorityFeePerGas suggests (geth's default)
MAX_FEE_HISTORY = 1_024  # blocks one eth_feeHistory may cover (geth's limit)


def client_version(node: Any, params: list) -> str:
    expect_count(params, 0, 0)
    return CLIENT_VERSION


def chain_id(node: Any, params: list) -> str:
    expect_count(params, 0, 0)
    return quantity(node.spec.chain_id)


def net_version(node: Any, params: list) -> str:
    expect_count(params, 0, 0)
    return str(node.spec.chain_id)


def block_number(node: Any, params: list) -> str:
    expect_count(params, 0, 0)
    return quantity(node.head.number)


def get_balance(node: Any, params: list) -> str:
    expect_count(params, 1, 2)
    who = parse_address(params[0])
    require_latest(param(params, 1, "block", "latest"), node.head)
    return quantity(node.app.balance(who))


def get_transaction_count(node: Any, params: list) -> str:
    expect_count(params, 1, 2)
    who = parse_address(params[0])
    tag = param(params, 1, "block", "latest")
    if tag == "pending":
        return quantity(node.app.nonce(who, pending=True))
    require_latest(tag, node.head)
    return quantity(node.app.nonce(who))


def get_code(node: Any, params: list) -> str:
    expect_count(params, 1, 2)
    parse_address(params[0])
    return "0x"  # no EVM: system contracts are native and have no bytecode


def gas_price(node: Any, params: list) -> str:
    expect_count(params, 0, 0)
    return quantity(node.app.next_base_fee() + SUGGESTED_TIP)


def max_priority_fee(node: Any, params: list) -> str:
    expect_count(params, 0, 0)
    return quantity(SUGGESTED_TIP)


def fee_history(node: Any, params: list) -> dict[str, Any]:
    expect_count(params, 2, 3)
    count = min(parse_quantity(params[0], "blockCount"), MAX_FEE_HISTORY)
    newest = parse_block_number(params[1], node.head.number, "newestBlock")
    if newest > node.head.number:
        raise NotFound(f"block {newest} is in the future (head is {node.head.number})")
    percentiles = param(params, 2, "rewardPercentiles", None)
    if percentiles is not None and (
            not isinstance(percentiles, list) or len(percentiles) > 100
            or any(isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 100
                   for p in percentiles) or percentiles != sorted(percentiles)):
        raise InvalidParams("rewardPercentiles is an increasing list of numbers in [0, 100]")
    oldest = max(newest - count + 1, 0)
    headers = [node.header(n) for n in range(oldest, newest + 1)] if count else []
    result: dict[str, Any] = {
        "oldestBlock": quantity(oldest),
        "baseFeePerGas": [quantity(h.base_fee) for h in headers],
        "gasUsedRatio": [h.gas_used / h.gas_limit for h in headers],
    }
    if headers:
        following = (node.app.next_base_fee() if newest == node.head.number
                     else node.header(newest + 1).base_fee)
        result["baseFeePerGas"].append(quantity(following))
    if percentiles is not None:
        result["reward"] = [[quantity(t) for t in _tips(h, node.receipts(h.number), percentiles)]
                            for h in headers]
    return result


def estimate_gas(node: Any, params: list) -> str:
    expect_count(params, 1, 2)
    call = parse_call(params[0])
    if call["to"] is None:
        raise TxRejected("contract creation is not supported on Luxtensor (no EVM)",
                         code="contract_creation_unsupported")
    if call["value"] > node.app.balance(call["from"]) and any(call["from"]):
        raise TxRejected("insufficient funds for the value sent", code="insufficient_funds")
    zeros = call["data"].count(0)
    gas = TX_BASE_GAS + zeros * TX_DATA_ZERO_GAS + (len(call["data"]) - zeros) * TX_DATA_NONZERO_GAS
    contract = node.app.ext.system_contracts.get(call["to"])
    try:  # a call that would fail must not get a figure: its fee would be lost on status 0
        node.app.dry_run(call["to"], call["data"], call["from"], call["value"])
    except ExecutionError as exc:
        raise CallReverted(exc.message, code=exc.code) from None
    return quantity(gas + (contract.gas if contract else 0))


def call(node: Any, params: list) -> str:
    expect_count(params, 1, 3)
    request = parse_call(params[0])
    require_latest(param(params, 1, "block", "latest"), node.head)
    if request["to"] is None:
        raise InvalidParams("eth_call needs a 'to' address")
    try:
        return data(node.app.call(request["to"], request["data"], request["from"],
                                  request["value"]))
    except ExecutionError as exc:
        raise CallReverted(exc.message, code=exc.code) from None


def send_raw_transaction(node: Any, params: list) -> str:
    expect_count(params, 1, 1)
    return data(node.submit(parse_data(params[0], "transaction")))


def get_transaction_by_hash(node: Any, params: list) -> dict[str, Any] | None:
    expect_count(params, 1, 1)
    tx_hash = parse_hash(params[0], "transaction hash")
    found = node.find_tx(tx_hash)
    if found is not None:
        return tx_json(found.tx, found.block, found.index)
    pending = node.app.mempool.get(tx_hash)
    return None if pending is None else tx_json(pending)


def get_transaction_receipt(node: Any, params: list) -> dict[str, Any] | None:
    expect_count(params, 1, 1)
    found = node.find_tx(parse_hash(params[0], "transaction hash"))
    return None if found is None else receipt_json(found.block, found.index)


def get_block_by_number(node: Any, params: list) -> dict[str, Any] | None:
    expect_count(params, 1, 2)
    number = parse_block_number(params[0], node.head.number)
    full = parse_bool(param(params, 1, "full transactions", False), "full transactions")
    block = node.block(number)
    return None if block is None else block_json(block, full)


def get_block_by_hash(node: Any, params: list) -> dict[str, Any] | None:
    expect_count(params, 1, 2)
    block_hash = parse_hash(params[0], "block hash")
    full = parse_bool(param(params, 1, "full transactions", False), "full transactions")
    block = node.block_by_hash(block_hash)
    return None if block is None else block_json(block, full)


def get_logs(node: Any, params: list) -> list[dict[str, Any]]:
    expect_count(params, 1, 1)
    return logs_of(node, parse_log_query(params[0], node.head.number))


def node_info(node: Any, params: list) -> dict[str, Any]:
    """mt_nodeInfo (basic; modules may replace it with a richer one)."""
    expect_count(params, 0, 0)
    return {"client": CLIENT_VERSION, "chain_id": node.spec.chain_id,
            "block_height": node.head.number, "block_time": node.block_time,
            "mempool_size": len(node.app.mempool), "base_fee": str(node.app.next_base_fee()),
            "system_contracts": {address(a): c.name for a, c in
                                 node.app.ext.system_contracts.items()}}


def _tips(header: Any, receipts: list[Any], percentiles: list[float]) -> list[int]:
    """Tips at the given gas-weighted percentiles of a block (geth's eth_feeHistory rule)."""
    if not receipts:
        return [0] * len(percentiles)
    base = header.base_fee
    tips = sorted((r.effective_gas_price - base if r.effective_gas_price else 0, r.gas_used)
                  for r in receipts)
    total = sum(gas for _, gas in tips)
    out, index, cumulative = [], 0, tips[0][1]
    for p in percentiles:
        threshold = total * p / 100
        while cumulative < threshold and index < len(tips) - 1:
            index += 1
            cumulative += tips[index][1]
        out.append(max(tips[index][0], 0))
    return out


METHODS = {
    "web3_clientVersion": client_version, "eth_chainId": chain_id, "net_version": net_version,
    "net_listening": lambda node, params: True, "net_peerCount": lambda node, params: "0x0",
    "eth_syncing": lambda node, params: False, "eth_accounts": lambda node, params: [],
    "eth_blockNumber": block_number, "eth_getBalance": get_balance,
    "eth_getTransactionCount": get_transaction_count, "eth_getCode": get_code,
    "eth_gasPrice": gas_price, "eth_maxPriorityFeePerGas": max_priority_fee,
    "eth_feeHistory": fee_history, "eth_estimateGas": estimate_gas, "eth_call": call,
    "eth_sendRawTransaction": send_raw_transaction,
    "eth_getTransactionByHash": get_transaction_by_hash,
    "eth_getTransactionReceipt": get_transaction_receipt,
    "eth_getBlockByNumber": get_block_by_number, "eth_getBlockByHash": get_block_by_hash,
    "eth_getLogs": get_logs, "mt_nodeInfo": node_info,
    **BLOCK_READ_METHODS, **FILTER_METHODS,
}


def methods_for(extra: dict[str, Any]) -> dict[str, Any]:
    """The core table plus module methods; modules may add ``mt_*`` names, not replace eth ones."""
    clash = sorted(name for name in extra if name in METHODS and not name.startswith("mt_"))
    if clash:
        raise ValueError(f"modules may not replace core RPC methods: {clash}")
    return {**METHODS, **extra}
