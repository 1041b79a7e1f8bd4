"""A CometBFT home for a Luxtensor node: keys, ``config.toml`` and the shared genesis.

Layout of a node's data directory in CometBFT mode::

    <data-dir>/chain.sqlite3          the Luxtensor app's database (as in single-node mode)
    <data-dir>/cometbft/config/       CometBFT's config.toml, genesis.json and keys
    <data-dir>/cometbft/data/         CometBFT's block store and consensus state

CometBFT's ``genesis.json`` carries the Luxtensor chain spec as its ``app_state``, so one file
defines the whole chain; every node of a network must hold the same file. The CometBFT chain id
is ``luxtensor-<EIP-155 chain id>``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from moderntensor.chain.abci.validators import MODULE
from moderntensor.chain.errors import RpcError
from moderntensor.chain.genesis import ChainSpec, spec_from_json

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

COMETBFT_VERSION = "v0.38.17"
INSTALL_HINT = (f"install it with `go install github.com/cometbft/cometbft/cmd/cometbft@"
                f"{COMETBFT_VERSION}` (Go >= 1.22) and put $(go env GOPATH)/bin on PATH")
HOME_SUBDIR = "cometbft"
VALIDATOR_POWER = 10  # every genesis validator votes with the same power
DEFAULT_TIMEOUT_COMMIT = "1s"


class CometBFTError(RpcError):
    code = "cometbft_error"


@dataclass(frozen=True)
class Ports:
    """Where a node's CometBFT listens (all on 127.0.0.1 unless ``p2p_host`` says otherwise)."""

    p2p: int = 26656
    rpc: int = 26657
    abci: int = 26658
    p2p_host: str = "127.0.0.1"


@dataclass(frozen=True)
class NodeIdentity:
    """A node's public identity: its p2p id and its validator's consensus key."""

    node_id: str
    address: str
    pub_key: dict[str, str]


def find_binary() -> str | None:
    """The ``cometbft`` binary on PATH or in Go's install directory, or None."""
    found = shutil.which("cometbft")
    if found:
        return found
    gopath = os.environ.get("GOPATH") or str(Path.home() / "go")
    candidate = Path(os.environ.get("GOBIN") or Path(gopath) / "bin") / "cometbft"
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def require_binary() -> str:
    binary = find_binary()
    if binary is None:
        raise CometBFTError(f"the cometbft binary is not installed; {INSTALL_HINT}",
                            code="cometbft_missing")
    return binary


def comet_home(data_dir: Path) -> Path:
    return data_dir / HOME_SUBDIR


def init_node(data_dir: Path, binary: str, moniker: str) -> NodeIdentity:
    """Create the node's CometBFT keys and default config (kept if they exist)."""
    home = comet_home(data_dir)
    _run(binary, "init", "--home", str(home))
    key = json.loads((home / "config" / "priv_validator_key.json").read_text())
    node_id = _run(binary, "show-node-id", "--home", str(home)).strip()
    set_config(home, {"moniker": moniker})
    return NodeIdentity(node_id, key["address"], key["pub_key"])


def write_network_genesis(data_dirs: list[Path], spec: ChainSpec,
                          validators: list[NodeIdentity],
                          operators: list[str] | None = None) -> dict[str, Any]:
    """One genesis for every node: the validators, the chain id and the Luxtensor spec.

    ``operators[i]`` (an address) is the account whose stake validator i votes with (see
    :mod:`.validators`)."""
    if operators:
        bound = {v.address: operator for v, operator in zip(validators, operators,
                                                             strict=False)}
        spec = replace(spec, modules={**spec.modules, MODULE: {"operators": bound}})
    template = json.loads((comet_home(data_dirs[0]) / "config" / "genesis.json").read_text())
    genesis = {
        **template,
        "genesis_time": time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime()),
        "chain_id": f"luxtensor-{spec.chain_id}",
        "initial_height": "1",
        "validators": [{"address": v.address, "pub_key": v.pub_key,
                        "power": str(VALIDATOR_POWER), "name": f"node{i}"}
                       for i, v in enumerate(validators)],
        "app_hash": "",
        "app_state": spec.to_json(),
    }
    for data_dir in data_dirs:
        (comet_home(data_dir) / "config" / "genesis.json").write_text(
            json.dumps(genesis, indent=2) + "\n", encoding="utf-8")
    return genesis


