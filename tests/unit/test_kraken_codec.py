"""Kraken v1 codec: decoding of the real recordings and every control message.

The capture tests count events against counts taken from the files with the standard library
parser, check specific frames read from the files, and reproduce every book update's CRC32 with
an independent book + checksum implementation written here (Decimal-sorted dicts, binascii).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rxfeeds.codec import Ack, Data, Heartbeat, Notice, Pong, Rejected, Reply
from rxfeeds.errors import FrameError, RequestError, SubscriptionError, UnknownMessage
from rxfeeds.events import BookDelta, BookSnapshot, IntegrityEvent, Kline, OrderUpdate, Quote, Ticker, Trade
from rxfeeds.venues.kraken.codec import KrakenCodec, KrakenError, KrakenStatus, OwnTrade, subscribe_frame
from tests.support.kraken import IndependentBook


def received_frames(path: Path) -> Iterator[tuple[float, bytes]]:
    """(receive time, frame) for every received line of a cryptofeed-style capture."""
    with path.open("rb") as handle:
        for line in handle:
            if line.startswith((b"wss://", b"ws://", b"http")):
                continue
            stamp, _, frame = line.rstrip(b"\n").partition(b": ")
            yield float(stamp), frame


def decode_all(path: Path) -> tuple[list[Any], KrakenCodec]:
    codec = KrakenCodec()
    messages: list[Any] = []
    for stamp, frame in received_frames(path):
        messages.extend(codec.decode(frame, stamp))
    return messages, codec


def file_counts(path: Path) -> Counter[str]:
    """Expected counts, computed from the file with json (not with the codec)."""
    counts: Counter[str] = Counter()
    for _, frame in received_frames(path):
        message = json.loads(frame)
        if isinstance(message, dict):
            counts[message["event"]] += 1
        elif message[-2] == "trade":
            counts["trades"] += len(message[1])
        elif message[-2] == "ticker":
            counts["tickers"] += 1
        elif message[-2].startswith("book"):
            payload = message[1]
            counts["snapshots" if "as" in payload or "bs" in payload else "updates"] += 1
            counts["two_sided"] += len(message) == 5
    return counts


@pytest.mark.captures
def test_book_capture_events_and_every_checksum(capture_file: Any) -> None:
    path = capture_file("kraken-book-1000.dev.capture")
    expected = file_counts(path)
    messages, codec = decode_all(path)
    data = [m for m in messages if isinstance(m, Data)]
    events = [e for m in data for e in m.events]
    snapshots = [e for e in events if isinstance(e, BookSnapshot)]
    deltas = [e for e in events if isinstance(e, BookDelta)]
    assert len(snapshots) == expected["snapshots"] == 6
    assert len(deltas) == expected["updates"] == 2779
    assert sum(1 for m in messages if isinstance(m, Heartbeat)) == expected["heartbeat"]
    assert sum(1 for m in messages if isinstance(m, Ack)) == expected["subscriptionStatus"] == 6
    assert all(m.key[0] == "book-1000" and m.key[1] == m.events[0].symbol for m in data)
    [notice] = [m for m in messages if isinstance(m, Notice)]
    assert isinstance(notice.event, KrakenStatus)
    assert notice.event.connection_id == 17843232920108168701 > 2**63
    assert codec.connection_id == 17843232920108168701

    # First snapshot (ADA/XBT), read from the file: top ask 0.000022900 x 13355.87450757.
    first = snapshots[0]
    assert first.symbol == "ADA/XBT" and first.depth == 1000
    assert first.asks[0] == (0.0000229, 13355.87450757, "0.000022900", "13355.87450757")
    assert len(first.asks) == 841 and len(first.bids) == 707

    # The one two-sided update (SC/EUR): ask and bid in separate dicts, checksum in the last.
    two_sided = [d for d in deltas if d.asks and d.bids]
    assert len(two_sided) == expected["two_sided"] == 1
    [both] = two_sided
    assert both.symbol == "SC/EUR" and both.checksum == 4105471083
    assert both.asks[0][2:] == ("0.042990", "364630.28272081")
    assert both.bids[0][2:] == ("0.042990", "0.00000000")
    assert both.time == 1618678145.920708

    # Independent checksum of every update, book rebuilt from the decoded events' texts.
    books: dict[str, IndependentBook] = {}
    matched = 0
    for event in events:
        if isinstance(event, BookSnapshot):
            book = books[event.symbol] = IndependentBook(event.depth or 10)
            book.apply(book.asks, [[lv[2], lv[3]] for lv in event.asks])
            book.apply(book.bids, [[lv[2], lv[3]] for lv in event.bids])
        elif isinstance(event, BookDelta):
            book = books[event.symbol]
            book.apply(book.asks, [[lv[2], lv[3]] for lv in event.asks])
            book.apply(book.bids, [[lv[2], lv[3]] for lv in event.bids])
            book.truncate()
            assert event.checksum == book.crc(), event
            matched += 1
    assert matched == 2779
    print(f"kraken v1 capture: {matched}/{len(deltas)} book update checksums reproduced")


@pytest.mark.captures
def test_trade_capture(capture_file: Any) -> None:
    path = capture_file("kraken-trade.dev.capture")
    expected = file_counts(path)
    messages, _ = decode_all(path)
    trades: list[Any] = [e for m in messages if isinstance(m, Data) for e in m.events]
    assert all(isinstance(t, Trade) for t in trades)
    assert len(trades) == expected["trades"] > 0
    assert sum(1 for m in messages if isinstance(m, Heartbeat)) == expected["heartbeat"]
    # 1618678155.748181: two SC/EUR buys in one frame.
    pair = [t for t in trades if t.recv_time == 1618678155.748181]
    assert [(t.price, t.size, t.side, t.time) for t in pair] == [
        (0.04298, 8500.0, "buy", 1618678155.718950),
        (0.043, 2383.16665529, "buy", 1618678155.720582),
    ]
    first = trades[0]
    assert (first.symbol, first.price, first.side) == ("SC/EUR", 0.04299, "sell")


@pytest.mark.captures
def test_ticker_capture(capture_file: Any) -> None:
    path = capture_file("kraken-ticker.dev.capture")
    expected = file_counts(path)
    messages, codec = decode_all(path)
    tickers: list[Any] = [e for m in messages if isinstance(m, Data) for e in m.events]
    assert all(isinstance(t, Ticker) for t in tickers)
    assert len(tickers) == expected["tickers"] > 0
    assert codec.connection_id == 14545728493745856413
    waves = tickers[0]
    assert waves.symbol == "WAVES/EUR"
    assert (waves.bid, waves.bid_size, waves.ask, waves.ask_size, waves.last) == (
        13.2329,
        185.18432037,
        13.2539,
        35.72892241,
        13.2539,
    )
    assert (waves.volume, waves.vwap, waves.high, waves.low, waves.open) == (
        72035.05488104,
        13.734728,
        14.2112,
        13.0218,
        13.4283,
    )


# --- control messages and the other channels --------------------------------------------------


def one(codec: KrakenCodec, frame: str) -> Any:
    [message] = codec.decode(frame.encode(), 5.0)
    return message


def test_spread_and_ohlc() -> None:
    codec = KrakenCodec()
    spread = one(
        codec,
        '[5,["5698.40000","5700.00000","1542057299.545897","1.01234567","0.98765432"],"spread","XBT/USD"]',
    )
    assert spread.key == ("spread", "XBT/USD")
    [quote] = spread.events
    assert isinstance(quote, Quote)
    assert (quote.bid, quote.ask, quote.bid_size, quote.ask_size, quote.time) == (
        5698.4,
        5700.0,
        1.01234567,
        0.98765432,
        1542057299.545897,
    )
    frame = (
        '[327,["1621988141.603324","1621988160.000000","38220.70000","38348.80000","38220.70000",'
        '"38320.40000","38330.59222","3.23539643",42],"ohlc-5","XBT/USD"]'
    )
    ohlc = one(codec, frame)
    assert ohlc.key == ("ohlc-5", "XBT/USD")
    [kline] = ohlc.events
    assert isinstance(kline, Kline)
    assert kline.interval == "5m" and kline.closed is False and kline.trades == 42
    assert (kline.open_time, kline.close_time) == (1621988160.0 - 300, 1621988160.0)
    assert (kline.open, kline.high, kline.low, kline.close, kline.volume) == (
        38220.7,
        38348.8,
        38220.7,
        38320.4,
        3.23539643,
    )


def test_republish_flag_is_an_update() -> None:
    codec = KrakenCodec()
    msg = one(
        codec,
        '[1,{"b":[["5541.30000","0.00000000","1534614335.345903","r"]],"c":"974942666"},"book-10","XBT/USD"]',
    )
    [delta] = msg.events
    assert delta.bids == ((5541.3, 0.0, "5541.30000", "0.00000000"),) and delta.checksum == 974942666


def test_subscription_status_ack_and_errors() -> None:
    codec = KrakenCodec()
    ack = one(
        codec,
        '{"channelID":1,"channelName":"ohlc-5","event":"subscriptionStatus","pair":"XBT/USD",'
        '"status":"subscribed","subscription":{"interval":5,"name":"ohlc"}}',
    )
    assert ack == Ack(("ohlc-5", "XBT/USD"))
    bad_pair = one(
        codec,
        '{"errorMessage":"Currency pair not supported","event":"subscriptionStatus",'
        '"pair":"NOPE/USD","status":"error","subscription":{"name":"trade"}}',
    )
    assert isinstance(bad_pair, Rejected) and bad_pair.key == ("trade", "NOPE/USD")
    assert isinstance(bad_pair.error, SubscriptionError) and "Currency pair not supported" in str(bad_pair.error)
    bad_depth = one(
        codec,
        '{"errorMessage":"Subscription depth not supported","event":"subscriptionStatus",'
        '"pair":"XBT/USD","status":"error","subscription":{"depth":11,"name":"book"}}',
    )
    assert bad_depth.key == ("book-11", "XBT/USD")
    private = one(
        codec,
        '{"errorMessage":"EGeneral:Invalid arguments:token","event":"subscriptionStatus",'
        '"status":"error","subscription":{"name":"ownTrades"}}',
    )
    assert private.key == ("ownTrades", "")
    assert (
        codec.decode(
            b'{"channelName":"trade","event":"subscriptionStatus","pair":"XBT/USD",'
            b'"status":"unsubscribed","subscription":{"name":"trade"}}',
            1.0,
        )
        == []
    )


def test_heartbeat_pong_status_and_big_connection_id() -> None:
    codec = KrakenCodec()
    assert isinstance(one(codec, '{"event":"heartbeat"}'), Heartbeat)
    assert codec.decode(b'{"event":"pong","reqid":42}', 1.0) == [
        Pong(42),
        Reply(42, result={"event": "pong", "reqid": 42}),
    ]
    ping = json.loads(codec.ping_frame() or "")
    assert ping["event"] == "ping" and isinstance(ping["reqid"], int)
    huge = 2**64 + 12345  # beyond what orjson keeps exact
    notice = one(codec, f'{{"connectionID":{huge},"event":"systemStatus","status":"maintenance","version":"1.9"}}')
    assert notice.event.connection_id == huge and notice.event.status == "maintenance"


def test_order_entry_replies() -> None:
    codec = KrakenCodec()
    ok = one(
        codec,
        '{"descr":"buy 0.02 XBTUSD @ limit 23000.0","event":"addOrderStatus","reqid":7,'
        '"status":"ok","txid":"ONPNXH-KMKMU-F4MR5V"}',
    )
    assert isinstance(ok, Reply) and ok.request_id == 7 and ok.result["txid"] == "ONPNXH-KMKMU-F4MR5V"
    bad = one(
        codec,
        '{"errorMessage":"EGeneral:Permission denied","event":"cancelAllStatus","reqid":8,"status":"error"}',
    )
    assert bad.request_id == 8 and isinstance(bad.error, RequestError)
    assert "EGeneral:Permission denied" in str(bad.error)
    unsolicited = one(codec, '{"errorMessage":"Event(s) not found","event":"error"}')
    assert isinstance(unsolicited, Notice) and isinstance(unsolicited.event, KrakenError)
    assert unsolicited.event.message == "Event(s) not found"
    rate = one(codec, '{"Error":"Exceeded msg rate"}')
    assert rate.event.message == "Exceeded msg rate"


def test_private_channels_and_sequence_gap() -> None:
    codec = KrakenCodec()
    trade = (
        '[[{"TDLH43-DVQXD-2KHVYY":{"ordertxid":"OX-1","postxid":"P","pair":"XBT/USD","time":"1560516023.070651",'
        '"type":"sell","ordertype":"limit","price":"100000.00000","cost":"1000000.00000","fee":"1600.00000",'
        '"vol":"10.00000000","margin":"0.00000","userref":0}}],"ownTrades",{"sequence":%d}]'
    )
    first = one(codec, trade % 1)
    assert first.key == ("ownTrades", "")
    [fill] = first.events
    assert isinstance(fill, OwnTrade)
    assert (fill.trade_id, fill.order_id, fill.side, fill.price, fill.size, fill.fee) == (
        "TDLH43-DVQXD-2KHVYY",
        "OX-1",
        "sell",
        100000.0,
        10.0,
        1600.0,
    )
    assert len(one(codec, trade % 2).events) == 1
    gapped = one(codec, trade % 4).events
    assert isinstance(gapped[0], OwnTrade)
    assert (
        isinstance(gapped[-1], IntegrityEvent) and gapped[-1].kind == "gap" and "expected 3, got 4" in gapped[-1].detail
    )
    # A fresh subscription restarts the sequence.
    one(
        codec,
        '{"channelName":"ownTrades","event":"subscriptionStatus","status":"subscribed","subscription":{"name":"ownTrades"}}',
    )
    assert len(one(codec, trade % 1).events) == 1
    order = one(
        codec,
        '[[{"OGTT3Y-C6I3P-XRI6HX":{"status":"open","opentm":"1560516023.1","vol":"1.5","vol_exec":"0.5",'
        '"descr":{"pair":"XBT/USD","type":"buy","ordertype":"limit","price":"34.50000"}}}],"openOrders",{"sequence":1}]',
    )
    [update] = order.events
    assert isinstance(update, OrderUpdate)
    assert (
        update.order_id,
        update.status,
        update.side,
        update.price,
        update.size,
        update.filled,
        update.symbol,
    ) == (
        "OGTT3Y-C6I3P-XRI6HX",
        "open",
        "buy",
        34.5,
        1.5,
        0.5,
        "XBT/USD",
    )


@pytest.mark.parametrize(
    "frame",
    [
        b"not json",
        b"[1,2",
        b'[1,{"a":"x"},"book-10","XBT/USD"]',
        b'[1,[["1"]],"trade","XBT/USD"]',
        b"[]",
        b'{"event":"subscriptionStatus","status":"weird"}',
        b'{"event":"wat"}',
        b'[1,{},"mystery","XBT/USD"]',
        b'[[],"ownPizza",{"sequence":1}]',
        b"42",
    ],
)
def test_bad_frames_raise_typed_errors_with_the_raw_frame(frame: bytes) -> None:
    with pytest.raises(FrameError) as info:
        KrakenCodec().decode(frame, 1.0)
    assert info.value.raw == frame and info.value.venue == "kraken"


def test_unknown_channel_is_unknown_message() -> None:
    with pytest.raises(UnknownMessage):
        KrakenCodec().decode(b'[1,{},"mystery","XBT/USD"]', 1.0)


def test_subscribe_frames() -> None:
    codec = KrakenCodec(token=lambda: "secret-token")
    assert json.loads(codec.subscribe_frames(("ohlc-60", "ETH/EUR"))[0]) == {
        "event": "subscribe",
        "pair": ["ETH/EUR"],
        "subscription": {"name": "ohlc", "interval": 60},
    }
    private = json.loads(codec.unsubscribe_frames(("openOrders", ""))[0])
    assert private == {
        "event": "unsubscribe",
        "subscription": {"name": "openOrders", "token": "secret-token"},
    }
    assert json.loads(subscribe_frame(("book-25", "XBT/USD"), reqid=3))["reqid"] == 3
