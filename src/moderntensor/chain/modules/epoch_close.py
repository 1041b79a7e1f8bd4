"""Epoch processing: every ``tempo`` blocks per subnet, weights -> scores -> MDT.

:func:`close_epoch` gathers the active permitted validators' latest weights into the matrix W
(validators x uids), runs :func:`.epoch_math.epoch_rewards` (kappa consensus,
clipping, ``min_score`` cut, the guide's reward formula via ``scoring.split_rewards``), mints
each reward to its address, adds the rounding dust to ``mt.meta/dust`` (never minted), stores
the per-uid results and a payout record per reward, and emits ``EpochRewarded`` per payout.

Who counts: a validator scores only the miners its row lists (the others are left out of their
consensus, not counted as 0); validators are paid by stake and agreement (:mod:`.epoch_math`,
step 5). Validators holding a permit at the close whose weights were set within the last
``activity_cutoff`` blocks. A weight for uid j counts only if it was set after the current
holder of uid j registered (a replaced miner's weights do not pass to the newcomer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from moderntensor.chain.modules.delegation import nominators, split_validator_reward
from moderntensor.chain.modules.epoch_math import (
    EpochResult,
    epoch_rewards,
    stake_shares,
    validator_emission,
)
from moderntensor.chain.modules.neurons import permits
from moderntensor.chain.modules.records import (
    EPOCH,
    META,
    MINER,
    NOMINATOR,
    OWNER,
    REWARD,
    VACANT_ADDRESS,
    VALIDATOR,
    EpochPayouts,
    Results,
    RewardRecord,
    Subnet,
    WeightsRow,
    address_bytes,
    coldkey_of,
    get_epoch_payouts,
    get_network,
    get_take,
    get_weights,
    neuron_columns,
    payee_of,
    put_results,
    reward_key,
    validator_stake,
)
from moderntensor.chain.modules.row_copies import copied_rows
from moderntensor.chain.modules.subnets import epoch_index
from moderntensor.chain.state import (
    SUPPLY_NS,
    State,
    add_balance,
    kv_add_int,
    kv_delete,
    kv_set,
)
from moderntensor.scoring import COMPONENTS, PPB

Emit = Callable[[str, dict[str, Any]], None]     # (event name, arguments) -> log
REWARD_BYTES = 16                                 # u128 per reward in the results column


def epoch_emission(state: State, subnet: Subnet) -> int:
    """``EpochEmission`` of the guide's formula for this subnet: miner emission x tempo."""
    return get_network(state).miner_emission_per_block * subnet.params.tempo


def subnet_validator_emission(state: State, subnet: Subnet) -> int:
    return validator_emission(get_network(state).validator_emission_per_block,
                              subnet.params.tempo, subnet.weight)


def close_epoch(state: State, subnet: Subnet, block: int, emit: Emit) -> Results:
    """Close the epoch of ``subnet`` that ends with ``block``; see the module docstring."""
    n, params = subnet.n, subnet.params
    neurons = neuron_columns(state, subnet.netuid, n)
    registered = np.array(neurons.registered_block, dtype=np.int64)
    # a vacant uid (its miner deregistered) is weighted by nobody, so paid nothing
    is_miner = ((np.array(neurons.role, dtype=np.int64) == MINER)
                & (np.array(neurons.address) != VACANT_ADDRESS))
    addresses = list(neurons.address)
    held = permits(state, subnet)
    active: list[int] = []
    rows: dict[int, WeightsRow] = {}
    matrices = np.zeros((5, len(held), n), dtype=np.int64)   # weights + the four components
    present = np.zeros((len(held), n), dtype=bool)          # which weights were given
    for uid in sorted(held):
        row = get_weights(state, subnet.netuid, uid)
        if row is None or row.block <= block - params.activity_cutoff:
            continue
        rows[uid] = row
        targets = np.frombuffer(row.uids, dtype=">u2").astype(np.int64)
        keep = (targets < n)
        keep[keep] &= is_miner[targets[keep]] & (row.block > registered[targets[keep]])
        present[len(active), targets[keep]] = True
        for k, column in enumerate((row.weights, row.accuracy, row.latency, row.availability,
                                    row.consistency)):
            if column:
                values = np.frombuffer(column, dtype=">u2").astype(np.int64)
                matrices[k, len(active), targets[keep]] = values[keep]
        active.append(uid)
    matrices, present = matrices[:, :len(active), :], present[:len(active), :]
    stakes = [held[uid] for uid in active]
    copies = copied_rows(state, subnet.netuid, rows, held)
    emission = epoch_emission(state, subnet)
    result = epoch_rewards(matrices[0].astype(np.uint16), stakes, epoch_emission=emission,
                           subnet_weight=subnet.weight, kappa=params.kappa,
                           min_score=params.min_score,
                           validator_emission=subnet_validator_emission(state, subnet),
                           present=present,
                           copied=[uid in copies for uid in active])
    components = _component_means(matrices[1:], present, stakes)
    epoch = epoch_index(subnet, block)
    rewards = [0] * n
    for uid, reward in enumerate(result.miner_rewards):
        rewards[uid] = reward
    for row_index, uid in enumerate(active):
        rewards[uid] += result.validator_rewards[row_index]
    _pay(state, subnet, block, epoch, addresses, result, active, emission, emit)
    kv_add_int(state, META, b"dust", result.dust)
    active_flags = np.zeros(n, dtype=np.uint8)
    active_flags[active] = 1
    agreement = np.zeros(n, dtype=np.int64)
    agreement[active] = result.agreement
    results = Results(
        epoch=epoch, block=block, total_score=result.total_score,
        miner_emission=result.miner_emission, miner_paid=sum(result.miner_rewards),
        validator_emission=result.validator_emission,
        validator_paid=sum(result.validator_rewards), dust=result.dust,
        active_validators=len(active), scored_miners=sum(1 for s in result.scores if s),
        scores=np.asarray(result.scores, dtype=">u8").tobytes(),
        consensus=np.asarray(result.consensus, dtype=">u2").tobytes(),
        **{name: components[k].astype(">u2").tobytes() for k, name in enumerate(COMPONENTS)},
        rewards=b"".join(r.to_bytes(REWARD_BYTES, "big") for r in rewards),
        active=active_flags.tobytes(),
        raw_scores=np.asarray(result.raw_scores, dtype=">u8").tobytes(),
        agreement=agreement.astype(">u4").tobytes())
    put_results(state, subnet.netuid, results)
    _prune_history(state, subnet.netuid, epoch - get_network(state).reward_history_epochs)
    return results


