"""Stake: ``addStake``, ``removeStake`` with unbonding, and ``registerValidator``.

Staked, unbonding and deposited MDT is held by the system address (an ordinary balance), so the
sum of all balances stays ``genesis + minted - burned`` exactly; ``mt.stake`` says whose it is.
Removed stake stops counting at once (permits follow stake live) and returns to the owner's
balance at the end of block ``removal block + unbonding_period``.
"""

from __future__ import annotations

from moderntensor.chain.modules.neurons import add_neuron
from moderntensor.chain.modules.params import VALIDATOR_SLOTS_FACTOR
from moderntensor.chain.modules.records import (
    UNBOND,
    VALIDATOR,
    NeuronRecord,
    checksum,
    get_network,
    get_stake,
    set_stake,
    u16,
    u64,
    uid_of,
    validator_stake,
)
from moderntensor.chain.modules.subnets import fail, require_subnet
from moderntensor.chain.state import (
    InsufficientBalance,
    State,
    kv_delete,
    kv_get_int,
    kv_items,
    kv_set_int,
    transfer,
)


def debit(state: State, sender: bytes, system: bytes, amount: int, what: str) -> None:
    """Move ``amount`` from ``sender`` to the system address, or revert with a clear reason."""
    try:
        transfer(state, sender, system, amount)
    except InsufficientBalance as exc:
        fail("insufficient_funds", f"{what} needs {amount} base units: {exc.message}",
             needed=str(amount))


def book_stake(state: State, netuid: int, sender: bytes, amount: int) -> int:
    """Count ``amount`` already held by the system address (a tx's value) as stake."""
    require_subnet(state, netuid)
    stake = get_stake(state, netuid, sender) + amount
    set_stake(state, netuid, sender, stake)
    return stake


def add_stake(state: State, system: bytes, sender: bytes, netuid: int, amount: int) -> int:
    """Lock ``amount`` of the sender's MDT as stake on ``netuid``; returns the new stake."""
    require_subnet(state, netuid)
    if amount <= 0:
        fail("invalid_amount", "addStake needs an amount > 0 base units")
    debit(state, sender, system, amount, "addStake")
    stake = get_stake(state, netuid, sender) + amount
    set_stake(state, netuid, sender, stake)
    return stake


def remove_stake(state: State, sender: bytes, netuid: int, amount: int, block: int
                 ) -> tuple[int, int]:
    """Start unbonding ``amount``; returns (remaining stake, release block)."""
    require_subnet(state, netuid)
    stake = get_stake(state, netuid, sender)
    if amount <= 0:
        fail("invalid_amount", "removeStake needs an amount > 0 base units")
    if amount > stake:
        fail("insufficient_unstaked", f"{checksum(sender)} has {stake} base units staked on "
             f"subnet {netuid}, cannot remove {amount}", staked=str(stake))
    set_stake(state, netuid, sender, stake - amount)
    return stake - amount, start_unbonding(state, sender, netuid, amount, block)


def start_unbonding(state: State, address: bytes, netuid: int, amount: int, block: int) -> int:
    """Queue ``amount`` (no longer staked) for release to ``address``; returns the release
    block, ``block + unbondingPeriod``."""
    release = block + get_network(state).unbonding_period
    key = u64(release) + address + u16(netuid)
    kv_set_int(state, UNBOND, key, kv_get_int(state, UNBOND, key) + amount)
    return release


def release_unbonded(state: State, system: bytes, block: int) -> list[tuple[bytes, int, int]]:
    """Pay back every unbonding entry due at or before ``block``: [(address, netuid, amount)]."""
    due = u64(block + 1)
    paid = []
    for key, raw in list(kv_items(state, UNBOND)):
        if key[:8] >= due:
            break
        address, netuid = key[8:28], int.from_bytes(key[28:30], "big")
        amount = int.from_bytes(raw, "big")
        transfer(state, system, address, amount)
        kv_delete(state, UNBOND, key)
        paid.append((address, netuid, amount))
    return paid


def unbonding_of(state: State, address: bytes, netuid: int | None = None
                 ) -> list[tuple[int, int, int]]:
    """[(netuid, amount, release block)] still unbonding for ``address``."""
    out = []
    for key, raw in kv_items(state, UNBOND):
        key_netuid = int.from_bytes(key[28:30], "big")
        if key[8:28] == address and netuid in (None, key_netuid):
            out.append((key_netuid, int.from_bytes(raw, "big"), int.from_bytes(key[:8], "big")))
    return out


def register_validator(state: State, system: bytes, sender: bytes, netuid: int, block: int,
                       value: int = 0) -> NeuronRecord:
    """Register ``sender`` as a validator of ``netuid`` (any ``value`` sent is staked first).

    Needs stake >= ``min_validator_stake``; at most ``2 x max_validators`` validators are
    registered (the top ``max_validators`` by stake hold permits).
    """
    subnet = require_subnet(state, netuid)
    if uid_of(state, netuid, sender) is not None:
        fail("already_registered", f"{checksum(sender)} already has uid "
             f"{uid_of(state, netuid, sender)} on subnet {netuid}")
    if value:   # the core moved the tx value to the system address already
        book_stake(state, netuid, sender, value)
    stake = validator_stake(state, netuid, sender)   # its cold key's stake counts
    minimum = subnet.params.min_validator_stake
    if stake < minimum or stake == 0:
        fail("insufficient_stake", f"registering a validator on subnet {netuid} needs at least "
             f"{minimum} base units staked (addStake first); {checksum(sender)} has {stake}",
             minValidatorStake=str(minimum), stake=str(stake))
    slots = subnet.params.max_validators * VALIDATOR_SLOTS_FACTOR
    if subnet.validators >= slots:
        fail("subnet_full", f"subnet {netuid} has {subnet.validators} validators registered, "
             f"the maximum ({slots})")
    neuron = NeuronRecord(uid=subnet.n, address=checksum(sender), role=VALIDATOR, model_name="",
                    model_type="", model_version="", host="", port=0, protocol="",
                    registered_block=block, last_update=block, served_block=0, weights_block=0)
    add_neuron(state, subnet, neuron, sender)
    return neuron
