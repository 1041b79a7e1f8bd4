"""Copied weight rows earn nothing: the fingerprint of a row another validator set first."""

from __future__ import annotations

import numpy as np

from moderntensor.chain.modules.epoch_close import REWARD_BYTES
from moderntensor.chain.modules.records import WeightsRow, get_results, uid_of
from moderntensor.chain.modules.row_copies import (
    RECENT_ROWS,
    copied_rows,
    fingerprint,
    recent_fingerprints,
    remember_row,
)
from moderntensor.chain.state import State
from moderntensor.scoring import MinerScore
from modules_support import Sim
from test_chain_modules_epochs import easy_config, funded, miners, validators


def row(values: list[int], block: int) -> WeightsRow:
    packed = np.asarray(values, dtype=">u2").tobytes()
    uids = np.arange(len(values), dtype=">u2").tobytes()
    return WeightsRow(block, 0, uids, packed, packed, packed, packed, packed)


def test_a_row_of_measured_values_has_a_fingerprint_and_one_of_extremes_none() -> None:
    assert fingerprint(row([40_000, 12], 5)) is not None
    assert fingerprint(row([65_535, 0], 5)) is None
    assert fingerprint(row([40_000, 12], 5)) == fingerprint(row([40_000, 12], 9))
    assert fingerprint(row([40_000, 12], 5)) != fingerprint(row([40_000, 13], 5))


def test_a_validator_keeps_only_its_recent_fingerprints() -> None:
    state = State()
    for block in range(RECENT_ROWS + 3):
        remember_row(state, 1, 0, row([1000 + block], block))
    kept = recent_fingerprints(state, 1, 0)
    assert [block for _, block in kept] == list(range(3, RECENT_ROWS + 3))


def test_the_later_of_two_identical_rows_is_the_copy() -> None:
    state = State()
    original, copy = row([40_000, 12], 5), row([40_000, 12], 8)
    remember_row(state, 1, 0, original)
    remember_row(state, 1, 1, copy)
    assert copied_rows(state, 1, {0: original, 1: copy}, [0, 1]) == {1}


def test_a_copy_of_an_older_row_of_another_validator_is_caught() -> None:
    state = State()
    remember_row(state, 1, 0, row([40_000, 12], 5))
    newer = row([41_000, 12], 20)
    remember_row(state, 1, 0, newer)
    stale_copy = row([40_000, 12], 9)
    remember_row(state, 1, 1, stale_copy)
    assert copied_rows(state, 1, {0: newer, 1: stale_copy}, [0, 1]) == {1}


def test_identical_rows_of_the_same_block_or_of_extremes_are_not_copies() -> None:
    state = State()
    same_a, same_b = row([40_000], 5), row([40_000], 5)
    perfect_a, perfect_b = row([65_535], 5), row([65_535], 9)
    for uid, item in enumerate((same_a, same_b, perfect_a, perfect_b)):
        remember_row(state, 1, uid, item)
    rows = dict(enumerate((same_a, same_b, perfect_a, perfect_b)))
    assert copied_rows(state, 1, rows, range(4)) == set()


def test_at_epoch_close_a_validator_copying_another_is_paid_nothing_and_the_original_is() -> None:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    honest, copier = validators(sim, 1, 2)
    good, bad = miners(sim, 1, 2)
    sim.next_block()
    scores = [MinerScore(0.92, 0.76, 1.0, 0.87).to_u16(), MinerScore(0.01, 0.0, 0.0, 0.0).to_u16()]
    columns = list(zip(*scores, strict=True))
    row_of = {"netuid": 1, "uids": [good, bad], "weights": list(columns[4]),
              "accuracy": list(columns[0]), "latency": list(columns[1]),
              "availability": list(columns[2]), "consistency": list(columns[3]), "versionKey": 1}
    sim.call(honest, "setWeights", **row_of)
    sim.next_block()
    sim.call(copier, "setWeights", **row_of)   # what mt_getWeights showed it
    sim.run_to(20)
    results = get_results(sim.state, 1)
    assert results is not None

    def reward(validator: bytes) -> int:
        uid = uid_of(sim.state, 1, validator)
        assert uid is not None
        return int.from_bytes(results.rewards[uid * REWARD_BYTES:(uid + 1) * REWARD_BYTES], "big")

    assert reward(honest) > 0 and reward(copier) == 0
