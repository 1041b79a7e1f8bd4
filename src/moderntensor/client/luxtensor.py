"""``AsyncLuxtensorClient``: the ModernTensor reads and writes on top of :class:`EthClient`.

Written once, async; :class:`moderntensor.client.LuxtensorClient` is generated from it.

>>> async with AsyncLuxtensorClient("http://127.0.0.1:8545") as client:  # doctest: +SKIP
...     metagraph = await client.get_metagraph(1)
...     metagraph.scores.argmax()
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from moderntensor.client.eth import EthClient, checksum
from moderntensor.client.types import (
    Log,
    Metagraph,
    ModelInfo,
    Neuron,
    Reward,
    SubnetInfo,
    TxResult,
)
from moderntensor.errors import InvalidInputError
from moderntensor.protocol.commit_hash import weights_commit_hash
from moderntensor.protocol.pow import PowChallenge
from moderntensor.protocol.syscalls import (
    MAX_MODEL_FIELD,
    SYSTEM_ADDRESS,
    decode_event,
    decode_result,
    encode_call,
    syscall_entry,
)
from moderntensor.scoring import COMPONENTS, PPB, U16_MAX
from moderntensor.units import Amount, to_base
from moderntensor.wallet import Wallet

F = TypeVar("F", bound=Callable[..., Any])


def netuid_alias(method: F) -> F:
    """Accept ``subnet_id=`` for ``netuid=``: the miner guide's spelling, kept as an alias.

    Works on the async client's coroutines and on the sync client's twins alike."""
    def rename(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if "subnet_id" in kwargs:
            if "netuid" in kwargs or len(args) > 1:
                raise InvalidInputError("give the subnet once: netuid= (or its alias subnet_id=)",
                                        code="invalid_subnet")
            kwargs["netuid"] = kwargs.pop("subnet_id")
        return kwargs

    if inspect.iscoroutinefunction(method):
        @functools.wraps(method)
        async def coroutine(*args: Any, **kwargs: Any) -> Any:
            return await method(*args, **rename(args, kwargs))

        wrapped: Any = coroutine
    else:
        @functools.wraps(method)
        def function(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **rename(args, kwargs))

        wrapped = function
    wrapped.netuid_alias = True
    return wrapped


def _netuid(netuid: int) -> int:
    if isinstance(netuid, bool) or not isinstance(netuid, int) or not 0 <= netuid < 2**16:
        raise InvalidInputError(f"subnet id {netuid!r} must be an integer in 0..65535",
                                code="invalid_subnet")
    return netuid


def _model_info(model_info: Mapping[str, Any]) -> ModelInfo:
    if not isinstance(model_info, Mapping):
        raise InvalidInputError('model_info is a dict like {"name": "my-llm", '
                                '"type": "text-generation", "version": "1.0.0"}',
                                code="invalid_model_info")
    fields = {}
    for key, default in (("name", None), ("type", None), ("version", "1.0.0")):
        value = model_info.get(key, default)
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_MODEL_FIELD:
            raise InvalidInputError(
                f"model_info[{key!r}] must be a non-empty string of at most "
                f"{MAX_MODEL_FIELD} characters, got {value!r}", code="invalid_model_info")
        fields[key] = value.strip()
    return ModelInfo(**fields)


def _weight_columns(*columns: Sequence[Any]) -> list[list[int]]:
    """uids, weights and the four components as checked u16 lists of one length."""
    names = ("uids", "weights", *COMPONENTS)
    checked = [_u16_column(name, values) for name, values in zip(names, columns, strict=True)]
    if len({len(column) for column in checked}) != 1:
        raise InvalidInputError("uids, weights and the four components need equal lengths",
                                code="invalid_weights")
    return checked


def _u16_column(name: str, values: Sequence[Any]) -> list[int]:
    column = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= U16_MAX:
            raise InvalidInputError(f"{name} values are u16 integers (65535 = 1.0), "
                                    f"got {value!r}", code="invalid_weights")
        column.append(value)
    return column


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

    # -- system calls (protocol/syscall_table.py) ---------------------------------------
    async def syscall(self, name: str, /, *args: Any, value: Amount = 0,
                      wallet: Wallet | None = None, **kwargs: Any) -> Any:
        """Any system call of the table by name, arguments by position or by ABI name.

        A view (``getStake``...) is answered by ``eth_call``: its outputs by name. Any other
        call is signed and sent (fee-free where the table says so; ``value`` MDT with it) and
        the mined :class:`TxResult` returned; a revert raises :class:`ChainError`.

        >>> await client.syscall("getStake", 1, address)  # doctest: +SKIP
        {'stake': 1000000000000000000000}
        """
        entry = syscall_entry(name)
        data = encode_call(name, *args, **kwargs)
        if entry.is_view:
            raw = await self.call("eth_call", {"to": SYSTEM_ADDRESS, "data": "0x" + data.hex()},
                                  "latest")
            return decode_result(name, bytes.fromhex(raw[2:]))
        result = await self.send_transaction(SYSTEM_ADDRESS, value=to_base(value), data=data,
                                             fee_free=entry.fee_free, wallet=wallet)
        assert isinstance(result, TxResult)
        return result

    def _result(self, receipt: dict[str, Any]) -> TxResult:
        """Receipts with ModernTensor events decoded, and ``uid`` for registrations and model
        updates."""
        result = super()._result(receipt)
        logs, uid = [], None
        for raw in result.logs:
            if raw.address.lower() != SYSTEM_ADDRESS.lower():
                logs.append(raw)
                continue
            event, args = decode_event([bytes.fromhex(t[2:]) for t in raw.topics],
                                       bytes.fromhex(raw.data[2:]))
            logs.append(Log(raw.address, raw.topics, raw.data, event, args))
            if event in ("MinerRegistered", "ValidatorRegistered", "ModelInfoUpdated",
                         "MinerDeregistered"):
                uid = int(args["uid"])
        return replace(result, logs=logs, uid=uid)

    @netuid_alias
    async def register_miner(
        self,
        netuid: int,
        model_info: Mapping[str, Any],
        *,
        wallet: Wallet | None = None,
        progress: Callable[[int], None] | None = None,
        workers: int = 1,
    ) -> TxResult:
        """Register as a miner with 0 MDT: solve the subnet's proof of work, send it fee-free.

        ``model_info`` = ``{"name": ..., "type": <the subnet's task type>, "version": ...}``.
        Returns the mined :class:`TxResult` with the new ``uid``.
        """
        signer = wallet or self.wallet
        model = _model_info(model_info)
        challenge = await self.get_registration_challenge(netuid, signer.address)
        if model.type != challenge["taskType"]:
            raise InvalidInputError(
                f"model type {model.type!r} does not match subnet {netuid}'s task type "
                f"{challenge['taskType']!r}; pick the subnet of your task",
                code="model_type_mismatch")
        solve = PowChallenge.from_dict(challenge).solve
        solution = await asyncio.to_thread(solve, signer.address, progress=progress,
                                           workers=workers)
        return await self.syscall("registerMiner", _netuid(netuid), model.name, model.type,
                                  model.version, solution.nonce, solution.block_number,
                                  wallet=signer)

    @netuid_alias
    async def register_validator(
        self, netuid: int, stake: Amount = 0, *, wallet: Wallet | None = None
    ) -> TxResult:
        """Register as a validator, staking ``stake`` MDT with the registration (or before)."""
        return await self.syscall("registerValidator", _netuid(netuid), value=stake,
                                  wallet=wallet)

    @netuid_alias
    async def add_stake(self, netuid: int, amount: Amount, *,
                        wallet: Wallet | None = None) -> TxResult:
        """Stake ``amount`` MDT on a subnet (sent as the transaction's value)."""
        return await self.syscall("addStake", _netuid(netuid), 0, value=amount,
                                  wallet=wallet)

    @netuid_alias
    async def remove_stake(self, netuid: int, amount: Amount, *,
                           wallet: Wallet | None = None) -> TxResult:
        """Unstake ``amount`` MDT; it returns to the balance after the unbonding period."""
        return await self.syscall("removeStake", _netuid(netuid), to_base(amount),
                                  wallet=wallet)

    @netuid_alias
    async def delegate(self, netuid: int, validator: str, amount: Amount, *,
                       wallet: Wallet | None = None) -> TxResult:
        """Delegate ``amount`` MDT to ``validator`` on a subnet (sent as the value): it counts
        for the validator's permit and pay, and you share its reward after its take."""
        return await self.syscall("delegateStake", _netuid(netuid), checksum(validator), 0,
                                  value=amount, wallet=wallet)

    @netuid_alias
    async def undelegate(self, netuid: int, validator: str, amount: Amount, *,
                         wallet: Wallet | None = None) -> TxResult:
        """Take ``amount`` MDT back from ``validator``; it returns after the unbonding period."""
        return await self.syscall("undelegateStake", _netuid(netuid), checksum(validator),
                                  to_base(amount), wallet=wallet)

    async def set_coldkey(self, coldkey: str, *, wallet: Wallet | None = None) -> TxResult:
        """Bind this (hot) key to ``coldkey``, once: its rewards go to the cold key and only
        the cold key can swap it out (docs/keys.md). Fee-free for a registered neuron."""
        return await self.syscall("setColdkey", checksum(coldkey), wallet=wallet)

    async def swap_hotkey(self, old_hotkey: str, new_hotkey: str, *,
                          wallet: Wallet | None = None) -> TxResult:
        """From the cold key: move a hot key's uids, stake, delegations, take and root vote
        to a fresh key; the old one is refused from then on."""
        return await self.syscall("swapHotkey", checksum(old_hotkey), checksum(new_hotkey),
                                  wallet=wallet)

    async def set_take(self, take: float, *, wallet: Wallet | None = None) -> TxResult:
        """Your validator take: the share of your reward kept before nominators share the
        rest, 0.0-0.18 (e.g. ``0.1``); a raise at most once per unbonding period."""
        if isinstance(take, bool) or not isinstance(take, int | float) or not 0 <= take <= 1:
            raise InvalidInputError("take is a fraction in [0, 0.18], e.g. 0.1")
        return await self.syscall("setTake", round(take * PPB), wallet=wallet)

    @netuid_alias
    async def serve(self, netuid: int, host: str, port: int, protocol: str = "http", *,
                    wallet: Wallet | None = None) -> TxResult:
        """Publish this neuron's endpoint (fee-free for registered neurons)."""
        return await self.syscall("serveEndpoint", _netuid(netuid), host, port, protocol,
                                  wallet=wallet)

    @netuid_alias
    async def update_model_info(self, netuid: int, model_info: Mapping[str, Any], *,
                                wallet: Wallet | None = None) -> TxResult:
        """Change what this miner says it serves (fee-free; rate-limited with ``serve``).

        ``model_info`` as for :meth:`register_miner`; the uid, stake and history stay.
        """
        model = _model_info(model_info)
        return await self.syscall("updateModelInfo", _netuid(netuid), model.name, model.type,
                                  model.version, wallet=wallet)

    @netuid_alias
    async def dissolve_subnet(self, netuid: int, *, wallet: Wallet | None = None) -> TxResult:
        """Close a custom subnet you own: the deposit comes back to you, every stake on it
        starts unbonding to its staker and every neuron leaves (see docs/subnet-creator.md)."""
        return await self.syscall("dissolveSubnet", _netuid(netuid), wallet=wallet)

    @netuid_alias
    async def deregister(self, netuid: int, *, wallet: Wallet | None = None) -> TxResult:
        """Leave ``netuid`` as a miner (fee-free): the uid is freed for the next registration
        and this key is refused there from now on; past rewards stay readable."""
        return await self.syscall("deregister", _netuid(netuid), wallet=wallet)

    @netuid_alias
    async def set_weights(
        self,
        netuid: int,
        uids: Sequence[int],
        weights: Sequence[int],
        accuracy: Sequence[int],
        latency: Sequence[int],
        availability: Sequence[int],
        consistency: Sequence[int],
        *,
        version_key: int = 0,
        wallet: Wallet | None = None,
    ) -> TxResult:
        """Write a validator's weights and the four score components (u16, 65535 = 1.0).

        ``weights[i]`` must be ``scoring.combine_u16`` of the components (the chain checks).
        The row is public at once; :meth:`commit_weights` keeps it hidden until it is stale.
        """
        columns = _weight_columns(uids, weights, accuracy, latency, availability, consistency)
        return await self.syscall("setWeights", _netuid(netuid), *columns, version_key,
                                  wallet=wallet)

    async def commit_weights(
        self,
        netuid: int,
        uids: Sequence[int],
        weights: Sequence[int],
        accuracy: Sequence[int],
        latency: Sequence[int],
        availability: Sequence[int],
        consistency: Sequence[int],
        *,
        salt: bytes,
        version_key: int = 0,
        wallet: Wallet | None = None,
    ) -> TxResult:
        """Commit a weights row (commit-reveal, docs/incentives.md): only its hash with
        ``salt`` (32 secret random bytes) goes on chain. Reveal the same row and salt with
        :meth:`reveal_weights` from the block in the receipt's ``WeightsCommitted`` event
        (``revealBlock``: the subnet's ``commitRevealPeriod`` later)."""
        columns = _weight_columns(uids, weights, accuracy, latency, availability, consistency)
        signer = wallet or self.wallet
        digest = weights_commit_hash(signer.address, _netuid(netuid), *columns, version_key,
                                     salt)
        return await self.syscall("commitWeights", netuid, digest, wallet=signer)

    async def reveal_weights(
        self,
        netuid: int,
        uids: Sequence[int],
        weights: Sequence[int],
        accuracy: Sequence[int],
        latency: Sequence[int],
        availability: Sequence[int],
        consistency: Sequence[int],
        *,
        salt: bytes,
        version_key: int = 0,
        wallet: Wallet | None = None,
    ) -> TxResult:
        """Reveal the row committed by :meth:`commit_weights`; it becomes the validator's
        weights row (``reveal_too_early`` before ``revealBlock``, ``reveal_mismatch`` if the
        row or salt differ)."""
        columns = _weight_columns(uids, weights, accuracy, latency, availability, consistency)
        return await self.syscall("revealWeights", _netuid(netuid), *columns, version_key,
                                  salt, wallet=wallet)

    async def create_subnet(
        self,
        name: str,
        task_type: str,
        params: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        wallet: Wallet | None = None,
    ) -> TxResult:
        """Create a custom subnet (netuid 5+), locking the chain's subnet deposit."""
        return await self.syscall("createSubnet", name, task_type, json.dumps(params or {}),
                                  json.dumps(metadata or {}), wallet=wallet)

    @netuid_alias
    async def vote_subnet_weights(self, weights: Mapping[int, float], *,
                                  wallet: Wallet | None = None) -> TxResult:
        """Your root vote (a validator among the ``rootVoters`` with the most stake): relative
        weights per netuid, e.g. ``{1: 0.4, 5: 0.6}``; the chain uses each vote as shares of
        its own total. Sent as u16, the largest weight as 65535.

        >>> client.vote_subnet_weights({1: 3, 5: 1}, wallet=validator)  # doctest: +SKIP
        """
        if not weights or any(not isinstance(w, int | float) or isinstance(w, bool) or w < 0
                              for w in weights.values()) or max(weights.values()) <= 0:
            raise InvalidInputError("weights: a non-empty {netuid: weight >= 0} with one "
                                    "weight above 0")
        top = max(weights.values())
        netuids = sorted(weights)
        scaled = [round(weights[n] / top * U16_MAX) for n in netuids]
        return await self.syscall("voteSubnetWeights", [_netuid(n) for n in netuids], scaled,
                                  wallet=wallet)

    async def set_subnet_params(self, netuid: int, params: Mapping[str, Any], *,
                                wallet: Wallet | None = None) -> TxResult:
        """Tune a custom subnet you own (camelCase keys, e.g. ``{"tempo": 50}``)."""
        return await self.syscall("setSubnetParams", _netuid(netuid),
                                  json.dumps(dict(params)), wallet=wallet)
