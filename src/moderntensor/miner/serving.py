"""Publishing this miner's endpoint on chain (``serveEndpoint``), and keeping it published.

A failure here never stops the miner: validators that already know the endpoint keep
reaching it, and the next check tries again. :func:`keep_endpoint_published` runs for the
miner's lifetime, so a miner started before its registration publishes once it is
registered, and an endpoint that another process overwrote is put back.
"""

from __future__ import annotations

import asyncio
import logging

from moderntensor.client import AsyncLuxtensorClient
from moderntensor.miner.permits import registered_metagraphs
from moderntensor.wallet import Wallet

log = logging.getLogger("moderntensor.miner")

CHECK_EVERY_S = 30.0   # once published: how often the endpoint on chain is checked again


async def publish_endpoint(client: AsyncLuxtensorClient, *, wallet: Wallet, netuid: int,
                           host: str, port: int, metagraph: object | None = None) -> str:
    """Call ``client.serve(...)`` if this miner is registered on ``netuid`` and its endpoint
    differs; returns ``"not_registered"``, ``"unchanged"`` or ``"published"``."""
    graph = metagraph if metagraph is not None else await client.get_metagraph(netuid)
    uid = graph.uid_of(wallet.address)  # type: ignore[attr-defined]
    if uid is None:
        return "not_registered"
    current = graph.endpoints[uid]  # type: ignore[attr-defined]
    if current is not None and (current.host, current.port) == (host, port):
        return "unchanged"
    await client.serve(netuid, host, port, "http", wallet=wallet)
    return "published"


async def publish_once(client: AsyncLuxtensorClient, *, wallet: Wallet, netuid: int | None,
                       host: str, port: int) -> dict[int, str]:
    """Publish on ``netuid``, or on every subnet the wallet is registered on when None;
    the outcome per subnet (empty: registered nowhere)."""
    if netuid is not None:
        return {netuid: await publish_endpoint(client, wallet=wallet, netuid=netuid,
                                               host=host, port=port)}
    graphs = await registered_metagraphs(client, wallet.address)
    return {n: await publish_endpoint(client, wallet=wallet, netuid=n, host=host, port=port,
                                      metagraph=g) for n, g in sorted(graphs.items())}


async def keep_endpoint_published(*, network: str, wallet: Wallet, netuid: int | None,
                                  host: str, port: int, retry_s: float = 5.0,
                                  check_every_s: float = CHECK_EVERY_S) -> None:
    """Publish now and keep checking until cancelled: every ``retry_s`` while the wallet is
    not registered (or publishing failed), every ``check_every_s`` once it is served."""
    if host in ("0.0.0.0", "::", ""):
        log.warning("endpoint not published: bound to %r; pass --external-host so validators "
                    "know where to reach this miner", host)
        return
    client = AsyncLuxtensorClient(network, wallet=wallet)
    last: dict[int, str] | None = None
    try:
        while True:
            try:
                outcomes = await publish_once(client, wallet=wallet, netuid=netuid, host=host,
                                              port=port)
            except Exception as exc:  # publishing is best effort; serving goes on
                log.warning("endpoint not published: %s: %s", type(exc).__name__, exc)
                outcomes = {}
            waiting = not outcomes or "not_registered" in outcomes.values()
            if outcomes != last:
                _report(outcomes, wallet.address, netuid, host, port)
                last = outcomes
            await asyncio.sleep(retry_s if waiting else check_every_s)
    finally:
        await client.aclose()


def _report(outcomes: dict[int, str], address: str, netuid: int | None, host: str,
            port: int) -> None:
    if not outcomes or "not_registered" in outcomes.values():
        where = f"--netuid {netuid}" if netuid is not None else "--netuid N"
        log.warning("endpoint %s:%d not published: %s is not registered%s; register it "
                    "(moderntensor miner register %s) and this miner publishes by itself",
                    host, port, address, "" if netuid is None else f" on subnet {netuid}",
                    where)
    for n, outcome in outcomes.items():
        if outcome != "not_registered":
            log.info("endpoint %s:%d on subnet %d: %s", host, port, n, outcome)
