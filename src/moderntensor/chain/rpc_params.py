"""JSON-RPC parameter parsing (strict, with messages that say what is expected) and encoding."""

from __future__ import annotations

from typing import Any

from moderntensor.chain.errors import InvalidParams, NotFound

MAX_QUANTITY = 2**256 - 1
BLOCK_TAGS = ("latest", "pending", "safe", "finalized", "earliest")


def quantity(value: int) -> str:
    return hex(value)


def data(value: bytes) -> str:
    return "0x" + value.hex()


def param(params: list[Any], index: int, name: str, default: Any = ...) -> Any:
    if index < len(params):
        return params[index]
    if default is ...:
        raise InvalidParams(f"missing parameter {index + 1} ({name})")
    return default


def expect_count(params: Any, low: int, high: int) -> list[Any]:
    if not isinstance(params, list):
        raise InvalidParams("params must be an array (positional parameters)")
    if not low <= len(params) <= high:
        expected = str(low) if low == high else f"{low} to {high}"
        raise InvalidParams(f"expected {expected} parameters, got {len(params)}")
    return params


def parse_data(value: Any, name: str, *, size: int | None = None) -> bytes:
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise InvalidParams(f"{name} must be a 0x-prefixed hex string")
    text = value[2:]
    if len(text) % 2:
        raise InvalidParams(f"{name} has an odd number of hex digits")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise InvalidParams(f"{name} is not valid hex") from None
    if size is not None and len(raw) != size:
        raise InvalidParams(f"{name} must be {size} bytes, got {len(raw)}")
    return raw


def parse_address(value: Any, name: str = "address") -> bytes:
    return parse_data(value, name, size=20)


def parse_hash(value: Any, name: str = "hash") -> bytes:
    return parse_data(value, name, size=32)


def parse_quantity(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidParams(f"{name} must be a 0x-hex quantity")
    if isinstance(value, int):  # some clients send plain integers; accept them if in range
        number = value
    else:
        if not value.startswith(("0x", "0X")) or len(value) < 3 or len(value) > 66:
            raise InvalidParams(f"{name} must be a 0x-hex quantity like 0x1a")
        try:
            number = int(value[2:], 16)
        except ValueError:
            raise InvalidParams(f"{name} {value!r} is not valid hex") from None
    if not 0 <= number <= MAX_QUANTITY:
        raise InvalidParams(f"{name} is out of range 0..2^256-1")
    return number


def parse_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidParams(f"{name} must be true or false")
    return value


def parse_block_number(value: Any, head: int, name: str = "block") -> int:
    """A block tag or number, resolved against ``head``; 'pending' means the head."""
    if isinstance(value, str) and value in BLOCK_TAGS:
        return 0 if value == "earliest" else head
    return parse_quantity(value, name)


def require_latest(value: Any, head: Any) -> None:
    """State reads answer only for the head (a header): the node keeps the latest state only.

    ``value`` is a tag, a number, or EIP-1898 ``{"blockNumber": n}`` / ``{"blockHash": h}``.
    """
    if isinstance(value, dict):
        if "blockHash" in value:
            if parse_hash(value["blockHash"], "blockHash") != head.hash:
                raise NotFound("state is kept for the latest block only; that block hash is "
                               "not the head", code="state_not_available")
            return
        value = value.get("blockNumber", "latest")
    number = parse_block_number(value, head.number)
    if number != head.number:
        raise NotFound(f"state at block {number} is not kept; this node answers state reads for "
                       f"the latest block ({head.number}) only", code="state_not_available")


def parse_call(value: Any) -> dict[str, Any]:
    """An eth_call / eth_estimateGas call object, with bytes and ints decoded."""
    if not isinstance(value, dict):
        raise InvalidParams("the call object must be a JSON object")
    allowed = {"from", "to", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "value",
               "data", "input", "nonce", "type", "chainId", "accessList"}
    unknown = set(value) - allowed
    if unknown:
        raise InvalidParams(f"unknown call object fields {sorted(unknown)}")
    call: dict[str, Any] = {
        "from": parse_address(value["from"], "from") if value.get("from") else b"\x00" * 20,
        "to": parse_address(value["to"], "to") if value.get("to") else None,
        "value": parse_quantity(value.get("value", "0x0"), "value"),
        "gas": parse_quantity(value["gas"], "gas") if "gas" in value else None,
    }
    if "data" in value and "input" in value and value["data"] != value["input"]:
        raise InvalidParams("data and input differ; send one of them")
    raw = value.get("input", value.get("data"))
    call["data"] = parse_data(raw, "data") if raw is not None else b""
    return call
