"""Commit-reveal weights: a commit hides the row until the subnet's period has passed; only a
matching reveal becomes a weights row, stored as of its commit block."""

from __future__ import annotations

import os

from moderntensor.chain.modules.records import get_weights, uid_of
from moderntensor.chain.state import state_root
from moderntensor.protocol.commit_hash import weights_commit_hash
from moderntensor.scoring import MinerScore
from modules_support import Sim
from test_chain_modules_epochs import easy_config, funded, miners, validators
from test_chain_modules_registration import expect

PERIOD = 2                                       # the dev preset's commitRevealPeriod


def setup() -> tuple[Sim, bytes, int, dict]:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    (validator,) = validators(sim, 1, 1)
    (miner,) = miners(sim, 1, 1)
    a, lat, av, c, total = MinerScore(1.0, 0.8, 1.0, 0.7).to_u16()
    row = {"netuid": 1, "uids": [miner], "weights": [total], "accuracy": [a], "latency": [lat],
           "availability": [av], "consistency": [c], "versionKey": 0, "salt": os.urandom(32)}
    return sim, validator, miner, row


def commit(sim: Sim, validator: bytes, row: dict) -> int:
    digest = weights_commit_hash(validator, *(row[k] for k in (
        "netuid", "uids", "weights", "accuracy", "latency", "availability", "consistency",
        "versionKey", "salt")))
    return sim.call(validator, "commitWeights", netuid=1, commitHash=digest)


def test_a_commit_stores_no_weights_and_a_due_reveal_stores_them_as_of_the_commit() -> None:
    sim, validator, _, row = setup()
    committed = sim.block + 1                  # calls run in the block being built
    reveal_block = commit(sim, validator, row)
    uid = uid_of(sim.state, 1, validator)
    assert reveal_block == committed + PERIOD and get_weights(sim.state, 1, uid) is None
    sim.next_block(PERIOD)
    sim.call(validator, "revealWeights", **row)
    stored = get_weights(sim.state, 1, uid)
    assert stored is not None and stored.block == committed


def test_a_reveal_before_the_period_is_refused_and_changes_nothing() -> None:
    sim, validator, _, row = setup()
    commit(sim, validator, row)
    sim.next_block(PERIOD - 1)
    root = state_root(sim.state)
    expect("reveal_too_early", sim.call, validator, "revealWeights", **row)
    assert state_root(sim.state) == root


def test_a_reveal_that_does_not_match_the_commit_stores_nothing() -> None:
    sim, validator, _, row = setup()
    commit(sim, validator, row)
    sim.next_block(PERIOD)
    root = state_root(sim.state)
    expect("reveal_mismatch", sim.call, validator, "revealWeights",
           **{**row, "salt": os.urandom(32)})
    expect("reveal_mismatch", sim.call, validator, "revealWeights",
           **{**row, "weights": [0], "accuracy": [0], "latency": [0], "availability": [0],
              "consistency": [0]})
    assert state_root(sim.state) == root


def test_a_reveal_without_a_commit_is_refused() -> None:
    sim, validator, _, row = setup()
    expect("no_commit", sim.call, validator, "revealWeights", **row)


def test_a_commit_is_revealed_once() -> None:
    sim, validator, _, row = setup()
    commit(sim, validator, row)
    sim.next_block(PERIOD)
    sim.call(validator, "revealWeights", **row)
    expect("no_commit", sim.call, validator, "revealWeights", **row)


def test_another_validator_cannot_reveal_a_copied_commit() -> None:
    sim, validator, _, row = setup()
    (copier,) = validators(sim, 1, 1, first=1)
    digest = weights_commit_hash(validator, *(row[k] for k in (
        "netuid", "uids", "weights", "accuracy", "latency", "availability", "consistency",
        "versionKey", "salt")))
    sim.call(copier, "commitWeights", netuid=1, commitHash=digest)
    sim.next_block(PERIOD)
    expect("reveal_mismatch", sim.call, copier, "revealWeights", **row)


def test_commits_are_rate_limited_like_weights() -> None:
    sim, validator, _, row = setup()
    commit(sim, validator, row)
    expect("weights_rate_limited", commit, sim, validator, row)
