"""``dissolveSubnet``: the owner of a custom subnet closes it and gets its deposit back.

Conditions: only the owner, only a custom subnet (5+; the genesis subnets have no owner).
Effects, in one transaction:

- every stake on the subnet, delegations included, starts unbonding to its staker (released
  after ``unbondingPeriod``, as with ``removeStake``);
- every neuron leaves: its uid, weights row and pending weight commit are deleted;
- the subnet disappears from ``mt_listSubnets`` and its name is free again; its netuid is never
  given to another subnet, so the reward records it leaves (``mt.reward``, ``mt.epoch``) can
  never be mistaken for a later subnet's;
- the deposit goes back to the owner.
"""

from __future__ import annotations

from moderntensor.chain.modules.delegation import unbond_subnet_delegations
from moderntensor.chain.modules.records import (
    NEURON,
    RESULTS,
    STAKE,
    SUBNET,
    VALIDATORS,
    Subnet,
    get_neuron,
    netuids,
    neuron_key,
    put_netuids,
    put_weights,
    record_highest_netuid,
    set_uid,
    u16,
)
from moderntensor.chain.modules.staking import start_unbonding
from moderntensor.chain.modules.subnets import FIRST_CUSTOM_NETUID, fail, require_subnet
from moderntensor.chain.modules.weight_commits import COMMITS
from moderntensor.chain.state import State, kv_delete, kv_items, transfer


def check_dissolve(state: State, sender: bytes, netuid: int) -> Subnet:
    """Every check of ``dissolveSubnet`` without changing state; returns the subnet."""
    subnet = require_subnet(state, netuid)
    if netuid < FIRST_CUSTOM_NETUID:
        fail("genesis_subnet", f"subnet {netuid} is a genesis subnet: it has no owner and "
             "cannot be dissolved")
    if subnet.owner != sender.hex():
        fail("not_subnet_owner", f"only the owner of subnet {netuid} may dissolve it",
             owner="0x" + subnet.owner)
    return subnet


def dissolve_subnet(state: State, system: bytes, sender: bytes, netuid: int,
                    block: int) -> tuple[int, int]:
    """Dissolve ``netuid`` (see the module docstring); returns (deposit returned, stake
    queued for unbonding)."""
    subnet = check_dissolve(state, sender, netuid)
    prefix = u16(netuid)
    unbonding = 0
    for key, raw in list(kv_items(state, STAKE, prefix)):
        amount = int.from_bytes(raw, "big")
        start_unbonding(state, key[2:], netuid, amount, block)
        kv_delete(state, STAKE, key)
        unbonding += amount
    unbonding += unbond_subnet_delegations(state, netuid, block)
    for uid in range(subnet.n):
        neuron = get_neuron(state, netuid, uid)
        if neuron is not None:
            set_uid(state, netuid, bytes.fromhex(neuron.address[2:]), None)
        kv_delete(state, NEURON, neuron_key(netuid, uid))
        kv_delete(state, COMMITS, neuron_key(netuid, uid))
        put_weights(state, netuid, uid, None)
    for namespace in (RESULTS, VALIDATORS, SUBNET):
        kv_delete(state, namespace, prefix)
    remaining = netuids(state)
    record_highest_netuid(state, max(remaining))  # never given again (see the docstring)
    put_netuids(state, [n for n in remaining if n != netuid])
    transfer(state, system, sender, subnet.deposit)
    return subnet.deposit, unbonding
