"""A chain of module state driven directly (no node, no ABI): fast, honest state-machine tests.

``Sim`` plays the core's part: it runs system calls inside a checkpoint (rolled back on a
revert, like ``apply_tx``), runs the end-block hook per block and records emitted events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak

from moderntensor.chain.errors import ExecutionError
from moderntensor.chain.modules import system
from moderntensor.chain.modules.params import ModuleConfig, dev_config
from moderntensor.chain.modules.records import current_block, get_subnet
from moderntensor.chain.modules.registration import block_hash, latest_hashed_block
from moderntensor.chain.state import (
    SUPPLY_NS,
    State,
    add_balance,
    checkpoint,
    get_account,
    kv_get_int,
    kv_set_int,
    rollback,
    total_balance,
)
from moderntensor.protocol.pow import solve_pow
from moderntensor.units import BASE_PER_MDT

SYSTEM = bytes.fromhex("00000000000000000000000000000000000a0001")
CHAIN_ID = 1337
MDT = BASE_PER_MDT


def account(i: int) -> bytes:
    return keccak(b"account" + i.to_bytes(4, "big"))[:20]


@dataclass
class Sim:
    config: ModuleConfig = field(default_factory=dev_config)
    funded: dict[bytes, int] = field(default_factory=dict)
    state: State = field(default_factory=State)
    block: int = 0
    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for address, amount in self.funded.items():
            add_balance(self.state, address, amount)
        kv_set_int(self.state, SUPPLY_NS, b"genesis", sum(self.funded.values()))
        system.genesis(self.state, self.config)

    def emit(self, name: str, args: dict[str, Any]) -> None:
        self.events.append((current_block(self.state), name, args))

    def next_block(self, count: int = 1) -> None:
        for _ in range(count):
            self.block = number = self.block + 1      # events below belong to this block
            system.end_block(self.state, SYSTEM, number, keccak((number - 1).to_bytes(8, "big")),
                             self.emit)

    def run_to(self, number: int) -> None:
        self.next_block(number - self.block)

    def call(self, sender: bytes, call_name: str, value: int = 0, **args: Any) -> Any:
        """Execute a system call in the current block; reverts and re-raises on failure."""
        point = checkpoint(self.state)
        ctx = system.Call(sender=sender, block=current_block(self.state), chain_id=CHAIN_ID,
                          value=value)
        try:
            if value:
                # the core moves the value to the system address before the call
                from moderntensor.chain.state import transfer

                transfer(self.state, sender, SYSTEM, value)
            return system.execute(self.state, SYSTEM, ctx, call_name, args, self.emit)
        except ExecutionError:
            rollback(self.state, point)
            raise

    def fee_free(self, sender: bytes, name: str, **args: Any) -> bool:
        ctx = system.Call(sender=sender, block=current_block(self.state), chain_id=CHAIN_ID)
        return system.check_fee_free(self.state, ctx, name, args)

    def pow(self, sender: bytes, netuid: int) -> tuple[int, int]:
        pow_block = latest_hashed_block(self.state, self.block)
        assert pow_block is not None, "run at least 2 blocks before registering"
        subnet = get_subnet(self.state, netuid)
        assert subnet is not None
        seed = block_hash(self.state, pow_block)
        solution = solve_pow(chain_id=CHAIN_ID, netuid=netuid, address=sender, block_hash=seed,
                             difficulty=subnet.difficulty)
        return solution.nonce, pow_block

    def register_miner(self, sender: bytes, netuid: int, model_type: str | None = None,
                       name: str = "model", version: str = "1.0.0") -> int:
        nonce, pow_block = self.pow(sender, netuid)
        subnet = get_subnet(self.state, netuid)
        assert subnet is not None
        return self.call(sender, "registerMiner", netuid=netuid, modelName=name,
                         modelType=model_type or subnet.task_type, modelVersion=version,
                         powNonce=nonce, powBlock=pow_block)

    def balance(self, address: bytes) -> int:
        return get_account(self.state, address).balance

    def supply(self) -> int:
        """genesis + minted - burned, from the supply counters."""
        s = self.state
        return (kv_get_int(s, SUPPLY_NS, b"genesis") + kv_get_int(s, SUPPLY_NS, b"minted")
                - kv_get_int(s, SUPPLY_NS, b"burned"))

    def total_balances(self) -> int:
        return total_balance(self.state)
