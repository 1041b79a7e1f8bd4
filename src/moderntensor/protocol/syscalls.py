"""System calls: the reserved address, the ABI of every chain operation, and its codec.

The calls themselves are declared in :mod:`.syscall_table`; everything here derives from it.

ModernTensor operations are transactions to :data:`SYSTEM_ADDRESS` with ABI-encoded calldata,
like EVM precompiles; views answer ``eth_call``; state changes emit logs. :data:`SYSTEM_ABI` is
the JSON ABI a web3.py ``Contract`` takes (also shipped as ``abi/ModernTensor.json``)::

    from web3 import Web3
    mt = Web3(Web3.HTTPProvider("http://127.0.0.1:8545")).eth.contract(
        address=SYSTEM_ADDRESS, abi=SYSTEM_ABI)
    mt.functions.getSubnets().call()

Addresses ``0x…0800`` to ``0x…08ff`` are reserved for system contracts (:func:`is_system_address`);
``0x…0800`` is the only one used: one contract, one ABI, one address for clients to know. The
range sits far above Ethereum's precompiles (``0x01``-``0x11``) and no key can own it.

Units on the wire: MDT amounts are uint256 base units (18 decimals); weights and the four score
components are u16 fixed point (65535 = 1.0); scores and subnet weights are ppb (10**9 = 1.0);
``role`` is 0 for a miner, 1 for a validator. ``params``/``metadata`` are JSON objects as
strings ("" = defaults); their keys are in docs/rpc.md ("System calls"). A subnet id is
``netuid`` everywhere; :func:`encode_call` still accepts its former name ``subnet=``.

>>> call = decode_call(encode_call("registerValidator", netuid=1))
>>> call.name, call.args
('registerValidator', {'netuid': 1})
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils import is_address, keccak, to_canonical_address, to_checksum_address

from moderntensor.errors import InvalidInputError
from moderntensor.protocol.syscall_table import EVENTS_TABLE, SYSCALLS, Syscall

SYSTEM_ADDRESS = "0x0000000000000000000000000000000000000800"  # the system contract
SYSTEM_ADDRESS_BYTES = bytes.fromhex(SYSTEM_ADDRESS[2:])
RESERVED_FIRST = 0x0800             # reserved system range, first address (as an integer)
RESERVED_LAST = 0x08FF              # ... and last: room for future system contracts
MAX_MODEL_FIELD = 64                # characters of registerMiner's model name, type, version

class UnknownSyscallError(InvalidInputError):
    """Calldata names no system call (its 4-byte selector is unknown), or a name is unknown."""

    code = "unknown_call"


class SyscallDataError(InvalidInputError):
    """Calldata, results or logs that do not (canonically) decode as the ABI says."""

    code = "invalid_calldata"


def _params(text: str, *, event: bool = False) -> list[dict[str, Any]]:
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        words = part.split()
        param: dict[str, Any] = {"name": words[-1], "type": words[0]}
        if event:
            param["indexed"] = "indexed" in words[1:-1]
        out.append(param)
    return out


def abi_json() -> str:
    """The ABI as the shipped JSON file holds it (stable formatting, trailing newline)."""
    return json.dumps(SYSTEM_ABI, indent=2) + "\n"


@dataclass(frozen=True)
class FunctionSpec:
    """One system call: its selector and typed inputs/outputs."""

    name: str
    selector: bytes
    input_names: tuple[str, ...]
    input_types: tuple[str, ...]
    output_names: tuple[str, ...]
    output_types: tuple[str, ...]
    mutability: str

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.input_types)})"

    @property
    def is_view(self) -> bool:
        return self.mutability in ("view", "pure")


@dataclass(frozen=True)
class EventSpec:
    """One log: ``topic`` = keccak of its signature; fields as (name, type, indexed)."""

    name: str
    topic: bytes
    fields: tuple[tuple[str, str, bool], ...]


@dataclass(frozen=True)
class SysCall:
    """Decoded calldata: the call's name and its arguments by name (arrays as lists)."""

    name: str
    args: dict[str, Any]


def _function(item: dict[str, Any]) -> FunctionSpec:
    types = tuple(i["type"] for i in item["inputs"])
    return FunctionSpec(
        name=item["name"], selector=keccak(text=f"{item['name']}({','.join(types)})")[:4],
        input_names=tuple(i["name"] for i in item["inputs"]), input_types=types,
        output_names=tuple(o["name"] for o in item["outputs"]),
        output_types=tuple(o["type"] for o in item["outputs"]),
        mutability=item["stateMutability"])


