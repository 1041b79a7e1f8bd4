"""Plug the ModernTensor modules into the Luxtensor core (see :mod:`moderntensor.chain.extensions`).

``install(extensions)`` registers the system contract (calls and ``eth_call`` views dispatched
by the table of ``protocol/syscall_table.py``, the fee-free policy), the end-block hook
(unbonding, epochs, difficulty, PoW block hashes), the genesis hook (network params and
subnets from ``spec.modules["moderntensor"]``) and the ``mt_*`` methods.
"""

from __future__ import annotations

from typing import Any

from moderntensor.chain.errors import ExecutionError, LimitExceeded, TxRejected
from moderntensor.chain.extensions import (
    BlockContext,
    Extensions,
    SystemContract,
    TxContext,
)
from moderntensor.chain.modules import system
from moderntensor.chain.modules.params import config_from_spec
from moderntensor.chain.modules.records import current_block
from moderntensor.chain.modules.rpc_methods import make_methods
from moderntensor.chain.state import State
from moderntensor.chain.txs import SignedTx
from moderntensor.errors import InvalidInputError
from moderntensor.protocol import syscalls

SYSCALL_GAS = 30_000        # on top of intrinsic gas (calldata): a few kv writes' worth
SYSTEM_ADDRESS = syscalls.SYSTEM_ADDRESS_BYTES


def decode(data: bytes) -> syscalls.SysCall:
    """Calldata -> call, or revert with the ABI's stable code (``unknown_call``...)."""
    try:
        return syscalls.decode_call(data)
    except InvalidInputError as exc:
        raise ExecutionError(exc.message, code=exc.code, data=exc.data) from None


def encode_result(name: str, value: Any) -> bytes:
    outputs = syscalls.FUNCTIONS[name].output_types
    return syscalls.encode_result(name, *(value if len(outputs) > 1 else (value,)))


def install(extensions: Extensions) -> None:
    """Register the ModernTensor modules on ``extensions``."""
    address = SYSTEM_ADDRESS

    def execute(state: State, ctx: TxContext, data: bytes) -> bytes:
        call_ = decode(data)
        call = system.Call(sender=ctx.sender, block=ctx.block_number, chain_id=ctx.chain_id,
                           value=ctx.value)

        def emit(name: str, fields: dict[str, Any]) -> None:
            ctx.emit(*syscalls.encode_event(name, fields))

        result = system.execute(state, address, call, call_.name, call_.args, emit)
        return encode_result(call_.name, result)

    def view(state: State, ctx: TxContext, data: bytes) -> bytes:
        # the core rolls every change back after an eth_call: non-view calls are simulated
        return execute(state, ctx, data)

    def fee_free(state: State, tx: SignedTx) -> bool:
        try:
            call_ = decode(tx.data)
        except ExecutionError as exc:   # it could only revert: refuse it, say why
            raise TxRejected(exc.message, code=exc.code, data=exc.data) from None
        if not syscalls.TABLE[call_.name].fee_free:
            return False
        call = system.Call(sender=tx.sender, block=current_block(state), chain_id=tx.chain_id,
                           value=tx.value)
        try:
            return system.check_fee_free(state, call, call_.name, call_.args)
        except ExecutionError as exc:
            if exc.code in system.RETRY_NEXT_BLOCK:   # the core defers it to a later block
                raise LimitExceeded(exc.message, code=exc.code, data=exc.data) from None
            raise TxRejected(exc.message, code=exc.code, data=exc.data) from None

    def end_block(state: State, ctx: BlockContext) -> None:
        def emit(name: str, fields: dict[str, Any]) -> None:
            ctx.emit(address, *syscalls.encode_event(name, fields))

        system.end_block(state, address, ctx.number, ctx.parent_hash, emit)

    def genesis(state: State, spec: Any) -> None:
        system.genesis(state, config_from_spec(spec.chain_id, spec.modules))

    extensions.add_system_contract(SystemContract(
        address=address, execute=execute, view=view, fee_free=fee_free, gas=SYSCALL_GAS,
        name="moderntensor"))
    extensions.end_block.append(end_block)
    extensions.genesis.append(genesis)
    extensions.rpc_methods.update(make_methods(address))
