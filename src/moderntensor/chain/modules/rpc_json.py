"""Read models of module state as JSON-able dicts (camelCase, amounts as decimal strings).

Shared by the ``mt_*`` RPC methods and the system contract's ``eth_call`` views; nothing here
changes state. Shapes are documented in docs/rpc.md.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from moderntensor.chain.modules.epoch_close import epoch_emission, subnet_validator_emission
from moderntensor.chain.modules.neurons import immune_until, permits
from moderntensor.chain.modules.params import params_to_json
from moderntensor.chain.modules.records import (
    REWARD,
    ROLE_NAMES,
    STAKE,
    VALIDATOR,
    NeuronRecord,
    Results,
    RewardRecord,
    Subnet,
    address_bytes,
    checksum,
    coldkey_of,
    get_delegated,
    get_epoch_payouts,
    get_network,
    get_results,
    get_stake,
    get_take,
    get_weights,
    last_block,
    neuron_columns,
    reward_key,
    u16,
    validator_list,
)
from moderntensor.chain.modules.staking import unbonding_of
from moderntensor.chain.modules.subnets import epoch_index, next_close
from moderntensor.chain.modules.weights import unpack
from moderntensor.chain.state import State
from moderntensor.scoring import COMPONENTS, PPB, U16_MAX

ZERO_ADDRESS = "0x" + "00" * 20


def subnet_json(state: State, subnet: Subnet) -> dict[str, Any]:
    block = last_block(state)
    stake = sum(get_stake(state, subnet.netuid, a) for _, a in validator_list(state,
                                                                             subnet.netuid))
    emission = epoch_emission(state, subnet)
    try:
        metadata = json.loads(subnet.metadata) if subnet.metadata else {}
    except ValueError:
        metadata = {}
    current = epoch_index(subnet, block + 1)
    return {
        "netuid": subnet.netuid, "name": subnet.name, "taskType": subnet.task_type,
        "owner": checksum(bytes.fromhex(subnet.owner)) if subnet.owner else ZERO_ADDRESS,
        "deposit": str(subnet.deposit), "metadata": metadata,
        "createdBlock": subnet.created_block,
        "subnetWeight": subnet.weight, "subnetWeightFloat": subnet.weight / PPB,
        "ownerShare": get_network(state).owner_share if subnet.owner else 0,
        "difficulty": subnet.difficulty,
        "params": params_to_json(subnet.params),
        "miners": subnet.miners, "validators": subnet.validators, "neurons": subnet.n,
        "validatorStake": str(stake),
        "epoch": current,
        "lastEpochBlock": next_close(subnet, block + 1) - subnet.params.tempo,
        "nextEpochBlock": next_close(subnet, block + 1),
        "epochEmission": str(emission),
        "minerEmission": str(emission * subnet.weight // PPB),
        "validatorEmission": str(subnet_validator_emission(state, subnet)),
    }


def _columns(results: Results | None, n: int, registered: np.ndarray) -> dict[str, np.ndarray]:
    """The last epoch's per-uid columns, zero for uids (re)registered after it."""
    zeros = np.zeros(n, dtype=np.int64)
    if results is None:
        return {"scores": zeros, "consensus": zeros, **dict.fromkeys(COMPONENTS, zeros),
                "rawScores": zeros, "agreement": zeros,
                "active": zeros.astype(bool), "rewards": np.zeros(n, dtype=object)}
    fresh = registered > results.block

    def column(raw: bytes, dtype: str) -> np.ndarray:
        values = np.zeros(n, dtype=np.int64)
        got = np.frombuffer(raw, dtype=dtype).astype(np.int64)[:n]
        values[:got.size] = got
        values[fresh] = 0
        return values

    rewards = np.zeros(n, dtype=object)
    raw = results.rewards
    for uid in range(min(n, len(raw) // 16)):
        if not fresh[uid]:
            rewards[uid] = int.from_bytes(raw[uid * 16:uid * 16 + 16], "big")
    return {"scores": column(results.scores, ">u8"), "consensus": column(results.consensus,
                                                                          ">u2"),
            **{name: column(getattr(results, name), ">u2") for name in COMPONENTS},
            "rawScores": column(results.raw_scores, ">u8"),
            "agreement": column(results.agreement, ">u4"),
            "active": column(results.active, "u1").astype(bool), "rewards": rewards}


def _endpoint(neuron: NeuronRecord) -> dict[str, Any] | None:
    if not neuron.host:
        return None
    return {"host": neuron.host, "port": neuron.port, "protocol": neuron.protocol}


def _model(neuron: NeuronRecord) -> dict[str, Any] | None:
    if neuron.role == VALIDATOR:
        return None
    return {"name": neuron.model_name, "type": neuron.model_type,
            "version": neuron.model_version}


def metagraph_json(state: State, subnet: Subnet) -> dict[str, Any]:
    neurons = neuron_columns(state, subnet.netuid, subnet.n)
    n = subnet.n
    addresses, roles = neurons.address, neurons.role
    registered = np.array(neurons.registered_block, dtype=np.int64)
    cols = _columns(get_results(state, subnet.netuid), n, registered)
    held = permits(state, subnet)
    stake_table = state.kv.get(STAKE, {})
    prefix = u16(subnet.netuid)
    stakes = []
    for address in addresses:
        raw = stake_table.get(prefix + bytes.fromhex(address[2:]))
        stakes.append(str(int.from_bytes(raw, "big")) if raw else "0")
    return {
        "netuid": subnet.netuid, "block": last_block(state), "n": n,
        "uids": list(range(n)),
        "addresses": list(addresses),
        "roles": [ROLE_NAMES[r] for r in roles],
        "stakes": stakes,
        "delegatedStakes": [str(get_delegated(state, subnet.netuid, bytes.fromhex(a[2:])))
                            for a in addresses],
        "takes": [get_take(state, bytes.fromhex(a[2:]))[0] if role == VALIDATOR else None
                  for a, role in zip(addresses, roles, strict=True)],
        "coldkeys": [checksum(cold) if (cold := coldkey_of(state, bytes.fromhex(a[2:])))
                     else None for a in addresses],
        "validatorPermits": [uid in held for uid in range(n)],
        "active": cols["active"].tolist(),
        "scores": cols["scores"].tolist(),
        "scoresBeforeCut": cols["rawScores"].tolist(),
        "agreement": cols["agreement"].tolist(),
        "consensus": cols["consensus"].tolist(),
        **{name: cols[name].tolist() for name in COMPONENTS},
        "endpoints": [{"host": host, "port": port, "protocol": protocol} if host else None
                      for host, port, protocol in zip(neurons.host, neurons.port,
                                                      neurons.protocol, strict=True)],
        "models": [None if role == VALIDATOR else {"name": name, "type": kind,
                                                   "version": version}
                   for role, name, kind, version in zip(roles, neurons.model_name,
                                                        neurons.model_type,
                                                        neurons.model_version, strict=True)],
        "registeredBlocks": registered.tolist(),
        "lastUpdates": list(neurons.last_update),
        "lastRewards": [str(r) for r in cols["rewards"].tolist()],
    }


def neuron_json(state: State, subnet: Subnet, neuron: NeuronRecord) -> dict[str, Any]:
    registered = np.zeros(subnet.n, dtype=np.int64)
    registered[neuron.uid] = neuron.registered_block
    cols = _columns(get_results(state, subnet.netuid), subnet.n, registered)
    uid = neuron.uid
    address = address_bytes(neuron.address)
    score = int(cols["scores"][uid])
    return {
        "netuid": subnet.netuid, "uid": uid, "address": neuron.address,
        "role": ROLE_NAMES[neuron.role],
        "stake": str(get_stake(state, subnet.netuid, address)),
        "delegatedStake": str(get_delegated(state, subnet.netuid, address)),
        "coldkey": checksum(cold) if (cold := coldkey_of(state, address)) else None,
        "take": get_take(state, address)[0] if neuron.role == VALIDATOR else None,
        "validatorPermit": uid in permits(state, subnet),
        "active": bool(cols["active"][uid]),
        "score": score, "scoreFloat": score / PPB, "consensus": int(cols["consensus"][uid]),
        "scoreBeforeCut": int(cols["rawScores"][uid]), "agreement": int(cols["agreement"][uid]),
        **{name: int(cols[name][uid]) for name in COMPONENTS},
        **{name + "Float": int(cols[name][uid]) / U16_MAX for name in COMPONENTS},
        "endpoint": _endpoint(neuron), "model": _model(neuron),
        "registeredBlock": neuron.registered_block, "lastUpdate": neuron.last_update,
        "immuneUntil": immune_until(subnet, neuron),
        "lastReward": str(cols["rewards"][uid]),
        "unbonding": [{"amount": str(amount), "releaseBlock": release}
                      for _, amount, release in unbonding_of(state, address, subnet.netuid)],
    }


def weights_json(state: State, subnet: Subnet, validator_uid: int | None,
                 miner_uid: int | None) -> dict[str, Any]:
    held = permits(state, subnet)
    uids = [u for u, _ in validator_list(state, subnet.netuid)]
    if validator_uid is not None:
        uids = [u for u in uids if u == validator_uid]
    rows = []
    for uid in uids:
        row = get_weights(state, subnet.netuid, uid)
        if row is None:
            continue
        columns = {"uids": unpack(row.uids), "weights": unpack(row.weights),
                   **{name: unpack(getattr(row, name)) for name in COMPONENTS}}
        if miner_uid is not None:
            keep = columns["uids"] == miner_uid
            columns = {k: v[keep] if v.size else v for k, v in columns.items()}
        address = next(a for u, a in validator_list(state, subnet.netuid) if u == uid)
        rows.append({"uid": uid, "address": checksum(address), "block": row.block,
                     "versionKey": row.version_key, "validatorPermit": uid in held,
                     **{k: v.tolist() for k, v in columns.items()}})
    return {"netuid": subnet.netuid, "block": last_block(state), "rows": rows}


def epoch_info_json(state: State, subnet: Subnet) -> dict[str, Any]:
    block = last_block(state)
    current = epoch_index(subnet, block + 1)
    close = next_close(subnet, block + 1)
    results = get_results(state, subnet.netuid)
    emission = epoch_emission(state, subnet)
    last = None
    if results is not None:
        last = {"epoch": results.epoch, "block": results.block,
                "totalScore": results.total_score,
                "minerEmission": str(results.miner_emission),
                "minerPaid": str(results.miner_paid),
                "validatorEmission": str(results.validator_emission),
                "validatorPaid": str(results.validator_paid), "dust": str(results.dust),
                "activeValidators": results.active_validators,
                "scoredMiners": results.scored_miners}
    return {"netuid": subnet.netuid, "blockNumber": block, "tempo": subnet.params.tempo,
            "epoch": current, "epochStartBlock": close - subnet.params.tempo + 1,
            "nextEpochBlock": close, "blocksRemaining": close - block,
            "epochEmission": str(emission), "minerEmission": str(emission * subnet.weight // PPB),
            "validatorEmission": str(subnet_validator_emission(state, subnet)),
            "lastEpoch": last}


def reward_json(netuid: int, epoch: int, address: bytes, raw: bytes) -> dict[str, Any]:
    record = RewardRecord.decode(raw)
    return {"epoch": epoch, "netuid": netuid, "block": record.block,
            "address": checksum(address), "role": ROLE_NAMES[record.role],
            "score": record.score, "totalScore": record.total_score,
            "subnetWeight": record.subnet_weight, "emission": str(record.emission),
            "reward": str(record.reward)}


def rewards_json(state: State, subnets: list[Subnet], address: bytes | None, from_epoch: int,
                 to_epoch: int | None, limit: int) -> dict[str, Any]:
    """Payout records, newest epoch first, at most ``limit``."""
    keep = get_network(state).reward_history_epochs
    table = state.kv.get(REWARD, {})
    found: list[dict[str, Any]] = []
    for subnet in subnets:
        results = get_results(state, subnet.netuid)
        if results is None:
            continue
        top = results.epoch if to_epoch is None else min(to_epoch, results.epoch)
        low = max(from_epoch, results.epoch - keep + 1, 0)
        mine: list[dict[str, Any]] = []
        for epoch in range(top, low - 1, -1):
            if len(mine) >= limit:
                break
            if address is not None:
                raw = table.get(reward_key(subnet.netuid, epoch, address))
                if raw is not None:
                    mine.append(reward_json(subnet.netuid, epoch, address, raw))
                continue
            payouts = get_epoch_payouts(state, subnet.netuid, epoch)
            for who in payouts.paid_to if payouts else ():
                raw = table[reward_key(subnet.netuid, epoch, who)]
                mine.append(reward_json(subnet.netuid, epoch, who, raw))
        found.extend(mine)
    found.sort(key=lambda r: (-r["block"], r["netuid"]))
    found = found[:limit]
    return {"rewards": found, "total": str(sum(int(r["reward"]) for r in found))}
