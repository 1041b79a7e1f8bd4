"""The Luxtensor application, ABCI-shaped: ``init_chain``, ``check_tx``, ``finalize_block``,
``commit`` and ``query`` around the deterministic functions of :mod:`.execution`.

The app owns the in-memory :class:`~.state.State` (the source of truth between blocks), the
mempool and the store. Same genesis + same blocks = same state root, on any machine: nothing here
reads a clock or randomness; the producer hands in the block timestamp.

>>> import tempfile, pathlib
>>> from moderntensor.chain.genesis import dev_spec
>>> app = App(dev_spec(), Store(pathlib.Path(tempfile.mkdtemp())))
>>> app.head.number
0
>>> result = app.finalize_block(timestamp=1); app.commit(result); app.head.number
1
"""

from __future__ import annotations

from moderntensor.chain.blocks import ZERO_HASH, Block, Header, Receipt, receipts_root
from moderntensor.chain.blocks import transactions_root as txs_root
from moderntensor.chain.errors import ExecutionError, InvalidParams, StoreError
from moderntensor.chain.execution import (
    BlockEnv,
    BlockResult,
    apply_block,
    gas_required,
    next_base_fee,
)
from moderntensor.chain.extensions import Extensions, TxContext
from moderntensor.chain.genesis import ChainSpec
from moderntensor.chain.mempool import Mempool
from moderntensor.chain.state import (
    SUPPLY_NS,
    State,
    add_balance,
    checkpoint,
    get_account,
    kv_get,
    kv_set_int,
    load_leaf,
    mark_saved,
    rollback,
    state_root,
    transfer,
    unsaved_changes,
)
from moderntensor.chain.store import Store
from moderntensor.chain.txs import SignedTx, decode_transaction


