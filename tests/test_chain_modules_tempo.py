"""A tempo change on a live subnet moves its epoch boundaries, never its epoch numbering."""

from __future__ import annotations

import itertools
import json

import pytest

from moderntensor.chain.modules.records import Subnet, get_results, get_subnet
from moderntensor.chain.modules.subnets import closes_at, epoch_index, retime_epochs
from modules_support import Sim, account
from test_chain_modules_epochs import easy_config, funded


def custom_subnet(tempo: int) -> Sim:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    sim.call(account(0), "createSubnet", name="translation", taskType="translation",
             params=f'{{"tempo": {tempo}}}', metadata="")
    return sim


def closes(sim: Sim, until: int) -> list[tuple[int, int]]:
    """(block, epoch) of every epoch close of subnet 5 from now up to block ``until``."""
    seen = []
    while sim.block < until:
        sim.next_block()
        results = get_results(sim.state, 5)
        if results is not None and results.block == sim.block:
            seen.append((results.block, results.epoch))
    return seen


def subnet5(sim: Sim) -> Subnet:
    subnet = get_subnet(sim.state, 5)
    assert subnet is not None
    return subnet


@pytest.mark.parametrize("new_tempo", [3, 10, 25])
def test_a_tempo_change_keeps_epoch_indices_consecutive(new_tempo: int) -> None:
    sim = custom_subnet(tempo=10)                     # created in block 3: closes at 13, 23, ...
    before = closes(sim, 26)
    assert before == [(13, 0), (23, 1)]
    sim.call(account(0), "setSubnetParams", netuid=5, params=f'{{"tempo": {new_tempo}}}')
    after = closes(sim, 26 + 4 * new_tempo + 2)
    epochs = [epoch for _, epoch in before + after]
    assert epochs == list(range(len(epochs)))        # no reset to 0, no gap, no repeat
    blocks = [block for block, _ in after]
    # the epoch in progress (started after 23, changed in 27) closes new_tempo blocks after
    # its start, or at the end of the next block when that is already past; then every
    # new_tempo blocks
    assert blocks[0] == max(23 + new_tempo, 28)
    assert all(b - a == new_tempo for a, b in itertools.pairwise(blocks))


def test_an_unchanged_tempo_leaves_the_epoch_anchor_alone() -> None:
    sim = custom_subnet(tempo=10)
    sim.next_block(5)
    sim.call(account(0), "setSubnetParams", netuid=5, params='{"maxMiners": 8}')
    assert subnet5(sim).epoch_anchor_block == -1
    assert [epoch for _, epoch in closes(sim, 40)] == [0, 1, 2]


def test_epoch_index_never_decreases_across_a_retime() -> None:
    sim = custom_subnet(tempo=10)
    subnet = subnet5(sim)
    for change_at in range(3, 60):
        for tempo in (1, 2, 7, 10, 33):
            moved = retime_epochs(subnet, change_at, tempo)
            assert moved.params.tempo == tempo
            assert epoch_index(moved, change_at) == epoch_index(subnet, change_at)
            indices = [epoch_index(moved, block) for block in range(change_at, change_at + 80)]
            assert indices == sorted(indices)
            close_blocks = [b for b in range(change_at, change_at + 80) if closes_at(moved, b)]
            # each close ends one epoch: the index steps by one right after it
            assert all(epoch_index(moved, b + 1) == epoch_index(moved, b) + 1
                       for b in close_blocks)


def test_old_subnet_records_without_an_anchor_still_decode() -> None:
    sim = custom_subnet(tempo=10)
    subnet = subnet5(sim)
    # as written before the epoch anchor and weightsVersion existed: the params inline, last
    values = json.loads(subnet.encode())
    legacy = json.dumps([*values[:-3], *values[-3][:-1]]).encode()
    assert Subnet.decode(legacy) == subnet
