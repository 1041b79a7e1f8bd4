"""What ``inference`` receives: the request's fields plus who sent it and when it arrived."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class MinerRequest:
    """One verified, validated request, as handed to ``inference(self, request)``.

    ``input`` and ``params`` are the request's JSON values; ``sender`` is the validator's
    lowercase address; ``elapsed_ms`` counts from the moment the request reached the server.
    """

    netuid: int
    task: str
    input: Any
    params: dict[str, Any]
    sender: str
    nonce: int
    arrived_ns: int = field(default_factory=time.perf_counter_ns)
    model_ns: int = 0  # time spent inside the model, filled in by the dispatcher

    @property
    def subnet(self) -> int:
        """The subnet id under its former name (documented alias of :attr:`netuid`)."""
        return self.netuid

    @property
    def elapsed_ms(self) -> float:
        """Milliseconds since the request arrived."""
        return (time.perf_counter_ns() - self.arrived_ns) / 1e6
