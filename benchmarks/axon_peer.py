"""Bittensor's Axon and Dendrite, for benchmarks/hotpath_vs_axon.py: run with a Python that has
``bittensor`` 10.x installed (a separate virtual environment; see that benchmark).

    python axon_peer.py serve PORT WALLET_DIR        # an Axon echoing a synapse; prints its hotkey
    python axon_peer.py query PORT HOTKEY WALLET_DIR REQUESTS CONCURRENCY   # prints JSON figures
"""

# no `from __future__ import annotations`: Axon reads the forward function's annotations

import asyncio
import json
import sys
import time

import bittensor as bt
from bittensor.utils import networking

from closed_loop import closed_loop

# Dendrite asks a web service for this machine's external IP; the benchmark is offline and
# local (both peers on 127.0.0.1, which Dendrite then reaches as "0.0.0.0").
networking.get_external_ip = lambda: "127.0.0.1"


class Echo(bt.Synapse):
    """The same work as the MinerServer side: a small JSON input answered as it came."""

    prompt: str = ""
    output: str | None = None


def wallet(directory: str, name: str) -> bt.Wallet:
    keys = bt.Wallet(name=name, hotkey="default", path=directory)
    keys.create_if_non_existent(coldkey_use_password=False, hotkey_use_password=False,
                                suppress=True)
    return keys


def serve(port: int, directory: str) -> None:
    miner = wallet(directory, "miner")

    def forward(synapse: Echo) -> Echo:
        synapse.output = synapse.prompt
        return synapse

    axon = bt.Axon(wallet=miner, ip="127.0.0.1", port=port, external_ip="127.0.0.1",
                   external_port=port)
    axon.attach(forward_fn=forward)
    axon.start()
    print("HOTKEY", miner.hotkey.ss58_address, flush=True)
    try:
        while True:
            time.sleep(1)
    finally:
        axon.stop()


async def query(port: int, hotkey: str, directory: str, requests: int, concurrency: int) -> None:
    validator = wallet(directory, "validator")
    dendrite = bt.Dendrite(wallet=validator)
    target = bt.AxonInfo(version=0, ip="127.0.0.1", port=port, ip_type=4, hotkey=hotkey,
                         coldkey=hotkey)

    async def call() -> bool:
        answer = await dendrite.call(target, Echo(prompt="hello world"), timeout=12)
        return answer.output == "hello world"

    print(json.dumps(await closed_loop(call, requests, concurrency)), flush=True)
    await dendrite.aclose_session()


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3])
    else:
        asyncio.run(query(int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]),
                          int(sys.argv[6])))