def _component_means(components: np.ndarray, present: np.ndarray, stakes: list[int]
                     ) -> np.ndarray:
    """Stake-weighted mean (floor) of each component per uid over the validators that scored
    it: 4 x n, u16 values (0 where nobody did)."""
    entry = np.where(present, stake_shares(stakes)[:, np.newaxis], 0)
    column_stake = entry.sum(axis=0)
    means = (entry[np.newaxis] * components).sum(axis=1) // np.maximum(column_stake, 1)
    return np.where(column_stake > 0, means, 0)


def _pay(state: State, subnet: Subnet, block: int, epoch: int, addresses: list[str], result:
         EpochResult, active: list[int], emission: int, emit: Emit) -> None:
    """Mint every reward, record it and log ``EpochRewarded``."""
    paid_to: list[bytes] = []
    payouts: list[tuple[str, int, int, int, int, int]] = []   # address, role, score, total...
    for uid, (score, reward) in enumerate(zip(result.scores, result.miner_rewards,
                                              strict=True)):
        if score or reward:
            payouts.append((addresses[uid], MINER, score, result.total_score, emission,
                            reward))
    for uid, share, reward in zip(active, result.validator_weights, result.validator_rewards,
                                  strict=True):   # share: stake x agreement**2, in ppb
        validator = address_bytes(addresses[uid])
        # a cold key's stake on its own hot key is the validator's own: no take on it
        cold = coldkey_of(state, validator)
        delegated = [(n, a) for n, a in nominators(state, subnet.netuid, validator) if n != cold]
        total = validator_stake(state, subnet.netuid, validator)
        kept, parts = split_validator_reward(reward, total - sum(a for _, a in delegated),
                                             delegated, get_take(state, validator)[0])
        payouts.append((addresses[uid], VALIDATOR, share, PPB, result.validator_emission,
                        kept))
        for (nominator, amount), (_, part) in zip(delegated, parts, strict=True):
            # score: the nominator's share of the validator's stake; emission: its reward
            payouts.append(("0x" + nominator.hex(), NOMINATOR, amount * PPB // total, PPB,
                            reward, part))
    owner_share = get_network(state).owner_share
    if subnet.owner and result.miner_emission and owner_share:
        # on top of the miners' pool, so the seed's miner formula is unchanged
        payouts.append(("0x" + subnet.owner, OWNER, owner_share, PPB, result.miner_emission,
                        result.miner_emission * owner_share // PPB))
    for address, role, score, total, pool, reward in payouts:
        raw = address_bytes(address)
        if reward:   # minted below in one supply update (state.mint per payout is 2 writes)
            # a neuron's hot key is paid through its cold key (hotkeys.py); records stay
            # under the neuron's own address
            add_balance(state, payee_of(state, raw) if role in (MINER, VALIDATOR) else raw,
                        reward)
        record = RewardRecord(role, score, total, subnet.weight, pool, reward, block)
        key = reward_key(subnet.netuid, epoch, raw)
        if raw not in paid_to:  # one record per address and epoch: an owner that is also a
            kv_set(state, REWARD, key, record.encode())   # neuron keeps its neuron record
            paid_to.append(raw)
        emit("EpochRewarded", {"epoch": epoch, "netuid": subnet.netuid, "account": raw,
                               "role": role, "score": score, "totalScore": total,
                               "subnetWeight": subnet.weight, "emission": pool,
                               "reward": reward})
    kv_add_int(state, SUPPLY_NS, b"minted", sum(p[5] for p in payouts))
    kv_set(state, EPOCH, reward_key(subnet.netuid, epoch),
           EpochPayouts(block, tuple(paid_to)).encode())


def _prune_history(state: State, netuid: int, epoch: int) -> None:
    """Forget the payout records of ``epoch`` (older payouts stay in the logs)."""
    if epoch < 0:
        return
    payouts = get_epoch_payouts(state, netuid, epoch)
    if payouts is None:
        return
    for address in payouts.paid_to:
        kv_delete(state, REWARD, reward_key(netuid, epoch, address))
    kv_delete(state, EPOCH, reward_key(netuid, epoch))
