"""The consensus validator-set rule: genesis set, then operators' stake as CometBFT power."""

from __future__ import annotations

import base64

import pytest

from moderntensor.chain.abci.validators import ValidatorSet, stake_by_account
from moderntensor.chain.errors import GenesisError
from moderntensor.chain.modules.records import STAKE
from moderntensor.chain.state import State, kv_set_int
from moderntensor.units import BASE_PER_MDT

KEYS = [bytes([i]) * 32 for i in range(1, 4)]
ADDRESSES = ["AA" * 20, "BB" * 20, "CC" * 20]
OPERATORS = ["0x" + "01" * 20, "0x" + "02" * 20, "0x" + "03" * 20]


def genesis(operators: dict[str, str], **config: object) -> dict:
    return {"validators": [{"address": a, "pub_key": {"type": "tendermint/PubKeyEd25519",
                                                        "value": base64.b64encode(k).decode()},
                            "power": "10"} for a, k in zip(ADDRESSES, KEYS, strict=True)],
            "app_state": {"modules": {"consensus": {"operators": operators, **config}}}}


def stake(state: State, netuid: int, operator: str, mdt: int) -> None:
    kv_set_int(state, STAKE, netuid.to_bytes(2, "big") + bytes.fromhex(operator[2:]),
               mdt * BASE_PER_MDT)


def powers(rule: ValidatorSet, state: State, height: int) -> dict[bytes, int]:
    return {u.pub_key.ed25519: u.power for u in rule.updates(state, height)}


def test_without_operators_the_genesis_set_never_changes() -> None:
    assert ValidatorSet.from_genesis(genesis({})).updates(State(), 20) == []


def test_bound_validators_vote_with_their_operators_total_stake_every_interval() -> None:
    rule = ValidatorSet.from_genesis(genesis(dict(zip(ADDRESSES, OPERATORS, strict=True)),
                                             updateInterval=5))
    state = State()
    stake(state, 1, OPERATORS[0], 300)
    stake(state, 2, OPERATORS[0], 200)
    stake(state, 1, OPERATORS[1], 50)
    assert powers(rule, state, 4) == {}
    assert powers(rule, state, 10) == {KEYS[0]: 500, KEYS[1]: 50, KEYS[2]: 1}


def test_only_the_top_stakers_get_stake_power_the_rest_keep_power_one() -> None:
    rule = ValidatorSet.from_genesis(genesis(dict(zip(ADDRESSES, OPERATORS, strict=True)),
                                             maxPowered=1))
    state = State()
    stake(state, 1, OPERATORS[1], 70)
    stake(state, 1, OPERATORS[2], 90)
    assert powers(rule, state, 20) == {KEYS[2]: 90, KEYS[1]: 1, KEYS[0]: 1}


def test_stake_is_summed_per_account_over_subnets() -> None:
    state = State()
    stake(state, 1, OPERATORS[0], 2)
    stake(state, 3, OPERATORS[0], 5)
    assert stake_by_account(state) == {bytes.fromhex(OPERATORS[0][2:]): 7 * BASE_PER_MDT}


@pytest.mark.parametrize("operators, config, message", [
    ({"DD" * 20: OPERATORS[0]}, {}, "not a genesis validator"),
    ({ADDRESSES[0]: "nope"}, {}, "not an address"),
    ({ADDRESSES[0]: OPERATORS[0]}, {"updateInterval": 0}, "updateInterval"),
])
def test_a_malformed_consensus_genesis_is_refused_with_the_field_named(operators, config,
                                                                       message) -> None:
    with pytest.raises(GenesisError, match=message):
        ValidatorSet.from_genesis(genesis(operators, **config))
