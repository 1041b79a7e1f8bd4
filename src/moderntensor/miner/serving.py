"""Publishing this miner's endpoint on chain (``serveEndpoint``) when it changed.

A failure here never stops the miner: validators that already know the endpoint keep
reaching it, and the next start tries again.
"""

from __future__ import annotations

import logging

from moderntensor.client import AsyncLuxtensorClient
from moderntensor.wallet import Wallet

log = logging.getLogger("moderntensor.miner")


async def publish_endpoint(client: AsyncLuxtensorClient, *, wallet: Wallet, netuid: int,
                           host: str, port: int) -> str:
    """Call ``client.serve(...)`` if this miner is registered on ``subnet`` and its endpoint
    differs; returns ``"not_registered"``, ``"unchanged"`` or ``"published"``."""
    metagraph = await client.get_metagraph(netuid)
    uid = metagraph.uid_of(wallet.address)
    if uid is None:
        return "not_registered"
    current = metagraph.endpoints[uid]
    if current is not None and (current.host, current.port) == (host, port):
        return "unchanged"
    await client.serve(netuid, host, port, "http", wallet=wallet)
    return "published"


async def publish_endpoint_from_config(*, network: str, wallet: Wallet, netuid: int | None,
                                       host: str, port: int) -> str:
    """Build the chain client from ``network`` and publish; every failure is logged, not raised."""
    if netuid is None:
        return "no_subnet"
    if host in ("0.0.0.0", "::", ""):
        log.warning("endpoint not published: bound to %r; pass --external-host so validators "
                    "know where to reach this miner", host)
        return "no_public_host"
    client = AsyncLuxtensorClient(network, wallet=wallet)
    try:
        outcome = await publish_endpoint(client, wallet=wallet, netuid=netuid, host=host,
                                         port=port)
    except Exception as exc:  # publishing is best effort; serving goes on
        log.warning("endpoint not published: %s: %s", type(exc).__name__, exc)
        return "failed"
    finally:
        await client.aclose()
    log.info("endpoint %s:%d on subnet %d: %s", host, port, netuid, outcome)
    return outcome
