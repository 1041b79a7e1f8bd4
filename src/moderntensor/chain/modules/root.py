"""Subnet weights the network decides: the root vote (Bittensor's root network, our rule).

Who votes: the ``rootVoters`` addresses with the most validator stake, summed over every
subnet they validate on (ties: the lower address first). Each sets ``voteSubnetWeights``: a u16
weight per subnet it cares about (a later vote replaces the earlier one).

What it decides: every ``rootTempo`` blocks (at the end of the block, before the epochs that
close in it), each vote becomes shares of its own total (u16), the votes a voters x subnets
matrix (a subnet left out is a 0), run through the miners' own rule
(:func:`~moderntensor.chain.modules.epoch_math.miner_scores`): each subnet's consensus is the
stake-weighted kappa-quantile (kappa 0.5) of its column, every weight is clipped to it, and
the subnet's score is the stake-weighted mean of the clipped column. ``SubnetWeight`` = the
scores normalised to exactly 10^9 ppb (floor, then the remaining ppb one each to the largest
remainders, ties to the lower netuid). A subnet nobody voted for gets 0. Until a vote
exists, or while the clipping leaves every subnet at 0, the weights stay as they are (the
genesis weights at first).
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np

from moderntensor.chain.modules.epoch_math import DEFAULT_KAPPA, miner_scores, stake_shares
from moderntensor.chain.modules.records import (
    dumps,
    get_network,
    get_subnet,
    netuids,
    put_subnet,
    validator_list,
    validator_stake,
)
from moderntensor.chain.modules.subnets import fail
from moderntensor.chain.state import State, kv_get, kv_set
from moderntensor.scoring import PPB, U16_MAX

ROOT_VOTES = "mt.root"  # address -> [block, [netuid...], [u16 weight...]]


def root_stakes(state: State) -> dict[bytes, int]:
    """Every validator's stake (its own and its nominators') summed over its subnets."""
    totals: dict[bytes, int] = {}
    for netuid in netuids(state):
        for _, address in validator_list(state, netuid):
            totals[address] = totals.get(address, 0) + validator_stake(state, netuid, address)
    return {address: stake for address, stake in totals.items() if stake > 0}


def root_voters(state: State) -> dict[bytes, int]:
    """``{address: stake}`` of the ``rootVoters`` validators with the most stake."""
    ranked = sorted(root_stakes(state).items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked[:get_network(state).root_voters])


def vote_subnet_weights(state: State, sender: bytes, block: int, vote_netuids: list[int],
                        weights: list[int]) -> int:
    """Store the sender's vote; returns how many subnets it weights."""
    if sender not in root_voters(state):
        fail("not_root_voter", f"only the {get_network(state).root_voters} validators with the "
             "most stake (summed over their subnets) vote subnet weights")
    if len(vote_netuids) != len(weights):
        fail("invalid_weights", f"{len(vote_netuids)} netuids but {len(weights)} weights")
    if len(set(vote_netuids)) != len(vote_netuids):
        fail("invalid_weights", "netuids must not repeat")
    live = set(netuids(state))
    unknown = next((n for n in vote_netuids if n not in live), None)
    if unknown is not None:
        fail("unknown_subnet", f"subnet {unknown} does not exist (see mt_listSubnets)",
             netuid=unknown)
    if any(isinstance(w, bool) or not isinstance(w, int) or not 0 <= w <= U16_MAX
           for w in weights):
        fail("invalid_weights", f"weights must be u16 integers (0..{U16_MAX})")
    kv_set(state, ROOT_VOTES, sender, dumps([block, list(vote_netuids), list(weights)]))
    return len(vote_netuids)


def get_root_vote(state: State, address: bytes) -> tuple[int, dict[int, int]] | None:
    """(block, {netuid: u16 weight}) of ``address``'s vote, or None."""
    raw = kv_get(state, ROOT_VOTES, address)
    if raw is None:
        return None
    block, vote_netuids, weights = json.loads(raw)
    return block, dict(zip(vote_netuids, weights, strict=True))


def decide_subnet_weights(state: State) -> dict[int, int] | None:
    """``{netuid: ppb}`` from the current votes (summing to exactly 10^9), or None while
    no voter has voted for a live subnet."""
    live = netuids(state)
    column = {netuid: j for j, netuid in enumerate(live)}
    voters = root_voters(state)
    rows, stakes = [], []
    for address, stake in voters.items():
        vote = get_root_vote(state, address)
        given = {column[n]: w for n, w in (vote[1].items() if vote else ()) if n in column}
        total = sum(given.values())
        if total == 0:
            continue
        row = np.zeros(len(live), dtype=np.int64)
        for j, weight in given.items():   # each vote as shares of its own total, in u16
            row[j] = weight * U16_MAX // total
        rows.append(row)
        stakes.append(stake)
    if not rows:
        return None
    # a subnet a voter left out is a 0 in its row (unlike miners, whom a validator may not
    # have scored): a subnet only a minority of the stake wants is clipped to nothing
    _, scores = miner_scores(np.array(rows).astype(np.uint16), stake_shares(stakes),
                             DEFAULT_KAPPA)
    return normalise_ppb(dict(zip(live, (int(s) for s in scores), strict=True)))


def normalise_ppb(scores: dict[int, int]) -> dict[int, int] | None:
    """``scores`` scaled to sum to exactly 10^9 (largest remainders; ties to the lower key),
    or None when they are all 0."""
    total = sum(scores.values())
    if total == 0:
        return None
    shares = {key: score * PPB // total for key, score in scores.items()}
    left = PPB - sum(shares.values())
    by_remainder = sorted(scores, key=lambda key: (-(scores[key] * PPB % total), key))
    for key in by_remainder[:left]:
        shares[key] += 1
    return shares


def update_subnet_weights(state: State, block: int) -> bool:
    """At a ``rootTempo`` boundary, write the decided weights; True when they were written."""
    tempo = get_network(state).root_tempo
    if block % tempo:
        return False
    decided = decide_subnet_weights(state)
    if decided is None:
        return False
    for netuid, weight in decided.items():
        subnet = get_subnet(state, netuid)
        if subnet is not None and subnet.weight != weight:
            put_subnet(state, replace(subnet, weight=weight))
    return True
