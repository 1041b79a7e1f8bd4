"""A miner registered while validators run is treated like one that was there first: not
asked before it publishes an endpoint, and its moving average starts at its first answer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from moderntensor.validator import MinerEndpoint, StaticChainView, Validator
from test_validator_core import CUSTOM, ENDPOINTS, VALIDATOR, miners_app


def down_then_up(app: Any, down_rounds: set[int], counter: list[int]) -> Any:
    """``app``, except that the second miner refuses connections in ``down_rounds``."""
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if (headers["x-mt-receiver"].lower() == ENDPOINTS[1].address.lower()
                and counter[0] in down_rounds):
            raise httpx.ConnectError("not started yet")
        await app(scope, receive, send)
    return wrapped


def rounds(tmp_path: Path, plan: list[list[MinerEndpoint]], down_rounds: set[int] = frozenset()
           ) -> list[Any]:
    chain = StaticChainView(plan[0], CUSTOM)
    counter = [0]
    transport = httpx.ASGITransport(app=down_then_up(miners_app(), down_rounds, counter))

    async def main() -> list[Any]:
        reports = []
        async with Validator(VALIDATOR, chain, store=tmp_path / "v.sqlite",
                             transport=transport, ema_alpha=0.2) as validator:
            for index, miners in enumerate(plan):
                counter[0] = index
                chain.set_miners(miners)
                reports.append(await validator.run_round())
        return reports
    return asyncio.run(main())


def unpublished(miner: MinerEndpoint) -> MinerEndpoint:
    return MinerEndpoint(miner.uid, miner.address, None, None)


def test_a_miner_without_an_endpoint_is_neither_asked_nor_scored(tmp_path: Path) -> None:
    (report,) = rounds(tmp_path, [[ENDPOINTS[0], unpublished(ENDPOINTS[1])]])
    assert [v.miner.uid for v in report.miners] == [0]
    assert [s.uid for s in report.stats] == [0]


def test_a_newcomer_scores_like_a_miner_that_was_there_first(tmp_path: Path) -> None:
    late = [[ENDPOINTS[0], unpublished(ENDPOINTS[1])]] * 3 + [ENDPOINTS] * 3
    reports = rounds(tmp_path, late)
    first, newcomer = reports[-1].stats
    assert newcomer.rounds == 3 and first.rounds == 6
    assert abs(newcomer.score.total - first.score.total) <= 0.05 * first.score.total


def test_rounds_before_the_first_answer_do_not_seed_the_average(tmp_path: Path) -> None:
    reports = rounds(tmp_path, [ENDPOINTS] * 4, down_rounds={0, 1})
    assert [len(r.stats) for r in reports] == [1, 1, 2, 2]
    first, newcomer = reports[-1].stats
    assert abs(newcomer.score.total - first.score.total) <= 0.05 * first.score.total
