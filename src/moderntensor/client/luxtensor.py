"""``AsyncLuxtensorClient``: the ModernTensor reads and writes on top of :class:`EthClient`.

Written once, async; :class:`moderntensor.client.LuxtensorClient` is generated from it.

>>> async with AsyncLuxtensorClient("http://127.0.0.1:8545") as client:  # doctest: +SKIP
...     metagraph = await client.get_metagraph(1)
...     metagraph.scores.argmax()
"""

from __future__ import annotations

from typing import Any

from moderntensor.client.core import EthClient, checksum
from moderntensor.client.views import Metagraph, Neuron, Reward, SubnetInfo
from moderntensor.errors import InvalidInputError


def _netuid(netuid: int) -> int:
    if isinstance(netuid, bool) or not isinstance(netuid, int) or not 0 <= netuid < 2**16:
        raise InvalidInputError(f"subnet id {netuid!r} must be an integer in 0..65535",
                                code="invalid_subnet")
    return netuid


class AsyncLuxtensorClient(EthClient):
    """Async Luxtensor client: Ethereum reads and sends plus every ModernTensor operation."""

    # -- reads (mt_ namespace, docs/rpc.md) ---------------------------------------------
    async def node_info(self) -> dict[str, Any]:
        return await self.call("mt_nodeInfo")

    async def get_subnets(self) -> list[SubnetInfo]:
        return [SubnetInfo.from_json(s) for s in await self.call("mt_getSubnets")]

    async def get_subnet(self, netuid: int) -> SubnetInfo:
        return SubnetInfo.from_json(await self.call("mt_getSubnet", _netuid(netuid)))

    async def get_metagraph(self, netuid: int) -> Metagraph:
        """Every neuron of a subnet as numpy columns (index = uid)."""
        return Metagraph.from_json(await self.call("mt_getMetagraph", _netuid(netuid)))

    async def get_neuron(self, netuid: int, uid_or_address: int | str) -> Neuron:
        key = uid_or_address if isinstance(uid_or_address, int) else checksum(uid_or_address)
        return Neuron.from_json(await self.call("mt_getNeuron", _netuid(netuid), key))

    async def get_epoch_info(self, netuid: int) -> dict[str, Any]:
        return await self.call("mt_getEpochInfo", _netuid(netuid))

    async def get_rewards(
        self,
        address: str | None = None,
        *,
        netuid: int | None = None,
        from_epoch: int | None = None,
        to_epoch: int | None = None,
        limit: int = 100,
    ) -> list[Reward]:
        """Payout records, newest first (filter by address, subnet, epoch range)."""
        query: dict[str, Any] = {"limit": limit}
        if address is not None:
            query["address"] = checksum(address)
        if netuid is not None:
            query["netuid"] = _netuid(netuid)
        if from_epoch is not None:
            query["fromEpoch"] = from_epoch
        if to_epoch is not None:
            query["toEpoch"] = to_epoch
        result = await self.call("mt_getRewards", query)
        return [Reward.from_json(r) for r in result["rewards"]]

    async def get_weights(
        self, netuid: int, validator: int | str | None = None
    ) -> list[dict[str, Any]]:
        """The validators' latest weight rows, with the four score components (u16)."""
        key = validator if validator is None or isinstance(validator, int) else checksum(validator)
        return (await self.call("mt_getWeights", _netuid(netuid), key))["rows"]

    async def get_registration_challenge(
        self, netuid: int, address: str | None = None
    ) -> dict[str, Any]:
        target = checksum(address) if address else self.wallet.address
        return await self.call("mt_getRegistrationChallenge", _netuid(netuid), target)