def _event(item: dict[str, Any]) -> EventSpec:
    fields = tuple((i["name"], i["type"], i["indexed"]) for i in item["inputs"])
    signature = f"{item['name']}({','.join(t for _, t, _ in fields)})"
    return EventSpec(item["name"], keccak(text=signature), fields)


SYSTEM_ABI: list[dict[str, Any]] = []              # the web3.py JSON ABI
TABLE: dict[str, Syscall] = {}                      # the table's entries by name
FUNCTIONS: dict[str, FunctionSpec] = {}
SELECTORS: dict[bytes, FunctionSpec] = {}
EVENTS: dict[str, EventSpec] = {}
EVENT_TOPICS: dict[str, bytes] = {}
_BY_TOPIC: dict[bytes, EventSpec] = {}


def _derive() -> None:
    """Fill the indexes above from the table, in place (importers hold these very objects)."""
    abi = [{"type": "function", "name": entry.name, "stateMutability": entry.mutability,
            "inputs": _params(entry.inputs), "outputs": _params(entry.outputs)}
           for entry in SYSCALLS] + [
        {"type": "event", "name": name, "anonymous": False, "inputs": _params(inputs, event=True)}
        for name, inputs in EVENTS_TABLE]
    SYSTEM_ABI[:] = abi
    for index in (TABLE, FUNCTIONS, SELECTORS, EVENTS, EVENT_TOPICS, _BY_TOPIC):
        index.clear()
    TABLE.update((entry.name, entry) for entry in SYSCALLS)
    FUNCTIONS.update((item["name"], _function(item)) for item in abi if item["type"] == "function")
    SELECTORS.update((spec.selector, spec) for spec in FUNCTIONS.values())
    EVENTS.update((item["name"], _event(item)) for item in abi if item["type"] == "event")
    EVENT_TOPICS.update((name, spec.topic) for name, spec in EVENTS.items())
    _BY_TOPIC.update((spec.topic, spec) for spec in EVENTS.values())


def add_syscall(entry: Syscall) -> None:
    """Add a call to the table at run time (a plug-in module, a test): every index follows.

    The node and its clients must add the same entry, as they must share one ABI."""
    if entry.name in TABLE:
        raise ValueError(f"a system call named {entry.name!r} exists already")
    SYSCALLS.append(entry)
    _derive()


def remove_syscall(name: str) -> None:
    """Undo :func:`add_syscall`."""
    SYSCALLS[:] = [entry for entry in SYSCALLS if entry.name != name]
    _derive()


_derive()


def is_system_address(address: str | bytes) -> bool:
    """True for any address of the reserved system range 0x…0800 - 0x…08ff."""
    if isinstance(address, str):
        if not is_address(address):
            return False
        address = to_canonical_address(address)
    return len(address) == 20 and RESERVED_FIRST <= int.from_bytes(address, "big") <= RESERVED_LAST


def function_spec(name: str) -> FunctionSpec:
    """The spec of a system call by name; :class:`UnknownSyscallError` if there is none."""
    spec = FUNCTIONS.get(name)
    if spec is None:
        raise UnknownSyscallError(f"no system call named {name!r}; known: {sorted(FUNCTIONS)}")
    return spec


def syscall_entry(name: str) -> Syscall:
    """The table's entry of a system call; :class:`UnknownSyscallError` if there is none."""
    function_spec(name)
    return TABLE[name]


def _bind(names: Sequence[str], args: Sequence[Any], kwargs: Mapping[str, Any],
          what: str) -> list[Any]:
    if args and kwargs:
        raise SyscallDataError(f"{what}: pass arguments by position or by name, not both")
    if "subnet" in kwargs and "netuid" in names and "netuid" not in kwargs:
        kwargs = {("netuid" if key == "subnet" else key): value for key, value in kwargs.items()}
    if kwargs:
        if set(kwargs) != set(names):
            raise SyscallDataError(f"{what} takes {list(names)}, got {sorted(kwargs)}")
        return [kwargs[n] for n in names]
    if len(args) != len(names):
        raise SyscallDataError(f"{what} takes {len(names)} arguments {list(names)}")
    return list(args)


def _encode(types: Sequence[str], values: Sequence[Any], what: str) -> bytes:
    try:
        return encode(list(types), list(values))
    except (EncodingError, OverflowError, TypeError, ValueError) as exc:
        raise SyscallDataError(f"cannot encode {what}: {exc}") from None


