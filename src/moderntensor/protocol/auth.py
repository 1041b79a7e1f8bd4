"""mtauth/1: signed HTTP requests from validators to miners, and signed answers back.

The wire format is docs/protocol.md's, exactly: an EIP-191 personal message over seven lines joined
by ``"\\n"`` (no trailing newline), carried in ``X-MT-*`` headers. This module is pure: no I/O,
no logging; the clock is a parameter (``now_ns``) that defaults to the wall clock.

Validator side::

    headers = sign_request(wallet, "POST", "/v1/inference", body, receiver=miner_address)
    ...  # send, then on the answer:
    verify_response(resp.headers, resp.content, request_nonce=int(headers[NONCE]),
                    miner=miner_address, validator=wallet.address)

Miner side::

    cache = ReplayCache()
    verified = verify_request(headers, "POST", "/v1/inference", body,
                              receiver=my_address, replay_cache=cache)
    answer_headers = sign_response(wallet, answer_body, request_nonce=verified.nonce,
                                   validator=verified.sender)
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import coincurve
from eth_account import Account
from eth_account.messages import SignableMessage, encode_defunct
from eth_utils import to_checksum_address

from moderntensor.errors import InvalidInputError, ModernTensorError
from moderntensor.protocol.keccak import keccak

SCHEME = "mtauth/1"
RESPONSE_SCHEME = "mtauth/1-response"
VERSION = "1"

VERSION_HEADER = "X-MT-Version"
SENDER_HEADER = "X-MT-Sender"
RECEIVER_HEADER = "X-MT-Receiver"
NONCE_HEADER = "X-MT-Nonce"
SIGNATURE_HEADER = "X-MT-Signature"
TIMEOUT_HEADER = "X-MT-Timeout"

MAX_AGE_NS = 10 * 10**9      # a request older than this is stale: bounds the replay cache's memory
MAX_SKEW_NS = 2 * 10**9      # how far ahead of our clock a sender's clock may run
MAX_TIMEOUT_S = 3600.0       # an X-MT-Timeout above this is nonsense, not a deadline
SECP256K1_HALF_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141 // 2
REPLAY_CACHE_CAPACITY = 200_000  # entries; ~10 s of traffic at 20k req/s

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")
_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}\Z")
_NONCE = re.compile(r"[0-9]{1,20}\Z")


class AuthError(ModernTensorError):
    """A request or response failed mtauth/1; ``code`` says which rule (HTTP 401 at the miner)."""

    code = "unauthenticated"


class Signer(Protocol):
    """Anything that EIP-191-signs: a :class:`moderntensor.Wallet` or an eth-account account."""

    @property
    def address(self) -> str: ...

    def sign_message(self, signable_message: SignableMessage) -> Any: ...


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    """What a verified request proves: who sent it (lowercase address), its nonce, its deadline."""

    sender: str
    nonce: int
    timeout_s: float | None


def body_hash(body: bytes) -> str:
    """sha256 of the raw body, lowercase hex (the fourth signed line)."""
    return hashlib.sha256(body).hexdigest()


def request_message(
    method: str, path: str, body: bytes, sender: str, receiver: str, nonce: int
) -> str:
    """The seven signed lines of a request, joined by newlines."""
    return "\n".join((
        SCHEME, method.upper(), path.split("?", 1)[0], body_hash(body),
        sender.lower(), receiver.lower(), str(nonce),
    ))


def response_message(request_nonce: int, body: bytes, miner: str, validator: str) -> str:
    """The five signed lines of a response, joined by newlines."""
    return "\n".join((
        RESPONSE_SCHEME, str(request_nonce), body_hash(body), miner.lower(), validator.lower(),
    ))


def sign_request(
    signer: Signer,
    method: str,
    path: str,
    body: bytes,
    *,
    receiver: str,
    nonce: int | None = None,
    timeout_s: float | None = None,
) -> dict[str, str]:
    """Headers that authenticate ``body`` as sent by ``signer`` to ``receiver`` only.

    >>> from eth_account import Account
    >>> headers = sign_request(Account.create(), "POST", "/v1/inference", b"{}",
    ...                        receiver="0x" + "11" * 20, nonce=1)
    >>> sorted(headers)
    ['X-MT-Nonce', 'X-MT-Receiver', 'X-MT-Sender', 'X-MT-Signature', 'X-MT-Version']
    """
    nonce = time.time_ns() if nonce is None else nonce
    text = request_message(method, path, body, signer.address, receiver, nonce)
    headers = {
        VERSION_HEADER: VERSION,
        SENDER_HEADER: signer.address,
        RECEIVER_HEADER: receiver,
        NONCE_HEADER: str(nonce),
        SIGNATURE_HEADER: _signature_hex(signer, text),
    }
    if timeout_s is not None:
        headers[TIMEOUT_HEADER] = f"{timeout_s:g}"
    return headers


def sign_response(
    signer: Signer, body: bytes, *, request_nonce: int, validator: str
) -> dict[str, str]:
    """Headers a miner adds to its answer: ``X-MT-Sender`` and ``X-MT-Signature``."""
    text = response_message(request_nonce, body, signer.address, validator)
    return {SENDER_HEADER: signer.address, SIGNATURE_HEADER: _signature_hex(signer, text)}


def eip191_digest(text: str) -> bytes:
    """keccak256 of the EIP-191 personal message of ``text`` (what eth-account signs)."""
    data = text.encode()
    return keccak(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)


def recover_signer(text: str, signature: str) -> str:
    """The lowercase address whose key produced ``signature`` over the EIP-191 ``text``."""
    if not isinstance(signature, str) or not _SIGNATURE.match(signature):
        raise AuthError("X-MT-Signature must be 0x followed by 65 bytes of hex (r|s|v)",
                        code="bad_signature")
    raw = bytes.fromhex(signature[2:])
    if raw[64] not in (27, 28):
        raise AuthError("signature v must be 27 or 28", code="bad_signature")
    if int.from_bytes(raw[32:64], "big") > SECP256K1_HALF_N:
        # libsecp256k1 recovers (r, n - s) too: without this, one signed request has two
        # valid encodings, and anything keyed on the signature bytes could be fooled
        raise AuthError("signature s is in the upper half of the curve order; mtauth/1 accepts "
                        "only the low-s form (EIP-2), which every standard signer produces",
                        code="high_s_signature")
    try:
        # libsecp256k1 directly: the same math as eth-account, ~2x faster on the hot path
        public = coincurve.PublicKey.from_signature_and_message(
            raw[:64] + bytes([raw[64] - 27]), eip191_digest(text), hasher=None)
    except Exception:  # invalid r/s or a point not on the curve
        raise AuthError("the signature does not recover to any address",
                        code="bad_signature") from None
    return _address_of(public.format(compressed=False))


@functools.lru_cache(maxsize=4096)
def _address_of(public_key: bytes) -> str:
    # the same few validators sign again and again: skip one keccak per request for them
    return "0x" + keccak(public_key[1:])[-20:].hex()


class KeySigner:
    """A :class:`Signer` over a raw secp256k1 key, signing with libsecp256k1 directly.

    Signatures are byte-identical to eth-account's (RFC 6979, low s, v = 27/28) at a
    fraction of the cost; a server that signs every answer wraps its wallet once:
    ``KeySigner.wrap(wallet)``.
    """

    __slots__ = ("_key", "address")

    def __init__(self, private_key: bytes) -> None:
        self._key = coincurve.PrivateKey(bytes(private_key))
        public = self._key.public_key.format(compressed=False)[1:]
        self.address = to_checksum_address(keccak(public)[-20:])

    @classmethod
    def wrap(cls, signer: Signer) -> Signer:
        """A KeySigner for a Wallet or eth-account account; any other signer unchanged."""
        key = getattr(signer, "private_key", None)
        if not isinstance(key, bytes):
            key = getattr(signer, "key", None)
        return cls(key) if isinstance(key, bytes) and len(key) == 32 else signer

    def __repr__(self) -> str:
        return f"KeySigner(address={self.address})"  # never the key

    def sign_text(self, text: str) -> str:
        """0x-hex r|s|v signature of the EIP-191 message of ``text``."""
        raw = self._key.sign_recoverable(eip191_digest(text), hasher=None)
        return "0x" + (raw[:64] + bytes([raw[64] + 27])).hex()

    def sign_message(self, signable_message: SignableMessage) -> Any:
        return Account.sign_message(signable_message, self._key.secret)


def verify_request(
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    *,
    receiver: str,
    replay_cache: ReplayStore,
    now_ns: int | None = None,
    check_sender: Callable[[str], None] | None = None,
    max_age_ns: int = MAX_AGE_NS,
    max_skew_ns: int = MAX_SKEW_NS,
) -> VerifiedRequest:
    """Check every mtauth/1 rule; raise :class:`AuthError` naming the first one broken.

    A malformed ``X-MT-Timeout`` raises :class:`InvalidInputError` (``bad_timeout``) instead.

    Order: headers, version, receiver, freshness, replay, signature, then ``check_sender``
    (the caller's permit check; it raises to refuse), and only then is the nonce recorded:
    a forged or refused request never takes a slot in the replay cache. The freshness window
    (``max_age_ns``, ``max_skew_ns``) defaults to docs/protocol.md's 10 s / 2 s; keep the replay
    cache's ``max_age_ns`` equal to ``max_age_ns`` here.
    """
    now_ns = time.time_ns() if now_ns is None else now_ns
    version = _header(headers, VERSION_HEADER)
    if version != VERSION:
        raise AuthError(f"X-MT-Version must be {VERSION!r}, got {version!r}",
                        code="unsupported_version")
    sender = _address(headers, SENDER_HEADER)
    claimed_receiver = _address(headers, RECEIVER_HEADER)
    if claimed_receiver != receiver.lower():
        raise AuthError(f"this request is addressed to {claimed_receiver}, not to this miner "
                        f"({receiver.lower()})", code="wrong_receiver")
    nonce = _nonce(headers)
    if nonce < now_ns - max_age_ns:
        raise AuthError(f"nonce is {(now_ns - nonce) / 1e9:.1f} s old; at most "
                        f"{max_age_ns / 1e9:g} s is accepted (check your clock)",
                        code="stale_nonce")
    if nonce > now_ns + max_skew_ns:
        raise AuthError(f"nonce is {(nonce - now_ns) / 1e9:.1f} s in the future; at most "
                        f"{max_skew_ns / 1e9:g} s of clock skew is accepted", code="future_nonce")
    if replay_cache.seen(sender, nonce):
        raise AuthError("this (sender, nonce) was already used; sign each request anew",
                        code="replayed_nonce")
    timeout_s = _timeout(headers)
    text = request_message(method, path, body, sender, claimed_receiver, nonce)
    if recover_signer(text, _header(headers, SIGNATURE_HEADER)) != sender:
        raise AuthError("the signature does not match X-MT-Sender over this request",
                        code="bad_signature")
    if check_sender is not None:
        check_sender(sender)
    # claimed atomically: replicas sharing a store cannot both accept one (sender, nonce)
    if not replay_cache.claim(sender, nonce, now_ns=now_ns):
        raise AuthError("this (sender, nonce) was already used; sign each request anew",
                        code="replayed_nonce")
    return VerifiedRequest(sender=sender, nonce=nonce, timeout_s=timeout_s)


def verify_response(
    headers: Mapping[str, str], body: bytes, *, request_nonce: int, miner: str, validator: str
) -> None:
    """Check a miner's answer is signed by ``miner`` for this request; raise AuthError if not."""
    sender = _address(headers, SENDER_HEADER)
    if sender != miner.lower():
        raise AuthError(f"answer is signed as {sender}, expected miner {miner.lower()}",
                        code="wrong_sender")
    text = response_message(request_nonce, body, miner, validator)
    if recover_signer(text, _header(headers, SIGNATURE_HEADER)) != sender:
        raise AuthError("the answer's signature does not match the miner over this body",
                        code="bad_signature")


class ReplayStore(Protocol):
    """Where a miner remembers the (sender, nonce) pairs it accepted: :class:`ReplayCache` in
    memory for one process; replicas of one miner share one store (miner/replay_store.py)."""

    def seen(self, sender: str, nonce: int) -> bool: ...

    def claim(self, sender: str, nonce: int, *, now_ns: int | None = None) -> bool:
        """Record the pair; False when it was already recorded (a replay)."""
        ...


class ReplayCache:
    """Bounded memory of (sender, nonce) pairs seen inside the freshness window.

    Entries leave once older than ``max_age_ns``. If more than ``capacity`` fresh entries
    arrive, the oldest is evicted and its nonce becomes a floor: any nonce at or below the
    floor is refused as a replay. So memory is bounded and a replay is never accepted.
    """

    def __init__(self, capacity: int = REPLAY_CACHE_CAPACITY, max_age_ns: int = MAX_AGE_NS):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.max_age_ns = max_age_ns
        self.floor = -1
        self._heap: list[tuple[int, str]] = []
        self._seen: set[tuple[int, str]] = set()

    def __len__(self) -> int:
        return len(self._seen)

    def seen(self, sender: str, nonce: int) -> bool:
        return nonce <= self.floor or (nonce, sender) in self._seen

    def claim(self, sender: str, nonce: int, *, now_ns: int | None = None) -> bool:
        if self.seen(sender, nonce):
            return False
        self.add(sender, nonce, now_ns=now_ns)
        return True

    def add(self, sender: str, nonce: int, *, now_ns: int | None = None) -> None:
        now_ns = time.time_ns() if now_ns is None else now_ns
        entry = (nonce, sender)
        if entry in self._seen:
            return
        heapq.heappush(self._heap, entry)
        self._seen.add(entry)
        expired_before = now_ns - self.max_age_ns
        while self._heap and (self._heap[0][0] < expired_before or len(self._heap) > self.capacity):
            oldest = heapq.heappop(self._heap)
            self._seen.discard(oldest)
            self.floor = max(self.floor, oldest[0])


def _signature_hex(signer: Signer, text: str) -> str:
    if isinstance(signer, KeySigner):
        return signer.sign_text(text)
    signed = signer.sign_message(encode_defunct(text=text))
    return "0x" + bytes(signed.signature).hex()


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    if value is None:
        raise AuthError(f"missing header {name}", code="missing_header")
    return value


def _address(headers: Mapping[str, str], name: str) -> str:
    value = _header(headers, name).strip()
    if not _ADDRESS.match(value):
        raise AuthError(f"{name} must be a 0x-prefixed 20-byte hex address",
                        code="bad_address")
    return value.lower()


def _nonce(headers: Mapping[str, str]) -> int:
    value = _header(headers, NONCE_HEADER).strip()
    if not _NONCE.match(value):
        raise AuthError("X-MT-Nonce must be unix time in nanoseconds, in decimal digits",
                        code="bad_nonce")
    return int(value)


def _timeout(headers: Mapping[str, str]) -> float | None:
    raw = headers.get(TIMEOUT_HEADER)
    if raw is None:
        raw = headers.get(TIMEOUT_HEADER.lower())
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value <= MAX_TIMEOUT_S:  # also refuses nan and inf
        raise InvalidInputError(f"X-MT-Timeout must be seconds in (0, {MAX_TIMEOUT_S:g}]",
                                code="bad_timeout")
    return value
