"""Which validators may query this miner: a recent view of the subnet's metagraph.

A :class:`PermitSource` is any async callable returning a :class:`PermitView`. Two ship here:
:class:`StaticPermitSource` (an explicit allow-list, for tests and private deployments) and
:class:`ChainPermitSource` (the subnet's metagraph from the Luxtensor client). A
:class:`PermitRefresher` keeps the view fresh in the background; until its first success the
miner is not ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from moderntensor.client import AsyncLuxtensorClient
from moderntensor.errors import ModernTensorError

log = logging.getLogger("moderntensor.miner")

PermitSource = Callable[[], Awaitable["PermitView"]]
"""An async callable returning the current :class:`PermitView` of the miner's subnet."""


class PermitDeniedError(ModernTensorError):
    """The sender may not query this miner (HTTP 403)."""

    code = "not_permitted"


@dataclass(frozen=True)
class PermitView:
    """Permitted validators (lowercase address -> stake in base units) and every known neuron."""

    validators: Mapping[str, int]
    known: frozenset[str] = field(default_factory=frozenset)
    # the subnets this view was read from; empty when it is not tied to any (an allow-list)
    netuids: frozenset[int] = field(default_factory=frozenset)

    def check(self, sender: str) -> None:
        """Raise PermitDeniedError unless ``sender`` (lowercase) is a permitted validator."""
        if sender in self.validators:
            return
        if sender not in self.known:
            raise PermitDeniedError(f"{sender} is not registered on this miner's subnet",
                               code="unknown_sender")
        raise PermitDeniedError(f"{sender} is not a validator with a permit on this subnet")


class StaticPermitSource:
    """A fixed allow-list: ``StaticPermitSource(["0xabc...", ...])`` or ``{address: stake}``.

    ``known`` names addresses that are registered but not permitted (answered 403
    ``not_permitted`` rather than ``unknown_sender``).
    """

    def __init__(self, validators: Iterable[str] | Mapping[str, int],
                 known: Iterable[str] = ()) -> None:
        stakes = validators if isinstance(validators, Mapping) else dict.fromkeys(validators, 0)
        permitted = {str(a).lower(): int(s) for a, s in stakes.items()}
        self.view = PermitView(permitted, frozenset(a.lower() for a in known) | set(permitted))

    async def __call__(self) -> PermitView:
        return self.view


class ChainPermitSource:
    """Permits from the chain: validators with a permit and stake >= ``min_stake`` on
    ``netuid``, or, when ``netuid`` is None, on every subnet where ``address`` is registered
    (read again at each refresh, so a registration made later is picked up)."""

    def __init__(self, network: str, netuid: int | None, *, address: str | None = None,
                 min_stake: int = 0) -> None:
        if netuid is None and address is None:
            raise ValueError("ChainPermitSource needs a netuid or the miner's address")
        self.network = network
        self.netuid = netuid
        self.address = address
        self.min_stake = min_stake
        self._client: AsyncLuxtensorClient | None = None
        self._warned = False

    async def __call__(self) -> PermitView:
        if self._client is None:  # created inside the server's event loop, which it binds to
            self._client = AsyncLuxtensorClient(self.network)
        if self.netuid is not None:
            metagraph = await self._client.get_metagraph(self.netuid)
            return view_from_metagraph(metagraph, self.min_stake)
        assert self.address is not None
        graphs = await registered_metagraphs(self._client, self.address)
        if not graphs and not self._warned:
            log.warning("%s is not registered on any subnet yet: register it (moderntensor "
                        "miner register --netuid N); this miner serves it once registered",
                        self.address)
        self._warned = not graphs
        return merge_views([view_from_metagraph(g, self.min_stake) for g in graphs.values()])


async def registered_metagraphs(client: AsyncLuxtensorClient, address: str) -> dict[int, Any]:
    """The metagraph of every subnet where ``address`` is registered, by netuid."""
    subnets = await client.get_subnets()
    graphs = await asyncio.gather(*(client.get_metagraph(s.netuid) for s in subnets))
    return {g.netuid: g for g in graphs if g.uid_of(address) is not None}


def merge_views(views: list[PermitView]) -> PermitView:
    """One view over several subnets: a validator permitted on any of them may query."""
    validators: dict[str, int] = {}
    for view in views:
        for address, stake in view.validators.items():
            validators[address] = max(stake, validators.get(address, 0))
    return PermitView(validators, frozenset().union(*(v.known for v in views)),
                      frozenset().union(*(v.netuids for v in views)))


def view_from_metagraph(metagraph: Any, min_stake: int = 0) -> PermitView:
    """A PermitView from a Metagraph's columns: validators holding a permit (the chain grants
    it by stake) with stake >= ``min_stake``; every listed address is known."""
    addresses = [str(a).lower() for a in metagraph.addresses]
    stakes = [int(s) for s in metagraph.stakes]
    is_validator = [str(role).lower() == "validator" for role in metagraph.roles]
    permits = getattr(metagraph, "validator_permits", None)
    has_permit = is_validator if permits is None else [bool(p) for p in permits]
    validators = {
        address: stake
        for address, stake, validator, permit in zip(addresses, stakes, is_validator, has_permit,
                                                      strict=True)
        if validator and permit and stake >= min_stake
    }
    netuid = getattr(metagraph, "netuid", None)
    return PermitView(validators, frozenset(addresses),
                      frozenset() if netuid is None else frozenset({int(netuid)}))


class PermitRefresher:
    """Keeps ``view`` recent by calling ``source`` every ``interval_s`` in a background task.

    A failed refresh keeps the last good view (and logs why); before the first success
    ``view`` is None and the miner answers 503 ``not_ready``.
    """

    def __init__(self, source: PermitSource, *, interval_s: float, retry_s: float) -> None:
        self.source = source
        self.interval_s = interval_s
        self.retry_s = retry_s
        self.view: PermitView | None = None
        self.synced_at: float | None = None
        self.ready = asyncio.Event()  # set at the first successful sync
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> bool:
        """One sync; True when it succeeded."""
        try:
            view = await self.source()
        except Exception as exc:  # any source failure must leave the server running
            log.warning("permit refresh failed: %s: %s", type(exc).__name__, exc)
            return False
        if not isinstance(view, PermitView):
            log.warning("permit source returned %s, not a PermitView", type(view).__name__)
            return False
        if self.view is None:
            log.info("permits synced: %d validators permitted", len(view.validators))
        self.view = view
        self.synced_at = time.monotonic()
        self.ready.set()
        return True

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            ok = await self.refresh()
            await asyncio.sleep(self.interval_s if ok else self.retry_s)
