"""``moderntensor node start --consensus cometbft``: the node with CometBFT making the blocks.

A data directory that already holds a CometBFT home (``<data-dir>/cometbft``, as ``testnet up``
writes or as a joining operator prepares) is used as it is. Otherwise a one-validator network is
created from the chain spec: the dev spec with ``--dev``, else ``<data-dir>/genesis.json``.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from moderntensor.chain.abci.home import Ports, comet_home, create_network, timeout_commit_s
from moderntensor.chain.genesis import DEV_CHAIN_ID, dev_spec, load_genesis
from moderntensor.cli.common import CliError, console
from moderntensor.cli.node_setup import (
    GENESIS_FILE,
    check_port_free,
    default_data_dir,
    dev_modules,
    print_dev_accounts,
    url_host,
)


def start_cometbft(*, dev: bool, data_dir: Path | None, rpc_host: str, rpc_port: int,
                   block_time: float | None, chain_id: int | None, tempo: int | None,
                   cors_origins: list[str] | None = None) -> None:
    """Run app + CometBFT in the foreground until Ctrl-C."""
    from moderntensor.chain.abci.comet_node import open_comet_node, serve_cometbft

    temp_dir = None
    if dev and data_dir is None:
        temp_dir = data_dir = Path(tempfile.mkdtemp(prefix="luxtensor-cometbft-"))
    data_dir = data_dir or default_data_dir()
    if (comet_home(data_dir) / "config" / "genesis.json").exists():
        configured = timeout_commit_s(data_dir)
        if block_time is not None and abs(block_time - configured) > 1e-6:
            raise CliError(f"--block-time {block_time:g} differs from the {configured:g} s of "
                           f"the existing {comet_home(data_dir)}: change consensus."
                           "timeout_commit in its config/config.toml instead")
    else:
        if dev:
            spec = dev_spec(chain_id=chain_id or DEV_CHAIN_ID)
            if tempo is not None:
                spec = replace(spec, modules=dev_modules(tempo))
        elif (data_dir / GENESIS_FILE).exists():
            spec = load_genesis(data_dir / GENESIS_FILE)
        else:
            raise CliError(f"{data_dir} has neither a CometBFT home (cometbft/) nor a "
                           f"{GENESIS_FILE}; run `moderntensor node init` or pass --dev")
        timeout = f"{int((block_time or 1.0) * 1000)}ms"
        create_network([data_dir], spec, [Ports()], timeout_commit=timeout)
    check_port_free(rpc_host, rpc_port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    node = open_comet_node(data_dir, block_time=timeout_commit_s(data_dir))
    url = f"http://{url_host(rpc_host)}:{rpc_port}"
    console.print(f"Luxtensor node (CometBFT consensus)  chain id [bold]{node.spec.chain_id}[/]"
                  f"  head {node.head.number}  data {data_dir}")
    if dev:
        print_dev_accounts()

    def ready() -> None:
        console.print(f"RPC listening on [bold]{url}[/]  (CometBFT log: "
                      f"{data_dir / 'cometbft.log'})")

    try:
        serve_cometbft(node, data_dir, rpc_host, rpc_port, on_ready=ready,
                       cors_origins=cors_origins)
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
    console.print("node stopped")
