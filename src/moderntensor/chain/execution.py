"""The state transition: ``validate_tx``, ``apply_tx`` and ``apply_block`` over a :class:`State`.

Fee policy (EIP-1559 shaped): a transaction pays ``gas_used x effective_gas_price``; the base-fee
part (``gas_used x base_fee``) is burned (counted in ``supply/burned``) and the tip part goes to
the block's coinbase. A transfer uses exactly 21,000 gas plus calldata gas; a system call adds its
contract's ``gas``. The base fee follows EIP-1559 (target = half the gas limit, at most 12.5% change
per block) and never drops below the chain's ``min_base_fee``. Fee-free system calls (see
:mod:`.extensions`) pay nothing. Consensus code reads no clock and no randomness: the timestamp is
the producer's, recorded in the block.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from eth_utils import to_checksum_address

from moderntensor.chain.blocks import (
    Block,
    Header,
    Receipt,
    ReceiptLog,
    logs_bloom,
    receipts_root,
    transactions_root,
)
from moderntensor.chain.errors import ExecutionError, LimitExceeded, TxRejected
from moderntensor.chain.extensions import BlockContext, Extensions, TxContext
from moderntensor.chain.state import (
    State,
    add_balance,
    checkpoint,
    count_burned,
    get_account,
    rollback,
    state_root,
    sub_balance,
    transfer,
)
from moderntensor.chain.txs import SignedTx, effective_gas_price, intrinsic_gas

log = logging.getLogger(__name__)

BASE_FEE_MAX_CHANGE_DENOMINATOR = 8  # EIP-1559: the base fee moves at most 1/8 per block
ELASTICITY_MULTIPLIER = 2  # EIP-1559: the gas target is half the gas limit


@dataclass(frozen=True)
class BlockEnv:
    """The block a transaction executes in; fixed by the producer before execution."""

    number: int
    timestamp: int
    parent_hash: bytes
    coinbase: bytes
    base_fee: int
    gas_limit: int
    chain_id: int


@dataclass(frozen=True)
class BlockResult:
    block: Block
    rejected: tuple[tuple[SignedTx, TxRejected], ...]  # dropped: invalid at execution time
    deferred: tuple[SignedTx, ...]  # valid but did not fit (gas limit, a per-block cap)


def next_base_fee(parent: Header, min_base_fee: int) -> int:
    """EIP-1559 base fee of the child of ``parent``, floored at ``min_base_fee``."""
    target = parent.gas_limit // ELASTICITY_MULTIPLIER
    base = parent.base_fee
    if target in (parent.gas_used, 0):
        fee = base
    elif parent.gas_used > target:
        delta = base * (parent.gas_used - target) // target // BASE_FEE_MAX_CHANGE_DENOMINATOR
        fee = base + max(delta, 1)
    else:
        fee = base - base * (target - parent.gas_used) // target // BASE_FEE_MAX_CHANGE_DENOMINATOR
    return max(fee, min_base_fee)


def gas_required(ext: Extensions, tx: SignedTx) -> int:
    """Gas a transaction uses: intrinsic gas plus its system contract's own cost."""
    contract = ext.system_contracts.get(tx.to)
    return intrinsic_gas(tx) + (contract.gas if contract else 0)


def validate_tx(state: State, ext: Extensions, tx: SignedTx, *, base_fee: int, gas_limit: int,
             nonce: int | None, reserved: int = 0) -> bool:
    """Raise :class:`TxRejected` unless ``tx`` can execute now; return whether it is fee-free.

    ``nonce`` is the nonce it must have (None: the mempool checks nonces itself); ``reserved`` is
    what the sender's other pending transactions may still spend.
    """
    account = get_account(state, tx.sender)
    if nonce is not None and tx.nonce != nonce:
        code = "nonce_too_low" if tx.nonce < nonce else "nonce_too_high"
        raise TxRejected(f"{code.replace('_', ' ')}: tx nonce {tx.nonce}, expected {nonce}",
                         code=code)
    if tx.gas > gas_limit:
        raise TxRejected(f"gas limit {tx.gas} exceeds the block gas limit {gas_limit}",
                         code="exceeds_block_gas_limit")
    required = gas_required(ext, tx)
    if tx.gas < required:
        raise TxRejected(f"gas limit {tx.gas} is below the {required} gas this needs",
                         code="intrinsic_gas_too_low")
    contract = ext.system_contracts.get(tx.to)
    fee_free = bool(contract and contract.fee_free and contract.fee_free(state, tx))
    cost = tx.value if fee_free else tx.value + tx.gas * tx.max_fee
    if not fee_free and tx.max_fee < base_fee:
        raise TxRejected(f"max fee per gas {tx.max_fee} is below the base fee {base_fee}",
                         code="underpriced")
    if account.balance < cost + reserved:
        raise TxRejected(
            f"insufficient funds: {to_checksum_address(tx.sender)} has {account.balance} base "
            f"units, the tx may cost {cost} (value + gas x max fee)"
            + (f" on top of {reserved} reserved by pending txs" if reserved else ""),
            code="insufficient_funds")
    return fee_free


