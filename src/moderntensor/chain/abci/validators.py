"""The consensus validator set: which CometBFT validators vote, and with what power.

The rule, deterministic from chain state and the shared genesis file:

1. Block 1 starts with the genesis validators of CometBFT's ``genesis.json``, each with its
   genesis power.
2. A genesis validator may name an *operator*: the Luxtensor account whose stake it votes with,
   in the genesis ``app_state.modules.consensus.operators`` object
   (``{"<validator address, 40 hex>": "0x<operator address>"}``). ``updateInterval`` (default
   20 blocks) and ``maxPowered`` (default 100) sit next to it.
3. At the end of every block whose height is a multiple of ``updateInterval``, the bound
   validators are ranked by their operator's total stake (all subnets, whole MDT; ties by
   public key). The top ``maxPowered`` vote with power = that stake, at least 1; the others
   with power 1. FinalizeBlock returns these as validator updates, which CometBFT applies two
   heights later.
4. Nobody is removed automatically (power 0): a set that empties itself would halt the chain.
   Validators without an operator keep their genesis power.

Binding a new consensus key to a staker after genesis (a system call) is not part of the rule
yet; a network adds validators by agreeing on a new genesis.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils import is_address, to_canonical_address

from moderntensor.chain.abci.pb.tendermint.abci import types_pb2 as abci
from moderntensor.chain.abci.pb.tendermint.crypto import keys_pb2
from moderntensor.chain.errors import GenesisError
from moderntensor.chain.modules.records import STAKE
from moderntensor.chain.state import State, kv_items
from moderntensor.units import BASE_PER_MDT

MODULE = "consensus"
DEFAULT_INTERVAL = 20
DEFAULT_MAX_POWERED = 100


@dataclass(frozen=True)
class BoundValidator:
    """A genesis validator (ed25519 public key) voting with ``operator``'s stake."""

    pub_key: bytes
    operator: bytes


class ValidatorSet:
    """Answers FinalizeBlock's validator updates by the rule above."""

    def __init__(self, bound: list[BoundValidator] | None = None, *,
                 interval: int = DEFAULT_INTERVAL, max_powered: int = DEFAULT_MAX_POWERED
                 ) -> None:
        self.bound = sorted(bound or [], key=lambda v: v.pub_key)
        self.interval = interval
        self.max_powered = max_powered

    @classmethod
    def from_genesis(cls, genesis: Mapping[str, Any]) -> ValidatorSet:
        """The rule's parameters from a CometBFT genesis document."""
        modules = (genesis.get("app_state") or {}).get("modules") or {}
        config = modules.get(MODULE) or {}
        operators = config.get("operators") or {}
        keys = {v["address"].upper(): base64.b64decode(v["pub_key"]["value"])
                for v in genesis.get("validators") or []}
        bound = []
        for address, operator in operators.items():
            if address.upper() not in keys:
                raise GenesisError(f"modules.consensus.operators names {address}, which is not "
                                   "a genesis validator")
            if not is_address(operator):
                raise GenesisError(f"modules.consensus.operators[{address}] = {operator!r} is "
                                   "not an address")
            bound.append(BoundValidator(keys[address.upper()], to_canonical_address(operator)))
        interval = config.get("updateInterval", DEFAULT_INTERVAL)
        max_powered = config.get("maxPowered", DEFAULT_MAX_POWERED)
        if not isinstance(interval, int) or interval < 1:
            raise GenesisError("modules.consensus.updateInterval is a block count >= 1")
        if not isinstance(max_powered, int) or max_powered < 1:
            raise GenesisError("modules.consensus.maxPowered is a count >= 1")
        return cls(bound, interval=interval, max_powered=max_powered)

    def powers(self, state: State) -> list[tuple[BoundValidator, int]]:
        """Each bound validator's power under the current stakes."""
        stakes = stake_by_account(state)
        ranked = sorted(self.bound, key=lambda v: (-stakes.get(v.operator, 0), v.pub_key))
        return [(v, max(1, stakes.get(v.operator, 0) // BASE_PER_MDT)
                 if rank < self.max_powered else 1) for rank, v in enumerate(ranked)]

    def updates(self, state: State, height: int) -> list[abci.ValidatorUpdate]:
        """Validator updates to return from FinalizeBlock at ``height``."""
        if not self.bound or height % self.interval:
            return []
        return [abci.ValidatorUpdate(pub_key=keys_pb2.PublicKey(ed25519=v.pub_key), power=p)
                for v, p in self.powers(state)]


def stake_by_account(state: State) -> dict[bytes, int]:
    """Total stake per account over every subnet (keys are netuid (2 bytes) + address)."""
    totals: dict[bytes, int] = {}
    for key, value in kv_items(state, STAKE):
        address = key[-20:]
        totals[address] = totals.get(address, 0) + int.from_bytes(value, "big")
    return totals
