"""Transactions accepted by this node's JSON-RPC go to CometBFT's mempool, and from there to
every peer.

``eth_sendRawTransaction`` stays synchronous and local: the app checks the transaction (its
mempool rules) and answers the hash at once. The raw bytes are then queued here and sent to the
local CometBFT RPC (``broadcast_tx_sync``, JSON-RPC batches) from the event loop, which is also
where CometBFT's resulting CheckTx is answered, so nothing waits on itself.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections import deque

import httpx

from moderntensor.chain.node import Node

log = logging.getLogger("moderntensor.chain.abci")

BATCH = 100  # CometBFT's rpc.max_request_batch_size as we configure it
ALREADY_KNOWN = "tx already exists in cache"


class Broadcaster:
    """A queue of raw transactions drained into CometBFT's RPC at ``url``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.queue: deque[bytes] = deque()
        self._wake = asyncio.Event()

    def enqueue(self, raw: bytes) -> None:
        self.queue.append(raw)
        self._wake.set()

    async def run(self) -> None:
        """Send queued transactions, one batch at a time so that peers receive each sender's
        transactions in nonce order (the mempool queues no gaps), until cancelled."""
        async with httpx.AsyncClient(timeout=30) as client:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self.queue:
                    batch = [self.queue.popleft() for _ in range(min(BATCH, len(self.queue)))]
                    await self._send(client, batch)

    async def _send(self, client: httpx.AsyncClient, batch: list[bytes]) -> None:
        payload = [{"jsonrpc": "2.0", "id": i, "method": "broadcast_tx_sync",
                    "params": {"tx": base64.b64encode(raw).decode()}}
                   for i, raw in enumerate(batch)]
        try:
            answers = (await client.post(self.url, json=payload)).json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("CometBFT RPC refused %d txs (%s); they stay in this node's mempool "
                        "and go into its own proposals", len(batch), exc)
            return
        for answer in answers if isinstance(answers, list) else [answers]:
            error = answer.get("error") or {}
            result = answer.get("result") or {}
            if error and ALREADY_KNOWN not in str(error.get("data", "")):
                log.warning("CometBFT did not take a tx: %s", error.get("data") or error)
            elif result.get("code", 0) != 0:
                log.warning("CometBFT CheckTx refused a tx: %s", result.get("log"))


class CometNode(Node):
    """A node whose blocks come from CometBFT: submitted transactions are also broadcast;
    ``peers`` and ``syncing`` follow the engine (see :func:`follow_engine`)."""

    broadcaster: Broadcaster | None = None

    def submit(self, raw: bytes) -> bytes:
        """eth_sendRawTransaction: check locally, then hand to CometBFT for every peer."""
        tx_hash = self.admit(raw)
        if self.broadcaster is not None:
            self.broadcaster.enqueue(raw)
        return tx_hash

    def admit(self, raw: bytes) -> bytes:
        """CheckTx of a transaction CometBFT already has (a peer's): the mempool only."""
        return super().submit(raw)


async def follow_engine(node: CometNode, url: str, every_s: float = 2.0) -> None:
    """Keep ``node.peers`` and ``node.syncing`` as CometBFT's RPC at ``url`` reports them."""
    async with httpx.AsyncClient(timeout=5) as client:
        while True:
            try:
                status = (await client.get(f"{url}/status")).json()["result"]
                peers = (await client.get(f"{url}/net_info")).json()["result"]
                node.syncing = bool(status["sync_info"]["catching_up"])
                node.peers = int(peers["n_peers"])
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                pass  # the engine is starting or stopping; keep the last answer
            await asyncio.sleep(every_s)