def configure(data_dir: Path, ports: Ports, *, peers: list[str] = (),  # type: ignore[assignment]
              timeout_commit: str = DEFAULT_TIMEOUT_COMMIT) -> None:
    """Point the node's CometBFT at our ABCI port, its listen addresses and its peers."""
    set_config(comet_home(data_dir), {
        "proxy_app": f"tcp://127.0.0.1:{ports.abci}",
        "log_level": "*:error,state:info",
        "rpc.laddr": f"tcp://127.0.0.1:{ports.rpc}",
        "rpc.max_request_batch_size": 100,
        "p2p.laddr": f"tcp://{ports.p2p_host}:{ports.p2p}",
        "p2p.persistent_peers": ",".join(peers),
        "p2p.addr_book_strict": False,
        "p2p.allow_duplicate_ip": True,
        "consensus.timeout_commit": timeout_commit,
        "tx_index.indexer": "null",  # the Luxtensor app indexes transactions itself
    })


def load_spec(data_dir: Path) -> ChainSpec:
    """The chain spec carried by the node's CometBFT genesis (its ``app_state``)."""
    return spec_from_json(load_genesis_doc(data_dir).get("app_state"))


def load_genesis_doc(data_dir: Path) -> dict[str, Any]:
    """The node's CometBFT genesis document."""
    path = comet_home(data_dir) / "config" / "genesis.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CometBFTError(f"no CometBFT genesis at {path}; create the node with `moderntensor "
                            "testnet up` or copy the network's genesis.json there",
                            code="genesis_missing") from None
    except ValueError as exc:
        raise CometBFTError(f"{path} is not valid JSON: {exc}", code="bad_genesis") from None


def timeout_commit_s(data_dir: Path) -> float:
    """The node's ``consensus.timeout_commit`` in seconds (what paces its blocks)."""
    value = _read_config(data_dir)["consensus"]["timeout_commit"]
    match = re.fullmatch(r"([0-9.]+)(ms|s)", value)
    if match is None:
        raise CometBFTError(f"consensus.timeout_commit {value!r} is not like 1s or 200ms",
                            code="bad_config")
    return float(match[1]) / (1000 if match[2] == "ms" else 1)


def read_ports(data_dir: Path) -> Ports:
    """The ABCI, RPC and p2p ports the node's config.toml names."""
    config = _read_config(data_dir)

    def port(address: str) -> int:
        return int(address.rsplit(":", 1)[1])

    p2p = config["p2p"]["laddr"]
    return Ports(p2p=port(p2p), rpc=port(config["rpc"]["laddr"]),
                 abci=port(config["proxy_app"]), p2p_host=p2p.split("//")[-1].rsplit(":", 1)[0])


def set_config(home: Path, values: dict[str, Any]) -> None:
    """Set ``section.key`` (or a top-level ``key``) in config.toml, keeping comments."""
    path = home / "config" / "config.toml"
    lines = path.read_text().splitlines()
    section = ""
    pending = dict(values)
    for index, line in enumerate(lines):
        header = re.match(r"^\[([\w.]+)\]\s*$", line)
        if header:
            section = header[1]
            continue
        match = re.match(r"^([\w-]+)\s*=", line)
        if match:
            key = f"{section}.{match[1]}" if section else match[1]
            if key in pending:
                lines[index] = f"{match[1]} = {_toml(pending.pop(key))}"
    if pending:
        raise CometBFTError(f"config.toml has no {sorted(pending)}", code="bad_config")
    path.write_text("\n".join(lines) + "\n")


def _read_config(data_dir: Path) -> dict[str, Any]:
    return tomllib.loads((comet_home(data_dir) / "config" / "config.toml").read_text())


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def _run(binary: str, *args: str) -> str:
    done = subprocess.run([binary, *args], capture_output=True, text=True, timeout=60,
                          check=False)
    if done.returncode != 0:
        raise CometBFTError(f"cometbft {args[0]} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def create_network(data_dirs: list[Path], spec: ChainSpec, ports: list[Ports], *,
                   timeout_commit: str = DEFAULT_TIMEOUT_COMMIT,
                   operators: list[str] | None = None) -> list[NodeIdentity]:
    """CometBFT homes for ``len(data_dirs)`` validators of one chain, each peered with all
    others (``ports[i]`` is node i's; ``operators[i]`` the account validator i stakes with)."""
    binary = require_binary()
    identities = [init_node(d, binary, f"node{i}") for i, d in enumerate(data_dirs)]
    write_network_genesis(data_dirs, spec, identities, operators)
    for i, data_dir in enumerate(data_dirs):
        peers = [f"{other.node_id}@{ports[j].p2p_host}:{ports[j].p2p}"
                 for j, other in enumerate(identities) if j != i]
        configure(data_dir, ports[i], peers=peers, timeout_commit=timeout_commit)
    return identities
