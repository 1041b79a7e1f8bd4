"""The chain's epoch applies the incentive rules end to end (real state, real system calls): an
empty weights row neither dilutes miners nor earns, and the pay follows agreement."""

from __future__ import annotations

from moderntensor.chain.modules.records import get_results
from modules_support import Sim
from test_chain_modules_epochs import easy_config, funded, miners, set_weights, validators


def epoch(rows: list[dict[int, int] | None]) -> tuple[Sim, list[bytes], list[int]]:
    """One epoch of subnet 1 with one weights row per validator (None: an empty row)."""
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    vals = validators(sim, 1, len(rows))
    uids = miners(sim, 1, 2)
    sim.next_block()
    for validator, row in zip(vals, rows, strict=True):
        set_weights(sim, validator, 1, {uids[k]: v for k, v in (row or {}).items()})
    sim.run_to(20)
    return sim, vals, uids


def test_an_empty_row_does_not_lower_the_miners_scores_on_chain() -> None:
    honest = {0: 60_000, 1: 20_000}
    alone, _, alone_uids = epoch([honest])
    with_empty, _, uids = epoch([honest, None])
    before, after = get_results(alone.state, 1), get_results(with_empty.state, 1)
    assert before is not None and after is not None and after.active_validators == 2
    assert [after.score_of(u) for u in uids] == [before.score_of(u) for u in alone_uids]


def test_an_empty_or_random_row_is_paid_nothing_and_honest_rows_are_paid() -> None:
    honest = {0: 60_000, 1: 2_000}
    sim, vals, _ = epoch([honest, honest, {0: 1_000, 1: 64_000}, None])
    start = 10_000 * 10**18 - 200 * 10**18          # funded minus the stake
    earned = [sim.balance(v) - start for v in vals]
    assert earned[0] == earned[1] > 0
    assert earned[2] == 0 and earned[3] == 0
