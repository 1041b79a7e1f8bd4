"""mtauth/1 as docs/protocol.md specifies it: signed lines, every rejection, bounded replay."""

from __future__ import annotations

import hashlib

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from hypothesis import given, settings
from hypothesis import strategies as st

from moderntensor.errors import InvalidInputError
from moderntensor.protocol.auth import (
    MAX_AGE_NS,
    MAX_SKEW_NS,
    AuthError,
    KeySigner,
    ReplayCache,
    VerifiedRequest,
    request_message,
    response_message,
    sign_request,
    sign_response,
    verify_request,
    verify_response,
)

VALIDATOR = Account.from_key("0x" + "01" * 32)
MINER = Account.from_key("0x" + "02" * 32)
NOW = 1_750_000_000_000_000_000
BODY = b'{"subnet":1,"task":"text-generation","input":"hi"}'
PATH = "/v1/inference"


def signed(body: bytes = BODY, *, nonce: int = NOW, receiver: str = MINER.address,
           **kwargs: object) -> dict[str, str]:
    return sign_request(VALIDATOR, "POST", PATH, body, receiver=receiver, nonce=nonce, **kwargs)


def verify(headers: dict[str, str], body: bytes = BODY, *, cache: ReplayCache | None = None,
           now: int = NOW, **kwargs: object) -> VerifiedRequest:
    return verify_request(headers, "POST", PATH, body, receiver=MINER.address,
                          replay_cache=ReplayCache() if cache is None else cache, now_ns=now,
                          **kwargs)


def rejected(code: str, headers: dict[str, str], body: bytes = BODY, **kwargs: object) -> None:
    with pytest.raises(AuthError) as info:
        verify(headers, body, **kwargs)
    assert info.value.code == code


def test_the_signed_text_is_the_seven_lines_of_the_spec() -> None:
    text = request_message("post", PATH + "?x=1", BODY, VALIDATOR.address, MINER.address, 42)
    assert text.split("\n") == [
        "mtauth/1", "POST", PATH, hashlib.sha256(BODY).hexdigest(),
        VALIDATOR.address.lower(), MINER.address.lower(), "42",
    ]
    assert not text.endswith("\n")


def test_a_request_signature_is_plain_eip191_over_those_lines() -> None:
    headers = signed()
    text = request_message("POST", PATH, BODY, VALIDATOR.address, MINER.address, NOW)
    recovered = Account.recover_message(encode_defunct(text=text),
                                        signature=headers["X-MT-Signature"])
    assert recovered == VALIDATOR.address
    assert headers["X-MT-Version"] == "1"
    assert headers["X-MT-Nonce"] == str(NOW)
    assert int(headers["X-MT-Signature"][-2:], 16) in (27, 28)


def test_a_valid_request_verifies_and_names_its_sender() -> None:
    verified = verify(signed(timeout_s=2.5))
    assert verified == VerifiedRequest(VALIDATOR.address.lower(), NOW, 2.5)


def test_lowercase_header_names_are_accepted() -> None:
    headers = {name.lower(): value for name, value in signed().items()}
    assert verify(headers).sender == VALIDATOR.address.lower()


def test_a_tampered_body_is_a_bad_signature() -> None:
    rejected("bad_signature", signed(), BODY.replace(b"hi", b"ho"))


def test_a_forged_sender_is_a_bad_signature() -> None:
    headers = signed()
    headers["X-MT-Sender"] = Account.create().address
    rejected("bad_signature", headers)


def test_a_request_for_another_miner_is_refused() -> None:
    rejected("wrong_receiver", signed(receiver=Account.create().address))


def test_stale_and_future_nonces_are_refused() -> None:
    rejected("stale_nonce", signed(nonce=NOW - MAX_AGE_NS - 1))
    rejected("future_nonce", signed(nonce=NOW + MAX_SKEW_NS + 1))
    verify(signed(nonce=NOW - MAX_AGE_NS + 1))
    verify(signed(nonce=NOW + MAX_SKEW_NS))


def test_the_freshness_window_can_be_narrowed() -> None:
    two_seconds_old = signed(nonce=NOW - 2 * 10**9)
    verify(two_seconds_old)
    rejected("stale_nonce", two_seconds_old, max_age_ns=10**9)
    rejected("future_nonce", signed(nonce=NOW + 10**6), max_skew_ns=0)


def test_a_replayed_nonce_is_refused() -> None:
    cache = ReplayCache()
    headers = signed()
    verify(headers, cache=cache)
    rejected("replayed_nonce", headers, cache=cache)


