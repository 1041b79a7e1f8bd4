"""Routing one subnet's requests: score and latency rank miners, failures retry elsewhere and
open a circuit breaker; a real miner (served in a thread) answers, a closed port fails."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account

from miner_support import free_port, serving
from moderntensor.gateway.routing import MinerHealth, NoMinerAnswered, Router, RoutingPolicy
from moderntensor.miner import MinerServer
from moderntensor.subnets import load_suite
from moderntensor.subnets.text_models import OracleText
from moderntensor.validator.chainview import MinerEndpoint
from moderntensor.validator.query import MinerQuerier, Outcome, QueryResult

VALIDATOR, MINER = Account.create(), Account.create()
SUITE = load_suite("text-generation")
QUESTION = {"prompt": "What is 2 + 2? Reply with the number only."}


class OracleMiner(MinerServer):
    def inference(self, request: Any) -> Any:
        return OracleText().generate(request.task, request.input, request.params)


class SlowMiner(MinerServer):
    async def inference(self, request: Any) -> Any:
        await asyncio.sleep(SLOW_S)
        return OracleText().generate(request.task, request.input, request.params)


SLOW_S = 1.5


@pytest.fixture(scope="module")
def live() -> Iterator[MinerEndpoint]:
    miner = OracleMiner(wallet=MINER, netuid=1, metagraph_source=[VALIDATOR.address],
                        rate_per_s=1e6, rate_burst=1e6)
    with serving(miner) as url:
        yield MinerEndpoint(1, MINER.address, "127.0.0.1", int(url.rsplit(":", 1)[1]))


def dead(uid: int = 0) -> MinerEndpoint:
    return MinerEndpoint(uid, Account.create().address, "127.0.0.1", free_port())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def router(miners: list[MinerEndpoint], scores: dict[int, float], **policy: Any) -> Router:
    made = Router(1, SUITE, MinerQuerier(VALIDATOR, 1), RoutingPolicy(**policy))
    made.update(miners, scores)
    return made


def test_at_equal_latency_the_higher_score_ranks_first() -> None:
    a, b = dead(0), dead(1)
    assert router([a, b], {0: 0.2, 1: 0.9}).ranked() == [b, a]


def test_a_quick_miner_outranks_a_slightly_better_but_slow_one() -> None:
    quick, slow = dead(0), dead(1)
    routes = router([quick, slow], {0: 0.8, 1: 0.9})
    routes.health[0].latency_s, routes.health[1].latency_s = 0.1, 3 * SUITE.latency_target_s
    assert routes.ranked() == [quick, slow]


def test_miners_without_an_endpoint_are_not_routed_to() -> None:
    hidden = MinerEndpoint(0, MINER.address, None, None)
    assert router([hidden], {0: 1.0}).ranked() == []
    with pytest.raises(NoMinerAnswered):
        asyncio.run(router([hidden], {0: 1.0}).ask("text-generation", QUESTION, {}))


def test_a_failing_best_miner_is_retried_on_the_next(live: MinerEndpoint) -> None:
    broken = dead(0)
    routes = router([broken, live], {0: 1.0, 1: 0.5})
    answer = asyncio.run(routes.ask("text-generation", QUESTION, {}))
    assert answer.miner == live and answer.attempts == 2 and answer.output == {"text": "4"}
    assert routes.health[0].failures_in_row == 1 and routes.health[1].latency_s is not None
    assert routes.ranked() == [live, broken]   # a miner that just failed goes to the back


def test_failures_in_a_row_open_the_breaker_until_the_cooldown_ends(live: MinerEndpoint
                                                                    ) -> None:
    broken, clock = dead(0), Clock()
    routes = router([broken, live], {0: 1.0, 1: 0.5}, breaker_failures=1,
                    breaker_cooldown_s=30.0)
    routes.clock = clock

    async def scenario() -> list[int]:  # one loop: the querier's pools belong to it
        attempts = [(await routes.ask("text-generation", QUESTION, {})).attempts
                    for _ in range(2)]
        await routes.querier.aclose()
        return attempts

    assert asyncio.run(scenario()) == [2, 1]      # the second skips the open breaker
    assert routes.ranked() == [live]                 # open: no traffic
    clock.now += 31.0
    assert routes.ranked() == [live, broken]         # half-open: behind the healthy one
    assert routes.snapshot()[0]["breaker_open"] is False


def test_when_every_miner_fails_the_error_names_each_failure() -> None:
    with pytest.raises(NoMinerAnswered) as caught:
        asyncio.run(router([dead(0), dead(1)], {}).ask("text-generation", QUESTION, {}))
    assert set(caught.value.failures) == {0, 1}
    assert all(why.startswith("unreachable") for why in caught.value.failures.values())


def test_a_rate_limited_answer_does_not_count_toward_the_breaker() -> None:
    health, policy = MinerHealth(), RoutingPolicy(breaker_failures=1)
    health.observe(QueryResult(Outcome.HTTP_ERROR, 0.01, status=429), policy, 0.0)
    assert health.open_until == 0.0 and health.failed == 1
    health.observe(QueryResult(Outcome.HTTP_ERROR, 0.01, status=500), policy, 0.0)
    assert health.open_until == policy.breaker_cooldown_s


def test_a_hedged_request_takes_the_quicker_answer_of_two_miners(live: MinerEndpoint) -> None:
    slow_key = Account.create()
    miner = SlowMiner(wallet=slow_key, netuid=1, metagraph_source=[VALIDATOR.address],
                      rate_per_s=1e6, rate_burst=1e6)
    with serving(miner) as url:
        slow = MinerEndpoint(0, slow_key.address, "127.0.0.1", int(url.rsplit(":", 1)[1]))
        routes = router([slow, live], {0: 1.0, 1: 0.5}, hedge_after_s=0.2)

        async def timed() -> tuple[Any, float]:
            started = time.perf_counter()
            answer = await routes.ask("text-generation", QUESTION, {})
            elapsed = time.perf_counter() - started
            await routes.querier.aclose()
            return answer, elapsed

        answer, elapsed = asyncio.run(timed())
    assert answer.miner == live and answer.attempts == 2 and elapsed < SLOW_S
