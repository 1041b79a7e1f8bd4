"""What the validator needs from the chain, as one small protocol, and two implementations.

:class:`ChainView` is the whole contract: the subnet's parameters, its miners with their
endpoints, the current block, and a way to write weights. :class:`StaticChainView` serves a
fixed miner list (tests, private deployments, a chain that is not up yet);
:class:`ClientChainView` is a thin adapter over :class:`moderntensor.AsyncLuxtensorClient`.

>>> view = StaticChainView([MinerEndpoint(0, "0x" + "11" * 20, "127.0.0.1", 5000)])
>>> view.info.task_type
'text-generation'
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from moderntensor.client import AsyncLuxtensorClient, Metagraph
from moderntensor.client import SubnetInfo as ChainSubnet
from moderntensor.errors import InvalidInputError, ModernTensorError
from moderntensor.protocol.commit_hash import SALT_BYTES

DEFAULT_WEIGHTS_RATE_LIMIT = 100   # blocks between weight submissions when the chain says nothing
DEFAULT_TEMPO = 75                 # production default: 75 blocks = one epoch
_SUITE_PATH = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*\Z")
REVEAL_POLL_S = 0.25               # how often a pending commit checks for its reveal block

log = logging.getLogger("moderntensor.validator")


@dataclass(frozen=True)
class MinerEndpoint:
    """One miner as the metagraph lists it; ``host``/``port`` are None when it serves nothing."""

    uid: int
    address: str
    host: str | None
    port: int | None
    protocol: str = "http"

    @property
    def url(self) -> str | None:
        """Base URL of the miner's server, or None when it has published no endpoint."""
        if not self.host or not self.port:
            return None
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.protocol}://{host}:{self.port}"


@dataclass(frozen=True)
class SubnetSettings:
    """The subnet parameters a validator acts on."""

    netuid: int
    task_type: str
    tempo: int = DEFAULT_TEMPO
    weights_rate_limit: int = DEFAULT_WEIGHTS_RATE_LIMIT   # blocks between submissions
    suite: str | None = None        # custom subnets: "package.module:ClassName" from metadata
    commit_reveal_period: int = 0   # > 0: weights go on chain by commit-reveal


@dataclass(frozen=True)
class WeightSubmission:
    """Weights (MinerScore totals) and the four components per uid, all u16 (65535 = 1.0)."""

    netuid: int
    uids: tuple[int, ...]
    weights: tuple[int, ...]
    accuracy: tuple[int, ...]
    latency: tuple[int, ...]
    availability: tuple[int, ...]
    consistency: tuple[int, ...]
    version_key: int = 0

    def __post_init__(self) -> None:
        columns = (self.weights, self.accuracy, self.latency, self.availability,
                   self.consistency)
        if any(len(column) != len(self.uids) for column in columns):
            raise InvalidInputError("every weight column needs one value per uid",
                                    code="invalid_weights")

    def as_dict(self) -> dict[str, Any]:
        return {"netuid": self.netuid, "uids": list(self.uids), "weights": list(self.weights),
                "accuracy": list(self.accuracy), "latency": list(self.latency),
                "availability": list(self.availability),
                "consistency": list(self.consistency), "version_key": self.version_key}


class ChainView(Protocol):
    """The chain as one validator of one subnet sees it."""

    async def subnet_info(self) -> SubnetSettings: ...

    async def miners(self) -> list[MinerEndpoint]: ...

    async def block_number(self) -> int: ...

    async def submit_weights(self, submission: WeightSubmission) -> str | None:
        """Write the weights; returns the transaction hash when there is one."""
        ...


class StaticChainView:
    """A fixed miner list and subnet; blocks tick with the wall clock (``block_time_s``).

    Submissions are kept in ``submitted`` so a caller can see what would go on chain.
    """

    def __init__(
        self,
        miners: Iterable[MinerEndpoint],
        info: SubnetSettings | None = None,
        *,
        block_time_s: float = 1.0,
    ) -> None:
        self._miners = list(miners)
        self.info = info or SubnetSettings(netuid=1, task_type="text-generation",
                                       weights_rate_limit=0)
        self.block_time_s = block_time_s
        self._start = time.monotonic()
        self.submitted: list[WeightSubmission] = []

    def set_miners(self, miners: Iterable[MinerEndpoint]) -> None:
        self._miners = list(miners)

    async def subnet_info(self) -> SubnetSettings:
        return self.info

    async def miners(self) -> list[MinerEndpoint]:
        return list(self._miners)

    async def block_number(self) -> int:
        return int((time.monotonic() - self._start) / self.block_time_s)

    async def submit_weights(self, submission: WeightSubmission) -> str | None:
        self.submitted.append(submission)
        return None


