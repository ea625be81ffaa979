"""HitBTC v2 codec against real traffic: ``hitbtc-v2-public.dev.capture`` (2021-07-15).

Truth comes from the file itself: the raw JSON is read independently of the codec, books are
rebuilt here with ``Decimal`` from the wire strings, and exact values are those printed in the
capture.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rxfeeds.codec import Data, Reply
from rxfeeds.events import BookDelta, BookSnapshot, Kline, Ticker, Trade
from rxfeeds.venues.hitbtc.codec import HitBTCCodec

CAPTURE = "hitbtc-v2-public.dev.capture"
pytestmark = pytest.mark.captures


def received_frames(path: Path) -> list[tuple[float, str]]:
    frames = []
    for line in path.read_text().splitlines():
        if line[:1].isdigit():
            stamp, _, frame = line.partition(": ")
            frames.append((float(stamp), frame))
    return frames


def utc(*parts: int) -> float:
    return dt.datetime(*parts, tzinfo=dt.UTC).timestamp()  # type: ignore[arg-type,misc]


@pytest.fixture
def capture(capture_file: Any) -> list[tuple[float, str]]:
    return received_frames(capture_file(CAPTURE))


@pytest.fixture
def decoded(capture: list[tuple[float, str]]) -> list[Any]:
    codec = HitBTCCodec()
    out: list[Any] = []
    for recv_time, frame in capture:
        out.extend(codec.decode(frame.encode(), recv_time))
    return out


def test_every_frame_decodes(capture: list[tuple[float, str]], decoded: list[Any]) -> None:
    raw_methods = Counter(json.loads(f).get("method", "reply") for _, f in capture)
    data = [m for m in decoded if isinstance(m, Data)]
    replies = [m for m in decoded if isinstance(m, Reply)]
    # the capture's ids were not assigned by this codec: plain replies, all successes
    assert len(replies) == raw_methods["reply"] == 40
    assert all(r.result is True and r.error is None for r in replies)
    kinds = Counter(type(e).__name__ for m in data for e in m.events)
    assert kinds["BookDelta"] == raw_methods["updateOrderbook"] == 239
    assert kinds["BookSnapshot"] == raw_methods["snapshotOrderbook"] == 12
    assert kinds["Ticker"] == raw_methods["ticker"] == 27
    assert kinds["Trade"] == 100 * raw_methods["snapshotTrades"]
    assert kinds["Kline"] == 100 * raw_methods["snapshotCandles"]


def test_books_contiguous_and_resnapshots_equal_rebuilt_book(capture: list[tuple[float, str]]) -> None:
    codec = HitBTCCodec()
    books: dict[str, dict[str, dict[Decimal, Decimal]]] = {}
    last: dict[str, int] = {}
    updates = deletions = resnapshots = 0
    raw_sequences: list[int] = []
    for recv_time, frame in capture:
        raw = json.loads(frame)
        if raw.get("method") in ("snapshotOrderbook", "updateOrderbook"):
            raw_sequences.append(raw["params"]["sequence"])
        for message in codec.decode(frame, recv_time):
            if not isinstance(message, Data) or message.key[0] != "orderbook":
                continue
            symbol = message.key[1]
            for event in message.events:
                assert event.symbol == symbol
                if isinstance(event, BookSnapshot):
                    image = {
                        "bid": {Decimal(p): Decimal(s) for _, _, p, s in event.bids},
                        "ask": {Decimal(p): Decimal(s) for _, _, p, s in event.asks},
                    }
                    if symbol in books:
                        # the unsolicited re-snapshot: same sequence as the last update, same book
                        resnapshots += 1
                        assert event.sequence == last[symbol]
                        assert image == books[symbol]
                    books[symbol] = image
                    last[symbol] = event.sequence  # type: ignore[assignment]
                else:
                    assert isinstance(event, BookDelta)
                    assert event.sequence == event.first_sequence == last[symbol] + 1
                    last[symbol] = event.sequence
                    updates += 1
                    for side, levels in (("bid", event.bids), ("ask", event.asks)):
                        for _, size, price_text, size_text in levels:
                            price, amount = Decimal(price_text), Decimal(size_text)
                            assert float(amount) == size
                            if amount == 0:
                                deletions += 1
                                books[symbol][side].pop(price, None)
                            else:
                                books[symbol][side][price] = amount
    assert updates == 239 and resnapshots == 6 and len(books) == 6
    assert deletions > 0
    assert len(raw_sequences) == 251
    for image in books.values():
        assert max(image["bid"]) < min(image["ask"])  # never crossed after the replay


def test_snapshot_zero_size_levels_are_dropped() -> None:
    frame = (
        '{"jsonrpc":"2.0","method":"snapshotOrderbook","params":{"ask":[{"price":"0.054588","size":"0.245"},'
        '{"price":"0.054590","size":"0.000"}],"bid":[{"price":"0.054558","size":"0"}],"symbol":"ETHBTC",'
        '"sequence":8073827,"timestamp":"2018-11-19T05:00:28.193Z"}}'
    )
    [message] = HitBTCCodec().decode(frame, 0.0)
    assert isinstance(message, Data)
    [snap] = message.events
    assert isinstance(snap, BookSnapshot)
    assert snap.asks == ((0.054588, 0.245, "0.054588", "0.245"),)
    assert snap.bids == () and snap.sequence == 8073827


def test_trades_exact_values_oldest_first(decoded: list[Any]) -> None:
    by_symbol: dict[str, list[Trade]] = defaultdict(list)
    for m in decoded:
        if isinstance(m, Data) and m.key[0] == "trades":
            by_symbol[m.key[1]].extend(m.events)  # type: ignore[arg-type]
    grt = by_symbol["GRTBTC"]
    assert len(grt) == 100
    first, newest = grt[0], grt[-1]
    assert (first.trade_id, first.price, first.size, first.side) == (1317950670, 0.000020295, 2.95, "buy")
    assert first.time == pytest.approx(utc(2021, 7, 13, 11, 7, 53) + 0.658, abs=1e-6)
    assert (newest.trade_id, newest.price, newest.size, newest.side) == (
        1319833580,
        0.000019530,
        0.79,
        "sell",
    )
    assert newest.time == pytest.approx(utc(2021, 7, 15, 2, 9, 44) + 0.198, abs=1e-6)
    eurs = by_symbol["EURSUSD"]
    assert (eurs[0].trade_id, eurs[0].price, eurs[0].size, eurs[0].side) == (
        1296349216,
        1.20878,
        2.29,
        "sell",
    )
    for trades in by_symbol.values():
        assert all(a.time <= b.time for a, b in itertools.pairwise(trades))


def test_candles_exact_values_oldest_first(decoded: list[Any]) -> None:
    by_symbol: dict[str, list[Kline]] = defaultdict(list)
    for m in decoded:
        if isinstance(m, Data) and m.key[0].startswith("candles-"):
            assert m.key[0] == "candles-M1"
            by_symbol[m.key[1]].extend(m.events)  # type: ignore[arg-type]
    crdt = by_symbol["CRDTETH"]
    assert len(crdt) == 100
    assert crdt[0].open_time == utc(2021, 7, 7, 12, 38)
    assert crdt[0].close_time == utc(2021, 7, 7, 12, 39)
    assert (crdt[0].open, crdt[0].close, crdt[0].volume, crdt[0].quote_volume) == (
        0.00000195,
        0.00000195,
        100.0,
        0.000195,
    )
    assert crdt[-1].open_time == utc(2021, 7, 15, 1, 26) and crdt[-1].volume == 0.3
    # {"timestamp":"2021-06-25T07:53:00.000Z","open":"0.00175","close":"0.0017497","min":"0.00076",
    #  "max":"0.0017746","volume":"2.27","volumeQuote":"0.002955957"}
    [gvt] = [k for k in by_symbol["GVTETH"] if k.open_time == utc(2021, 6, 25, 7, 53)]
    assert (gvt.open, gvt.high, gvt.low, gvt.close) == (0.00175, 0.0017746, 0.00076, 0.0017497)
    assert (gvt.volume, gvt.quote_volume, gvt.interval, gvt.closed) == (2.27, 0.002955957, "1m", True)
    for candles in by_symbol.values():
        assert all(a.open_time < b.open_time for a, b in itertools.pairwise(candles))


def test_ticker_exact_values(decoded: list[Any]) -> None:
    tickers = [e for m in decoded if isinstance(m, Data) and m.key == ("ticker", "EURSUSD") for e in m.events]
    assert len(tickers) == 2
    first = tickers[0]
    assert isinstance(first, Ticker)
    assert (first.bid, first.ask, first.last, first.open, first.low, first.high) == (
        1.19,
        1.195,
        1.19,
        1.19,
        1.19,
        1.195,
    )
    assert (first.volume, first.quote_volume) == (6103.92, 7293.18185)
    assert first.time == pytest.approx(utc(2021, 7, 15, 3, 6, 44) + 0.273, abs=1e-6)
    assert first.recv_time == 1626318404.895253


def test_replay_through_the_client_and_order_book(capture_file: Any) -> None:
    """The same capture through ``rxfeeds.replay`` -> ``HitBTC.orderbook`` -> ``ops.order_book``."""
    import rxfeeds
    from rxfeeds import ops
    from rxfeeds.events import IntegrityEvent

    path = capture_file(CAPTURE)
    # independent final books straight from the raw JSON
    raw_books: dict[str, dict[str, dict[Decimal, Decimal]]] = {}
    for _, frame in received_frames(path):
        msg = json.loads(frame)
        method, p = msg.get("method"), msg.get("params")
        if method == "snapshotOrderbook":
            raw_books[p["symbol"]] = {
                side: {Decimal(x["price"]): Decimal(x["size"]) for x in p[side] if Decimal(x["size"])}
                for side in ("bid", "ask")
            }
        elif method == "updateOrderbook":
            for side in ("bid", "ask"):
                for x in p[side]:
                    if Decimal(x["size"]):
                        raw_books[p["symbol"]][side][Decimal(x["price"])] = Decimal(x["size"])
                    else:
                        raw_books[p["symbol"]][side].pop(Decimal(x["price"]), None)
    session = rxfeeds.replay(path, venue="hitbtc")
    outputs: dict[str, list[Any]] = {s: [] for s in raw_books}
    for symbol, out in outputs.items():
        session.orderbook(symbol).pipe(ops.order_book(integrity=True)).subscribe(out.append)
    session.run()
    for symbol, out in outputs.items():
        kinds = [e.kind for e in out if isinstance(e, IntegrityEvent)]
        assert "gap" not in kinds and kinds[0] == "synced", (symbol, kinds)
        last = [b for b in out if not isinstance(b, IntegrityEvent)][-1]
        assert last.synced
        expected = raw_books[symbol]
        assert dict(last.bids) == {float(p): float(s) for p, s in expected["bid"].items()}
        assert dict(last.asks) == {float(p): float(s) for p, s in expected["ask"].items()}
