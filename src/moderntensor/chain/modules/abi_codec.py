"""ABI encoding for the system contract: calldata -> (name, args), results and events -> bytes.

Generic over a JSON ABI (the list a web3.py ``Contract`` takes), so the one ABI shipped in
:mod:`moderntensor.protocol.syscalls` is the single source of truth for the node and clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils import keccak

from moderntensor.chain.errors import ExecutionError


def _type(item: dict[str, Any]) -> str:
    """The canonical ABI type of an input/output, tuples expanded (``(uint16,string)[]``)."""
    kind = item["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_type(c) for c in item["components"])
        return f"({inner}){kind[len('tuple'):]}"
    return kind


@dataclass(frozen=True)
class Function:
    name: str
    selector: bytes
    input_names: tuple[str, ...]
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    view: bool


@dataclass(frozen=True)
class Event:
    name: str
    topic: bytes
    fields: tuple[tuple[str, str, bool], ...]     # (name, type, indexed)


class AbiCodec:
    """Functions by selector and events by name, from a JSON ABI."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self.functions: dict[bytes, Function] = {}
        self.by_name: dict[str, Function] = {}
        self.events: dict[str, Event] = {}
        for item in abi:
            if item.get("type") == "function":
                types = tuple(_type(i) for i in item.get("inputs", []))
                signature = f"{item['name']}({','.join(types)})"
                function = Function(
                    name=item["name"], selector=keccak(text=signature)[:4],
                    input_names=tuple(i["name"] for i in item.get("inputs", [])),
                    input_types=types,
                    output_types=tuple(_type(o) for o in item.get("outputs", [])),
                    view=item.get("stateMutability") in ("view", "pure"))
                self.functions[function.selector] = function
                self.by_name[function.name] = function
            elif item.get("type") == "event":
                fields = tuple((i["name"], _type(i), bool(i.get("indexed")))
                               for i in item.get("inputs", []))
                signature = f"{item['name']}({','.join(t for _, t, _ in fields)})"
                self.events[item["name"]] = Event(item["name"], keccak(text=signature), fields)

    def decode_call(self, data: bytes) -> tuple[Function, dict[str, Any]]:
        """The function and its arguments by name; ``invalid_calldata`` if they do not decode."""
        function = self.functions.get(bytes(data[:4]))
        if function is None:
            raise ExecutionError(
                f"unknown system call selector 0x{bytes(data[:4]).hex()}; see the ABI in "
                "moderntensor.protocol.syscalls", code="unknown_call")
        try:
            values = decode(list(function.input_types), bytes(data[4:]), strict=False)
        except (DecodingError, OverflowError, ValueError) as exc:
            raise ExecutionError(f"calldata does not decode as {function.name}"
                                 f"({','.join(function.input_types)}): {exc}",
                                 code="invalid_calldata") from None
        return function, dict(zip(function.input_names, _plain(values), strict=True))

    def encode_call(self, name: str, args: dict[str, Any]) -> bytes:
        function = self.by_name[name]
        return function.selector + encode(list(function.input_types),
                                          [args[n] for n in function.input_names])

    def encode_output(self, function: Function, value: Any) -> bytes:
        if not function.output_types:
            return b""
        values = value if len(function.output_types) > 1 else (value,)
        try:
            return encode(list(function.output_types), list(values))
        except EncodingError as exc:   # a bug, not bad input: say which
            raise ExecutionError(f"cannot encode the result of {function.name}: {exc}",
                                 code="internal_error") from None

    def encode_event(self, name: str, args: dict[str, Any]) -> tuple[list[bytes], bytes]:
        """Topics (event topic + indexed fields) and data (the other fields, ABI-encoded)."""
        event = self.events[name]
        topics = [event.topic]
        data_types, data_values = [], []
        for field_name, kind, indexed in event.fields:
            value = args[field_name]
            if indexed:
                topics.append(encode([kind], [value]) if _is_static(kind)
                              else keccak(encode([kind], [value])))
            else:
                data_types.append(kind)
                data_values.append(value)
        return topics, encode(data_types, data_values)


def _is_static(kind: str) -> bool:
    return kind not in ("string", "bytes") and not kind.endswith("]")


def _plain(values: Any) -> Any:
    """Tuples from eth_abi -> lists (so args compare and serialise plainly)."""
    if isinstance(values, tuple | list):
        return [_plain(v) for v in values]
    return values
