"""Extension points: how ModernTensor modules plug into the Luxtensor core.

A module (ModernTensor's: subnets, registration, stake, weights, epochs) is installed into an
:class:`Extensions` object that the :class:`~moderntensor.chain.app.App` is built with; nothing is
global. The node's installers are listed in :data:`moderntensor.chain.installed.DEFAULT_MODULES`
(an installer is ``install(extensions) -> None``). Four hooks:

1. **System contracts** — ``extensions.add_system_contract(SystemContract(address, execute, ...))``.
   A transaction whose ``to`` is ``address`` runs ``execute(state, ctx, calldata) -> bytes``
   after the value (if any) moved from the sender to ``address``. It changes state only through
   :mod:`moderntensor.chain.state` functions, emits logs with ``ctx.emit(topics, data)``, and
   fails by raising :class:`~moderntensor.chain.errors.ExecutionError` (or a subclass) with a
   stable code: all its state changes and logs are reverted, the receipt has status 0 and
   ``error = (code, message)``, and gas is still charged (unless fee-free).
   ``view(state, ctx, calldata) -> bytes`` answers ``eth_call`` (state changes are discarded).
   ``fee_free(state, tx) -> bool`` is asked at submission (``App.check_tx``) and at execution: True
   makes the transaction pay no gas at all (gas price 0 accepted, no balance needed), e.g. a
   ``registerMiner`` with a valid proof of work; it may raise
   :class:`~moderntensor.chain.errors.TxRejected` to refuse the transaction at submission
   with a precise code (bad PoW, rate limited). ``gas`` is charged on top of the intrinsic gas.
2. **End-block hooks** — ``extensions.end_block.append(hook)`` with
   ``hook(state, ctx: BlockContext) -> None``; run in order after the block's transactions, before
   the state root (epoch processing every ``tempo`` blocks). Hooks emit logs with
   ``ctx.emit(address, topics, data)``; they land in the block's ``end_block_logs`` and are
   returned by ``eth_getLogs`` (tx index = len(txs), tx hash = zero hash).
3. **Genesis hooks** — ``extensions.genesis.append(hook)`` with ``hook(state, spec)`` runs once when
   the chain is created (e.g. genesis subnets from ``spec.modules["subnets"]``).
4. **RPC methods** — ``extensions.rpc_methods["mt_getSubnets"] = handler`` with
   ``handler(node, params: list) -> JSON-able``; ``node`` is the running
   :class:`~moderntensor.chain.node.Node` (``node.state``, ``node.head``, ``node.spec``,
   ``node.store``). Raise :class:`~moderntensor.chain.errors.InvalidParams` /
   :class:`~moderntensor.chain.errors.NotFound` for bad input. Modules may add ``mt_*`` names
   (and replace the core's basic ``mt_nodeInfo``), never ``eth_*`` ones.

Module state lives in the namespaced key-value layer (``kv_set(state, "neurons", key, value)``),
covered by the state root and persisted with the block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moderntensor.chain.blocks import ReceiptLog
from moderntensor.chain.state import State
from moderntensor.chain.txs import SignedTx


@dataclass
class TxContext:
    """What a system call may know about the transaction and block it runs in."""

    sender: bytes
    to: bytes
    value: int
    nonce: int
    tx_hash: bytes
    block_number: int
    timestamp: int
    chain_id: int
    parent_hash: bytes
    logs: list[ReceiptLog] = field(default_factory=list)

    def emit(self, topics: list[bytes] | tuple[bytes, ...], data: bytes = b"") -> None:
        """Record a log from this system contract (``to``); reverted if the call fails."""
        if len(topics) > 4 or any(len(t) != 32 for t in topics):
            raise ValueError("a log has at most 4 topics of 32 bytes each")
        self.logs.append(ReceiptLog(self.to, tuple(topics), bytes(data)))


@dataclass
class BlockContext:
    """What an end-block hook may know about the block being finalized."""

    number: int
    timestamp: int
    parent_hash: bytes
    chain_id: int
    coinbase: bytes
    logs: list[ReceiptLog] = field(default_factory=list)

    def emit(self, address: bytes, topics: list[bytes] | tuple[bytes, ...],
             data: bytes = b"") -> None:
        if len(topics) > 4 or any(len(t) != 32 for t in topics):
            raise ValueError("a log has at most 4 topics of 32 bytes each")
        self.logs.append(ReceiptLog(address, tuple(topics), bytes(data)))


SystemCall = Callable[[State, TxContext, bytes], bytes]
FeeFree = Callable[[State, SignedTx], bool]
EndBlockHook = Callable[[State, BlockContext], None]
GenesisHook = Callable[[State, Any], None]
RpcHandler = Callable[[Any, list[Any]], Any]


@dataclass(frozen=True)
class SystemContract:
    """A reserved address whose transactions run Python instead of EVM code."""

    address: bytes
    execute: SystemCall
    view: SystemCall | None = None
    fee_free: FeeFree | None = None
    gas: int = 0
    name: str = ""


@dataclass
class Extensions:
    """Everything modules add to the core; build one, fill it, hand it to ``App``."""

    system_contracts: dict[bytes, SystemContract] = field(default_factory=dict)
    end_block: list[EndBlockHook] = field(default_factory=list)
    genesis: list[GenesisHook] = field(default_factory=list)
    rpc_methods: dict[str, RpcHandler] = field(default_factory=dict)

    def add_system_contract(self, contract: SystemContract) -> None:
        if len(contract.address) != 20:
            raise ValueError("a system contract address is 20 bytes")
        if contract.address in self.system_contracts:
            raise ValueError(f"system address 0x{contract.address.hex()} is already taken")
        self.system_contracts[contract.address] = contract


ModuleInstaller = Callable[[Extensions], None]
