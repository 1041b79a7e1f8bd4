"""Revert data as Ethereum tools expect it: ABI-encoded ``Error(string)``.

A failed call answers JSON-RPC error 3 with ``data`` = ``0x08c379a0 || abi_encode(string)``,
which ethers and web3.py decode into a reason. The string is ``"<code>: <message>"``, so the
stable snake_case code travels with it and :func:`decode_revert` gets both back.
"""

from __future__ import annotations

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak

ERROR_SELECTOR = keccak(text="Error(string)")[:4]  # 0x08c379a0


def encode_revert(code: str, message: str) -> bytes:
    """``Error(string)`` revert data carrying ``code`` and ``message``."""
    return ERROR_SELECTOR + encode(["string"], [f"{code}: {message}"])


def decode_revert(data: bytes) -> tuple[str, str] | None:
    """(code, message) from :func:`encode_revert`'s bytes; None if they are not Error(string).

    A reason without a ``code:`` prefix (another contract's) comes back as
    ``("execution_reverted", reason)``.
    """
    if data[:4] != ERROR_SELECTOR:
        return None
    try:
        (reason,) = decode(["string"], data[4:])
    except (DecodingError, ValueError, OverflowError):
        return None
    code, sep, message = reason.partition(": ")
    if sep and code and code.replace("_", "").isalnum() and code.islower():
        return code, message
    return "execution_reverted", reason
