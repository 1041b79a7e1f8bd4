"""A CometBFT testnet on this machine: N validator nodes on 127.0.0.1, each its own process.

Layout of a testnet directory::

    testnet.json        the nodes: ports, pids (process groups), log files
    node<i>/            node i's data dir: chain.sqlite3, cometbft/ (keys, config, genesis)
    logs/node<i>.log    node i's output (CometBFT's own log is node<i>/cometbft.log)

Every node runs ``moderntensor node start --consensus cometbft``; the nodes peer with each other
(persistent peers) and share one genesis. Ports are picked free at creation and kept, so a
killed node restarts on the same addresses.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from moderntensor.chain.abci.home import Ports, create_network
from moderntensor.chain.genesis import ChainSpec, dev_accounts, dev_spec
from moderntensor.client import LuxtensorClient
from moderntensor.errors import ModernTensorError
from moderntensor.localnet.processes import CLI, alive, is_localnet_process, spawn, stop_groups

STATE_FILE = "testnet.json"
READY_TIMEOUT_S = 60.0


class TestnetError(ModernTensorError):
    code = "testnet_error"


@dataclass
class TestnetNode:
    __test__ = False  # a name pytest would otherwise try to collect
    index: int
    data_dir: str
    rpc_port: int  # Ethereum JSON-RPC
    comet_rpc_port: int
    p2p_port: int
    abci_port: int
    log: str
    pid: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}"

    @property
    def comet_url(self) -> str:
        return f"http://127.0.0.1:{self.comet_rpc_port}"

    def argv(self) -> list[str]:
        return [*CLI, "node", "start", "--consensus", "cometbft", "--data-dir", self.data_dir,
                "--rpc-port", str(self.rpc_port)]


@dataclass
class Testnet:
    """A testnet in ``directory``; :meth:`create` then :meth:`start`, or :meth:`load`."""

    __test__ = False  # a name pytest would otherwise try to collect

    directory: str
    nodes: list[TestnetNode] = field(default_factory=list)
    timeout_commit: str = "1s"

    # -- lifecycle --------------------------------------------------------------------
    @classmethod
    def create(cls, directory: Path, count: int, *, spec: ChainSpec | None = None,
               timeout_commit: str = "1s", ports: list[int] | None = None) -> Testnet:
        """Fresh keys, genesis and configs for ``count`` validators (wipes ``directory``)."""
        if count < 1:
            raise TestnetError("a testnet needs at least one node")
        directory = directory.resolve()
        existing = cls.load(directory)
        if existing is not None and existing.running():
            raise TestnetError(f"a testnet already runs in {directory}; stop it with "
                               "`moderntensor testnet down` first")
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        free = iter(ports or distinct_free_ports(4 * count))
        net = cls(str(directory), timeout_commit=timeout_commit)
        for i in range(count):
            net.nodes.append(TestnetNode(i, str(directory / f"node{i}"), next(free), next(free),
                                         next(free), next(free),
                                         str(directory / "logs" / f"node{i}.log")))
        # dev account i operates validator i: its stake sets that validator's voting power
        operators = [account.address for account in dev_accounts()][:count]
        create_network([Path(n.data_dir) for n in net.nodes], spec or dev_spec(),
                       [Ports(p2p=n.p2p_port, rpc=n.comet_rpc_port, abci=n.abci_port)
                        for n in net.nodes], timeout_commit=timeout_commit,
                       operators=operators)
        net.save()
        return net

    def start(self, indices: list[int] | None = None, *, wait: bool = True) -> None:
        """Start the nodes (all by default); with ``wait``, until each serves block >= 1."""
        chosen = [self.nodes[i] for i in (indices if indices is not None else range(len(self)))]
        for node in chosen:
            if node.pid and alive(node.pid):
                raise TestnetError(f"node{node.index} already runs (pid {node.pid})")
            env = {k: v for k, v in os.environ.items() if not k.startswith("MT_")}
            node.pid = spawn(node.argv(), Path(node.log), {**env, "PYTHONUNBUFFERED": "1"},
                             die_with_parent=False).pid
        self.save()
        if wait:
            for node in chosen:
                self.wait_ready(node)

    def wait_ready(self, node: TestnetNode, timeout: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not alive(node.pid):
                raise TestnetError(f"node{node.index} exited during start-up; see {node.log} "
                                   f"and {node.data_dir}/cometbft.log:\n{_tail(node.log)}")
            with contextlib.suppress(ModernTensorError, httpx.HTTPError, ValueError, KeyError,
                                     TypeError):
                if self.height(node) >= 1:
                    return
            time.sleep(0.1)
        raise TestnetError(f"node{node.index} not ready after {timeout:.0f} s; see {node.log}")

    def kill(self, index: int, sig: int = signal.SIGKILL) -> None:
        """Signal node ``index``'s process group (app and its CometBFT) and wait until gone."""
        node = self.nodes[index]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.pid, sig)
        if stop_groups([node.pid]):
            raise TestnetError(f"node{index} (pid {node.pid}) survived a stop")

    def stop(self) -> list[int]:
        """Stop every node; returns the process groups that survived."""
        ours = [n.pid for n in self.nodes if n.pid and is_localnet_process(n.pid)]
        return stop_groups(ours)

    def running(self) -> bool:
        return any(n.pid and alive(n.pid) and is_localnet_process(n.pid) for n in self.nodes)

    # -- reads ----------------------------------------------------------------------------
    def height(self, node: TestnetNode) -> int:
        with LuxtensorClient(node.url, timeout=10) as client:
            return client.block_number()

    def block(self, node: TestnetNode, number: int) -> dict[str, Any] | None:
        with LuxtensorClient(node.url, timeout=10) as client:
            return client.get_block(number)

    def comet_block(self, node: TestnetNode, number: int) -> dict[str, Any]:
        """CometBFT's view of height ``number``: its block id hash and header app hash."""
        body = httpx.get(f"{node.comet_url}/block", params={"height": number}, timeout=5).json()
        result = body["result"]
        return {"hash": result["block_id"]["hash"], "app_hash": result["block"]["header"][
            "app_hash"]}

    def status(self) -> list[dict[str, Any]]:
        rows = []
        for node in self.nodes:
            row: dict[str, Any] = {"node": node.index, "url": node.url, "pid": node.pid,
                                   "running": bool(node.pid and alive(node.pid))}
            try:
                row["height"] = self.height(node)
                peers = httpx.get(f"{node.comet_url}/net_info", timeout=2).json()
                row["peers"] = int(peers["result"]["n_peers"])
            except (ModernTensorError, httpx.HTTPError, ValueError, KeyError, TypeError):
                row["height"] = None
            rows.append(row)
        return rows

    # -- persistence ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.nodes)

    def save(self) -> None:
        path = Path(self.directory) / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, directory: Path) -> Testnet | None:
        path = directory / STATE_FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        data["nodes"] = [TestnetNode(**n) for n in data.get("nodes", [])]
        return cls(**data)


def distinct_free_ports(count: int) -> list[int]:
    """``count`` different free ports on 127.0.0.1: all held open until all are chosen, so the
    OS cannot hand out one twice."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def _tail(path: str, lines: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
