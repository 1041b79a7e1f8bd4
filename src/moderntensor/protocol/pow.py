"""Registration proof of work: what a 0-MDT miner pays instead of a fee.

The client solves it and the chain verifies it with the same functions. The preimage binds the
work to one chain, one subnet, one address and one recent block, so it cannot be reused across
any of them::

    keccak256(POW_DOMAIN || chain_id u64 || subnet u64 || address 20 bytes || block_hash 32 bytes
              || nonce u64)          (integers big-endian; 94 bytes, one keccak block)

It is valid when the hash, read as a big-endian 256-bit integer, is below
``pow_target(difficulty) = 2**256 // difficulty``: ``difficulty`` is the expected number of
hashes (2**16 ~ "16 leading zero bits"), which lets :func:`adjust_difficulty` move it smoothly.

>>> h = "0x" + "11" * 32
>>> s = solve_pow(chain_id=1, netuid=1, address="0x" + "22" * 20, block_hash=h, difficulty=16)
>>> verify_pow(chain_id=1, netuid=1, address="0x" + "22" * 20, block_hash=h, nonce=s.nonce,
...            difficulty=16)
True
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any

from eth_utils import is_address, to_canonical_address

from moderntensor.errors import InvalidInputError, ModernTensorError
from moderntensor.protocol.keccak import keccak

POW_DOMAIN = b"moderntensor/pow/1"   # separates PoW preimages from every other keccak use
DEV_POW_DIFFICULTY = 2**15           # ~0.2-0.5 s on one busy core: dev chains and tests stay quick
DEFAULT_POW_DIFFICULTY = 2**22       # ~a minute on one core: a real cost for a free sybil
MIN_POW_DIFFICULTY = 2**10           # adjustment never makes registration free of work
MAX_POW_DIFFICULTY = 2**40           # keeps registration reachable for a laptop in a day
MAX_ADJUST_FACTOR = 4                # one adjustment moves difficulty at most x4 or /4
POW_MAX_BLOCK_AGE = 100              # a proof names a block at most this many blocks old
POW_CHUNK = 1 << 14                  # hashes between progress reports / worker hand-offs
NONCE_LIMIT = 2**64                  # nonces are u64 (the ABI's powNonce)

ProgressCallback = Callable[[int], Any]


class InvalidPowError(InvalidInputError):
    """A proof-of-work argument is malformed (address, block hash, nonce, difficulty)."""

    code = "invalid_pow"


class PowNotFoundError(ModernTensorError):
    """No nonce met the difficulty within the allowed number of hashes."""

    code = "pow_not_found"


@dataclass(frozen=True)
class PowSolution:
    """A solved proof: submit ``nonce`` and ``block_number`` with ``registerMiner``."""

    nonce: int
    block_number: int
    hash: bytes
    hashes: int          # how many hashes were tried (all workers), for hashes/s reporting


@dataclass(frozen=True)
class PowChallenge:
    """What ``mt_getRegistrationChallenge`` answers: solve it with :meth:`solve`."""

    chain_id: int
    netuid: int
    block_number: int
    block_hash: bytes
    difficulty: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form: integers as ints, the block hash as 0x-hex."""
        return {"chainId": self.chain_id, "subnet": self.netuid,
                "blockNumber": self.block_number, "blockHash": "0x" + self.block_hash.hex(),
                "difficulty": self.difficulty}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PowChallenge:
        """Read :meth:`to_dict`'s form back (as the client receives it over JSON-RPC)."""
        try:
            netuid = data["netuid"] if "netuid" in data else data["subnet"]   # either name
            return cls(chain_id=int(data["chainId"]), netuid=int(netuid),
                       block_number=int(data["blockNumber"]),
                       block_hash=_block_hash(data["blockHash"]),
                       difficulty=_difficulty(int(data["difficulty"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidPowError(f"malformed registration challenge: {exc}",
                                  data=data) from None

    def solve(self, address: str | bytes, **options: Any) -> PowSolution:
        """Solve for ``address``; options as :func:`solve_pow` (progress, workers, ...)."""
        solution = solve_pow(chain_id=self.chain_id, netuid=self.netuid, address=address,
                             block_hash=self.block_hash, difficulty=self.difficulty, **options)
        return PowSolution(solution.nonce, self.block_number, solution.hash, solution.hashes)


def _uint(name: str, value: int, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < limit:
        raise InvalidPowError(f"{name} must be an integer in [0, {limit}), got {value!r}")
    return value


def _address(address: str | bytes) -> bytes:
    if isinstance(address, bytes) and len(address) == 20:
        return address
    if isinstance(address, str) and is_address(address):
        return to_canonical_address(address)
    raise InvalidPowError(f"{address!r} is not a 20-byte address")


def _block_hash(block_hash: str | bytes) -> bytes:
    raw = block_hash
    if isinstance(block_hash, str):
        try:
            raw = bytes.fromhex(block_hash.removeprefix("0x"))
        except ValueError:
            raw = b""
    if not isinstance(raw, bytes) or len(raw) != 32:
        raise InvalidPowError(f"{block_hash!r} is not a 32-byte block hash")
    return raw


def _difficulty(difficulty: int) -> int:
    if isinstance(difficulty, bool) or not isinstance(difficulty, int) or difficulty < 1:
        raise InvalidPowError(f"difficulty must be an integer >= 1, got {difficulty!r}")
    return difficulty


def pow_target(difficulty: int) -> int:
    """The exclusive upper bound of a valid hash: ``2**256 // difficulty``."""
    return 2**256 // _difficulty(difficulty)


def _target_bytes(difficulty: int) -> bytes:
    # Compare digests as bytes: equal-length big-endian bytes order like the integers.
    # Difficulty 1's target 2**256 does not fit in 32 bytes; capped, only the all-ones digest
    # (probability 2**-256) is judged differently from verify_pow.
    return min(pow_target(difficulty), 2**256 - 1).to_bytes(32, "big")


def pow_prefix(chain_id: int, netuid: int, address: str | bytes, block_hash: str | bytes) -> bytes:
    """The preimage up to the nonce; append ``nonce.to_bytes(8, "big")`` to hash."""
    return (POW_DOMAIN + _uint("chain_id", chain_id, NONCE_LIMIT).to_bytes(8, "big")
            + _uint("netuid", netuid, NONCE_LIMIT).to_bytes(8, "big")
            + _address(address) + _block_hash(block_hash))


def pow_hash(*, chain_id: int, netuid: int, address: str | bytes, block_hash: str | bytes,
             nonce: int) -> bytes:
    """keccak256 of the full preimage (see the module docstring)."""
    preimage = pow_prefix(chain_id, netuid, address, block_hash)
    preimage += _uint("nonce", nonce, NONCE_LIMIT).to_bytes(8, "big")
    return keccak(preimage)


def verify_pow(*, chain_id: int, netuid: int, address: str | bytes, block_hash: str | bytes,
               nonce: int, difficulty: int) -> bool:
    """True when ``nonce`` solves the work for exactly these chain/subnet/address/block.

    Malformed arguments raise :class:`InvalidPowError`; a wrong nonce returns False. Whether the
    block is recent (:func:`is_recent_block`) and the proof unused is the chain's to check.
    """
    digest = pow_hash(chain_id=chain_id, netuid=netuid, address=address, block_hash=block_hash,
                      nonce=nonce)
    return int.from_bytes(digest, "big") < pow_target(difficulty)


def is_recent_block(pow_block: int, current_block: int, max_age: int = POW_MAX_BLOCK_AGE) -> bool:
    """A proof may name a past block at most ``max_age`` blocks old (never a future one)."""
    return 0 <= current_block - pow_block <= max_age


def _search(prefix: bytes, target: bytes, start: int, count: int) -> tuple[int | None, bytes]:
    """Try nonces ``start .. start+count-1``; the tight loop, kept free of Python overhead."""
    hash_ = keccak
    for nonce in range(start, min(start + count, NONCE_LIMIT)):
        digest = hash_(prefix + nonce.to_bytes(8, "big"))
        if digest < target:
            return nonce, digest
    return None, b""


def _search_args(args: tuple[bytes, bytes, int, int]) -> tuple[int, int | None, bytes]:
    prefix, target, start, count = args
    nonce, digest = _search(prefix, target, start, count)
    return count, nonce, digest


def solve_pow(*, chain_id: int, netuid: int, address: str | bytes, block_hash: str | bytes,
              difficulty: int, start_nonce: int = 0, max_hashes: int | None = None,
              progress: ProgressCallback | None = None, workers: int = 1) -> PowSolution:
    """Find a nonce whose hash is below the target, from ``start_nonce`` upwards.

    ``progress(hashes_so_far)`` is called every :data:`POW_CHUNK` hashes (a progress bar);
    ``workers > 1`` searches disjoint nonce chunks in that many processes. Raises
    :class:`PowNotFoundError` after ``max_hashes`` hashes without a solution.
    ``block_number`` of the result is 0: :meth:`PowChallenge.solve` fills it in.
    """
    prefix = pow_prefix(chain_id, netuid, address, block_hash)
    target = _target_bytes(difficulty)
    _uint("start_nonce", start_nonce, NONCE_LIMIT)
    limit = NONCE_LIMIT - start_nonce if max_hashes is None else max_hashes
    chunks = ((prefix, target, start, min(POW_CHUNK, start_nonce + limit - start))
              for start in range(start_nonce, start_nonce + limit, POW_CHUNK))
    if workers <= 1:
        return _collect(map(_search_args, chunks), progress, limit)
    return _collect(_in_processes(chunks, workers), progress, limit)


def _in_processes(chunks: Iterator[tuple[bytes, bytes, int, int]], workers: int
                  ) -> Iterator[tuple[int, int | None, bytes]]:
    """Chunk results in nonce order (so the answer equals the one-worker answer).

    "spawn" because forking a threaded parent (the CLI, an event loop) can deadlock; a broken
    worker raises ``BrokenProcessPool`` instead of hanging. At most 2 chunks per worker are in
    flight, so an unbounded nonce range never piles up.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: deque[Future[tuple[int, int | None, bytes]]] = deque(
            pool.submit(_search_args, chunk) for chunk in islice(chunks, 2 * workers))
        try:
            while pending:
                result = pending.popleft().result()
                following = next(chunks, None)
                if following is not None:
                    pending.append(pool.submit(_search_args, following))
                yield result
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _collect(results: Iterator[tuple[int, int | None, bytes]], progress: ProgressCallback | None,
             limit: int) -> PowSolution:
    hashes = 0
    for count, nonce, digest in results:
        hashes += count
        if nonce is not None:
            return PowSolution(nonce=nonce, block_number=0, hash=digest, hashes=hashes)
        if progress is not None:
            progress(hashes)
    raise PowNotFoundError(f"no proof of work found in {limit} hashes", data={"hashes": limit})


def adjust_difficulty(current: int, registrations: int, target_registrations: int, *,
                      minimum: int = MIN_POW_DIFFICULTY,
                      maximum: int = MAX_POW_DIFFICULTY) -> int:
    """Next interval's difficulty, moved toward ``target_registrations`` per interval.

    ``current x (registrations + target) / (2 x target)``: unchanged on target, halved when
    nobody registered, bounded to x/÷ :data:`MAX_ADJUST_FACTOR` per step and to
    [``minimum``, ``maximum``]. Integer arithmetic, so every node computes the same value.

    >>> adjust_difficulty(1024, registrations=0, target_registrations=2, minimum=1)
    512
    >>> adjust_difficulty(1024, registrations=6, target_registrations=2, minimum=1)
    2048
    """
    _difficulty(current)
    _uint("registrations", registrations, 2**63)
    if isinstance(target_registrations, bool) or not isinstance(target_registrations, int) or (
            target_registrations < 1):
        raise InvalidPowError(f"target_registrations must be >= 1, got {target_registrations!r}")
    proposed = current * (registrations + target_registrations) // (2 * target_registrations)
    bounded = max(current // MAX_ADJUST_FACTOR, min(current * MAX_ADJUST_FACTOR, proposed))
    return max(minimum, min(maximum, bounded))
