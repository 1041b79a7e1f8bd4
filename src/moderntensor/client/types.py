"""What the client returns: small frozen dataclasses, amounts as int base units."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moderntensor.units import format_mdt


@dataclass(frozen=True)
class Log:
    address: str
    topics: list[str]
    data: str
    event: str | None = None            # decoded event name, when the ABI knows it
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TxResult:
    """A mined transaction: hash, block, status, fee, logs; ``uid`` for registrations."""

    tx_hash: str
    block_number: int
    status: int
    gas_used: int
    effective_gas_price: int
    logs: list[Log] = field(default_factory=list)
    uid: int | None = None
    error: dict[str, Any] | None = None  # the node's revert reason: {"code", "message"}

    @property
    def ok(self) -> bool:
        return self.status == 1

    @property
    def fee(self) -> int:
        return self.gas_used * self.effective_gas_price

    def __str__(self) -> str:
        extra = f", uid {self.uid}" if self.uid is not None else ""
        state = "ok" if self.ok else "failed"
        fee = format_mdt(self.fee)
        return f"{self.tx_hash} ({state}, block {self.block_number}{extra}, fee {fee})"
