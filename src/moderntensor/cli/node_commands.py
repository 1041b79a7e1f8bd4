"""``moderntensor node ...``: run a Luxtensor node, write its genesis, ask it how it is."""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import httpx
import typer
from eth_utils import is_address, to_canonical_address

from moderntensor.chain.errors import GenesisError
from moderntensor.chain.genesis import (
    DEFAULT_GAS_LIMIT,
    DEFAULT_MIN_BASE_FEE,
    DEV_BALANCE,
    DEV_CHAIN_ID,
    ChainSpec,
    dev_accounts,
    dev_spec,
    load_genesis,
    write_genesis,
)
from moderntensor.cli.common import JSON_OPTION, CliError, console, print_json, print_table
from moderntensor.cli.node_setup import (
    GENESIS_FILE,
    check_port_free,
    default_data_dir,
    dev_modules,
    is_loopback,
    print_dev_accounts,
    url_host,
)
from moderntensor.config import resolve_config
from moderntensor.units import format_mdt, to_base

app = typer.Typer(help="Run and inspect a Luxtensor node.", no_args_is_help=True)

PRODUCTION_BLOCK_TIME = 12.0  # 12 s blocks in production, 1 s on dev chains
DATA_DIR_OPTION = typer.Option(None, "--data-dir", help="Chain data directory "
                               "(default: <MT_HOME>/node; a temp dir with --dev).")

ALLOC_OPTION = typer.Option(None, "--alloc", metavar="ADDRESS=MDT",
                            help="Prefund an address, e.g. 0xabc...=1000 (repeatable).")

CORS_ORIGIN_OPTION = typer.Option(None, "--cors-origin", help="A browser origin allowed to call "
                                  "the RPC, e.g. https://app.example (repeatable; * for any). "
                                  "Default: any on --dev chains, none otherwise.")