def _decode(types: Sequence[str], data: bytes, what: str) -> list[Any]:
    """Decode and insist on the canonical encoding: one byte string per meaning (no padding
    tricks, no trailing bytes), so a call's bytes and its arguments identify each other."""
    try:
        values = decode(list(types), bytes(data))
        canonical = encode(list(types), values)
    except (DecodingError, EncodingError, OverflowError, TypeError, ValueError) as exc:
        raise SyscallDataError(f"{what} does not decode as ({','.join(types)}): {exc}") from None
    if canonical != bytes(data):
        raise SyscallDataError(f"{what} is not canonically encoded ({','.join(types)})")
    return [_plain(kind, value) for kind, value in zip(types, values, strict=True)]


def _plain(kind: str, value: Any) -> Any:
    """Arrays as lists, addresses EIP-55 checksummed (as web3.py shows them)."""
    if kind.endswith("]"):
        return [_plain(kind[:kind.rindex("[")], v) for v in value]
    return to_checksum_address(value) if kind == "address" else value


def encode_call(name: str, /, *args: Any, **kwargs: Any) -> bytes:
    """Calldata for a system call, arguments by position or by name.

    >>> encode_call("getSubnets").hex() == FUNCTIONS["getSubnets"].selector.hex()
    True
    """
    spec = function_spec(name)
    values = _bind(spec.input_names, args, kwargs, name)
    return spec.selector + _encode(spec.input_types, values, f"{name} arguments")


def decode_call(data: bytes) -> SysCall:
    """Calldata -> :class:`SysCall`. Raises :class:`UnknownSyscallError` for an unknown
    selector and :class:`SyscallDataError` for data that is not its canonical ABI encoding."""
    selector = bytes(data[:4])
    spec = SELECTORS.get(selector)
    if spec is None or len(selector) < 4:
        raise UnknownSyscallError(f"unknown system call selector 0x{selector.hex()}",
                                  data={"selector": "0x" + selector.hex()})
    values = _decode(spec.input_types, data[4:], f"calldata of {spec.name}")
    return SysCall(spec.name, dict(zip(spec.input_names, values, strict=True)))


def encode_result(name: str, *values: Any) -> bytes:
    """ABI-encode what a call/view returns (``eth_call`` answer, tx return data)."""
    spec = function_spec(name)
    bound = _bind(spec.output_names, values, {}, f"{name} result")
    return _encode(spec.output_types, bound, f"the result of {name}")


def decode_result(name: str, data: bytes) -> dict[str, Any]:
    """A call's return data -> its outputs by name (``{"uid": 3}``)."""
    spec = function_spec(name)
    values = _decode(spec.output_types, data, f"the result of {name}")
    return dict(zip(spec.output_names, values, strict=True))


def encode_event(name: str, fields: Mapping[str, Any]) -> tuple[list[bytes], bytes]:
    """A log's topics (event topic, then indexed fields) and data (the other fields).

    Indexed dynamic values (strings, bytes, arrays) are stored as their keccak, as Solidity does.
    """
    spec = EVENTS.get(name)
    if spec is None:
        raise UnknownSyscallError(f"no event named {name!r}; known: {sorted(EVENTS)}")
    missing = [n for n, _, _ in spec.fields if n not in fields]
    if missing:
        raise SyscallDataError(f"event {name} lacks {missing}")
    topics = [spec.topic]
    data_types, data_values = [], []
    for field_name, kind, indexed in spec.fields:
        if indexed:
            word = _encode([kind], [fields[field_name]], f"{name}.{field_name}")
            topics.append(word if _is_static(kind) else keccak(word))
        else:
            data_types.append(kind)
            data_values.append(fields[field_name])
    return topics, _encode(data_types, data_values, f"{name} data")


def decode_event(topics: Sequence[bytes], data: bytes) -> tuple[str, dict[str, Any]]:
    """A log back to (event name, fields by name); indexed dynamic fields stay hashes."""
    spec = _BY_TOPIC.get(bytes(topics[0])) if topics else None
    if spec is None:
        raise UnknownSyscallError("the log's first topic names no ModernTensor event")
    indexed = [(n, t) for n, t, i in spec.fields if i]
    if len(topics) != len(indexed) + 1:
        raise SyscallDataError(f"{spec.name} has {len(indexed)} indexed fields, "
                               f"the log {len(topics) - 1}")
    out: dict[str, Any] = {}
    for (field_name, kind), topic in zip(indexed, topics[1:], strict=True):
        out[field_name] = (_decode([kind], topic, f"{spec.name}.{field_name}")[0]
                           if _is_static(kind) else bytes(topic))
    plain = [(n, t) for n, t, i in spec.fields if not i]
    values = _decode([t for _, t in plain], data, f"{spec.name} data")
    out.update(zip([n for n, _ in plain], values, strict=True))
    return spec.name, {n: out[n] for n, _, _ in spec.fields}


def _is_static(kind: str) -> bool:
    return kind not in ("string", "bytes") and not kind.endswith("]")
