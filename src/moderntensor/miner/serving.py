"""Publishing this miner's endpoint on chain (``serveEndpoint``) when it changed.

Pending the Luxtensor client: this module is the one hook that calls it. It imports
``moderntensor.client`` lazily and does nothing (with a log line) until the client offers
``AsyncLuxtensorClient.get_metagraph`` and ``serve``. A failure here never stops the miner:
validators that already know the endpoint keep reaching it.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

log = logging.getLogger("moderntensor.miner")


async def publish_endpoint(client: Any, *, wallet: Any, subnet: int, host: str, port: int) -> str:
    """Call ``client.serve(...)`` if this miner is registered on ``subnet`` and its endpoint
    differs; returns ``"not_registered"``, ``"unchanged"`` or ``"published"``."""
    metagraph = await client.get_metagraph(subnet)
    addresses = [str(a).lower() for a in metagraph.addresses]
    me = wallet.address.lower()
    if me not in addresses:
        return "not_registered"
    endpoints = getattr(metagraph, "endpoints", None)
    current = endpoints[addresses.index(me)] if endpoints is not None else None
    if _endpoint_matches(current, host, port):
        return "unchanged"
    await client.serve(wallet=wallet, subnet_id=subnet, host=host, port=port, protocol="http")
    return "published"


async def publish_endpoint_from_config(*, network: str, wallet: Any, subnet: int | None,
                                       host: str, port: int) -> str:
    """Build the chain client from ``network`` and publish; every failure is logged, not raised."""
    if subnet is None:
        return "no_subnet"
    if host in ("0.0.0.0", "::", ""):
        log.warning("endpoint not published: bound to %r; pass --external-host so validators "
                    "know where to reach this miner", host)
        return "no_public_host"
    try:
        client_class = import_module("moderntensor.client").AsyncLuxtensorClient
    except (ImportError, AttributeError):
        log.info("endpoint not published: the Luxtensor client is not available yet")
        return "no_client"
    try:
        outcome = await publish_endpoint(client_class(network, wallet=wallet), wallet=wallet,
                                         subnet=subnet, host=host, port=port)
    except Exception as exc:  # publishing is best effort; serving goes on
        log.warning("endpoint not published: %s: %s", type(exc).__name__, exc)
        return "failed"
    log.info("endpoint %s:%d on subnet %d: %s", host, port, subnet, outcome)
    return outcome


def _endpoint_matches(current: Any, host: str, port: int) -> bool:
    if current is None:
        return False
    if isinstance(current, dict):
        return current.get("host") == host and str(current.get("port")) == str(port)
    if isinstance(current, (tuple, list)) and len(current) >= 2:  # (host, port[, protocol])
        return current[0] == host and str(current[1]) == str(port)
    if hasattr(current, "host") and hasattr(current, "port"):  # the client's Endpoint view
        return current.host == host and str(current.port) == str(port)
    return str(current) in (f"{host}:{port}", f"http://{host}:{port}")
