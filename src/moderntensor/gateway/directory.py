"""Where the gateway learns which subnets it serves and which miners they have.

:class:`ChainDirectory` reads the chain (subnets and metagraphs, with each miner's on-chain
score); :class:`StaticDirectory` serves a fixed list (private deployments, benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from moderntensor.client import AsyncLuxtensorClient
from moderntensor.validator.chainview import MinerEndpoint, miners_from_metagraph


class MinerDirectory(Protocol):
    """The subnets to serve and, per subnet, the miners with their scores in [0, 1]."""

    async def subnets(self) -> dict[int, str]:
        """netuid -> task type."""
        ...

    async def miners(self, netuid: int) -> tuple[list[MinerEndpoint], dict[int, float]]: ...


@dataclass
class ChainDirectory:
    """Subnets ``netuids`` (all of the chain's when empty) and their metagraphs."""

    client: AsyncLuxtensorClient
    netuids: tuple[int, ...] = ()

    async def subnets(self) -> dict[int, str]:
        if self.netuids:
            return {n: (await self.client.get_subnet(n)).task_type for n in self.netuids}
        return {s.netuid: s.task_type for s in await self.client.get_subnets()}

    async def miners(self, netuid: int) -> tuple[list[MinerEndpoint], dict[int, float]]:
        graph = await self.client.get_metagraph(netuid)
        miners = miners_from_metagraph(graph)
        return miners, {m.uid: float(graph.scores[m.uid]) for m in miners}


@dataclass
class StaticDirectory:
    """A fixed set: netuid -> (task type, miners); every miner scores 1."""

    served: dict[int, tuple[str, list[MinerEndpoint]]] = field(default_factory=dict)

    async def subnets(self) -> dict[int, str]:
        return {netuid: task_type for netuid, (task_type, _) in self.served.items()}

    async def miners(self, netuid: int) -> tuple[list[MinerEndpoint], dict[int, float]]:
        miners = self.served[netuid][1]
        return list(miners), {m.uid: 1.0 for m in miners}
