"""Chain spec: chain id, allocations and parameters; the dev chain; genesis files.

Dev chain (``moderntensor node start --dev``): chain id :data:`DEV_CHAIN_ID` (1337, the usual
"local dev chain" id of Ethereum tools), the well-known mnemonic :data:`DEV_MNEMONIC` (the same as
anvil/hardhat) and 10 accounts at ``m/44'/60'/0'/0/i`` with 10,000 MDT each. Their keys are
public: never send real value to them.

A genesis file is JSON::

    {"chainId": 7777, "gasLimit": 60000000, "minBaseFee": "1000000000",
     "coinbase": "0x...", "timestamp": 0,
     "alloc": {"0xf39F...": {"balance": "10000000000000000000000"}},
     "modules": {}}

``modules`` is passed untouched to the genesis hooks of the installed modules.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import is_address, to_canonical_address, to_checksum_address

from moderntensor.chain.errors import GenesisError
from moderntensor.units import BASE_PER_MDT

DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_CHAIN_ID = 1337  # the conventional local-dev chain id (MetaMask's "localhost")
DEV_BALANCE = 10_000 * BASE_PER_MDT
DEFAULT_GAS_LIMIT = 60_000_000  # ~2,850 transfers per block: headroom over 1,000 tx/s at 1 s
DEFAULT_MIN_BASE_FEE = 10**9  # 1 gwei floor; the base fee never drops below it
ZERO_ADDRESS = b"\x00" * 20


@dataclass(frozen=True)
class DevAccount:
    address: str
    private_key: str


@dataclass(frozen=True)
class ChainSpec:
    """Everything that defines a chain at block 0. Amounts are integer base units."""

    chain_id: int = DEV_CHAIN_ID
    alloc: dict[bytes, int] = field(default_factory=dict)
    gas_limit: int = DEFAULT_GAS_LIMIT
    min_base_fee: int = DEFAULT_MIN_BASE_FEE
    coinbase: bytes = ZERO_ADDRESS  # receives priority fees (tips); base fees are burned
    timestamp: int = 0
    modules: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "gasLimit": self.gas_limit,
            "minBaseFee": str(self.min_base_fee),
            "coinbase": to_checksum_address(self.coinbase),
            "timestamp": self.timestamp,
            "alloc": {to_checksum_address(a): {"balance": str(b)} for a, b in self.alloc.items()},
            "modules": self.modules,
        }


# The keys DEV_MNEMONIC derives at m/44'/60'/0'/0/0..9 (anvil's and hardhat's well-known keys),
# precomputed because pure-Python BIP-32 derivation costs ~0.1 s per key at every node start;
# tests/test_chain_genesis.py checks them against the derivation.
DEV_PRIVATE_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
)


@functools.lru_cache(maxsize=1)
def dev_accounts() -> tuple[DevAccount, ...]:
    """The 10 prefunded dev accounts of :data:`DEV_MNEMONIC`."""
    return tuple(_dev_account(key) for key in DEV_PRIVATE_KEYS)


def _dev_account(private_key: str) -> DevAccount:
    return DevAccount(Account.from_key(private_key).address, private_key)


def dev_spec(chain_id: int = DEV_CHAIN_ID, coinbase: bytes = ZERO_ADDRESS) -> ChainSpec:
    alloc = {to_canonical_address(a.address): DEV_BALANCE for a in dev_accounts()}
    # the ModernTensor modules' dev preset (short epochs, quick PoW) on any dev chain id
    return ChainSpec(chain_id=chain_id, alloc=alloc, coinbase=coinbase,
                     modules={"moderntensor": {"preset": "dev"}})


def spec_from_json(data: Any) -> ChainSpec:
    """Validate a parsed genesis file; every problem names the field and what is expected."""
    if not isinstance(data, dict):
        raise GenesisError("a genesis file is a JSON object")
    unknown = set(data) - {"chainId", "gasLimit", "minBaseFee", "coinbase", "timestamp",
                           "alloc", "modules"}
    if unknown:
        raise GenesisError(f"unknown genesis fields {sorted(unknown)}")
    alloc_in = data.get("alloc", {})
    if not isinstance(alloc_in, dict):
        raise GenesisError("alloc is an object of address -> {\"balance\": amount}")
    alloc: dict[bytes, int] = {}
    for address, entry in alloc_in.items():
        if not is_address(address):
            raise GenesisError(f"alloc key {address!r} is not an address")
        balance = entry.get("balance") if isinstance(entry, dict) else None
        alloc[to_canonical_address(address)] = _uint(balance, f"alloc[{address}].balance")
    coinbase = data.get("coinbase", "0x" + "00" * 20)
    if not is_address(coinbase):
        raise GenesisError(f"coinbase {coinbase!r} is not an address")
    modules = data.get("modules", {})
    if not isinstance(modules, dict):
        raise GenesisError("modules is an object")
    chain_id = _uint(data.get("chainId"), "chainId")
    if not 0 < chain_id < 2**53:
        raise GenesisError(f"chainId {chain_id} is out of range 1..2^53-1")
    gas_limit = _uint(data.get("gasLimit", DEFAULT_GAS_LIMIT), "gasLimit")
    if gas_limit < 21_000:
        raise GenesisError("gasLimit must allow at least one transfer (21000)")
    return ChainSpec(chain_id=chain_id, alloc=alloc, gas_limit=gas_limit,
                     min_base_fee=_uint(data.get("minBaseFee", DEFAULT_MIN_BASE_FEE), "minBaseFee"),
                     coinbase=to_canonical_address(coinbase),
                     timestamp=_uint(data.get("timestamp", 0), "timestamp"), modules=modules)


def load_genesis(path: Path) -> ChainSpec:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GenesisError(f"no genesis file at {path}; create one with `moderntensor node init`"
                           ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GenesisError(f"{path} is not valid JSON: {exc}") from None
    return spec_from_json(data)


def write_genesis(spec: ChainSpec, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec.to_json(), indent=2) + "\n", encoding="utf-8")


def _uint(value: Any, name: str) -> int:
    """Accept ints, decimal strings and 0x-hex strings; amounts are exact integers."""
    if isinstance(value, bool):
        raise GenesisError(f"{name} must be an integer, not a boolean")
    if isinstance(value, int):
        result = value
    elif isinstance(value, str):
        try:
            result = int(value, 16) if value.lower().startswith("0x") else int(value)
        except ValueError:
            raise GenesisError(f"{name} {value!r} is not an integer") from None
    else:
        raise GenesisError(f"{name} must be an integer or a decimal/0x string, got {value!r}")
    if result < 0 or result >= 2**256:
        raise GenesisError(f"{name} {result} is out of range 0..2^256-1")
    return result
