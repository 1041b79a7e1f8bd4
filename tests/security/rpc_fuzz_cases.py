"""Seeded JSON-RPC requests full of huge and out-of-range numbers, for every method a node
serves (tests/security and benchmarks/rpc_huge_numbers.py share them)."""

from __future__ import annotations

import json
import random
from typing import Any

from moderntensor.chain.eth_api import methods_for
from moderntensor.chain.installed import DEFAULT_MODULES, build_extensions

HUGE_HEX = "0x" + "ff" * 5000  # the reported case: a netuid or quantity of 40,000 bits
NUMBERS: list[Any] = [HUGE_HEX, "0x" + "ff" * 33, "0x1" + "0" * 64, "9" * 5000, "-1", "0x",
                      "0x10000", "65536", 2**256, 2**64, 2**63, 65_536, -1, 1.5, 1e308,
                      "0x" + "0" * 5000 + "1", " 1", "1_000", "0xffff", 0, "0x0", True, None]
FIELDS = ["netuid", "uid", "miner", "fromEpoch", "toEpoch", "limit", "value", "gas", "nonce",
          "fromBlock", "toBlock", "blockNumber", "maxFeePerGas", "chainId"]
HUGE_JSON_INT = "__huge_json_int__"  # replaced by a 5,000-digit JSON number in the bytes


def node_methods() -> list[str]:
    """Every JSON-RPC method a node with the default modules serves."""
    return sorted(methods_for(build_extensions(DEFAULT_MODULES).rpc_methods))


def huge_number_request(rng: random.Random, methods: list[str], request_id: int) -> bytes:
    """One request: a method with 0-4 params, numbers drawn mostly from NUMBERS."""
    params: list[Any] = []
    for _ in range(rng.randint(0, 4)):
        roll = rng.random()
        if roll < 0.6:
            params.append(rng.choice([*NUMBERS, HUGE_JSON_INT]))
        elif roll < 0.85:
            params.append({name: rng.choice(NUMBERS) for name in rng.sample(FIELDS, 3)})
        else:
            params.append(rng.choice(["latest", "0x" + "11" * 20, "0x" + "22" * 32, 1]))
    body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": rng.choice(methods),
                       "params": params})
    return body.replace(f'"{HUGE_JSON_INT}"', "9" * 5000).encode()


def internal_errors(answer: Any) -> int:
    """How many -32603 (internal error) objects a response or batch holds."""
    items = answer if isinstance(answer, list) else [answer]
    return sum(1 for item in items if item.get("error", {}).get("code") == -32603)
