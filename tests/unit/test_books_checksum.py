"""Kraken CRC32 book checksum: worked examples from protocols.md, negative controls, v2 rendering,
and a replay of the real Kraken v1 capture where every update's ``c`` must be reproduced."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rxfeeds.books.checksum import (
    CRC32_IMPLEMENTATION,
    checksum_segment,
    checksum_text,
    crc32,
    kraken_checksum,
    kraken_v2_text,
)


def test_segment_strips_point_and_leading_zeros() -> None:
    assert checksum_segment("0.000022900") == "22900"
    assert checksum_segment("13355.87450757") == "1335587450757"
    assert checksum_segment("2192.68000") == "219268000"


def test_worked_example_segments() -> None:
    # protocols.md 5.5: top ask / top bid of ETH/CHF after its first update.
    assert checksum_text([("2192.68000", "3.00000000")], []) == "219268000300000000"
    assert checksum_text([], [("2185.09000", "4.51158730")]) == "218509000451158730"


def test_only_top_ten_per_side_count() -> None:
    asks = [(f"{100 + i}.0", "1.0") for i in range(15)]
    bids = [(f"{99 - i}.0", "2.0") for i in range(15)]
    assert kraken_checksum(asks, bids) == kraken_checksum(asks[:10], bids[:10])
    assert kraken_checksum(asks, bids) != kraken_checksum(asks[:9], bids[:10])


def test_checksum_is_unsigned_crc32_of_text() -> None:
    text = checksum_text([("1.5", "2")], [("1.4", "3")])
    assert kraken_checksum([("1.5", "2")], [("1.4", "3")]) == zlib.crc32(text.encode()) & 0xFFFFFFFF


def test_asks_come_before_bids() -> None:
    a, b = [("101.0", "1.0")], [("100.0", "2.0")]
    assert kraken_checksum(a, b) != kraken_checksum(b, a)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("45283.5"), "45283.5"),
        (Decimal("1E+2"), "100"),
        (Decimal("2.5E-7"), "0.00000025"),
        (Decimal("0.00001000"), "0.00001000"),
        (7, "7"),
        (0.0001, "0.0001"),
        (1e-7, "0.0000001"),
        ("3.10", "3.10"),
    ],
)
def test_v2_rendering_never_uses_an_exponent(value: Any, text: str) -> None:
    assert kraken_v2_text(value) == text


@given(st.decimals(min_value=Decimal("1e-12"), max_value=Decimal("1e12"), allow_nan=False, places=12))
def test_v2_rendering_is_exact(value: Decimal) -> None:
    rendered = kraken_v2_text(value)
    assert "e" not in rendered.lower()
    assert Decimal(rendered) == value


@given(st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_infinity=False))
def test_v2_rendering_of_floats_round_trips(value: float) -> None:
    rendered = kraken_v2_text(value)
    assert "e" not in rendered.lower()
    assert float(rendered) == value


@given(st.binary(max_size=600), st.integers(min_value=0, max_value=2**32 - 1))
def test_the_fast_crc32_equals_zlib(data: bytes, start: int) -> None:
    # whichever implementation is installed (ISA-L with the `fast` extra), it must be zlib's CRC-32
    assert crc32(data) == zlib.crc32(data)
    assert crc32(data, start) == zlib.crc32(data, start)


def test_crc32_implementation_is_named() -> None:
    try:
        import isal  # noqa: F401
    except ImportError:
        assert CRC32_IMPLEMENTATION == "zlib"
    else:
        assert CRC32_IMPLEMENTATION == "isal"


def test_v2_rejects_bool() -> None:
    with pytest.raises(TypeError):
        kraken_v2_text(True)


# --- replay of the real capture with an independent, deliberately simple book ---------------------


def _received_frames(path: Path) -> list[bytes]:
    frames = []
    with path.open("rb") as f:
        for line in f:
            head, sep, frame = line.partition(b": ")
            # received frames are "TS: FRAME"; sent frames and REST replies have a URL first
            if sep and b" " not in head and frame[:1] in (b"[", b"{"):
                frames.append(frame.rstrip(b"\r\n"))
    return frames


def _replay(path: Path, checksum: Callable[[list[tuple[str, str]], list[tuple[str, str]]], int]) -> tuple[int, int]:
    books: dict[str, tuple[dict[Decimal, tuple[str, str]], dict[Decimal, tuple[str, str]]]] = {}
    matched = mismatched = 0
    for frame in _received_frames(path):
        msg = orjson.loads(frame)
        if not isinstance(msg, list):
            continue
        pair, depth = msg[-1], int(msg[-2].split("-")[1])
        parts = msg[1:-2]
        if "as" in parts[0] or "bs" in parts[0]:
            asks = {Decimal(p): (p, s) for p, s, *_ in parts[0].get("as", [])}
            bids = {Decimal(p): (p, s) for p, s, *_ in parts[0].get("bs", [])}
            books[pair] = (asks, bids)
            continue
        asks, bids = books[pair]
        wanted = None
        for part in parts:
            for side, key in ((asks, "a"), (bids, "b")):
                for p, s, *_ in part.get(key, []):
                    if Decimal(s) == 0:
                        side.pop(Decimal(p), None)
                    else:
                        side[Decimal(p)] = (p, s)
            if "c" in part:
                wanted = int(part["c"])
        for side, reverse in ((asks, False), (bids, True)):
            for price in sorted(side, reverse=reverse)[depth:]:
                del side[price]
        top_asks = [asks[p] for p in sorted(asks)[:10]]
        top_bids = [bids[p] for p in sorted(bids, reverse=True)[:10]]
        assert wanted is not None, frame
        if checksum(top_asks, top_bids) == wanted:
            matched += 1
        else:
            mismatched += 1
    return matched, mismatched


@pytest.mark.captures
def test_every_checksum_of_the_kraken_capture_matches(capture_file: Callable[[str], Path]) -> None:
    matched, mismatched = _replay(capture_file("kraken-book-1000.dev.capture"), kraken_checksum)
    assert (matched, mismatched) == (2779, 0)


@pytest.mark.captures
def test_negative_control_float_reformatting_fails(capture_file: Callable[[str], Path]) -> None:
    def via_float(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> int:
        return kraken_checksum(
            [(repr(float(p)), repr(float(s))) for p, s in asks],
            [(repr(float(p)), repr(float(s))) for p, s in bids],
        )

    matched, _ = _replay(capture_file("kraken-book-1000.dev.capture"), via_float)
    assert matched < 100  # proves the replay test above can fail