def apply_tx(state: State, ext: Extensions, env: BlockEnv, tx: SignedTx,
             cumulative_gas: int) -> Receipt:
    """Execute one transaction; raises :class:`TxRejected` (state untouched) if invalid."""
    fee_free = validate_tx(state, ext, tx, base_fee=env.base_fee, gas_limit=env.gas_limit,
                        nonce=get_account(state, tx.sender).nonce)
    gas_used = gas_required(ext, tx)
    price = 0 if fee_free else effective_gas_price(tx, env.base_fee)
    # validate_tx checked the sender can pay
    sub_balance(state, tx.sender, gas_used * price, bump_nonce=True)
    if price:  # the base fee part is burned: apply_block counts it once per block
        add_balance(state, env.coinbase, gas_used * (price - env.base_fee))
    before = checkpoint(state)
    contract = ext.system_contracts.get(tx.to)
    ctx = None if contract is None else TxContext(
        sender=tx.sender, to=tx.to, value=tx.value, nonce=tx.nonce, tx_hash=tx.hash,
        block_number=env.number, timestamp=env.timestamp, chain_id=env.chain_id,
        parent_hash=env.parent_hash)
    error = None
    try:
        transfer(state, tx.sender, tx.to, tx.value)
        if contract is not None and ctx is not None:
            contract.execute(state, ctx, tx.data)
    except ExecutionError as exc:
        error = (exc.code, exc.message)
    except Exception as exc:  # a bug in a module must not halt the chain; it reverts the call
        log.exception("system call to 0x%s crashed", tx.to.hex())
        error = ("internal_error", f"system call failed: {type(exc).__name__}")
    if error is not None:
        rollback(state, before)
    return Receipt(status=0 if error else 1, gas_used=gas_used,
                   cumulative_gas_used=cumulative_gas + gas_used, effective_gas_price=price,
                   logs=() if error or ctx is None else tuple(ctx.logs), error=error)


def apply_block(state: State, ext: Extensions, env: BlockEnv,
                candidates: list[SignedTx]) -> BlockResult:
    """Execute ``candidates`` in order, run the end-block hooks and seal the header."""
    included: list[SignedTx] = []
    receipts: list[Receipt] = []
    rejected: list[tuple[SignedTx, TxRejected]] = []
    deferred: list[SignedTx] = []
    gas_used = burned = 0
    for tx in candidates:
        if gas_used + tx.gas > env.gas_limit:
            deferred.append(tx)
            continue
        try:
            receipt = apply_tx(state, ext, env, tx, gas_used)
        except LimitExceeded:  # valid later (a per-block cap): stays in the mempool
            deferred.append(tx)
            continue
        except TxRejected as exc:
            rejected.append((tx, exc))
            continue
        gas_used = receipt.cumulative_gas_used
        if receipt.effective_gas_price:
            burned += receipt.gas_used * env.base_fee
        included.append(tx)
        receipts.append(receipt)
    count_burned(state, burned)   # one supply write per block, before the end-block hooks
    end_logs = run_end_block(state, ext, env)
    all_logs = [entry for r in receipts for entry in r.logs] + end_logs
    header = Header(
        number=env.number, parent_hash=env.parent_hash, timestamp=env.timestamp,
        coinbase=env.coinbase, state_root=state_root(state),
        transactions_root=transactions_root(included),
        receipts_root=receipts_root([*receipts, Receipt(1, 0, gas_used, 0, tuple(end_logs))]),
        logs_bloom=logs_bloom(all_logs), gas_used=gas_used, gas_limit=env.gas_limit,
        base_fee=env.base_fee)
    block = Block(header, tuple(included), tuple(receipts), tuple(end_logs))
    return BlockResult(block, tuple(rejected), tuple(deferred))


def run_end_block(state: State, ext: Extensions, env: BlockEnv) -> list[ReceiptLog]:
    """Run every end-block hook; a crashing hook's changes are reverted and logged."""
    logs: list[ReceiptLog] = []
    for hook in ext.end_block:
        ctx = BlockContext(number=env.number, timestamp=env.timestamp,
                           parent_hash=env.parent_hash, chain_id=env.chain_id,
                           coinbase=env.coinbase)
        before = checkpoint(state)
        try:
            hook(state, ctx)
        except Exception:  # deterministic either way; keeping the chain alive is the safe side
            log.exception("end-block hook %r failed at block %d; its changes are reverted",
                          hook, env.number)
            rollback(state, before)
            continue
        logs.extend(ctx.logs)
    return logs
