"""In-process chain pieces for unit tests: a spec with known keys and an example module."""

from __future__ import annotations

from pathlib import Path

from eth_account import Account
from eth_utils import keccak

from moderntensor.chain.app import App
from moderntensor.chain.errors import ExecutionError, TxRejected
from moderntensor.chain.extensions import BlockContext, Extensions, SystemContract, TxContext
from moderntensor.chain.genesis import ChainSpec
from moderntensor.chain.state import State, kv_add_int, kv_get, kv_set
from moderntensor.chain.store import Store
from moderntensor.chain.txs import SignedTx

CHAIN = 1337
KEYS = ["0x" + f"{i:02x}" * 32 for i in range(1, 5)]
ADDRESSES = [bytes.fromhex(Account.from_key(k).address[2:]) for k in KEYS]
EMPTY_KEY = "0x" + "99" * 32  # an account with 0 MDT
COINBASE = b"\xcb" * 20
ECHO = b"\x00" * 19 + b"\x01"
ECHO_TOPIC = keccak(b"Echo(bytes)")
FUNDS = 10**24


def spec(**overrides: object) -> ChainSpec:
    values: dict = {"chain_id": CHAIN, "alloc": dict.fromkeys(ADDRESSES, FUNDS),
                    "coinbase": COINBASE}
    values.update(overrides)
    return ChainSpec(**values)


def sign(key: str, nonce: int, *, to: bytes = b"\x42" * 20, value: int = 1, gas: int = 21_000,
         price: int = 2 * 10**9, tip: int | None = None, data: bytes = b"") -> bytes:
    tx: dict = {"to": "0x" + to.hex(), "value": value, "gas": gas, "nonce": nonce,
                "chainId": CHAIN, "data": data}
    if tip is None:
        tx["gasPrice"] = price
    else:
        tx.update(maxFeePerGas=price, maxPriorityFeePerGas=tip)
    from eth_utils import to_checksum_address

    tx["to"] = to_checksum_address(tx["to"])
    return bytes(Account.sign_transaction(tx, key).raw_transaction)


def echo_execute(state: State, ctx: TxContext, calldata: bytes) -> bytes:
    """Stores the calldata for the sender and logs it; b"fail" fails after changing state."""
    kv_set(state, "echo", ctx.sender, calldata)
    ctx.emit([ECHO_TOPIC], calldata)
    if calldata == b"fail":
        raise ExecutionError("asked to fail", code="echo_failed")
    return calldata


def echo_view(state: State, ctx: TxContext, calldata: bytes) -> bytes:
    kv_set(state, "echo", b"view", b"must not persist")
    return kv_get(state, "echo", calldata) or b""


def echo_fee_free(state: State, tx: SignedTx) -> bool:
    if tx.data == b"reject":
        raise TxRejected("bad proof of work", code="bad_pow")
    return tx.data.startswith(b"free")


def count_blocks(state: State, ctx: BlockContext) -> None:
    kv_add_int(state, "counter", b"blocks", 1)
    if ctx.number % 2 == 0:
        ctx.emit(ECHO, [ECHO_TOPIC], b"even")


def install_echo(extensions: Extensions) -> None:
    extensions.add_system_contract(SystemContract(ECHO, echo_execute, echo_view, echo_fee_free,
                                                  gas=5_000, name="echo"))
    extensions.end_block.append(count_blocks)
    extensions.genesis.append(lambda state, spec: kv_set(state, "echo", b"genesis", b"hi"))
    extensions.rpc_methods["mt_echo"] = lambda node, params: kv_get(
        node.state, "echo", bytes.fromhex(params[0][2:])).decode()


def make_app(path: Path, *, with_echo: bool = True, **overrides: object) -> App:
    extensions = Extensions()
    if with_echo:
        install_echo(extensions)
    return App(spec(**overrides), Store(path), extensions)


def mine(app: App, timestamp: int = 1):
    result = app.finalize_block(timestamp)
    app.commit(result)
    return result.block
