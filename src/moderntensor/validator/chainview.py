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

import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from moderntensor.errors import InvalidInputError

DEFAULT_WEIGHTS_RATE_LIMIT = 100   # blocks between weight submissions when the chain says nothing
DEFAULT_TEMPO = 75                 # DESIGN.md production default: 75 blocks = one epoch
_SUITE_PATH = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*\Z")


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
class SubnetInfo:
    """The subnet parameters a validator acts on."""

    netuid: int
    task_type: str
    tempo: int = DEFAULT_TEMPO
    weights_rate_limit: int = DEFAULT_WEIGHTS_RATE_LIMIT   # blocks between submissions
    suite: str | None = None        # custom subnets: "package.module:ClassName" from metadata


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

    async def subnet_info(self) -> SubnetInfo: ...

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
        info: SubnetInfo | None = None,
        *,
        block_time_s: float = 1.0,
    ) -> None:
        self._miners = list(miners)
        self.info = info or SubnetInfo(netuid=1, task_type="text-generation",
                                       weights_rate_limit=0)
        self.block_time_s = block_time_s
        self._start = time.monotonic()
        self.submitted: list[WeightSubmission] = []

    def set_miners(self, miners: Iterable[MinerEndpoint]) -> None:
        self._miners = list(miners)

    async def subnet_info(self) -> SubnetInfo:
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

    client: Any               # AsyncLuxtensorClient; typed loosely so fakes can stand in
    netuid: int
    _info: SubnetInfo | None = field(default=None, repr=False)

    async def subnet_info(self) -> SubnetInfo:
        raw = await self.client.get_subnet(self.netuid)
        self._info = subnet_info_from(self.netuid, raw)
        return self._info

    async def miners(self) -> list[MinerEndpoint]:
        return miners_from_metagraph(await self.client.get_metagraph(self.netuid))

    async def block_number(self) -> int:
        return int(await self.client.block_number())

    async def submit_weights(self, submission: WeightSubmission) -> str | None:
        result = await self.client.set_weights(
            submission.netuid, list(submission.uids), list(submission.weights),
            list(submission.accuracy), list(submission.latency),
            list(submission.availability), list(submission.consistency),
            version_key=submission.version_key,
        )
        return getattr(result, "tx_hash", None)


def _get(raw: Any, *names: str, default: Any = None) -> Any:
    """First present attribute or key of ``raw`` among ``names`` (dataclass or dict)."""
    for name in names:
        if isinstance(raw, dict) and name in raw:
            return raw[name]
        if not isinstance(raw, dict) and hasattr(raw, name):
            return getattr(raw, name)
    return default


def subnet_info_from(netuid: int, raw: Any) -> SubnetInfo:
    """A :class:`SubnetInfo` from the client's subnet object (dataclass or the RPC's JSON,
    whose rate limit and tempo sit under ``params``; see docs/rpc.md)."""
    task_type = _get(raw, "task_type", "taskType")
    if not isinstance(task_type, str) or not task_type:
        raise InvalidInputError(f"subnet {netuid} has no task type in {raw!r}",
                                code="invalid_subnet")
    params = _get(raw, "params", default=None) or {}
    tempo = _get(raw, "tempo", default=None)
    if tempo is None:
        tempo = _get(params, "tempo", default=DEFAULT_TEMPO)
    rate_limit = _get(raw, "weights_rate_limit", "weightsRateLimit", default=None)
    if rate_limit is None:
        rate_limit = _get(params, "weights_rate_limit", "weightsRateLimit",
                          default=DEFAULT_WEIGHTS_RATE_LIMIT)
    return SubnetInfo(netuid=netuid, task_type=task_type, tempo=int(tempo),
                      weights_rate_limit=int(rate_limit),
                      suite=_suite_from_metadata(_get(raw, "metadata", default=None)))


def _suite_from_metadata(metadata: Any) -> str | None:
    """A custom subnet's suite: ``{"suite": "pkg.mod:Class"}`` (dict or JSON text) or the bare
    ``"pkg.mod:Class"``; None when the metadata names none."""
    if isinstance(metadata, str):
        text = metadata.strip()
        if _SUITE_PATH.match(text):
            return text
        try:
            metadata = json.loads(text) if text.startswith("{") else None
        except ValueError:
            return None
    suite = metadata.get("suite") if isinstance(metadata, dict) else None
    return suite if isinstance(suite, str) and _SUITE_PATH.match(suite) else None


def miners_from_metagraph(metagraph: Any) -> list[MinerEndpoint]:
    """The miners of a metagraph (arrays ``uids``, ``addresses``, ``roles``, ``endpoints``)."""
    uids: Sequence[Any] = _get(metagraph, "uids", default=())
    addresses: Sequence[Any] = _get(metagraph, "addresses", default=())
    roles: Sequence[Any] = _get(metagraph, "roles", default=())
    endpoints: Sequence[Any] = _get(metagraph, "endpoints", default=())
    miners = []
    for index, uid in enumerate(uids):
        role = roles[index] if index < len(roles) else "miner"
        if str(role).lower() != "miner":
            continue
        endpoint = endpoints[index] if index < len(endpoints) else None
        host, port, protocol = _endpoint(endpoint)
        miners.append(MinerEndpoint(uid=int(uid), address=str(addresses[index]),
                                    host=host, port=port, protocol=protocol))
    return miners


def _endpoint(endpoint: Any) -> tuple[str | None, int | None, str]:
    """(host, port, protocol) from a tuple, a dict or None; an unusable endpoint is (None, None)."""
    if endpoint is None:
        return None, None, "http"
    if isinstance(endpoint, dict):
        host, port = endpoint.get("host"), endpoint.get("port")
        protocol = endpoint.get("protocol") or "http"
    elif hasattr(endpoint, "host"):     # the client's Endpoint dataclass
        host, port = endpoint.host, getattr(endpoint, "port", None)
        protocol = getattr(endpoint, "protocol", None) or "http"
    else:
        parts = [*list(endpoint), None, None, None]
        host, port, protocol = parts[0], parts[1], parts[2] or "http"
    try:
        port_number = int(port) if port else None
    except (TypeError, ValueError):
        port_number = None
    if not host or not port_number or not 0 < port_number < 65536:
        return None, None, "http"
    protocol = str(protocol).lower()
    return str(host), port_number, protocol if protocol in ("http", "https") else "http"
