"""Cold and hot keys: the key on the server is not the key that owns the money.

A *hot* key is a neuron's identity: it registers, serves, sets weights and votes, and it lives
on the mining or validating server. A *cold* key owns: it holds the funds, receives the hot
key's rewards and can replace the hot key. Bittensor users know the split; here it is opt-in,
so the seed's single key keeps working as its own cold and hot key.

- ``setColdkey(coldkey)``: sent **by the hot key** (fee-free for a registered neuron, whose
  0-MDT key cannot pay gas), once: from then on every reward of the hot key is paid to the cold
  key. The hot key's consent is what stops anyone from claiming someone else's rewards; the
  binding is final, so a stolen hot key cannot move it.
- Stake owned by the cold key: the cold key delegates to its own hot key (``delegateStake``,
  even before the hot key registers as a validator). That stake counts as the validator's own
  (no take; its share of the reward goes to the cold key with the rest) and only the cold key
  can take it back (``undelegateStake``): a hot key cannot unstake it or move the cold key's
  funds.
- ``swapHotkey(oldHotkey, newHotkey)``: sent by the cold key; the new key takes over the old
  one's uids, stake, delegations, take and root vote on every subnet (history keyed by uid
  stays), and the old key is refused from then on (``not_registered``).
"""

from __future__ import annotations

from dataclasses import replace

from moderntensor.chain.modules.records import (
    COLDKEYS,
    DELEGATED,
    DELEGATIONS,
    STAKE,
    TAKES,
    checksum,
    coldkey_of,
    get_neuron,
    netuids,
    put_neuron,
    put_validator_list,
    set_uid,
    u16,
    uid_of,
    validator_list,
)
from moderntensor.chain.modules.root import ROOT_VOTES
from moderntensor.chain.modules.subnets import fail
from moderntensor.chain.state import State, kv_delete, kv_get, kv_items, kv_set


def subnets_of(state: State, address: bytes) -> list[int]:
    """The netuids where ``address`` holds a uid."""
    return [netuid for netuid in netuids(state) if uid_of(state, netuid, address) is not None]


def check_set_coldkey(state: State, hotkey: bytes, coldkey: bytes) -> None:
    """Every check of ``setColdkey`` without changing state."""
    if coldkey_of(state, hotkey) is not None:
        fail("coldkey_already_set", f"{checksum(hotkey)} is already bound to cold key "
             f"{checksum(coldkey_of(state, hotkey) or b'')}; only that key can swap it out",
             coldkey=checksum(coldkey_of(state, hotkey) or b""))
    if coldkey == hotkey or coldkey == bytes(20):
        fail("invalid_coldkey", "the cold key must be another, non-zero address")
    if not subnets_of(state, hotkey):
        fail("not_registered", f"{checksum(hotkey)} has no uid on any subnet; register first")


def set_coldkey(state: State, hotkey: bytes, coldkey: bytes) -> None:
    check_set_coldkey(state, hotkey, coldkey)
    kv_set(state, COLDKEYS, hotkey, coldkey)


def swap_hotkey(state: State, coldkey: bytes, old: bytes, new: bytes) -> list[int]:
    """Move everything of ``old`` to ``new`` (module docstring); returns the netuids moved."""
    if coldkey_of(state, old) != coldkey:
        fail("not_coldkey", f"only the cold key bound to {checksum(old)} (setColdkey) may swap "
             "it", hotkey=checksum(old))
    if new in (old, bytes(20)) or subnets_of(state, new) or coldkey_of(state, new) is not None:
        fail("hotkey_in_use", f"{checksum(new)} is already a neuron or bound to a cold key; "
             "swap to a fresh key", hotkey=checksum(new))
    moved = subnets_of(state, old)
    for netuid in moved:
        uid = uid_of(state, netuid, old)
        assert uid is not None
        neuron = get_neuron(state, netuid, uid)
        assert neuron is not None
        put_neuron(state, netuid, replace(neuron, address=checksum(new)))
        set_uid(state, netuid, old, None)
        set_uid(state, netuid, new, uid)
        put_validator_list(state, netuid, [(u, new if a == old else a)
                                           for u, a in validator_list(state, netuid)])
        _rename(state, STAKE, u16(netuid) + old, u16(netuid) + new)
        _rename(state, DELEGATED, u16(netuid) + old, u16(netuid) + new)
        for key, _ in list(kv_items(state, DELEGATIONS, u16(netuid) + old)):
            _rename(state, DELEGATIONS, key, u16(netuid) + new + key[22:])
    for namespace in (TAKES, ROOT_VOTES, COLDKEYS):
        _rename(state, namespace, old, new)
    return moved


def _rename(state: State, namespace: str, old_key: bytes, new_key: bytes) -> None:
    value = kv_get(state, namespace, old_key)
    if value is not None:
        kv_delete(state, namespace, old_key)
        kv_set(state, namespace, new_key, value)
