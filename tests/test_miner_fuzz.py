"""Whatever a client sends, the miner answers a deliberate status with a JSON body: never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miner_support import FAST_LIMITS, Echo, accounts, serving, signed_headers
from moderntensor.miner import StaticPermitSource
from moderntensor.protocol.messages import INFERENCE_PATH

VALIDATOR, MINER = accounts()
EXPECTED = {200, 400, 401, 403, 413, 415, 429, 502, 503, 504}
FUZZ = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# what a client's HTTP library can send at all: printable, no surrounding whitespace
printable = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80).map(str.strip)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
envelopes = st.fixed_dictionaries(
    {},
    optional={"subnet": st.just(1) | st.integers(-5, 70000) | st.text(max_size=5),
              "task": st.sampled_from(["echo", "text-generation", "code-generation"]) | printable,
              "input": json_values, "params": json_values, "extra": json_values},
)


@pytest.fixture(scope="module")
def http() -> Iterator[tuple[httpx.Client, str]]:
    source = StaticPermitSource([VALIDATOR.address])
    with serving(Echo(wallet=MINER, netuid=1, metagraph_source=source, max_body_bytes=4096,
                      **FAST_LIMITS)) as base, httpx.Client(timeout=10) as client:
        yield client, base


def check(response: httpx.Response) -> None:
    assert response.status_code in EXPECTED, response.text
    if response.status_code != 200:
        error = response.json()["error"]
        assert isinstance(error["code"], str) and error["code"]


@FUZZ
@given(body=st.binary(max_size=6000),
       headers=st.dictionaries(
           st.sampled_from(["X-MT-Version", "X-MT-Sender", "X-MT-Receiver", "X-MT-Nonce",
                            "X-MT-Signature", "X-MT-Timeout", "Content-Type"]),
           printable, max_size=7))
def test_unsigned_garbage(http: tuple[httpx.Client, str], body: bytes,
                          headers: dict[str, str]) -> None:
    client, base = http
    check(client.post(base + INFERENCE_PATH, content=body, headers=headers))


@FUZZ
@given(body=st.binary(max_size=3000) | json_values.map(lambda v: json.dumps(v).encode()))
def test_signed_bodies_of_any_shape(http: tuple[httpx.Client, str], body: bytes) -> None:
    client, base = http
    headers = signed_headers(VALIDATOR, MINER.address, body)
    check(client.post(base + INFERENCE_PATH, content=body, headers=headers))


@FUZZ
@given(envelope=envelopes, timeout=st.none() | printable)
def test_signed_envelopes_with_any_fields(http: tuple[httpx.Client, str],
                                          envelope: dict[str, Any], timeout: str | None) -> None:
    client, base = http
    body = json.dumps(envelope).encode()
    headers = signed_headers(VALIDATOR, MINER.address, body)
    if timeout is not None:
        headers["X-MT-Timeout"] = timeout
    check(client.post(base + INFERENCE_PATH, content=body, headers=headers))