@app.command()
def start(
    dev: bool = typer.Option(False, "--dev", help="Dev chain: 1 s blocks, 10 prefunded accounts."),
    data_dir: Path | None = DATA_DIR_OPTION,
    rpc_host: str = typer.Option("127.0.0.1", "--rpc-host", help="Interface to bind; anything "
                                 "but loopback exposes the node to the network."),
    rpc_port: int = typer.Option(8545, "--rpc-port", min=1, max=65535),
    block_time: float | None = typer.Option(None, "--block-time", min=0.05,
                                            help="Seconds per block (dev 1, otherwise 12)."),
    chain_id: int | None = typer.Option(None, "--chain-id", min=1,
                                        help=f"Dev chain id (default {DEV_CHAIN_ID})."),
    tempo: int | None = typer.Option(None, "--tempo", min=1, help="Dev: blocks per epoch of "
                                     "the genesis subnets (default 20)."),
    consensus: str = typer.Option("embedded", "--consensus", help="embedded: this node alone "
                                  "makes the blocks; cometbft: blocks come from CometBFT BFT "
                                  "consensus with the network in <data-dir>/cometbft."),
    cors_origin: list[str] | None = CORS_ORIGIN_OPTION,
) -> None:
    """Start the node in the foreground (Ctrl-C stops it cleanly)."""
    if consensus not in ("embedded", "cometbft"):
        raise CliError(f"--consensus {consensus!r}: use embedded or cometbft")
    if chain_id is not None and not dev:
        raise CliError("--chain-id applies to --dev chains; a genesis file sets the chain id of "
                       "others (`moderntensor node init --chain-id N`)")
    if tempo is not None and not dev:
        raise CliError("--tempo applies to --dev chains; a genesis file sets the tempo of others")
    if consensus == "cometbft":
        from moderntensor.cli.node_cometbft import start_cometbft

        start_cometbft(dev=dev, data_dir=data_dir, rpc_host=rpc_host, rpc_port=rpc_port,
                       block_time=block_time, chain_id=chain_id, tempo=tempo,
                       cors_origins=cors_origin)
        return
    # the block producer and RPC server load only when a node really starts (CLI start-up)
    from moderntensor.chain.producer import open_node, serve

    temp_dir = None
    if dev:
        spec = dev_spec(chain_id=chain_id or DEV_CHAIN_ID)
        if tempo is not None:
            spec = replace(spec, modules=dev_modules(tempo))
        if data_dir is None:
            temp_dir = data_dir = Path(tempfile.mkdtemp(prefix="luxtensor-dev-"))
    else:
        data_dir = data_dir or default_data_dir()
        spec = load_genesis(data_dir / GENESIS_FILE)
    block_time = block_time or (1.0 if dev else PRODUCTION_BLOCK_TIME)
    check_port_free(rpc_host, rpc_port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    node = open_node(spec, data_dir, block_time=block_time)
    url = f"http://{url_host(rpc_host)}:{rpc_port}"
    console.print(f"Luxtensor node  chain id [bold]{spec.chain_id}[/]  head "
                  f"{node.head.number}  data {data_dir}")
    if not is_loopback(rpc_host):
        console.print(f"[yellow]warning[/]: RPC bound to {rpc_host}, reachable from the network")
    if dev:
        print_dev_accounts()

    def ready() -> None:
        console.print(f"RPC listening on [bold]{url}[/]  (block time {block_time:g} s)")

    try:
        serve(node, rpc_host, rpc_port, on_ready=ready, cors_origins=cors_origin)
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
    console.print("node stopped")


@app.command()
def init(
    data_dir: Path | None = DATA_DIR_OPTION,
    chain_id: int = typer.Option(..., "--chain-id", min=1, help="This chain's id (EIP-155)."),
    alloc: list[str] | None = ALLOC_OPTION,
    dev_accounts_: bool = typer.Option(False, "--dev-accounts",
                                       help="Also prefund the 10 public dev accounts."),
    gas_limit: int = typer.Option(DEFAULT_GAS_LIMIT, "--gas-limit", min=21_000,
                                  help="Block gas limit."),
    min_base_fee: int = typer.Option(DEFAULT_MIN_BASE_FEE, "--min-base-fee", min=0,
                                     help="Base fee floor in base units per gas."),
    coinbase: str = typer.Option("0x" + "00" * 20, "--coinbase",
                                 help="Address that receives priority fees (tips)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing genesis file."),
) -> None:
    """Write a genesis file (chain id, allocations, parameters) for `node start`.

    Module parameters (subnets...) go in its "modules" object; edit the file to set them."""
    data_dir = data_dir or default_data_dir()
    path = data_dir / GENESIS_FILE
    if path.exists() and not force:
        raise CliError(f"{path} exists; pass --force to overwrite it")
    balances: dict[bytes, int] = {}
    if dev_accounts_:
        balances.update({to_canonical_address(a.address): DEV_BALANCE for a in dev_accounts()})
    for item in alloc or []:
        address, _, amount = item.partition("=")
        if not is_address(address) or not amount:
            raise GenesisError(f"--alloc {item!r} is not ADDRESS=MDT, e.g. 0xabc...=1000")
        balances[to_canonical_address(address)] = to_base(amount)
    if not is_address(coinbase):
        raise GenesisError(f"--coinbase {coinbase!r} is not an address")
    spec = ChainSpec(chain_id=chain_id, alloc=balances, gas_limit=gas_limit,
                     min_base_fee=min_base_fee, coinbase=to_canonical_address(coinbase))
    write_genesis(spec, path)
    console.print(f"Wrote {path}: chain id {chain_id}, {len(balances)} funded accounts, "
                  f"{format_mdt(sum(balances.values()))}")


@app.command()
def status(
    rpc: str | None = typer.Option(None, "--rpc", help="Node URL (default: the config's "
                                   "network)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Ask a running node for its chain id, height and mempool."""
    url = rpc or resolve_config().network.value
    try:
        with httpx.Client(timeout=5) as client:
            health = client.get(f"{url.rstrip('/')}/health").json()
            info = client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "mt_nodeInfo",
                                          "params": []}).json().get("result", {})
    except (httpx.HTTPError, ValueError) as exc:
        raise CliError(f"no Luxtensor node answers at {url}: {exc}; start one with "
                       "`moderntensor node start --dev`", code="node_unreachable") from None
    data = {"url": url, **health, **{k: v for k, v in info.items() if k not in health}}
    if as_json:
        print_json(data)
    else:
        print_table("Luxtensor node", ["field", "value"], [[k, v] for k, v in data.items()])
