"""The system-call table is the one declaration: dispatch, fees, client and docs follow it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import made_up_syscall
from chain_support import DEV, running_node
from moderntensor.chain.modules.system import resolve
from moderntensor.client import LuxtensorClient, TxResult
from moderntensor.errors import InvalidInputError
from moderntensor.protocol.syscall_table import SYSCALLS, reference_markdown
from moderntensor.protocol.syscalls import (
    FUNCTIONS,
    SYSTEM_ABI,
    SYSTEM_ADDRESS,
    UnknownSyscallError,
    decode_result,
    encode_call,
    remove_syscall,
)
from moderntensor.wallet import Wallet

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize("entry", SYSCALLS, ids=lambda entry: entry.name)
def test_every_entry_names_functions_the_chain_can_run(entry) -> None:
    assert callable(resolve(entry.handler))
    if entry.free_check is not None:
        assert callable(resolve(entry.free_check))


def test_the_docs_reference_table_is_generated_from_the_table() -> None:
    text = (ROOT / "docs" / "rpc.md").read_text()
    start = text.index("\n", text.index("<!-- syscall-table")) + 1
    end = text.index("<!-- /syscall-table -->")
    assert text[start:end] == reference_markdown(), (
        "regenerate the table in docs/rpc.md with "
        "moderntensor.protocol.syscall_table.reference_markdown()")


@pytest.fixture
def with_made_up_call() -> Iterator[None]:
    made_up_syscall.add()
    try:
        yield
    finally:
        remove_syscall(made_up_syscall.ENTRY.name)


def test_adding_an_entry_extends_the_abi_and_removing_it_restores_it(with_made_up_call) -> None:
    assert "bumpCounter" in FUNCTIONS
    assert any(item["name"] == "bumpCounter" for item in SYSTEM_ABI)
    remove_syscall("bumpCounter")
    assert "bumpCounter" not in FUNCTIONS
    made_up_syscall.add()


@pytest.mark.e2e
def test_a_made_up_call_runs_through_the_client_over_rpc(tmp_path: Path,
                                                         with_made_up_call) -> None:
    """One table entry and one handler (tests/made_up_syscall.py): nothing else is edited."""
    node_cmd = (sys.executable, "-c", "import made_up_syscall; made_up_syscall.add(); "
                "from moderntensor.cli.main import run; run()", "node", "start")
    env = {"PYTHONPATH": str(TESTS)}
    with running_node(tmp_path / "node", node_cmd=node_cmd, env=env) as node, \
            LuxtensorClient(node.url, wallet=Wallet.from_private_key(DEV[1].private_key)) as client:
        first = client.syscall("bumpCounter", 5)
        second = client.syscall("bumpCounter", by=2)
        assert isinstance(first, TxResult) and first.ok and second.ok
        assert second.block_number >= first.block_number
        # an eth_call simulates the call on the committed state: 5 + 2 + 0
        raw = client.call("eth_call", {"from": DEV[1].address, "to": SYSTEM_ADDRESS,
                                       "data": "0x" + encode_call("bumpCounter", 0).hex()},
                          "latest")
        assert decode_result("bumpCounter", bytes.fromhex(raw[2:])) == {"total": 7}


def test_an_unknown_call_is_refused_before_anything_is_sent() -> None:
    with LuxtensorClient("http://127.0.0.1:9") as client, \
            pytest.raises(UnknownSyscallError, match="noSuchCall"):
        client.syscall("noSuchCall")


def test_the_former_argument_name_subnet_still_encodes_netuid() -> None:
    assert encode_call("registerValidator", subnet=3) == encode_call("registerValidator", netuid=3)


def test_subnet_id_is_an_alias_of_netuid_but_not_a_second_one() -> None:
    with LuxtensorClient("http://127.0.0.1:9") as client, \
            pytest.raises(InvalidInputError, match="give the subnet once"):
        client.register_validator(1, subnet_id=1)