@pytest.mark.parametrize(("header", "value", "code"), [
    ("X-MT-Version", "2", "unsupported_version"),
    ("X-MT-Sender", "alice", "bad_address"),
    ("X-MT-Receiver", "0x12", "bad_address"),
    ("X-MT-Nonce", "-5", "bad_nonce"),
    ("X-MT-Nonce", "1e18", "bad_nonce"),
    ("X-MT-Signature", "0x1234", "bad_signature"),
    ("X-MT-Signature", "0x" + "00" * 65, "bad_signature"),
    ("X-MT-Signature", "0x" + "11" * 64 + "1b", "bad_signature"),
])
def test_malformed_headers_are_refused_with_their_own_code(header: str, value: str,
                                                           code: str) -> None:
    headers = signed()
    headers[header] = value
    rejected(code, headers)


@pytest.mark.parametrize("header", ["X-MT-Version", "X-MT-Sender", "X-MT-Receiver",
                                    "X-MT-Nonce", "X-MT-Signature"])
def test_every_header_is_required(header: str) -> None:
    headers = signed()
    del headers[header]
    rejected("missing_header", headers)


@pytest.mark.parametrize("timeout", ["0", "-1", "nan", "inf", "soon", "1e9"])
def test_a_nonsense_timeout_is_invalid_input(timeout: str) -> None:
    headers = signed()
    headers["X-MT-Timeout"] = timeout
    with pytest.raises(InvalidInputError) as info:
        verify(headers)
    assert info.value.code == "bad_timeout"


def test_a_refused_sender_does_not_use_up_its_nonce() -> None:
    cache = ReplayCache()
    headers = signed()

    def refuse(sender: str) -> None:
        raise AuthError("no permit", code="not_permitted")

    with pytest.raises(AuthError):
        verify(headers, cache=cache, check_sender=refuse)
    assert len(cache) == 0
    verify(headers, cache=cache)  # once permitted, the same request is accepted


def test_responses_are_signed_over_nonce_and_body() -> None:
    answer = b'{"output":"hi","latency_ms":1.0}'
    headers = sign_response(MINER, answer, request_nonce=NOW, validator=VALIDATOR.address)
    assert headers["X-MT-Sender"] == MINER.address
    verify_response(headers, answer, request_nonce=NOW, miner=MINER.address,
                    validator=VALIDATOR.address)
    text = response_message(NOW, answer, MINER.address, VALIDATOR.address)
    assert text.split("\n")[0] == "mtauth/1-response"
    for tampered in ({"body": answer + b" "}, {"nonce": NOW + 1}):
        with pytest.raises(AuthError):
            verify_response(headers, tampered.get("body", answer),  # type: ignore[arg-type]
                            request_nonce=tampered.get("nonce", NOW),  # type: ignore[arg-type]
                            miner=MINER.address, validator=VALIDATOR.address)
    with pytest.raises(AuthError) as info:
        verify_response(headers, answer, request_nonce=NOW, miner=VALIDATOR.address,
                        validator=VALIDATOR.address)
    assert info.value.code == "wrong_sender"


def test_the_replay_cache_forgets_what_is_stale() -> None:
    cache = ReplayCache(max_age_ns=100)
    cache.add("a", 1000, now_ns=1000)
    cache.add("a", 1050, now_ns=1050)
    cache.add("b", 1200, now_ns=1200)
    assert len(cache) == 1
    assert cache.seen("a", 1000)  # forgotten, yet still refused: it is under the floor


def test_the_replay_cache_is_bounded_and_never_forgets_unsafely() -> None:
    cache = ReplayCache(capacity=3, max_age_ns=10**12)
    for nonce in (5, 3, 9, 7):
        cache.add("v", nonce, now_ns=10)
    assert len(cache) == 3
    assert cache.floor == 3
    assert all(cache.seen("v", n) for n in (1, 3, 5, 7, 9))
    assert not cache.seen("v", 8)


@settings(max_examples=40, deadline=None)
@given(body=st.binary(max_size=512), nonce=st.integers(NOW - MAX_AGE_NS, NOW + MAX_SKEW_NS),
       timeout=st.none() | st.floats(0.001, 600))
def test_any_body_signed_correctly_verifies(body: bytes, nonce: int,
                                            timeout: float | None) -> None:
    verified = verify(signed(body, nonce=nonce, timeout_s=timeout), body)
    assert verified.nonce == nonce
    if timeout is not None:
        assert verified.timeout_s == pytest.approx(timeout, rel=1e-5)


def test_the_fast_signer_signs_exactly_like_eth_account() -> None:
    fast = KeySigner.wrap(VALIDATOR)
    assert isinstance(fast, KeySigner)
    assert fast.address == VALIDATOR.address
    assert "01" * 8 not in repr(fast)
    assert signed() == sign_request(fast, "POST", PATH, BODY, receiver=MINER.address, nonce=NOW)
    answer = b"{}"
    assert sign_response(fast, answer, request_nonce=1, validator=MINER.address) == \
        sign_response(VALIDATOR, answer, request_nonce=1, validator=MINER.address)
    assert KeySigner.wrap(fast) is fast  # nothing to unwrap: returned as is
