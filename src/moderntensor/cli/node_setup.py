"""What both ways of running a node share: its data directory, the dev genesis, the RPC port."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Any

from moderntensor.chain.genesis import DEV_BALANCE, DEV_MNEMONIC, dev_accounts
from moderntensor.cli.common import CliError, console
from moderntensor.config import resolve_home
from moderntensor.units import format_mdt

GENESIS_FILE = "genesis.json"


def default_data_dir() -> Path:
    """Where a node keeps its chain unless told otherwise: ``<MT_HOME>/node``."""
    return Path(resolve_home().value) / "node"


def dev_modules(tempo: int) -> dict[str, Any]:
    """The dev chain's genesis subnets with another tempo (genesis ``modules.moderntensor``)."""
    from moderntensor.chain.modules.params import GENESIS_TASKS, GENESIS_WEIGHTS

    subnets = [{"netuid": i + 1, "name": task, "taskType": task, "weight": weight,
                "params": {"tempo": tempo}}
               for i, (task, weight) in enumerate(zip(GENESIS_TASKS, GENESIS_WEIGHTS,
                                                      strict=True))]
    return {"moderntensor": {"subnets": subnets}}


def print_dev_accounts() -> None:
    """Print the dev accounts, their keys and the mnemonic (public knowledge, dev only)."""
    # plain lines, not a table: keys must stay whole and copyable at any terminal width
    console.print(f"Dev accounts ({format_mdt(DEV_BALANCE)} each; their private keys are "
                  "public knowledge: never use them for real value):")
    for i, account in enumerate(dev_accounts()):
        console.print(f"  ({i}) {account.address}  {account.private_key}", soft_wrap=True,
                      highlight=False)
    console.print(f"Mnemonic: {DEV_MNEMONIC}  (m/44'/60'/0'/0/i)", soft_wrap=True)


def check_port_free(host: str, port: int) -> None:
    """Refuse early, in one line, when another process already holds the RPC port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CliError(f"cannot listen on {host}:{port} ({exc.strerror}); another node may "
                           "be running there: stop it or pass --rpc-port N") from None


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (binding elsewhere is an explicit choice)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    """``host`` as it goes into a URL (IPv6 addresses in brackets)."""
    return f"[{host}]" if ":" in host else host
