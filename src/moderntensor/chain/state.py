"""World state: accounts and a namespaced key-value store, with a journal and a state root.

Everything lives in memory; :mod:`moderntensor.chain.store` writes the changed leaves back once
per block. Every change goes through a function here that takes the :class:`State` first, so
every change is journaled (for reverting a failed transaction) and marked dirty (for the
write-back and the root).

Module state (subnets, neurons, stakes, weights...) lives in the key-value layer under
its own namespace; it is covered by the same root and persisted in the same DB transaction:

>>> state = State()
>>> kv_set(state, "subnets", b"\\x00\\x01", b"text-generation")
>>> kv_get(state, "subnets", b"\\x00\\x01")
b'text-generation'
>>> cp = checkpoint(state); kv_delete(state, "subnets", b"\\x00\\x01"); rollback(state, cp)
>>> kv_get(state, "subnets", b"\\x00\\x01")
b'text-generation'

State root: each leaf (account or kv entry) hashes to ``keccak(len(key) || key || value)``;
leaves fall into 4,096 buckets by ``keccak(key)``; a bucket's hash is the keccak of its leaf
hashes in key order; the root is the keccak of the 4,096 bucket hashes (zero for an empty
bucket). Only buckets touched since the last root are rehashed. It is not an Ethereum
Merkle-Patricia trie (no ``eth_getProof``), but it commits to every byte of state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import rlp

from moderntensor.chain.errors import RpcError
from moderntensor.protocol.keccak import keccak

BUCKET_BITS = 12  # 4,096 buckets: a few hundred leaves each at 10^6 leaves, cheap to rehash
BUCKETS = 1 << BUCKET_BITS
EMPTY_BUCKET = b"\x00" * 32
ACCOUNT_PREFIX = b"a:"  # leaf key of an account: b"a:" + 20-byte address
KV_PREFIX = b"k:"  # leaf key of a kv entry: b"k:" + namespace + b"\x00" + key
SUPPLY_NS = "supply"  # genesis / minted / burned totals, for conservation checks

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Account:
    nonce: int = 0
    balance: int = 0


@dataclass
class State:
    """Accounts and module key-value state. Use the functions of this module to change it."""

    accounts: dict[bytes, Account] = field(default_factory=dict)
    kv: dict[str, dict[bytes, bytes]] = field(default_factory=dict)
    journal: list[tuple[str, bytes, object]] = field(default_factory=list)
    dirty: set[bytes] = field(default_factory=set)  # leaf keys changed since the last root
    unsaved: set[bytes] = field(default_factory=set)  # leaf keys changed since the last save
    _buckets: list[dict[bytes, bytes]] = field(
        default_factory=lambda: [{} for _ in range(BUCKETS)])
    _bucket_hashes: list[bytes] = field(default_factory=lambda: [EMPTY_BUCKET] * BUCKETS)


class InsufficientBalance(RpcError):  # noqa: N818 - reads as the condition
    code = "insufficient_funds"


def get_account(state: State, address: bytes) -> Account:
    """The account at ``address`` (a fresh empty one if never touched)."""
    return state.accounts.get(address) or Account()


def set_account(state: State, address: bytes, account: Account) -> None:
    old = state.accounts.get(address, _MISSING)
    state.journal.append(("a", address, old))
    if account.nonce == 0 and account.balance == 0:
        state.accounts.pop(address, None)  # empty accounts are not stored (EIP-161 spirit)
    else:
        state.accounts[address] = account
    _touch(state, ACCOUNT_PREFIX + address)


def add_balance(state: State, address: bytes, amount: int) -> None:
    if amount < 0:
        raise ValueError("add_balance takes a non-negative amount")
    if amount:
        account = get_account(state, address)
        set_account(state, address, Account(account.nonce, account.balance + amount))


def sub_balance(state: State, address: bytes, amount: int, *, bump_nonce: bool = False) -> None:
    """Debit ``amount``; raises :class:`InsufficientBalance` (no change) if it is not there.
    ``bump_nonce``: also count a transaction of ``address``, in the same write (every
    transaction starts with its gas payment, and one write instead of two is measurable at
    10k tx/s)."""
    if amount < 0:
        raise ValueError("sub_balance takes a non-negative amount")
    account = get_account(state, address)
    if account.balance < amount:
        raise InsufficientBalance(
            f"0x{address.hex()} has {account.balance} base units, needs {amount}")
    if amount or bump_nonce:
        set_account(state, address,
                    Account(account.nonce + bump_nonce, account.balance - amount))


def transfer(state: State, sender: bytes, recipient: bytes, amount: int) -> None:
    sub_balance(state, sender, amount)
    add_balance(state, recipient, amount)


def burn(state: State, address: bytes, amount: int) -> None:
    """Destroy ``amount`` MDT held by ``address`` and count it in the supply (fees)."""
    sub_balance(state, address, amount)
    count_burned(state, amount)


def count_burned(state: State, amount: int) -> None:
    """Count ``amount`` MDT, already taken from an account, as destroyed."""
    kv_add_int(state, SUPPLY_NS, b"burned", amount)


def kv_get(state: State, namespace: str, key: bytes) -> bytes | None:
    return state.kv.get(namespace, {}).get(key)


def kv_set(state: State, namespace: str, key: bytes, value: bytes) -> None:
    """Store ``value`` (bytes; encode ints/structs yourself, e.g. with rlp) under the key."""
    if not isinstance(value, bytes | bytearray):
        raise TypeError("kv values are bytes; encode them (rlp, int.to_bytes) first")
    if "\x00" in namespace or not namespace:
        raise ValueError("a namespace is a non-empty string without NUL")
    table = state.kv.setdefault(namespace, {})
    state.journal.append(("k", _kv_leaf(namespace, key), table.get(key, _MISSING)))
    table[key] = bytes(value)
    _touch(state, _kv_leaf(namespace, key))


def kv_delete(state: State, namespace: str, key: bytes) -> None:
    table = state.kv.get(namespace)
    if table is None or key not in table:
        return
    state.journal.append(("k", _kv_leaf(namespace, key), table.pop(key)))
    _touch(state, _kv_leaf(namespace, key))


def kv_items(state: State, namespace: str, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
    """(key, value) pairs of a namespace whose key starts with ``prefix``, in key order."""
    table = state.kv.get(namespace, {})
    for key in sorted(k for k in table if k.startswith(prefix)):
        yield key, table[key]


def kv_get_int(state: State, namespace: str, key: bytes) -> int:
    value = kv_get(state, namespace, key)
    return int.from_bytes(value, "big") if value else 0


def kv_set_int(state: State, namespace: str, key: bytes, value: int) -> None:
    if value < 0:
        raise ValueError("kv ints are non-negative")
    kv_set(state, namespace, key, value.to_bytes((value.bit_length() + 7) // 8, "big"))


def kv_add_int(state: State, namespace: str, key: bytes, delta: int) -> None:
    if delta:
        kv_set_int(state, namespace, key, kv_get_int(state, namespace, key) + delta)


def checkpoint(state: State) -> int:
    """A point to :func:`rollback` to (e.g. before a transaction's effects)."""
    return len(state.journal)


def rollback(state: State, point: int) -> None:
    """Undo every change made since ``point``."""
    while len(state.journal) > point:
        kind, key, old = state.journal.pop()
        if kind == "a":
            if old is _MISSING:
                state.accounts.pop(key, None)
            else:
                state.accounts[key] = old  # type: ignore[assignment]
            _touch(state, ACCOUNT_PREFIX + key)
        else:
            namespace, _, inner = key[len(KV_PREFIX):].partition(b"\x00")
            table = state.kv.setdefault(namespace.decode(), {})
            if old is _MISSING:
                table.pop(inner, None)
            else:
                table[inner] = old  # type: ignore[assignment]
            _touch(state, key)


def total_balance(state: State) -> int:
    return sum(account.balance for account in state.accounts.values())


def leaf_value(state: State, leaf_key: bytes) -> bytes | None:
    """The stored bytes of a leaf (what the store persists), or None if it is absent."""
    if leaf_key.startswith(ACCOUNT_PREFIX):
        account = state.accounts.get(leaf_key[len(ACCOUNT_PREFIX):])
        return None if account is None else rlp.encode([account.nonce, account.balance])
    namespace, _, key = leaf_key[len(KV_PREFIX):].partition(b"\x00")
    return state.kv.get(namespace.decode(), {}).get(key)


def load_leaf(state: State, leaf_key: bytes, value: bytes) -> None:
    """Put a persisted leaf back into memory (at startup); not journaled, marked for the root."""
    if leaf_key.startswith(ACCOUNT_PREFIX):
        nonce, balance = (int.from_bytes(x, "big") for x in rlp.decode(value))
        state.accounts[leaf_key[len(ACCOUNT_PREFIX):]] = Account(nonce, balance)
    else:
        namespace, _, key = leaf_key[len(KV_PREFIX):].partition(b"\x00")
        state.kv.setdefault(namespace.decode(), {})[key] = value
    state.dirty.add(leaf_key)


def state_root(state: State) -> bytes:
    """The 32-byte commitment to the whole state (rehashes only the touched buckets)."""
    touched: set[int] = set()
    for leaf_key in state.dirty:
        index = int.from_bytes(keccak(leaf_key)[:2], "big") >> (16 - BUCKET_BITS)
        bucket = state._buckets[index]
        value = leaf_value(state, leaf_key)
        if value is None:
            bucket.pop(leaf_key, None)
        else:
            bucket[leaf_key] = keccak(len(leaf_key).to_bytes(2, "big") + leaf_key + value)
        touched.add(index)
    state.dirty.clear()
    for index in touched:
        bucket = state._buckets[index]
        state._bucket_hashes[index] = (
            keccak(b"".join(bucket[k] for k in sorted(bucket))) if bucket else EMPTY_BUCKET)
    return keccak(b"".join(state._bucket_hashes))


def unsaved_changes(state: State) -> dict[bytes, bytes | None]:
    """Leaves changed since the last :func:`mark_saved`, with their bytes (None = deleted)."""
    return {leaf_key: leaf_value(state, leaf_key) for leaf_key in state.unsaved}


def mark_saved(state: State) -> None:
    """The store committed the changes: forget them and the undo journal."""
    state.unsaved.clear()
    state.journal.clear()


def _kv_leaf(namespace: str, key: bytes) -> bytes:
    return KV_PREFIX + namespace.encode() + b"\x00" + key


def _touch(state: State, leaf_key: bytes) -> None:
    state.dirty.add(leaf_key)
    state.unsaved.add(leaf_key)
