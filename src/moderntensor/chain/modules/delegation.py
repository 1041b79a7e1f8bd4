"""Delegation: any address stakes to a validator (a nominator); the validator keeps a take.

- ``delegateStake(netuid, validator, amount)`` locks MDT (as ``addStake`` does) as stake
  delegated to a registered validator of ``netuid``. It counts for the validator's permit
  rank, its share of the validator pool and its root vote, as its own stake does.
- ``undelegateStake(netuid, validator, amount)`` stops counting at once and returns the MDT
  after ``unbondingPeriod``, as ``removeStake`` does.
- ``setTake(take)``: the share of its validator reward (ppb, at most :data:`MAX_TAKE`) a
  validator keeps before its nominators share the rest; :data:`DEFAULT_TAKE` until set.
  Lowering is always allowed; a raise at most once per ``unbondingPeriod`` blocks, so a
  nominator who dislikes a raise can leave before the next one.

At an epoch close a validator's reward ``R`` (from its total stake ``T = own + delegated``)
splits as (:func:`split_validator_reward`): ``take = R x take / 10^9``; each nominator
``floor((R - take) x delegated_n / T)``; the validator the rest (its take, its own stake's
share and the rounding). Nothing is lost or minted twice.
"""

from __future__ import annotations

from moderntensor.chain.modules.records import (
    DEFAULT_TAKE,
    DELEGATED,
    DELEGATIONS,
    TAKES,
    VALIDATOR,
    checksum,
    coldkey_of,
    dumps,
    get_network,
    get_neuron,
    get_take,
    netuids,
    u16,
    uid_of,
)
from moderntensor.chain.modules.staking import debit, start_unbonding
from moderntensor.chain.modules.subnets import fail, require_subnet
from moderntensor.chain.state import State, kv_delete, kv_get_int, kv_items, kv_set, kv_set_int
from moderntensor.scoring import PPB

MAX_TAKE = DEFAULT_TAKE   # 18%, Bittensor's default and maximum delegate take


def delegation(state: State, netuid: int, validator: bytes, nominator: bytes) -> int:
    return kv_get_int(state, DELEGATIONS, u16(netuid) + validator + nominator)


def nominators(state: State, netuid: int, validator: bytes) -> list[tuple[bytes, int]]:
    """(nominator, delegated) of ``validator`` on ``netuid``, by address."""
    prefix = u16(netuid) + validator
    return [(key[22:], int.from_bytes(raw, "big"))
            for key, raw in kv_items(state, DELEGATIONS, prefix)]


def _is_validator(state: State, netuid: int, address: bytes) -> bool:
    uid = uid_of(state, netuid, address)
    neuron = None if uid is None else get_neuron(state, netuid, uid)
    return neuron is not None and neuron.role == VALIDATOR


def require_validator(state: State, netuid: int, validator: bytes) -> None:
    require_subnet(state, netuid)
    if not _is_validator(state, netuid, validator):
        fail("not_a_validator", f"{checksum(validator)} is not a validator of subnet {netuid}; "
             "delegate to one listed by mt_getMetagraph", validator=checksum(validator))


def delegate(state: State, system: bytes, nominator: bytes, netuid: int, validator: bytes,
             amount: int, *, paid: bool = False) -> int:
    """Delegate ``amount`` (already held by the system address when ``paid``, i.e. sent as the
    transaction's value); returns the nominator's delegation to ``validator``."""
    if coldkey_of(state, validator) == nominator:   # a cold key staking to its own hot key:
        require_subnet(state, netuid)               # allowed before it registers (hotkeys.py)
    else:
        require_validator(state, netuid, validator)
    if amount <= 0:
        fail("invalid_amount", "delegateStake needs an amount > 0 base units")
    if not paid:
        debit(state, nominator, system, amount, "delegateStake")
    _book(state, netuid, validator, nominator, amount)
    return delegation(state, netuid, validator, nominator)


def undelegate(state: State, nominator: bytes, netuid: int, validator: bytes, amount: int,
               block: int) -> tuple[int, int]:
    """Start unbonding ``amount``; returns (remaining delegation, release block)."""
    require_subnet(state, netuid)
    held = delegation(state, netuid, validator, nominator)
    if amount <= 0:
        fail("invalid_amount", "undelegateStake needs an amount > 0 base units")
    if amount > held:
        fail("insufficient_delegation", f"{checksum(nominator)} delegated {held} base units "
             f"to {checksum(validator)} on subnet {netuid}, cannot remove {amount}",
             delegated=str(held))
    _book(state, netuid, validator, nominator, -amount)
    return held - amount, start_unbonding(state, nominator, netuid, amount, block)


def _book(state: State, netuid: int, validator: bytes, nominator: bytes, delta: int) -> None:
    key = u16(netuid) + validator + nominator
    for namespace, entry in ((DELEGATIONS, key), (DELEGATED, u16(netuid) + validator)):
        value = kv_get_int(state, namespace, entry) + delta
        if value:
            kv_set_int(state, namespace, entry, value)
        else:
            kv_delete(state, namespace, entry)


def set_take(state: State, validator: bytes, take: int, block: int) -> int:
    """Set ``validator``'s take (ppb); see the module docstring for the rules."""
    if not any(_is_validator(state, netuid, validator) for netuid in netuids(state)):
        fail("not_registered", f"{checksum(validator)} is not a validator on any subnet")
    if not 0 <= take <= MAX_TAKE:
        fail("invalid_take", f"take {take} ppb is outside [0, {MAX_TAKE}] (0-18%)",
             maxTake=MAX_TAKE)
    current, raised_at = get_take(state, validator)
    if take > current:
        wait = get_network(state).unbonding_period
        if raised_at and block < raised_at + wait:
            fail("take_rate_limited", f"a take may rise once per {wait} blocks (the unbonding "
                 f"period); retry at block {raised_at + wait}", nextAllowedBlock=raised_at + wait)
        raised_at = block
    kv_set(state, TAKES, validator, dumps([take, raised_at]))
    return take


def split_validator_reward(reward: int, own: int, delegated: list[tuple[bytes, int]],
                           take: int) -> tuple[int, list[tuple[bytes, int]]]:
    """(the validator's part, [(nominator, part)]) of a validator reward.

    >>> split_validator_reward(1000, 100, [(b"n", 100)], 100_000_000)
    (550, [(b'n', 450)])
    """
    total = own + sum(amount for _, amount in delegated)
    if not delegated or total == 0:
        return reward, []
    shared = reward - reward * take // PPB
    parts = [(nominator, shared * amount // total) for nominator, amount in delegated]
    return reward - sum(part for _, part in parts), parts


def unbond_subnet_delegations(state: State, netuid: int, block: int) -> int:
    """Every delegation on ``netuid`` starts unbonding (a dissolve); returns the total."""
    total = 0
    for key, raw in list(kv_items(state, DELEGATIONS, u16(netuid))):
        amount = int.from_bytes(raw, "big")
        start_unbonding(state, key[22:], netuid, amount, block)
        kv_delete(state, DELEGATIONS, key)
        total += amount
    for key, _ in list(kv_items(state, DELEGATED, u16(netuid))):
        kv_delete(state, DELEGATED, key)
    return total
