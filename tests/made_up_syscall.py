"""A made-up system call, the way any new one is added: one table entry and its handler.

``bumpCounter(by)`` adds ``by`` to the caller's counter in state and returns the new total.
:func:`add` puts the entry in the table of the process that calls it (the node and the client
must both know the ABI); nothing else in the code base is edited.
"""

from __future__ import annotations

from typing import Any

from moderntensor.chain.state import State, kv_get_int, kv_set_int
from moderntensor.protocol.syscall_table import Syscall
from moderntensor.protocol.syscalls import add_syscall

ENTRY = Syscall("bumpCounter", "uint64 by", "uint64 total", handler=f"{__name__}:bump_counter",
                notes="a test's made-up call")


def bump_counter(state: State, system: bytes, call: Any, args: dict[str, Any],
                 emit: Any) -> int:
    total = kv_get_int(state, "test.counter", call.sender) + args["by"]
    kv_set_int(state, "test.counter", call.sender, total)
    return total


def add() -> None:
    add_syscall(ENTRY)
