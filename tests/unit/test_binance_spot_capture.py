"""Binance spot codec against real recorded traffic (cryptofeed sample_data, 2021-10-12).

Truth comes from the capture files themselves, parsed here with the standard ``json`` module:
every diff's ``U``/``u``, the REST ``lastUpdateId``, and the exact trade/kline/bookTicker fields.
The snapshot bridging rule is checked here independently of the order-book operator, and a
small independent book rebuild is checked against the venue's own ``bookTicker``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rxfeeds.codec import Data
from rxfeeds.events import BookDelta, BookSnapshot, Kline, Quote, Trade
from rxfeeds.venues.binance_spot.codec import BinanceSpotCodec, decode_depth_snapshot

pytestmark = pytest.mark.captures

STREAM_FILE = "binance-spot-depth.dev.capture"
SNAPSHOT_FILE = "binance-spot-depth-snapshots.dev.capture"


def received_frames(path: Path) -> list[tuple[float, str]]:
    """``TS: FRAME`` lines (frames the client received)."""
    frames = []
    for line in path.read_text().splitlines():
        if not line or not line[0].isdigit():
            continue  # connection lines start with the URL
        ts, _, frame = line.partition(": ")
        frames.append((float(ts), frame))
    return frames


def rest_replies(path: Path) -> dict[str, tuple[float, str]]:
    """``URL -> TS: BODY`` lines keyed by the upper-case symbol of the request."""
    replies = {}
    for line in path.read_text().splitlines():
        if " -> " not in line:
            continue
        url, _, rest = line.partition(" -> ")
        ts, _, body = rest.partition(": ")
        symbol = url.split("symbol=")[1].split("&")[0]
        replies[symbol] = (float(ts), body)
    return replies


@pytest.fixture
def frames(capture_file: Callable[[str], Path]) -> list[tuple[float, str]]:
    return received_frames(capture_file(STREAM_FILE))


@pytest.fixture
def snapshots(capture_file: Callable[[str], Path]) -> dict[str, tuple[float, str]]:
    return rest_replies(capture_file(SNAPSHOT_FILE))


def decode_all(frames: list[tuple[float, str]]) -> list[tuple[dict[str, Any], Data]]:
    codec = BinanceSpotCodec()
    out = []
    for ts, frame in frames:
        messages = codec.decode(frame.encode(), ts)
        assert len(messages) == 1 and isinstance(messages[0], Data), frame[:120]
        out.append((json.loads(frame), messages[0]))
    return out


def test_every_diff_decodes_with_first_and_last_update_id(frames: list[tuple[float, str]]) -> None:
    diffs = 0
    for raw, message in decode_all(frames):
        if raw["data"].get("e") != "depthUpdate":
            continue
        diffs += 1
        data = raw["data"]
        assert message.key == ("depth@100ms", raw["stream"].split("@")[0].upper())
        (delta,) = message.events
        assert isinstance(delta, BookDelta)
        assert (delta.first_sequence, delta.sequence) == (data["U"], data["u"])
        assert delta.symbol == data["s"]
        assert delta.time == data["E"] / 1000
        assert [(b[2], b[3]) for b in delta.bids] == [tuple(level) for level in data["b"]]
        assert [(a[2], a[3]) for a in delta.asks] == [tuple(level) for level in data["a"]]
        assert all(lv[0] == float(lv[2]) and lv[1] == float(lv[3]) for lv in delta.bids + delta.asks)
    assert diffs == 160  # 150 NKNUSDT + 10 BLZETH in the file


def test_snapshots_decode_with_last_update_id(snapshots: dict[str, tuple[float, str]]) -> None:
    assert set(snapshots) == {"NKNUSDT", "BLZETH"}
    for symbol, (ts, body) in snapshots.items():
        raw = json.loads(body)
        snap = decode_depth_snapshot(body, symbol.lower(), ts, depth=1000)
        assert isinstance(snap, BookSnapshot)
        assert snap.symbol == symbol
        assert snap.sequence == raw["lastUpdateId"]
        assert [(p, q) for _, _, p, q in snap.bids] == [tuple(x) for x in raw["bids"]]
        assert [(p, q) for _, _, p, q in snap.asks] == [tuple(x) for x in raw["asks"]]
    assert decode_depth_snapshot(snapshots["NKNUSDT"][1], "NKNUSDT", 0.0).sequence == 499869752


def test_snapshot_bridging_rule_holds_for_each_symbol(
    frames: list[tuple[float, str]], snapshots: dict[str, tuple[float, str]]
) -> None:
    deltas: dict[str, list[BookDelta]] = {}
    for _, message in decode_all(frames):
        for event in message.events:
            if isinstance(event, BookDelta):
                deltas.setdefault(event.symbol, []).append(event)
    assert set(deltas) == set(snapshots)
    for symbol, (ts, body) in snapshots.items():
        last_update_id = decode_depth_snapshot(body, symbol, ts).sequence
        assert last_update_id is not None
        applied = [d for d in deltas[symbol] if d.sequence is not None and d.sequence > last_update_id]
        dropped = len(deltas[symbol]) - len(applied)
        assert dropped >= 1, symbol  # the stream was opened before the snapshot
        first = applied[0]
        assert first.first_sequence is not None and first.sequence is not None
        assert first.first_sequence <= last_update_id + 1 <= first.sequence, symbol
        for previous, current in itertools.pairwise(applied):
            assert current.first_sequence == previous.sequence + 1, (symbol, previous, current)  # type: ignore[operator]


def _apply(book: dict[str, dict[Decimal, Decimal]], side: str, levels: list[list[str]]) -> None:
    for price, qty in levels:
        if Decimal(qty) == 0:
            book[side].pop(Decimal(price), None)
        else:
            book[side][Decimal(price)] = Decimal(qty)


def test_rebuilt_book_matches_venue_book_ticker(
    frames: list[tuple[float, str]], snapshots: dict[str, tuple[float, str]]
) -> None:
    """Snapshot + bridged diffs (from decoded events) give the venue's own best bid/ask.

    A bookTicker carries the book's update id ``u``; whenever a diff ends exactly at that id,
    the rebuilt top of book must equal the ticker (NKNUSDT only: BLZETH has no matching pair).
    """
    symbol = "NKNUSDT"
    snap = decode_depth_snapshot(snapshots[symbol][1], symbol, 0.0)
    assert snap.sequence is not None
    book = {
        "b": {Decimal(p): Decimal(q) for _, _, p, q in snap.bids},
        "a": {Decimal(p): Decimal(q) for _, _, p, q in snap.asks},
    }
    last = snap.sequence
    top_at: dict[int, tuple[Decimal, Decimal, Decimal, Decimal]] = {}
    tickers: list[Quote] = []
    ticker_ids: list[int] = []
    for raw, message in decode_all(frames):
        (event,) = message.events
        if isinstance(event, Quote) and event.symbol == symbol:
            tickers.append(event)
            ticker_ids.append(raw["data"]["u"])
        if isinstance(event, BookDelta) and event.symbol == symbol and event.sequence > last:  # type: ignore[operator]
            _apply(book, "b", [[b[2], b[3]] for b in event.bids])
            _apply(book, "a", [[a[2], a[3]] for a in event.asks])
            last = event.sequence  # type: ignore[assignment]
            bid = max(book["b"])
            ask = min(book["a"])
            top_at[last] = (bid, book["b"][bid], ask, book["a"][ask])
    compared = 0
    for quote, update_id in zip(tickers, ticker_ids, strict=True):
        if update_id in top_at:
            bid, bid_size, ask, ask_size = top_at[update_id]
            assert (quote.bid, quote.bid_size, quote.ask, quote.ask_size) == (
                float(bid),
                float(bid_size),
                float(ask),
                float(ask_size),
            ), update_id
            compared += 1
    assert compared >= 10


def test_book_ticker_decodes_exact_values(frames: list[tuple[float, str]]) -> None:
    seen = 0
    for raw, message in decode_all(frames):
        if not raw["stream"].endswith("@bookTicker"):
            continue
        data = raw["data"]
        (quote,) = message.events
        assert isinstance(quote, Quote)
        assert message.key == ("bookTicker", data["s"])
        assert (quote.symbol, quote.bid, quote.bid_size, quote.ask, quote.ask_size) == (
            data["s"],
            float(data["b"]),
            float(data["B"]),
            float(data["a"]),
            float(data["A"]),
        )
        seen += 1
    assert seen == 75
    # First NKNUSDT ticker in the file, values as written there.
    first = next(m for r, m in decode_all(frames) if r["stream"] == "nknusdt@bookTicker").events[0]
    assert isinstance(first, Quote)
    assert (first.bid, first.bid_size, first.ask, first.ask_size) == (0.3521, 672.0, 0.3526, 3199.0)


def test_agg_trade_decodes_exact_values(frames: list[tuple[float, str]]) -> None:
    (pair,) = [(r, m) for r, m in decode_all(frames) if r["stream"].endswith("@aggTrade")]
    raw, message = pair
    (trade,) = message.events
    assert isinstance(trade, Trade)
    assert message.key == ("aggTrade", "NKNUSDT")
    # {"a":15683430,"p":"0.35280000","q":"58.00000000","T":1633998523963,"m":false}
    assert raw["data"]["a"] == 15683430
    assert (trade.symbol, trade.trade_id, trade.price, trade.size) == ("NKNUSDT", 15683430, 0.3528, 58.0)
    assert trade.time == 1633998523.963
    assert trade.side == "buy"  # m=false: the buyer was the taker


def test_kline_decodes_exact_values(frames: list[tuple[float, str]]) -> None:
    (pair,) = [(r, m) for r, m in decode_all(frames) if r["stream"].endswith("@kline_1m")]
    raw, message = pair
    (kline,) = message.events
    assert isinstance(kline, Kline)
    k = raw["data"]["k"]
    assert message.key == ("kline_1m", "NKNUSDT")
    assert (kline.interval, kline.open_time, kline.close_time) == ("1m", 1633998480.0, 1633998540.0)
    assert k["t"] == 1633998480000 and k["T"] == 1633998539999
    assert (kline.open, kline.high, kline.low, kline.close) == (0.3527, 0.3528, 0.3522, 0.3528)
    assert (kline.volume, kline.quote_volume, kline.trades) == (25877.0, 9116.046, 30)
    assert kline.buy_volume == 58.0 and kline.closed is False and k["x"] is False
    assert kline.vwap == pytest.approx(9116.046 / 25877.0)


def test_recorded_rest_replies_decode_for_replay(capture_file: Callable[[str], Path]) -> None:
    codec = BinanceSpotCodec()
    seen = {}
    for line in capture_file(SNAPSHOT_FILE).read_text().splitlines():
        url, _, rest = line.partition(" -> ")
        ts, _, body = rest.partition(": ")
        messages = codec.decode_http(url, body, float(ts))
        assert {m.key[0] for m in messages if isinstance(m, Data)} == {"depth@100ms", "depth", "depth@1000ms"}
        snap = messages[0].events[0]  # type: ignore[union-attr]
        assert isinstance(snap, BookSnapshot) and snap.depth == 1000 and snap.recv_time == float(ts)
        seen[snap.symbol] = snap.sequence
    assert seen == {"NKNUSDT": 499869752, "BLZETH": 281916627}  # the lastUpdateIds written in the file
    assert codec.decode_http("https://api.binance.com/api/v3/exchangeInfo", "{}", 0.0) == []
