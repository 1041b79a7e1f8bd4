"""What a localnet is made of: its options, its genesis, its miners' qualities, its files.

Layout of a localnet data dir (default ``<MT_HOME>/localnet``)::

    localnet.json     the running network: url, processes (pid = process group), wallets
    password          the dev-only wallet password (mode 0600), shared by its wallets
    home/             MT_HOME of every localnet process (home/wallets/*.json keystores)
    node/             chain data and genesis.json (one node)
    testnet/          with several nodes: node<i>/ data dirs of the CometBFT validators
    logs/<name>.log   one log per process
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from moderntensor.chain.genesis import DEV_CHAIN_ID, dev_spec
from moderntensor.chain.modules.params import GENESIS_TASKS, GENESIS_WEIGHTS
from moderntensor.scoring import PPB

# Dev-only keystores: scrypt n=2**10 decrypts in ~2 ms instead of ~0.5 s (n=2**18). These
# wallets guard worthless dev MDT and sit next to their password; never use this cost elsewhere.
DEV_SCRYPT_N = 2**10
STATE_FILE = "localnet.json"
PASSWORD_FILE = "password"  # noqa: S105 (a file name, not a password)
VALIDATOR_FUNDS_MDT = 1_000  # sent from a dev account to each fresh validator wallet
VALIDATOR_STAKE_MDT = 200    # per subnet; the dev min_validator_stake is 100 MDT

# Miner qualities, best first; a localnet cycles through those its suite offers. The first of
# each suite is its honest reference: SmolLM2 (text: the subnet's named model, verified),
# variant-reference (code), renderer (image), reference (audio). Then named cheats that answer
# without the model (oracle: a template parser; canonical: a lookup of public answers; echo,
# random...), which the scoring rules pay ~nothing, and honest ones worse in one component.
LADDER = ("variant-reference", "renderer", "reference", "smollm2", "oracle", "canonical",
          "flaky", "echo", "random", "noise", "inconsistent", "slow", "constant")
# suites with a cheap honest fixture lead with it; the real model joins them with --model smollm2
HONEST_FIXTURES = frozenset({"variant-reference", "renderer", "reference"})
MODELS = ("echo", "smollm2")


@dataclass(frozen=True)
class LocalnetSpec:
    """Options of ``moderntensor localnet up`` (times in seconds, ``min_score`` in [0, 1])."""

    miners: int = 4                      # per subnet
    validators: int = 2
    subnets: tuple[int, ...] = (1,)
    model: str = "echo"                  # echo: fixtures; smollm2: the real model first everywhere
    block_time: float = 1.0
    tempo: int = 20
    min_score: float = 0.0
    interval: float | None = None        # validator round interval (default: a quarter epoch)
    challenges: int = 4                  # per miner per validator round
    ladder: tuple[str, ...] = ()         # explicit miner models in order (cycled); else LADDER
    unsafe_code_sandbox: bool = False    # validators score code without bubblewrap (shown)
    nodes: int = 1                       # > 1: that many CometBFT validator nodes

    def __post_init__(self) -> None:
        if not 1 <= self.validators <= 9:
            raise ValueError("validators: 1..9 (funded from the 10 dev accounts)")
        if self.miners < 0 or not self.subnets:
            raise ValueError("miners must be >= 0 and at least one subnet given")
        if any(not 1 <= netuid <= len(GENESIS_TASKS) for netuid in self.subnets):
            raise ValueError(f"subnets: genesis subnets 1-{len(GENESIS_TASKS)}")
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}")
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError("min_score is in [0, 1]")
        if not 1 <= self.nodes <= 16:
            raise ValueError("nodes: 1 (embedded producer) or 2..16 CometBFT validators")

    @property
    def round_interval(self) -> float:
        """Validators score several rounds per epoch and set weights before it closes."""
        if self.interval is not None:
            return self.interval
        return max(0.5, self.tempo * self.block_time / 4)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "subnets": list(self.subnets), "ladder": list(self.ladder)}


def miner_models(spec: LocalnetSpec, available: list[str]) -> list[str]:
    """The model of each of ``spec.miners`` miners of one subnet, best first, cycled."""
    if spec.ladder:
        order = [m for m in spec.ladder if m in available]
    else:
        order = [m for m in LADDER if m in available]
        # the real model leads where it is the honest reference (text) or when asked for;
        # where a cheap honest fixture leads, it stays out
        if "smollm2" in order:
            order.remove("smollm2")
            if spec.model == "smollm2" or not HONEST_FIXTURES & set(order):
                order.insert(0, "smollm2")
    order = order or available
    return list(itertools.islice(itertools.cycle(order), spec.miners))


def genesis_json(spec: LocalnetSpec) -> dict[str, Any]:
    """The dev chain (chain id 1337, dev accounts) with this localnet's tempo and min_score."""
    # validators may write weights every block (rounds are short on a localnet), and weights
    # stay active for at least 3 epochs so a slow round never drops a validator's pay; weights
    # go by commit-reveal with a short period, so a round's row is on chain a few blocks later
    params = {"tempo": spec.tempo, "minScore": round(spec.min_score * PPB),
              "activityCutoff": max(60, 3 * spec.tempo), "weightsRateLimit": 1,
              "commitRevealPeriod": 2}
    subnets = [{"netuid": i + 1, "name": task, "taskType": task, "weight": weight,
                "params": params}
               for i, (task, weight) in enumerate(zip(GENESIS_TASKS, GENESIS_WEIGHTS,
                                                      strict=True))]
    genesis = dev_spec(chain_id=DEV_CHAIN_ID).to_json()
    genesis["modules"] = {"moderntensor": {"subnets": subnets}}
    return genesis


@dataclass
class ProcessInfo:
    """One localnet process: ``pid`` leads its own process group (stop = kill the group)."""

    name: str
    role: str                # node | validator | miner
    pid: int
    log: str
    argv: list[str]
    netuid: int | None = None
    address: str | None = None
    port: int | None = None
    model: str | None = None
    wallet: str | None = None


@dataclass
class LocalnetState:
    """What ``localnet.json`` records: enough for ``status`` and ``down`` from another shell."""

    data_dir: str
    url: str
    spec: dict[str, Any]
    processes: list[ProcessInfo] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    supervisor_pid: int | None = None
    sandbox: str = ""        # how validators isolate miners' code ("" when no subnet runs any)

    def save(self) -> None:
        path = Path(self.data_dir) / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, data_dir: Path) -> LocalnetState | None:
        path = data_dir / STATE_FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        # state files written before the rename call the netuid "subnet"
        data["processes"] = [ProcessInfo(**{("netuid" if k == "subnet" else k): v
                                            for k, v in p.items()})
                             for p in data.get("processes", [])]
        return cls(**data)

    def by_role(self, role: str) -> list[ProcessInfo]:
        return [p for p in self.processes if p.role == role]
