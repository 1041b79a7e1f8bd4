"""ABCI 2.0 handlers: CometBFT's requests mapped onto the Luxtensor :class:`~..app.App`.

CometBFT height ``h`` is Luxtensor block ``h`` (block 0 is the app's genesis block, whose state
root is the ``app_hash`` answered to InitChain). The app hash is the state root. Block time comes
from CometBFT (BFT time, whole seconds); transactions are raw signed Ethereum transactions.

- CheckTx admits a transaction to the app's mempool (the same rules as the single-node chain);
  a transaction already there, e.g. sent by eth_sendRawTransaction on this node, is accepted
  again without a second check. Recheck keeps only what the app's mempool still holds.
- PrepareProposal picks from the app's mempool exactly as the embedded producer does, executes
  the candidates on a scratch copy of the state and proposes only the ones that apply.
- ProcessProposal executes the proposal on a scratch copy and rejects it if any transaction
  does not decode, is invalid (signature, nonce, funds, fee) or does not fit the block: an
  honest proposer never sends such a block, so it is a faulty or byzantine one.
- FinalizeBlock executes for real; Commit persists it (one SQLite transaction) and serves it.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from typing import Any

from moderntensor.chain.abci.broadcast import CometNode
from moderntensor.chain.abci.pb.tendermint.abci import types_pb2 as abci
from moderntensor.chain.abci.validators import ValidatorSet
from moderntensor.chain.errors import GenesisError, InvalidParams, RpcError
from moderntensor.chain.execution import BlockResult, apply_block
from moderntensor.chain.genesis import spec_from_json
from moderntensor.chain.state import checkpoint, rollback
from moderntensor.chain.txs import SignedTx, decode_transaction
from moderntensor.protocol.keccak import keccak

log = logging.getLogger("moderntensor.chain.abci")

APP_VERSION = 1
OK = 0
CODE_REJECTED = 1  # CheckTx/FinalizeBlock: the tx is invalid; ``info`` holds the stable code
CODE_STALE = 2  # Recheck: no longer pending here (mined, replaced or dropped)
CODE_UNDECODABLE = 3
DECODED_CACHE = 20_000  # txs decoded for a proposal, kept for the FinalizeBlock that follows


class InvalidProposalError(Exception):
    """A proposed block this node must vote against."""


class AbciHandlers:
    """One handler per ABCI request, for the node's app. Called on the node's event loop."""

    def __init__(self, node: CometNode, validators: ValidatorSet | None = None) -> None:
        self.node = node
        self.app = node.app
        self.validators = validators or ValidatorSet()
        self._pending: BlockResult | None = None
        self._started = 0.0
        self._decoded: OrderedDict[bytes, SignedTx] = OrderedDict()

    def handle(self, kind: str, request: Any) -> Any:
        return getattr(self, kind)(request)

    # -- connection: info / query ---------------------------------------------------------
    def info(self, request: abci.RequestInfo) -> abci.ResponseInfo:
        head = self.app.head
        return abci.ResponseInfo(data="luxtensor", version="1", app_version=APP_VERSION,
                                 last_block_height=head.number,
                                 last_block_app_hash=head.state_root if head.number else b"")

    def query(self, request: abci.RequestQuery) -> abci.ResponseQuery:
        try:
            value = self.app.query(request.path, request.data)
        except InvalidParams as exc:
            return abci.ResponseQuery(code=CODE_REJECTED, log=exc.message, codespace="luxtensor",
                                      height=self.app.head.number)
        return abci.ResponseQuery(code=OK, key=request.data, value=value,
                                  height=self.app.head.number)

    # -- consensus ------------------------------------------------------------------------
    def init_chain(self, request: abci.RequestInitChain) -> abci.ResponseInitChain:
        if request.app_state_bytes:
            try:
                theirs = spec_from_json(json.loads(request.app_state_bytes))
            except (ValueError, GenesisError) as exc:
                raise GenesisError(f"CometBFT genesis app_state is not a Luxtensor genesis: "
                                   f"{exc}") from None
            if theirs != self.app.spec:
                raise GenesisError("CometBFT genesis app_state differs from this node's chain "
                                   "spec; both must come from the same genesis file")
        if request.initial_height not in (0, 1) or self.app.head.number != 0:
            raise GenesisError(f"InitChain at height {request.initial_height} with the app at "
                               f"block {self.app.head.number}; a Luxtensor chain starts at 1")
        genesis = self.app.store.header(0)
        assert genesis is not None  # the app writes block 0 when it opens an empty store
        return abci.ResponseInitChain(app_hash=genesis.state_root)

    def prepare_proposal(self, request: abci.RequestPrepareProposal
                         ) -> abci.ResponsePrepareProposal:
        env = self.app.next_env(request.time.seconds)
        candidates = self.app.mempool.select(env.base_fee, env.gas_limit)
        chosen, size = [], 0
        for tx in candidates:
            size += len(tx.raw) + 8  # CometBFT counts each tx's protobuf framing too
            if size > request.max_tx_bytes:
                break
            chosen.append(tx)
        result = self._dry_run(request.time.seconds, chosen)
        return abci.ResponsePrepareProposal(txs=[tx.raw for tx in result.block.transactions])

    def process_proposal(self, request: abci.RequestProcessProposal
                         ) -> abci.ResponseProcessProposal:
        status = abci.ResponseProcessProposal.ACCEPT
        try:
            txs = [self._decode(raw) for raw in request.txs]
            result = self._dry_run(request.time.seconds, txs)
            if result.rejected or result.deferred:
                bad = (result.rejected[0][1].message if result.rejected
                       else "it does not fit the block")
                raise InvalidProposalError(f"{len(result.rejected) + len(result.deferred)} of "
                                      f"{len(txs)} txs do not apply; first: {bad}")
        except (RpcError, InvalidProposalError) as exc:
            log.warning("rejecting the proposal for height %d from %s: %s", request.height,
                        request.proposer_address.hex(), exc)
            status = abci.ResponseProcessProposal.REJECT
        return abci.ResponseProcessProposal(status=status)

    def finalize_block(self, request: abci.RequestFinalizeBlock) -> abci.ResponseFinalizeBlock:
        self._started = time.perf_counter()
        decoded: list[SignedTx | None] = []
        for raw in request.txs:
            try:
                decoded.append(self._decode(raw))
            except RpcError:
                decoded.append(None)  # only a byzantine majority gets here: skip, stay in step
        result = self.app.finalize_block(request.time.seconds,
                                         [tx for tx in decoded if tx is not None])
        self._pending = result
        receipts = {tx.hash: receipt for tx, receipt in zip(result.block.transactions,
                                                           result.block.receipts, strict=True)}
        errors = {tx.hash: exc for tx, exc in result.rejected}
        tx_results = [self._tx_result(tx, receipts, errors) for tx in decoded]
        updates = self.validators.updates(self.app.state, request.height)
        return abci.ResponseFinalizeBlock(tx_results=tx_results, validator_updates=updates,
                                          app_hash=result.block.header.state_root)

    def commit(self, request: abci.RequestCommit) -> abci.ResponseCommit:
        if self._pending is None:
            raise RuntimeError("Commit without FinalizeBlock")
        result, self._pending = self._pending, None
        self.node.commit_block(result, self._started)
        for tx in result.block.transactions:
            self._decoded.pop(tx.hash, None)
        return abci.ResponseCommit()

    # -- mempool --------------------------------------------------------------------------
    def check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        tx_hash = keccak(request.tx)
        if request.type == abci.RECHECK:
            pending = tx_hash in self.app.mempool
            return abci.ResponseCheckTx(code=OK if pending else CODE_STALE,
                                        log="" if pending else "no longer pending")
        held = self.app.mempool.get(tx_hash)
        if held is not None:
            return abci.ResponseCheckTx(code=OK, gas_wanted=held.gas)
        try:
            self.node.admit(request.tx)
        except RpcError as exc:
            return abci.ResponseCheckTx(code=CODE_REJECTED, log=exc.message, info=exc.code,
                                        codespace="luxtensor")
        tx = self.app.mempool.get(tx_hash)
        return abci.ResponseCheckTx(code=OK, gas_wanted=tx.gas if tx else 0)

    # -- unused by Luxtensor: vote extensions and state-sync snapshots ---------------------
    def extend_vote(self, request: abci.RequestExtendVote) -> abci.ResponseExtendVote:
        return abci.ResponseExtendVote()

    def verify_vote_extension(self, request: abci.RequestVerifyVoteExtension
                              ) -> abci.ResponseVerifyVoteExtension:
        return abci.ResponseVerifyVoteExtension(status=abci.ResponseVerifyVoteExtension.ACCEPT)

    def list_snapshots(self, request: Any) -> abci.ResponseListSnapshots:
        return abci.ResponseListSnapshots()

    def offer_snapshot(self, request: Any) -> abci.ResponseOfferSnapshot:
        return abci.ResponseOfferSnapshot(result=abci.ResponseOfferSnapshot.REJECT)

    def load_snapshot_chunk(self, request: Any) -> abci.ResponseLoadSnapshotChunk:
        return abci.ResponseLoadSnapshotChunk()

    def apply_snapshot_chunk(self, request: Any) -> abci.ResponseApplySnapshotChunk:
        return abci.ResponseApplySnapshotChunk(result=abci.ResponseApplySnapshotChunk.ABORT)

    # -- helpers --------------------------------------------------------------------------
    def _decode(self, raw: bytes) -> SignedTx:
        """A raw tx, verified once: from the mempool, the recent cache, or decoded now."""
        tx_hash = keccak(raw)
        tx = self.app.mempool.get(tx_hash) or self._decoded.get(tx_hash)
        if tx is None:
            tx = decode_transaction(raw, self.app.spec.chain_id)
            self._decoded[tx_hash] = tx
            if len(self._decoded) > DECODED_CACHE:
                self._decoded.popitem(last=False)
        return tx

    def _dry_run(self, timestamp: int, txs: list[SignedTx]) -> BlockResult:
        """Execute a candidate block on the live state, then undo every change."""
        state = self.app.state
        before = checkpoint(state)
        try:
            return apply_block(state, self.app.ext, self.app.next_env(timestamp), txs)
        finally:
            rollback(state, before)

    def _tx_result(self, tx: SignedTx | None, receipts: dict, errors: dict) -> abci.ExecTxResult:
        if tx is None:
            return abci.ExecTxResult(code=CODE_UNDECODABLE, log="not a valid transaction")
        receipt = receipts.get(tx.hash)
        if receipt is not None:
            return abci.ExecTxResult(code=OK, gas_wanted=tx.gas, gas_used=receipt.gas_used)
        exc = errors.get(tx.hash)
        message = exc.message if exc is not None else "did not fit the block"
        return abci.ExecTxResult(code=CODE_REJECTED, log=message, codespace="luxtensor",
                                 gas_wanted=tx.gas)