@dataclass
class ClientChainView:
    """Adapter over :class:`AsyncLuxtensorClient`: ``get_subnet``, ``get_metagraph``,
    ``block_number`` and ``set_weights`` of subnet ``netuid``.

    >>> view = ClientChainView(AsyncLuxtensorClient(), netuid=1)  # doctest: +SKIP
    """

    client: AsyncLuxtensorClient
    netuid: int
    _info: SubnetSettings | None = field(default=None, repr=False)
    # the committed row not yet revealed, its salt, and the first block it may be revealed
    _pending: tuple[WeightSubmission, bytes, int] | None = field(default=None, repr=False)
    _revealing: asyncio.Task[None] | None = field(default=None, repr=False)

    async def subnet_info(self) -> SubnetSettings:
        self._info = subnet_info_from(await self.client.get_subnet(self.netuid))
        return self._info

    async def miners(self) -> list[MinerEndpoint]:
        return miners_from_metagraph(await self.client.get_metagraph(self.netuid))

    async def block_number(self) -> int:
        return await self.client.block_number()

    async def submit_weights(self, submission: WeightSubmission) -> str | None:
        """``setWeights``, or commit-reveal where the subnet has it on: reveal the previous
        commit if it is due, then commit this row (a row not yet revealable is kept and this
        one skipped). Returns the hash of the transaction that carried this row, if any."""
        if self._info is None or self._info.commit_reveal_period == 0:
            result = await self.client.set_weights(*_columns(submission),
                                                   version_key=submission.version_key)
            return result.tx_hash
        if self._pending is not None:
            row, salt, due = self._pending
            if await self.client.block_number() < due:
                return None
            self._pending = None    # revealed or refused: never retried (a new chain forgets it)
            await self.client.reveal_weights(*_columns(row), salt=salt,
                                             version_key=row.version_key)
        salt = secrets.token_bytes(SALT_BYTES)
        result = await self.client.commit_weights(*_columns(submission), salt=salt,
                                                  version_key=submission.version_key)
        self._pending = (submission, salt,
                         result.block_number + self._info.commit_reveal_period)
        # reveal as soon as it is due, not at the next round: a row that waits a whole round
        # may miss the epoch close it was meant for
        self._revealing = asyncio.create_task(self._reveal_when_due(salt))
        return result.tx_hash

    async def _reveal_when_due(self, salt: bytes) -> None:
        """Reveal the pending commit made with ``salt`` once its reveal block is reached
        (unless a later submission revealed it first)."""
        try:
            while self._pending is not None and self._pending[1] == salt:
                row, _, due = self._pending
                if await self.client.block_number() >= due:
                    self._pending = None
                    await self.client.reveal_weights(*_columns(row), salt=salt,
                                                     version_key=row.version_key)
                    return
                await asyncio.sleep(REVEAL_POLL_S)
        except ModernTensorError as exc:   # refused or unreachable: the next round commits anew
            log.warning("revealing weights failed: %s", exc)


def _columns(submission: WeightSubmission) -> tuple[Any, ...]:
    return (submission.netuid, list(submission.uids), list(submission.weights),
            list(submission.accuracy), list(submission.latency),
            list(submission.availability), list(submission.consistency))


def subnet_info_from(subnet: ChainSubnet) -> SubnetSettings:
    """The parameters a validator acts on, from the client's subnet view."""
    suite = subnet.metadata.get("suite")
    if suite is not None and not (isinstance(suite, str) and _SUITE_PATH.match(suite)):
        raise InvalidInputError(
            f"subnet {subnet.netuid}'s metadata names suite {suite!r}, not 'package.module:Class'",
            code="invalid_subnet")
    return SubnetSettings(netuid=subnet.netuid, task_type=subnet.task_type, tempo=subnet.tempo,
                      weights_rate_limit=subnet.weights_rate_limit, suite=suite,
                      commit_reveal_period=subnet.commit_reveal_period)


def miners_from_metagraph(metagraph: Metagraph) -> list[MinerEndpoint]:
    """The metagraph's miners, with their published endpoints (None until they serve)."""
    miners = []
    for uid in metagraph.miner_uids.tolist():
        endpoint = metagraph.endpoints[uid]
        miners.append(MinerEndpoint(
            uid=uid, address=metagraph.addresses[uid],
            host=endpoint.host if endpoint else None, port=endpoint.port if endpoint else None,
            protocol=endpoint.protocol if endpoint else "http"))
    return miners
