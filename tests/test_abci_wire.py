"""The ABCI socket protocol: uvarint framing, pipelined requests over a real TCP connection,
and the committed protobuf types matching the vendored CometBFT .proto files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain_fixtures import make_app
from moderntensor.chain.abci import generate
from moderntensor.chain.abci.broadcast import CometNode
from moderntensor.chain.abci.connections import (
    MAX_MESSAGE_BYTES,
    FrameError,
    decode_frame,
    encode_uvarint,
    start_server,
)
from moderntensor.chain.abci.handlers import AbciHandlers
from moderntensor.chain.abci.pb.tendermint.abci import types_pb2 as abci


@given(st.binary(max_size=300))
def test_a_frame_decodes_to_its_body_and_the_offset_after_it(body: bytes) -> None:
    framed = encode_uvarint(len(body)) + body
    assert decode_frame(framed + b"\x07", 0) == (body, len(framed))


def test_an_incomplete_frame_waits_for_more_bytes() -> None:
    framed = encode_uvarint(300) + b"x" * 299
    assert decode_frame(framed, 0) is None
    assert decode_frame(framed[:1], 0) is None


def test_a_frame_over_the_size_bound_is_refused() -> None:
    with pytest.raises(FrameError, match="exceeds"):
        decode_frame(encode_uvarint(MAX_MESSAGE_BYTES + 1), 0)


def test_pipelined_requests_are_answered_in_order_over_a_socket(tmp_path: Path) -> None:
    handlers = AbciHandlers(CometNode(make_app(tmp_path)))
    requests = [abci.Request(echo=abci.RequestEcho(message="hi")),
                abci.Request(info=abci.RequestInfo(version="0.38.17")),
                abci.Request(query=abci.RequestQuery(path="nope")),
                abci.Request(flush=abci.RequestFlush())]
    payload = b"".join(encode_uvarint(len(b)) + b
                       for b in (r.SerializeToString() for r in requests))

    async def exchange() -> list[abci.Response]:
        server = await start_server(handlers, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(payload[:5])  # a frame split across reads
        await writer.drain()
        writer.write(payload[5:])
        buffer, offset, responses = b"", 0, []
        while len(responses) < len(requests):
            buffer += await asyncio.wait_for(reader.read(4096), 5)
            while (item := decode_frame(buffer, offset)) is not None:
                body, offset = item
                responses.append(abci.Response.FromString(body))
        writer.close()
        server.close()
        return responses

    responses = asyncio.run(exchange())
    assert [r.WhichOneof("value") for r in responses] == ["echo", "info", "query", "flush"]
    assert responses[0].echo.message == "hi"
    assert responses[1].info.data == "luxtensor"
    assert responses[2].query.code != 0


def test_the_committed_types_are_what_the_vendored_protos_generate(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools", reason="grpcio-tools (test extra) generates the types")
    written = generate.generate(tmp_path / "pb")
    assert written
    for path in written:
        committed = generate.OUT_DIR / path.relative_to(tmp_path / "pb")
        assert committed.read_text() == path.read_text(), f"{committed} is stale: regenerate"
