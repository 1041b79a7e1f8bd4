"""Strategies of ``benchmarks/incentives.py`` that are not reference models: one process each.

    python benchmarks/incentive_actors.py miner relay  --wallet W --port P --via V --target ADDR
    python benchmarks/incentive_actors.py miner replay --wallet W --port P --via V --target ADDR
    python benchmarks/incentive_actors.py validator empty|random|copier --wallet W [--copy ADDR]

Every one talks to the network like anyone could (MT_HOME, MT_NETWORK and MT_WALLET_PASSWORD
from the environment), through the public miner API and the client:

* **relay**: a miner with no model. It forwards each request to the honest miner ``--target``,
  signed with ``--via``, a validator wallet it staked for the purpose (a miner answers
  permitted validators only), and returns that miner's answer as its own.
* **replay**: a miner with no model that answers from a cache of answers it recorded from the
  honest miner, keyed by the request's input; on a miss it records one the way relay does.
* **empty** validator: an empty row (no miner scored), each interval.
* **random** validator: random components for every miner.
* **copier** validator: the latest row of ``--copy`` as ``mt_getWeights`` shows it, set as
  its own (public rows only: commit-reveal hides the copied validator's newest judgment).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from typing import Any

from moderntensor import Wallet
from moderntensor.client import AsyncLuxtensorClient
from moderntensor.config import resolve_config
from moderntensor.miner import MinerRequest, MinerServer
from moderntensor.scoring import U16_MAX, combine_u16
from moderntensor.subnets.base import Challenge
from moderntensor.validator.chainview import MinerEndpoint
from moderntensor.validator.query import MinerQuerier
from moderntensor.validator.weight_rows import validator_version_key


class ForwardingMiner(MinerServer):
    """A miner that answers with what the honest miner ``target`` answers (relay), or with
    what it answered to the same input before (replay)."""

    def __init__(self, *, via: str, target: str, replay: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.via = Wallet.from_config(resolve_config(wallet=via))
        self.target_address = target.lower()
        self.replay = replay
        self.cache: dict[str, Any] = {}
        self._querier: MinerQuerier | None = None
        self._target: MinerEndpoint | None = None

    async def _endpoint(self) -> MinerEndpoint:
        if self._target is None:
            async with AsyncLuxtensorClient(self.network) as client:
                neuron = await client.get_neuron(self.netuid, self.target_address)
            endpoint = neuron.endpoint
            assert endpoint is not None, "the target miner has no endpoint yet"
            self._target = MinerEndpoint(neuron.uid, self.target_address, endpoint.host,
                                         endpoint.port)
            self._querier = MinerQuerier(self.via, self.netuid or 0)
        return self._target

    async def inference(self, request: MinerRequest) -> Any:
        key = json.dumps(request.input, sort_keys=True)
        if self.replay and key in self.cache:
            return {"output": self.cache[key], "latency_ms": request.elapsed_ms}
        target = await self._endpoint()
        assert self._querier is not None
        result = await self._querier.query(
            target, Challenge(task=request.task, input=request.input, params=request.params),
            timeout_s=30.0, max_response_bytes=1 << 20)
        if not result.ok:
            raise RuntimeError(f"the relayed miner did not answer: {result.outcome.value}")
        self.cache[key] = result.output
        return {"output": result.output, "latency_ms": request.elapsed_ms}


def random_row(uids: list[int], rng: random.Random) -> dict[str, list[int]]:
    components = [[rng.randint(0, U16_MAX) for _ in uids] for _ in range(4)]
    return {"uids": uids, "weights": [combine_u16(*c) for c in zip(*components, strict=True)],
            "accuracy": components[0], "latency": components[1],
            "availability": components[2], "consistency": components[3]}


async def validator_loop(strategy: str, wallet_name: str, netuid: int, interval: float,
                         copy: str | None) -> None:
    config = resolve_config(wallet=wallet_name)
    wallet = Wallet.from_config(config)
    rng = random.Random(wallet.address)
    async with AsyncLuxtensorClient(config.network.value, wallet=wallet) as client:
        while True:
            started = time.monotonic()
            metagraph = await client.get_metagraph(netuid)
            uids = [int(uid) for uid in metagraph.miner_uids]
            row: dict[str, list[int]] | None
            if strategy == "empty":
                row = {name: [] for name in ("uids", "weights", "accuracy", "latency",
                                             "availability", "consistency")}
            elif strategy == "random":
                row = random_row(uids, rng)
            else:
                assert copy is not None
                rows = await client.get_weights(netuid, copy)
                row = ({name: rows[0][name] for name in ("uids", "weights", "accuracy",
                                                         "latency", "availability",
                                                         "consistency")}
                       if rows else None)
            if row is not None:
                try:
                    await client.set_weights(netuid, row["uids"], row["weights"],
                                             row["accuracy"], row["latency"],
                                             row["availability"], row["consistency"],
                                             version_key=validator_version_key())
                except Exception as exc:   # a refused row (rate limit...) is retried next time
                    print(f"{strategy}: set_weights refused: {exc}", flush=True)
            await asyncio.sleep(max(0.1, interval - (time.monotonic() - started)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=["miner", "validator"])
    parser.add_argument("strategy", choices=["relay", "replay", "empty", "random", "copier"])
    parser.add_argument("--wallet", required=True)
    parser.add_argument("--netuid", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--via", help="validator wallet a relay or replay queries with")
    parser.add_argument("--target", help="address of the honest miner to relay")
    parser.add_argument("--copy", help="address of the validator a copier copies")
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args()
    if args.role == "miner":
        ForwardingMiner(wallet=args.wallet, netuid=args.netuid, via=args.via,
                        target=args.target, replay=args.strategy == "replay").run(port=args.port)
    else:
        asyncio.run(validator_loop(args.strategy, args.wallet, args.netuid, args.interval,
                                   args.copy))


if __name__ == "__main__":
    main()
