"""Bring a localnet up phase by phase, and take it down again.

>>> net = Localnet(LocalnetSpec(miners=4, validators=2), Path("/tmp/ln"))  # doctest: +SKIP
>>> state = net.up()          # node, funded + staked validators, 0-MDT miners, all serving
>>> net.wait_first_reward()   # seconds until the chain paid a miner
>>> net.stop()                # every process group gone (returns survivors: [])
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from moderntensor.chain.genesis import dev_accounts, spec_from_json
from moderntensor.chain.modules.params import GENESIS_TASKS
from moderntensor.client import AsyncLuxtensorClient, LuxtensorClient
from moderntensor.errors import ModernTensorError
from moderntensor.localnet.processes import (
    CLI,
    STOP_GRACE_S,
    alive,
    is_localnet_process,
    spawn,
    stop_groups,
)
from moderntensor.localnet.spec import (
    DEV_SCRYPT_N,
    PASSWORD_FILE,
    VALIDATOR_FUNDS_MDT,
    VALIDATOR_STAKE_MDT,
    LocalnetSpec,
    LocalnetState,
    ProcessInfo,
    genesis_json,
    miner_models,
)
from moderntensor.localnet.testnet import Testnet
from moderntensor.subnets import load_suite
from moderntensor.subnets.models import ModelUnavailableError, smollm2_model_path
from moderntensor.wallet import Wallet

READY_TIMEOUT_S = 60.0
REGISTRATIONS_IN_FLIGHT = 4  # the dev chain mines up to 8 registrations per block


class LocalnetError(ModernTensorError):
    code = "localnet_error"


def check_smollm2() -> None:
    """Raise ModelUnavailableError (with the install command) unless SmolLM2 can load."""
    smollm2_model_path()
    if importlib.util.find_spec("llama_cpp") is None:
        raise ModelUnavailableError("llama-cpp-python is not installed; it is part of the "
                                    "default install: pip install moderntensor")


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks; the process binds it right after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def running_state(data_dir: Path) -> LocalnetState | None:
    """The state of a localnet in ``data_dir`` of which some process still runs, else None."""
    state = LocalnetState.load(data_dir)
    if state is None or not any(alive(p.pid) and is_localnet_process(p.pid)
                                for p in state.processes):
        return None
    return state


class Localnet:
    """One localnet in ``data_dir``: :meth:`up` starts it, :meth:`stop` ends every process."""

    def __init__(self, spec: LocalnetSpec, data_dir: Path, *, detach: bool = False,
                 rpc_port: int | None = None,
                 on_phase: Callable[[str, float], None] | None = None) -> None:
        self.spec = spec
        self.data_dir = data_dir.resolve()
        self.detach = detach
        self.rpc_port = rpc_port
        self.on_phase = on_phase
        self.children: dict[int, subprocess.Popen[bytes]] = {}
        self.node_urls: list[str] = []
        self.state = LocalnetState(str(self.data_dir), "", spec.to_json())
        self._phase_started = time.monotonic()
        self._client: LuxtensorClient | None = None

    # -- paths and environment ----------------------------------------------------------
    @property
    def home(self) -> Path:
        return self.data_dir / "home"

    @property
    def url(self) -> str:
        return self.state.url

    def password(self) -> str:
        """The dev-only wallet password, created once per data dir (mode 0600)."""
        path = self.data_dir / PASSWORD_FILE
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(18))
        return path.read_text().strip()

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a localnet process: its own MT_HOME, network and wallet."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("MT_")}
        return {**base, "MT_HOME": str(self.home), "MT_NETWORK": self.url,
                "MT_WALLET_PASSWORD": self.password(), "PYTHONUNBUFFERED": "1", **extra}

    # -- phases ---------------------------------------------------------------------------
    def _phase(self, name: str) -> None:
        now = time.monotonic()
        self.state.phases[name] = round(now - self._phase_started, 3)
        self._phase_started = now
        self.state.save()
        if self.on_phase is not None:
            self.on_phase(name, self.state.phases[name])

    def up(self) -> LocalnetState:
        """Start everything; on any failure stop what was started and re-raise."""
        self._phase_started = time.monotonic()
        self.state.supervisor_pid = None if self.detach else os.getpid()
        try:
            self._prepare()
            self._phase("prepare")
            self._start_node()
            self._phase("node")
            validators = asyncio.run(self._register_validators())
            self._phase("validators registered")
            miners = asyncio.run(self._register_miners())
            self._phase("miners registered")
            self._start_miners(miners)
            self._phase("miners serving")
            self._start_validators(validators)
            self._phase("validators running")
        except BaseException:
            self.stop()
            raise
        return self.state

    def _prepare(self) -> None:
        if running_state(self.data_dir) is not None:
            raise LocalnetError(f"a localnet already runs in {self.data_dir}; "
                                "stop it with `moderntensor localnet down` first")
        # subnet 1 names SmolLM2: fail now, not as 502s in every validator round
        if self.spec.model == "smollm2" or 1 in self.spec.subnets:
            check_smollm2()
        self.state.sandbox = self._probe_sandbox()
        for sub in ("node", "testnet", "home", "logs"):  # a localnet always starts from genesis
            shutil.rmtree(self.data_dir / sub, ignore_errors=True)
        (self.data_dir / "node").mkdir(parents=True)
        (self.data_dir / "node" / "genesis.json").write_text(
            json.dumps(genesis_json(self.spec), indent=2) + "\n", encoding="utf-8")
        self.password()

    def _probe_sandbox(self) -> str:
        """How validators will isolate miners' code; where they cannot, refuse before starting."""
        described = [load_suite(GENESIS_TASKS[netuid - 1]).prepare(
                         unsafe_code_sandbox=self.spec.unsafe_code_sandbox)
                     for netuid in self.spec.subnets]
        return next((text for text in described if text), "")

    def start_process(self, info: ProcessInfo, **env: str) -> ProcessInfo:
        """Start one more process of this localnet (stopped with the rest by :meth:`stop`);
        ``info.log`` empty means ``logs/<name>.log``; ``env`` adds to :meth:`env`."""
        if not info.log:
            info.log = self._log(info.name)
        return self._spawn(info, self.env(**env))

    def _spawn(self, info: ProcessInfo, env: dict[str, str]) -> ProcessInfo:
        process = spawn(info.argv, Path(info.log), env, die_with_parent=not self.detach)
        info.pid = process.pid
        self.children[process.pid] = process
        self.state.processes.append(info)
        self.state.save()
        return info

    def _log(self, name: str) -> str:
        return str(self.data_dir / "logs" / f"{name}.log")

    def _start_node(self) -> None:
        if self.spec.nodes > 1:
            self._start_testnet()
            return
        port = self.rpc_port or free_port()
        self.state.url = f"http://127.0.0.1:{port}"
        argv = [*CLI, "node", "start", "--data-dir", str(self.data_dir / "node"),
                "--rpc-port", str(port), "--block-time", str(self.spec.block_time)]
        node = self._spawn(ProcessInfo("node", "node", 0, self._log("node"), argv, port=port),
                           self.env())
        self.node_urls = [self.state.url]
        self._wait(lambda: self._block_number() >= 1, f"node (log: {node.log})", node)

    @property
    def client(self) -> LuxtensorClient:
        """A read client of this localnet's node (opened on first use, closed by stop)."""
        if self._client is None or self._client.url != self.url:
            self._client = LuxtensorClient(self.url, timeout=5)
        return self._client

    def _start_testnet(self) -> None:
        """Several CometBFT validators, all with this localnet's genesis; clients use node0."""
        net = Testnet.create(self.data_dir / "testnet", self.spec.nodes,
                             spec=spec_from_json(genesis_json(self.spec)),
                             timeout_commit=f"{round(self.spec.block_time * 1000)}ms")
        self.state.url = net.nodes[0].url
        self.node_urls = [node.url for node in net.nodes]
        started = [self._spawn(ProcessInfo(f"node{node.index}", "node", 0, node.log,
                                           node.argv(), port=node.rpc_port), self.env())
                   for node in net.nodes]
        for info, url in zip(started, self.node_urls, strict=True):
            self._wait(lambda url=url: self._block_number(url) >= 1, f"{info.name} (log: "
                       f"{info.log})", info)

    def _block_number(self, url: str | None = None) -> int:
        if url is None or url == self.url:
            return self.client.block_number()
        with LuxtensorClient(url, timeout=2) as other:
            return other.block_number()

    def _wait(self, ready: Callable[[], bool], what: str, info: ProcessInfo) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if not alive(info.pid):
                raise LocalnetError(f"{what} exited during start-up; see {info.log}")
            try:
                if ready():
                    return
            except ModernTensorError:   # not up yet, or not registered yet
                pass
            if time.monotonic() > deadline:
                raise LocalnetError(f"{what} not ready after {READY_TIMEOUT_S:.0f} s")
            time.sleep(0.05)

    def new_wallet(self, name: str) -> Wallet:
        """A fresh wallet saved as ``name`` in this localnet's home (dev keystore cost)."""
        wallet = Wallet.create(num_words=12)
        wallet.save(name, self.password(), home=self.home, scrypt_n=DEV_SCRYPT_N, overwrite=True)
        return wallet

    async def _register_validators(self) -> list[tuple[str, Wallet]]:
        """Fresh wallets funded by dev accounts 1..n, staked on each subnet (i+1) x 200 MDT."""
        wallets = [(f"validator-{i}", self.new_wallet(f"validator-{i}"))
                   for i in range(self.spec.validators)]
        async with AsyncLuxtensorClient(self.url) as client:
            async def one(index: int, wallet: Wallet) -> None:
                funder = Wallet.from_private_key(dev_accounts()[index + 1].private_key)
                await client.transfer(wallet.address, VALIDATOR_FUNDS_MDT, wallet=funder)
                for netuid in self.spec.subnets:
                    stake = VALIDATOR_STAKE_MDT * (index + 1)  # unequal: shows stake shares
                    await client.register_validator(netuid, stake, wallet=wallet)

            await asyncio.gather(*(one(i, w) for i, (_, w) in enumerate(wallets)))
        return wallets

    async def _register_miners(self) -> list[tuple[str, Wallet, int, str, str]]:
        """Fresh 0-MDT wallets registered by proof of work: (name, wallet, subnet, task, model)."""
        plan = []
        for netuid in self.spec.subnets:
            async with AsyncLuxtensorClient(self.url) as client:
                task_type = (await client.get_subnet(netuid)).task_type
            models = miner_models(self.spec, list(load_suite(task_type).reference_models()))
            for index, model in enumerate(models):
                name = f"miner-{netuid}-{index}"
                plan.append((name, self.new_wallet(name), netuid, task_type, model))
        # A few at a time: while one proof of work is solved (CPU-bound) others wait for
        # their block, and the chain mines up to maxRegistrationsPerBlock per block.
        gate = asyncio.Semaphore(REGISTRATIONS_IN_FLIGHT)
        async with AsyncLuxtensorClient(self.url) as client:
            async def one(name: str, wallet: Wallet, netuid: int, task_type: str,
                          model: str) -> None:
                async with gate:
                    info = {"name": f"{model}-{name}", "type": task_type, "version": "1.0.0"}
                    await client.register_miner(netuid, info, wallet=wallet)

            await asyncio.gather(*(one(*entry) for entry in plan))
        return plan

    def _start_miners(self, plan: list[tuple[str, Wallet, int, str, str]]) -> None:
        started = []
        for name, wallet, netuid, task_type, model in plan:
            port = free_port()
            argv = [*CLI, "miner", "start", "--reference", task_type, "--model", model,
                    "--port", str(port), "--netuid", str(netuid), "--wallet", name]
            started.append(self._spawn(ProcessInfo(
                name, "miner", 0, self._log(name), argv, netuid=netuid, address=wallet.address,
                port=port, model=model, wallet=name), self.env()))
        for info in started:
            self._wait(lambda info=info: self._endpoint_on_chain(info), f"miner {info.name}", info)

    def _endpoint_on_chain(self, info: ProcessInfo) -> bool:
        assert info.netuid is not None and info.address is not None
        endpoint = self.client.get_neuron(info.netuid, info.address).endpoint
        return endpoint is not None and endpoint.port == info.port

    def _start_validators(self, wallets: list[tuple[str, Wallet]]) -> None:
        for index, (name, wallet) in enumerate(wallets):
            for netuid in self.spec.subnets:
                label = f"{name}-subnet-{netuid}"
                argv = [*CLI, "validator", "run", "--netuid", str(netuid), "--json",
                        "--interval", f"{self.spec.round_interval:g}", "--wallet", name,
                        "--challenges", str(self.spec.challenges)]
                argv += ["--unsafe-code-sandbox"] if self.spec.unsafe_code_sandbox else []
                # with several nodes, validators spread over them (each reads its own node)
                url = self.node_urls[index % len(self.node_urls)]
                self._spawn(ProcessInfo(label, "validator", 0, self._log(label), argv,
                                        netuid=netuid, address=wallet.address, wallet=name),
                            self.env(MT_NETWORK=url))

    # -- while running ------------------------------------------------------------------
    def wait_first_reward(self, timeout: float = 120.0) -> float:
        """Block until a miner reward is on chain; returns the seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            rewards = self.client.get_rewards(limit=1000)
            if any(r.role == "miner" and r.reward > 0 for r in rewards):
                waited = time.monotonic() - started
                self._phase("first reward")
                return waited
            time.sleep(0.1)
        raise LocalnetError(f"no miner reward within {timeout:.0f} s; see {self.data_dir}/logs")

    def process(self, name: str) -> ProcessInfo:
        """The recorded process called ``name`` (``node``, ``miner-1-0``, ...)."""
        for info in self.state.processes:
            if info.name == name:
                return info
        raise LocalnetError(f"no localnet process named {name!r}")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal one process group (default ``kill -9``) and wait until it is gone."""
        info = self.process(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(info.pid, sig)
        if stop_groups([info.pid], grace_s=STOP_GRACE_S, children=self.children):
            raise LocalnetError(f"{name} (pid {info.pid}) survived a stop")

    def restart(self, name: str) -> ProcessInfo:
        """Start a stopped process again with the same command line (same port, same data)."""
        info = self.process(name)
        if alive(info.pid):
            raise LocalnetError(f"{name} still runs (pid {info.pid})")
        process = spawn(info.argv, Path(info.log), self.env(), die_with_parent=not self.detach)
        self.children[process.pid] = process
        info.pid = process.pid
        self.state.save()
        if info.role == "node":
            url = f"http://127.0.0.1:{info.port}"
            self._wait(lambda: self._block_number(url) >= 1, f"{name} (log: {info.log})", info)
        return info

    def stop(self) -> list[int]:
        """Stop every process (validators, miners, then the node); returns surviving groups."""
        order = {"validator": 0, "miner": 1, "node": 2}
        procs = sorted((p for p in self.state.processes if p.pid), key=lambda p: order[p.role])
        survivors = stop_groups([p.pid for p in procs if p.role != "node"],
                                children=self.children)
        survivors += stop_groups([p.pid for p in procs if p.role == "node"],
                                 children=self.children)
        if self._client is not None:
            self._client.close()
            self._client = None
        return survivors


def stop_state(state: LocalnetState) -> list[int]:
    """``localnet down``: stop the processes a state file lists (from any shell).

    Only pids that still run a moderntensor command are signalled: after a reboot a recorded
    pid may belong to something else.
    """
    ours = [p for p in state.processes if p.pid and is_localnet_process(p.pid)]
    survivors = stop_groups([p.pid for p in ours if p.role != "node"])
    survivors += stop_groups([p.pid for p in ours if p.role == "node"])
    return survivors
