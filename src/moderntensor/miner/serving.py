"""Publishing this miner's endpoint on chain (``serveEndpoint``), and keeping it published.

A failure here never stops the miner: validators that already know the endpoint keep
reaching it, and the next check tries again. :func:`keep_endpoint_published` runs for the
miner's lifetime, so a miner started before its registration publishes once it is
registered, and an endpoint that a dead copy left behind is replaced. An endpoint where a live
copy of this miner answers is never overwritten: two copies would otherwise take turns.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from moderntensor.client import AsyncLuxtensorClient
from moderntensor.miner.permits import registered_metagraphs
from moderntensor.protocol.messages import HEALTH_PATH
from moderntensor.wallet import Wallet

log = logging.getLogger("moderntensor.miner")

CHECK_EVERY_S = 30.0   # once published: how often the endpoint on chain is checked again
HEALTH_TIMEOUT_S = 2.0  # asking the published endpoint whether a copy of this miner runs there


@dataclass(frozen=True)
class PublicEndpoint:
    """Where validators reach this miner: what goes on chain (``serveEndpoint``)."""

    host: str
    port: int
    protocol: str = "http"

    def __str__(self) -> str:
        return f"{self.protocol}://{self.host}:{self.port}"


async def publish_endpoint(client: AsyncLuxtensorClient, *, wallet: Wallet, netuid: int,
                           endpoint: PublicEndpoint, metagraph: Any | None = None) -> str:
    """Call ``client.serve(...)`` if this miner is registered on ``netuid`` and its endpoint
    differs; returns ``"not_registered"``, ``"unchanged"``, ``"held_by_copy"`` (another live
    process of this miner holds the published endpoint: not overwritten) or ``"published"``."""
    graph = metagraph if metagraph is not None else await client.get_metagraph(netuid)
    uid = graph.uid_of(wallet.address)
    if uid is None:
        return "not_registered"
    current = graph.endpoints[uid]
    if current is not None and (current.host, current.port, current.protocol) == (
            endpoint.host, endpoint.port, endpoint.protocol):
        return "unchanged"
    if current is not None and await _answers_as(current.url, wallet.address):
        return "held_by_copy"
    await client.serve(netuid, endpoint.host, endpoint.port, endpoint.protocol, wallet=wallet)
    return "published"


async def _answers_as(url: str, address: str) -> bool:
    """True when ``url`` is a live miner with this identity (a copy of this very miner)."""
    try:
        async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT_S) as http:
            health = (await http.get(url + HEALTH_PATH)).json()
    except (httpx.HTTPError, ValueError, OSError):
        return False
    return isinstance(health, dict) and str(health.get("address", "")).lower() == address.lower()


async def publish_once(client: AsyncLuxtensorClient, *, wallet: Wallet, netuid: int | None,
                       endpoint: PublicEndpoint) -> dict[int, str]:
    """Publish on ``netuid``, or on every subnet the wallet is registered on when None;
    the outcome per subnet (empty: registered nowhere)."""
    if netuid is not None:
        return {netuid: await publish_endpoint(client, wallet=wallet, netuid=netuid,
                                               endpoint=endpoint)}
    graphs = await registered_metagraphs(client, wallet.address)
    return {n: await publish_endpoint(client, wallet=wallet, netuid=n, endpoint=endpoint,
                                      metagraph=g) for n, g in sorted(graphs.items())}


async def keep_endpoint_published(*, network: str, wallet: Wallet, netuid: int | None,
                                  endpoint: PublicEndpoint, retry_s: float = 5.0,
                                  check_every_s: float = CHECK_EVERY_S) -> None:
    """Publish now and keep checking until cancelled: every ``retry_s`` while the wallet is
    not registered (or publishing failed), every ``check_every_s`` once it is served."""
    if endpoint.host in ("0.0.0.0", "::", ""):
        log.warning("endpoint not published: bound to %r; pass --external-host so validators "
                    "know where to reach this miner", endpoint.host)
        return
    client = AsyncLuxtensorClient(network, wallet=wallet)
    last: dict[int, str] | None = None
    try:
        while True:
            try:
                outcomes = await publish_once(client, wallet=wallet, netuid=netuid,
                                              endpoint=endpoint)
            except Exception as exc:  # publishing is best effort; serving goes on
                log.warning("endpoint not published: %s: %s", type(exc).__name__, exc)
                outcomes = {}
            waiting = not outcomes or "not_registered" in outcomes.values()
            if outcomes != last:
                _report(outcomes, wallet.address, netuid, endpoint)
                last = outcomes
            await asyncio.sleep(retry_s if waiting else check_every_s)
    finally:
        await client.aclose()


def _report(outcomes: dict[int, str], address: str, netuid: int | None,
            endpoint: PublicEndpoint) -> None:
    if not outcomes or "not_registered" in outcomes.values():
        where = f"--netuid {netuid}" if netuid is not None else "--netuid N"
        log.warning("endpoint %s not published: %s is not registered%s; register it "
                    "(moderntensor miner register %s) and this miner publishes by itself",
                    endpoint, address, "" if netuid is None else f" on subnet {netuid}", where)
    for n, outcome in outcomes.items():
        if outcome == "held_by_copy":
            log.warning("endpoint %s not published on subnet %d: another live process of this "
                        "miner serves the published endpoint; stop it, or run both as replicas "
                        "on one port (miner start --replica)", endpoint, n)
        elif outcome != "not_registered":
            log.info("endpoint %s on subnet %d: %s", endpoint, n, outcome)