class App:
    """One chain: its spec, modules, state, mempool and database. Not thread-safe by design:
    the node calls it from a single event-loop thread."""

    def __init__(self, spec: ChainSpec, store: Store, extensions: Extensions | None = None,
                 mempool: Mempool | None = None) -> None:
        self.spec = spec
        self.store = store
        self.ext = extensions or Extensions()
        self.mempool = mempool or Mempool()
        self.state = State()
        self.head: Header = self._open()

    # -- ABCI-shaped entry points -------------------------------------------------------------

    def init_chain(self) -> Block:
        """Block 0: allocations, supply bookkeeping and module genesis hooks."""
        for address, balance in sorted(self.spec.alloc.items()):
            add_balance(self.state, address, balance)
        kv_set_int(self.state, SUPPLY_NS, b"genesis", sum(self.spec.alloc.values()))
        for hook in self.ext.genesis:
            hook(self.state, self.spec)
        empty: list = []
        header = Header(number=0, parent_hash=ZERO_HASH, timestamp=self.spec.timestamp,
                        coinbase=self.spec.coinbase, state_root=state_root(self.state),
                        transactions_root=txs_root(empty),
                        receipts_root=receipts_root([Receipt(1, 0, 0, 0)]),
                        logs_bloom=b"\x00" * 256, gas_used=0, gas_limit=self.spec.gas_limit,
                        base_fee=self.spec.min_base_fee)
        return Block(header)

    def check_tx(self, raw: bytes, decoded: SignedTx | None = None) -> SignedTx:
        """Decode, verify and admit a raw transaction to the mempool, or raise TxRejected.
        ``decoded``: this very ``raw`` already decoded and verified by the node's own decoder
        (see :mod:`.sender_pool`); the mempool's checks run either way."""
        tx = decoded if decoded is not None and decoded.raw == raw else decode_transaction(
            raw, self.spec.chain_id)
        self.mempool.add(tx, self.state, self.ext, base_fee=self.next_base_fee(),
                         gas_limit=self.spec.gas_limit)
        return tx

    def finalize_block(self, timestamp: int, txs: list[SignedTx] | None = None) -> BlockResult:
        """Execute the next block (not yet committed): ``txs`` as a consensus engine decided
        them, or by default the mempool's best transactions."""
        env = self.next_env(timestamp)
        candidates = self.mempool.select(env.base_fee, env.gas_limit) if txs is None else txs
        return apply_block(self.state, self.ext, env, candidates)

    def commit(self, result: BlockResult) -> None:
        """Persist the block in one DB transaction, then make it the head."""
        block = result.block
        try:
            self.store.save_block(block, unsaved_changes(self.state))
        except BaseException:
            rollback(self.state, 0)  # the journal holds exactly this block's changes
            raise
        mark_saved(self.state)
        self.head = block.header
        senders = {tx.sender for tx in block.transactions}
        senders.update(tx.sender for tx, _ in result.rejected)
        self.mempool.remove_stale(self.state, senders, [tx for tx, _ in result.rejected])

    # -- queries --------------------------------------------------------------------------------

    def next_base_fee(self) -> int:
        return next_base_fee(self.head, self.spec.min_base_fee)

    def next_env(self, timestamp: int) -> BlockEnv:
        # timestamps never go backwards, even if the producer's clock does
        return BlockEnv(number=self.head.number + 1,
                        timestamp=max(timestamp, self.head.timestamp),
                        parent_hash=self.head.hash, coinbase=self.spec.coinbase,
                        base_fee=self.next_base_fee(), gas_limit=self.spec.gas_limit,
                        chain_id=self.spec.chain_id)

    def balance(self, address: bytes) -> int:
        return get_account(self.state, address).balance

    def nonce(self, address: bytes, *, pending: bool = False) -> int:
        if pending:
            return self.mempool.pending_nonce(self.state, address)
        return get_account(self.state, address).nonce

    def call(self, to: bytes, data: bytes, sender: bytes, value: int = 0) -> bytes:
        """``eth_call``: a system contract's view, or empty bytes for a plain account.

        Raises :class:`ExecutionError` if the view fails; state is never changed.
        """
        contract = self.ext.system_contracts.get(to)
        if contract is None:
            return b""
        if contract.view is None:
            raise ExecutionError(f"system contract 0x{to.hex()} has no read-only calls",
                                 code="no_view")
        ctx = self._next_block_context(to, sender, value)
        before = checkpoint(self.state)
        try:
            return contract.view(self.state, ctx, data)
        finally:
            rollback(self.state, before)

    def dry_run(self, to: bytes, data: bytes, sender: bytes, value: int = 0) -> None:
        """Execute a call as the next block would, then undo it: ``eth_estimateGas`` uses it
        to refuse a call that would fail. Raises :class:`ExecutionError` with the call's code."""
        contract = self.ext.system_contracts.get(to)
        ctx = self._next_block_context(to, sender, value)
        before = checkpoint(self.state)
        try:
            if value:
                transfer(self.state, sender, to, value)
            if contract is not None:
                contract.execute(self.state, ctx, data)
        finally:
            rollback(self.state, before)

    def _next_block_context(self, to: bytes, sender: bytes, value: int) -> TxContext:
        """The context a call would run in as the next block's (hashless) transaction."""
        env = self.next_env(self.head.timestamp)
        return TxContext(sender=sender, to=to, value=value, nonce=self.nonce(sender),
                         tx_hash=ZERO_HASH, block_number=env.number, timestamp=env.timestamp,
                         chain_id=env.chain_id, parent_hash=env.parent_hash)

    def query(self, path: str, data: bytes = b"") -> bytes:
        """ABCI-style raw query of the latest state (what a CometBFT adapter would serve).

        ``"balance"`` / ``"nonce"`` with a 20-byte address answer a 32-byte big-endian int;
        ``"kv/<namespace>"`` with a key answers the stored bytes (empty if absent).
        """
        if path in ("balance", "nonce"):
            if len(data) != 20:
                raise InvalidParams(f"{path} query takes a 20-byte address")
            account = get_account(self.state, data)
            return getattr(account, path).to_bytes(32, "big")
        if path.startswith("kv/") and len(path) > 3:
            return kv_get(self.state, path[3:], data) or b""
        raise InvalidParams(f"unknown query path {path!r}; use balance, nonce or kv/<namespace>")

    def estimate_gas(self, tx: SignedTx) -> int:
        return gas_required(self.ext, tx)

    # -- startup --------------------------------------------------------------------------------

    def _open(self) -> Header:
        """Resume from the store, or create block 0 if the store is empty."""
        genesis = self.init_chain().header
        self.store.set_meta_once("genesis_hash", genesis.hash)
        if self.store.head_number() is None:
            self.store.save_block(Block(genesis), unsaved_changes(self.state))
            mark_saved(self.state)
            return genesis
        self.state = State()
        for key, value in self.store.state_leaves():
            load_leaf(self.state, key, value)
        head = self.store.header(self.store.head_number() or 0)
        if head is None or state_root(self.state) != head.state_root:
            raise StoreError(f"{self.store.path}: stored state does not match the head block's "
                             "state root; the database is corrupt")
        return head
