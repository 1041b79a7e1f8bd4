"""Typed errors shared by every part of ModernTensor.

Every error carries a stable snake_case ``code`` (what scripts and the wire protocol match on)
and a ``message`` a person can act on. Boundaries (RPC, miner HTTP, CLI) turn these into
their own error shapes; nothing below a boundary formats errors for display.
"""

from __future__ import annotations

from typing import Any


class ModernTensorError(Exception):
    """Base class: ``code`` is stable, ``message`` is for people, ``data`` for machines."""

    code: str = "moderntensor_error"

    def __init__(self, message: str, *, code: str | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.data = data

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            body["data"] = self.data
        return body


class InvalidInputError(ModernTensorError, ValueError):
    """A caller passed a value that can never be valid; fix the input and retry."""

    code = "invalid_input"


class InvalidAmountError(InvalidInputError):
    code = "invalid_amount"


class InvalidMnemonicError(InvalidInputError):
    code = "invalid_mnemonic"


class InvalidPrivateKeyError(InvalidInputError):
    code = "invalid_private_key"


class WalletError(ModernTensorError):
    code = "wallet_error"


class WalletNotFoundError(WalletError):
    code = "wallet_not_found"


class WalletExistsError(WalletError):
    code = "wallet_exists"


class WrongPasswordError(WalletError):
    code = "wrong_password"


class ConfigError(ModernTensorError):
    code = "config_error"
