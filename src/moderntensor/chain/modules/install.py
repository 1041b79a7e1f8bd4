"""Plug the ModernTensor modules into the Luxtensor core (see :mod:`moderntensor.chain.extensions`).

``install(extensions)`` registers the system contract (calls, ``eth_call`` views, the fee-free
policy), the end-block hook (unbonding, epochs, difficulty, PoW block hashes), the genesis hook
(network params and subnets from ``spec.modules["moderntensor"]``) and the ``mt_*`` methods.
"""

from __future__ import annotations

from typing import Any

from moderntensor.chain.errors import ExecutionError, TxRejected
from moderntensor.chain.extensions import (
    BlockContext,
    Extensions,
    SystemContract,
    TxContext,
)
from moderntensor.chain.modules import system
from moderntensor.chain.modules.abi_codec import AbiCodec, Function
from moderntensor.chain.modules.params import config_from_spec
from moderntensor.chain.modules.records import current_block
from moderntensor.chain.modules.rpc_methods import make_methods
from moderntensor.chain.modules.view_calls import run_view
from moderntensor.chain.state import State
from moderntensor.chain.txs import SignedTx

try:  # the shared ABI (issue #5's protocol/syscalls.py); the interim one until it ships
    from moderntensor.protocol import syscalls as _abi_source  # type: ignore[attr-defined]

    SYSTEM_ABI: list[dict[str, Any]] = _abi_source.SYSTEM_ABI
    SYSTEM_ADDRESS: bytes = _abi_source.SYSTEM_ADDRESS_BYTES
except (ImportError, AttributeError):
    from moderntensor.chain.modules import abi_spec

    SYSTEM_ABI = abi_spec.ABI
    SYSTEM_ADDRESS = bytes.fromhex(abi_spec.SYSTEM_ADDRESS[2:])

SYSCALL_GAS = 30_000        # on top of intrinsic gas (calldata): a few kv writes' worth


def install(extensions: Extensions) -> None:
    """Register everything of issue #5 on ``extensions``."""
    codec = AbiCodec(SYSTEM_ABI)
    address = SYSTEM_ADDRESS

    def execute(state: State, ctx: TxContext, data: bytes) -> bytes:
        function, args = codec.decode_call(data)
        if function.view:
            return codec.encode_output(function, run_view(state, address, function.name, args))
        call = system.Call(sender=ctx.sender, block=ctx.block_number, chain_id=ctx.chain_id,
                           value=ctx.value)

        def emit(name: str, fields: dict[str, Any]) -> None:
            ctx.emit(*codec.encode_event(name, fields))

        result = system.execute(state, address, call, function.name, args, emit)
        return codec.encode_output(function, result)

    def view(state: State, ctx: TxContext, data: bytes) -> bytes:
        # the core rolls every change back after an eth_call: non-view calls are simulated
        return execute(state, ctx, data)

    def fee_free(state: State, tx: SignedTx) -> bool:
        try:
            function, args = codec.decode_call(tx.data)
        except ExecutionError:
            return False                # not free: it pays gas and reverts with the reason
        if function.name not in system.FEE_FREE_CALLS:
            return False
        call = system.Call(sender=tx.sender, block=current_block(state), chain_id=tx.chain_id,
                           value=tx.value)
        try:
            return system.check_fee_free(state, call, function.name, args)
        except ExecutionError as exc:
            raise TxRejected(exc.message, code=exc.code, data=exc.data) from None

    def end_block(state: State, ctx: BlockContext) -> None:
        def emit(name: str, fields: dict[str, Any]) -> None:
            ctx.emit(address, *codec.encode_event(name, fields))

        system.end_block(state, address, ctx.number, ctx.parent_hash, emit)

    def genesis(state: State, spec: Any) -> None:
        system.genesis(state, config_from_spec(spec.chain_id, spec.modules))

    extensions.add_system_contract(SystemContract(
        address=address, execute=execute, view=view, fee_free=fee_free, gas=SYSCALL_GAS,
        name="moderntensor"))
    extensions.end_block.append(end_block)
    extensions.genesis.append(genesis)
    extensions.rpc_methods.update(make_methods(address))


__all__ = ["Function", "install"]
