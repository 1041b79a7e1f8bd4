"""One command, the whole network on this machine: a dev node, validators and miners.

``moderntensor localnet up`` (:mod:`moderntensor.cli.localnet_commands`) drives :class:`Localnet`;
tests and benchmarks use it directly::

    net = Localnet(LocalnetSpec(miners=4, validators=2, block_time=0.3, tempo=10), data_dir)
    try:
        net.up()
        net.wait_first_reward()
        print(render(snapshot(net.state)))
    finally:
        net.stop()
"""

from moderntensor.localnet.network import (
    Localnet,
    LocalnetError,
    free_port,
    running_state,
    stop_state,
)
from moderntensor.localnet.spec import LocalnetSpec, LocalnetState, ProcessInfo, miner_models
from moderntensor.localnet.status import render, snapshot

__all__ = [
    "Localnet",
    "LocalnetError",
    "LocalnetSpec",
    "LocalnetState",
    "ProcessInfo",
    "free_port",
    "miner_models",
    "render",
    "running_state",
    "snapshot",
    "stop_state",
]
