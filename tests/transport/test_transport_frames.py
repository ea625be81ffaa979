"""The sans-I/O frame reader, checked frame for frame against the ``websockets`` package's parser.

Random streams of server frames (text, binary, fragments, pings, pongs; valid and invalid
headers; every length encoding) are cut at random points and fed to
:class:`~rxfeeds.transport.frames.FrameReader` + :class:`~rxfeeds.transport.frames.Reassembler`;
the same bytes go through ``websockets``' own sans-I/O protocol parser (client side).  Both
must accept the same frames in the same order and reject a stream at the same frame.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.exceptions import PayloadTooBig, ProtocolError
from websockets.frames import Close
from websockets.protocol import Protocol, Side

from rxfeeds.errors import RxfeedsError
from rxfeeds.transport.frames import (
    BINARY,
    PING,
    TEXT,
    FrameReader,
    Reassembler,
    WebSocketProtocolError,
    close_args,
)

MAX = 1 << 20


def encode(
    payload: bytes,
    opcode: int,
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = False,
    form: int = 0,
    length: int | None = None,
) -> bytes:
    """A frame as a server would write it; ``form`` forces the 16-bit (1) or 64-bit (2)
    length encoding even for short payloads; ``length`` lies about the payload size."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mask = 0x80 if masked else 0
    if form == 0 and n < 126:
        head = bytes([b0, mask | n])
    elif form <= 1 and n < 65536:
        head = bytes([b0, mask | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([b0, mask | 127]) + n.to_bytes(8, "big")
    if masked:
        key = b"\x01\x02\x03\x04"
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        head += key
    return head + payload


def reference(stream: bytes) -> tuple[list[tuple[bool, int, bytes]], bool]:
    """``websockets``' verdict: the frames it accepts, and whether it rejected the stream."""
    proto = Protocol(Side.CLIENT, max_size=MAX)
    proto.receive_data(stream)
    frames = [(f.fin, int(f.opcode), bytes(f.data)) for f in proto.events_received()]
    return frames, proto.parser_exc is not None


def ours(stream: bytes, cuts: list[int], size: int = 64) -> tuple[list[tuple[bool, int, bytes]], bool]:
    """Our verdict, reading ``stream`` in pieces cut at ``cuts`` into a small buffer."""
    reader = FrameReader(size=size, max_size=MAX)
    assembler = Reassembler(max_size=MAX)
    frames: list[tuple[bool, int, bytes]] = []
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    try:
        for piece in pieces:
            reader.feed(piece)
            for head, payload in reader.frames():
                if head & 0x0F < 8:
                    assembler.add(head, payload)
                frames.append((bool(head & 0x80), head & 0x0F, payload))
    except WebSocketProtocolError:
        return frames, True
    return frames, False


def cut_points(data: st.DataObject, stream: bytes) -> list[int]:
    if not stream:
        return []
    return sorted(set(data.draw(st.lists(st.integers(1, len(stream)), max_size=12))))


payloads = st.one_of(
    st.binary(max_size=40),
    st.binary(min_size=120, max_size=300),
    st.integers(65530, 65540).map(lambda n: os.urandom(n)),
)


@st.composite
def valid_stream(draw: Any) -> bytes:
    """Well-formed messages, some fragmented, with control frames between the fragments."""
    out = bytearray()
    for _ in range(draw(st.integers(0, 8))):
        opcode = draw(st.sampled_from([1, 2]))
        parts = draw(st.lists(payloads, min_size=1, max_size=4))
        for i, part in enumerate(parts):
            form = draw(st.integers(0, 2))
            out += encode(part, opcode if i == 0 else 0, fin=i == len(parts) - 1, form=form)
            if draw(st.booleans()):
                control = draw(st.sampled_from([9, 10]))
                out += encode(draw(st.binary(max_size=125)), control, form=draw(st.integers(0, 1)))
    return bytes(out)


@st.composite
def hostile_frame(draw: Any) -> bytes:
    """A frame with any header bits: reserved bits and opcodes, masks, oversized control
    frames, fragmented control frames, stray continuations, lengths over the limit."""
    opcode = draw(st.sampled_from([0, 1, 2, 3, 7, 9, 10, 11, 15]))
    payload = draw(st.binary(max_size=200))
    return encode(
        payload,
        opcode,
        fin=draw(st.booleans()),
        rsv=draw(st.sampled_from([0, 0, 0, 1, 2, 4])),
        masked=draw(st.integers(0, 9)) == 0,
        form=draw(st.integers(0, 2)),
    )


@settings(max_examples=300, deadline=None)
@given(valid_stream(), st.data())
def test_valid_streams_give_the_same_frames_as_websockets(stream: bytes, data: st.DataObject) -> None:
    expected, rejected = reference(stream)
    assert not rejected
    assert ours(stream, cut_points(data, stream)) == (expected, False)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(valid_stream(), hostile_frame()), max_size=6), st.data())
def test_hostile_streams_are_refused_where_websockets_refuses_them(parts: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(parts)
    expected = reference(stream)
    assert ours(stream, cut_points(data, stream)) == expected


@pytest.mark.parametrize("size", [MAX + 1, 1 << 40, (1 << 63) + 5])
def test_a_length_over_the_limit_is_refused_before_any_allocation(size: int) -> None:
    stream = encode(b"", 1, length=size)  # the header alone; the payload never comes
    assert reference(stream)[1]  # websockets refuses it too (PayloadTooBig)
    reader = FrameReader(size=64, max_size=MAX)
    reader.feed(stream)
    with pytest.raises(WebSocketProtocolError, match="exceeds"):
        list(reader.frames())
    assert isinstance(WebSocketProtocolError("x"), RxfeedsError)
    assert issubclass(PayloadTooBig, Exception) and issubclass(ProtocolError, Exception)


def test_a_message_reassembled_over_the_limit_is_refused() -> None:
    r = Reassembler(max_size=10)
    assert r.add(0x01, b"123456") is None
    with pytest.raises(WebSocketProtocolError, match="message"):
        r.add(0x80, b"78901")


def test_the_buffer_grows_for_a_large_frame_and_shrinks_back() -> None:
    reader = FrameReader(size=64, max_size=MAX)
    big = os.urandom(5000)
    stream = encode(b"a", 1) + encode(big, 2) + encode(b"b", 1)
    for i in range(0, len(stream), 7):  # a prime-sized read: headers straddle the reads
        room = reader.room()
        chunk = stream[i : i + 7]
        room[: len(chunk)] = chunk
        reader.filled(len(chunk))
        got = list(reader.frames())
        if any(head == BINARY for head, _ in got):
            assert got == [(BINARY, big)] or got == [(BINARY, big), (TEXT, b"b")]
    assert reader.buffered == 0
    assert len(reader.room()) == 64  # back to its first size once the big frame is consumed


def test_stopping_early_keeps_the_rest_buffered() -> None:
    reader = FrameReader()
    reader.feed(encode(b"1", 1) + encode(b"2", 1) + encode(b"p", 9) + encode(b"3", 1))
    it = reader.frames()
    assert next(it) == (TEXT, b"1")
    it.close()
    assert list(reader.frames()) == [(TEXT, b"2"), (PING, b"p"), (TEXT, b"3")]


@pytest.mark.parametrize("code, reason", [(1000, ""), (1001, "going away"), (4000, "é ok"), (3999, "x" * 100)])
def test_close_payload_matches_websockets(code: int, reason: str) -> None:
    payload = Close(code, reason).serialize()
    parsed = Close.parse(payload)
    assert close_args(payload) == (parsed.code, parsed.reason)
