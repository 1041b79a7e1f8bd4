"""A real MinerServer process of a chosen quality, for the validator tests.

    python tests/validator_miner.py KIND PORT     (key in MT_TEST_MINER_KEY,
                                                   validators in MT_MINER_ALLOW)

KIND: good | random | slow | flaky | inconsistent | hang (the "sum" test suite), or
suite:<task type>:<model> to serve a reference model of a real subnet suite.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import sys

from moderntensor.miner.server import MinerServer
from moderntensor.subnets import load_suite
from moderntensor.wallet import Wallet

SLOW_S = 2.2      # between SumSuite's target (0.5 s) and timeout (4 s): latency ~0.5
HANG_S = 30.0     # far past any timeout: the test kills this miner mid-round


class TestMiner(MinerServer):
    custom_tasks = ("sum",)  # the test suite's task, which no registered suite defines

    def __init__(self, kind: str) -> None:
        super().__init__(wallet=Wallet.from_private_key(os.environ["MT_TEST_MINER_KEY"]),
                         netuid=1, rate_per_s=1000.0, rate_burst=1000.0, workers=16)
        self.kind = kind
        self.calls = itertools.count()
        self.rng = random.Random()

    async def inference(self, request):  # type: ignore[no-untyped-def]
        total = request.input["a"] + request.input["b"]
        if self.kind == "random":
            return {"output": {"text": str(self.rng.randrange(10**7))}}
        if self.kind == "slow":
            await asyncio.sleep(SLOW_S)
        if self.kind == "hang":
            await asyncio.sleep(HANG_S)
        if self.kind == "flaky" and next(self.calls) % 2 == 1:
            raise RuntimeError("flaky miner drops every second request")
        if self.kind == "inconsistent":
            return {"output": {"text": f"{total} #{self.rng.randrange(10**9)}"}}
        return {"output": {"text": str(total)}, "latency_ms": 0.0}


class SuiteMiner(MinerServer):
    """A real suite's reference model behind the real MinerServer."""

    def __init__(self, task_type: str, model: str) -> None:
        super().__init__(wallet=Wallet.from_private_key(os.environ["MT_TEST_MINER_KEY"]),
                         netuid=1, rate_per_s=1000.0, rate_burst=1000.0)
        self.model = load_suite(task_type).reference_models()[model]()
        self.model.serve_as(self.wallet.address)   # the named model samples for this miner

    def inference(self, request):  # type: ignore[no-untyped-def]
        return {"output": self.model.generate(request.task, request.input, request.params)}


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind.startswith("suite:"):
        _, task_type, model = kind.split(":")
        SuiteMiner(task_type, model).run(port=int(sys.argv[2]))
    else:
        TestMiner(kind).run(port=int(sys.argv[2]))
