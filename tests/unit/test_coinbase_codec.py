"""Coinbase Advanced Trade codec: frames out, messages in, and the connection-wide sequence rule."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from reactivex.subject import Subject

from rxfeeds import ops
from rxfeeds.codec import HEARTBEAT, Ack, Data, Notice, Rejected
from rxfeeds.errors import FrameError, InvalidArgument, SubscriptionError
from rxfeeds.events import BookDelta, BookSnapshot, IntegrityEvent, Kline, Ticker, Trade
from rxfeeds.venues.coinbase.codec import CoinbaseCodec, rfc3339
from tests.helpers import wait_until

T0 = "2023-02-09T20:32:50.714964855Z"


def envelope(channel: str, seq: int, events: list[Any], timestamp: str = T0) -> bytes:
    body = {"channel": channel, "client_id": "", "timestamp": timestamp, "sequence_num": seq, "events": events}
    return orjson.dumps(body)


def level(side: str, price: str, qty: str) -> dict[str, str]:
    return {"side": side, "event_time": T0, "price_level": price, "new_quantity": qty}


def l2(seq: int, product: str, kind: str = "update", *levels: dict[str, str]) -> bytes:
    return envelope("l2_data", seq, [{"type": kind, "product_id": product, "updates": list(levels)}])


def snapshot(seq: int, product: str) -> bytes:
    return l2(seq, product, "snapshot", level("bid", "100.00", "1.5"), level("offer", "100.50", "2"))


def ticker(seq: int, product: str = "BTC-USD") -> bytes:
    return envelope("ticker", seq, [{"type": "update", "tickers": [{"type": "ticker", "product_id": product}]}])


def heartbeat(seq: int, counter: int | str) -> bytes:
    return envelope(
        "heartbeats", seq, [{"current_time": "2023-06-23 20:31:56 +0000 UTC", "heartbeat_counter": counter}]
    )


def book_events(messages: Any) -> list[Any]:
    return [e for m in messages if type(m) is Data and m.key[0] == "level2" for e in m.events]


# -- frames out -----------------------------------------------------------------------------------


def test_the_first_subscribe_of_a_connection_brings_heartbeats_along() -> None:
    codec = CoinbaseCodec()
    first = [orjson.loads(f) for f in codec.subscribe_frames(("level2", "BTC-USD"))]
    second = [orjson.loads(f) for f in codec.subscribe_frames(("market_trades", "BTC-USD"))]
    assert [f["channel"] for f in first] == ["heartbeats", "level2"]
    assert first[1] == {"type": "subscribe", "product_ids": ["BTC-USD"], "channel": "level2"}
    assert [f["channel"] for f in second] == ["market_trades"]
    codec.reset()  # a new connection needs them again
    assert [orjson.loads(f)["channel"] for f in codec.subscribe_frames(("ticker", "ETH-USD"))] == [
        "heartbeats",
        "ticker",
    ]
    assert orjson.loads(codec.unsubscribe_frames(("ticker", "ETH-USD"))[0]) == {
        "type": "unsubscribe",
        "product_ids": ["ETH-USD"],
        "channel": "ticker",
    }


def test_a_jwt_goes_into_every_frame_fresh_and_never_into_reprs_or_recordings() -> None:
    tokens = iter(["eyJ.first.sig", "eyJ.second.sig", "eyJ.third.sig"])
    codec = CoinbaseCodec(lambda: next(tokens))
    frames = [*codec.subscribe_frames(("level2", "BTC-USD")), *codec.unsubscribe_frames(("level2", "BTC-USD"))]
    assert [orjson.loads(f)["jwt"] for f in frames] == ["eyJ.first.sig", "eyJ.second.sig", "eyJ.third.sig"]
    assert all("eyJ" not in CoinbaseCodec.redact(f) and '"jwt":"***"' in CoinbaseCodec.redact(f) for f in frames)
    assert "eyJ" not in repr(codec)
    with pytest.raises(InvalidArgument) as caught:
        CoinbaseCodec("eyJ.not.callable")  # type: ignore[arg-type]
    assert "eyJ" not in str(caught.value)


@pytest.mark.parametrize("key", [("user", "BTC-USD"), ("level2", ""), ("heartbeats", "BTC-USD")])
def test_unknown_keys_are_refused(key: tuple[str, str]) -> None:
    with pytest.raises(InvalidArgument):
        CoinbaseCodec().subscribe_frames(key)


# -- messages in ----------------------------------------------------------------------------------


def test_book_snapshot_then_updates_numbered_across_other_channels() -> None:
    codec = CoinbaseCodec()
    (snap,) = book_events(codec.decode(snapshot(0, "BTC-USD"), 1.0))
    assert type(snap) is BookSnapshot and snap.sequence == 0
    assert snap.bids == ((100.0, 1.5, "100.00", "1.5"),) and snap.asks == ((100.5, 2.0, "100.50", "2"),)
    assert snap.time == pytest.approx(rfc3339(T0))
    codec.decode(ticker(1), 1.0)  # other channels share the numbering
    codec.decode(heartbeat(2, "7"), 1.0)
    (delta,) = book_events(codec.decode(l2(3, "BTC-USD", "update", level("offer", "100.50", "0")), 1.0))
    assert type(delta) is BookDelta and (delta.first_sequence, delta.sequence) == (1, 3)
    assert delta.asks == ((100.5, 0.0, "100.50", "0"),) and delta.bids == ()


def test_a_gap_marks_every_book_at_once_and_is_a_notice() -> None:
    codec = CoinbaseCodec()
    codec.decode(snapshot(0, "BTC-USD"), 1.0)
    codec.decode(snapshot(1, "ETH-USD"), 1.0)
    codec.decode(snapshot(2, "SOL-USD"), 1.0)
    out = codec.decode(l2(7, "ETH-USD", "update", level("bid", "99", "1")), 2.0)  # 3..6 lost
    notices = [m.event for m in out if type(m) is Notice]
    assert len(notices) == 1 and notices[0].kind == "gap" and "4 message(s) lost" in notices[0].detail
    *markers, real = book_events(out)
    # every book, the one this message updates included, gets a marker first: its numbering skips
    # the number after the product's last message (0, 1 and 2 here), so each book sees a gap
    assert [(e.symbol, e.first_sequence, e.sequence, e.bids, e.asks) for e in markers] == [
        ("BTC-USD", 2, 2, (), ()),
        ("ETH-USD", 3, 3, (), ()),
        ("SOL-USD", 4, 4, (), ()),
    ]
    assert real.symbol == "ETH-USD" and (real.first_sequence, real.sequence) == (7, 7)  # past the gap
    assert real.bids[0][:2] == (99.0, 1.0) and codec.gaps == 1
    # the next delta of a book not carried by that message starts after the gap too
    (nxt,) = book_events(codec.decode(l2(8, "BTC-USD", "update", level("bid", "98", "1")), 2.0))
    assert (nxt.first_sequence, nxt.sequence) == (8, 8)
    (again,) = book_events(codec.decode(l2(9, "BTC-USD", "update", level("bid", "98", "2")), 2.0))
    assert (again.first_sequence, again.sequence) == (9, 9)  # and continuous from there


def test_a_gap_reaches_order_book_as_gap_and_resync() -> None:
    codec = CoinbaseCodec()
    frames = [snapshot(0, "BTC-USD"), ticker(1), l2(2, "BTC-USD", "update", level("bid", "99", "1")), ticker(5)]
    events = [e for f in frames for m in codec.decode(f, 1.0) if type(m) is Data for e in m.events]
    asked: list[str] = []
    out: list[Any] = []
    book_only = [e for e in events if isinstance(e, (BookSnapshot, BookDelta))]
    source: Subject[Any] = Subject()  # never completes: a completed stream cancels the resync timer
    errors: list[Exception] = []
    sub = source.pipe(ops.order_book(integrity=True, resync=asked.append)).subscribe(out.append, errors.append)
    try:
        for e in book_only:
            source.on_next(e)
        kinds = [v.kind for v in out if type(v) is IntegrityEvent]
        assert kinds[:2] == ["synced", "gap"]
        wait_until(lambda: asked == ["BTC-USD"])  # the resync is asked on the operator's scheduler
        assert [v.synced for v in out if type(v) is not IntegrityEvent] == [True, True, False]
    finally:
        sub.dispose()  # no snapshot ever comes: the resync timers must not outlive the test
    assert not errors


def test_a_heartbeat_counter_jump_without_a_sequence_gap_resyncs_the_books() -> None:
    codec = CoinbaseCodec()
    codec.decode(snapshot(0, "BTC-USD"), 1.0)
    assert codec.decode(heartbeat(1, "10"), 1.0) == [HEARTBEAT]
    out = codec.decode(heartbeat(2, 12), 1.0)  # 11 is missing, the sequence numbers are not
    assert codec.missed_heartbeats == 1 and codec.gaps == 1
    (marker,) = book_events(out)
    assert marker.first_sequence == 2 and marker.bids == marker.asks == ()
    assert any(type(m) is Notice and m.event.kind == "gap" for m in out) and out[-1] is HEARTBEAT


def test_a_lost_heartbeat_already_seen_as_a_sequence_gap_resyncs_once() -> None:
    codec = CoinbaseCodec()
    codec.decode(snapshot(0, "BTC-USD"), 1.0)
    codec.decode(heartbeat(1, "10"), 1.0)
    first = codec.decode(ticker(3), 1.0)  # heartbeat 11 was message 2
    second = codec.decode(heartbeat(4, "12"), 1.0)
    assert len(book_events(first)) == 1 and book_events(second) == []
    assert codec.gaps == 1 and codec.missed_heartbeats == 1


def test_an_old_book_message_is_ignored_and_a_reconnect_starts_over() -> None:
    codec = CoinbaseCodec()
    codec.decode(snapshot(5, "BTC-USD"), 1.0)
    assert codec.decode(l2(5, "BTC-USD", "update", level("bid", "99", "1")), 1.0) == []
    assert codec.decode(l2(3, "BTC-USD", "update", level("bid", "99", "1")), 1.0) == []
    codec.reset()
    (snap,) = book_events(codec.decode(snapshot(0, "BTC-USD"), 1.0))
    assert snap.sequence == 0 and codec.gaps == 0


def test_an_unsubscribed_book_gets_no_marker() -> None:
    codec = CoinbaseCodec()
    codec.decode(snapshot(0, "BTC-USD"), 1.0)
    codec.decode(snapshot(1, "ETH-USD"), 1.0)
    codec.unsubscribe_frames(("level2", "ETH-USD"))
    assert {e.symbol for e in book_events(codec.decode(ticker(9), 1.0))} == {"BTC-USD"}


def test_two_events_of_one_product_in_one_message_are_one_book_event() -> None:
    codec = CoinbaseCodec()
    codec.decode(snapshot(0, "BTC-USD"), 1.0)
    events = [
        {"type": "update", "product_id": "BTC-USD", "updates": [level("bid", "99", "1")]},
        {"type": "update", "product_id": "BTC-USD", "updates": [level("bid", "99", "2"), level("offer", "101", "1")]},
    ]
    (delta,) = book_events(codec.decode(envelope("l2_data", 1, events), 1.0))
    assert [lv[:2] for lv in delta.bids] == [(99.0, 1.0), (99.0, 2.0)] and delta.first_sequence == 1
    events = [
        {"type": "snapshot", "product_id": "ETH-USD", "updates": [level("bid", "9", "1"), level("bid", "8", "1")]},
        {"type": "update", "product_id": "ETH-USD", "updates": [level("bid", "9", "0"), level("bid", "7", "3")]},
    ]
    (snap,) = book_events(codec.decode(envelope("l2_data", 2, events), 1.0))
    assert type(snap) is BookSnapshot and [lv[:2] for lv in snap.bids] == [(8.0, 1.0), (7.0, 3.0)]


def test_trades_oldest_first_with_side_and_id() -> None:
    trades = [
        {"trade_id": "12", "product_id": "BTC-USD", "price": "101", "size": "0.5", "side": "SELL", "time": T0},
        {"trade_id": "11", "product_id": "BTC-USD", "price": "100", "size": "1", "side": "BUY", "time": T0},
    ]
    (msg,) = CoinbaseCodec().decode(envelope("market_trades", 0, [{"type": "snapshot", "trades": trades}]), 1.0)
    assert msg.key == ("market_trades", "BTC-USD")
    assert [(t.trade_id, t.price, t.side) for t in msg.events] == [("11", 100.0, "buy"), ("12", 101.0, "sell")]
    assert all(type(t) is Trade and t.time == pytest.approx(rfc3339(T0)) for t in msg.events)


def test_ticker_fields_and_a_zero_low_is_no_price() -> None:
    tick = {
        "type": "ticker",
        "product_id": "BTC-USD",
        "price": "21932.98",
        "volume_24_h": "16038.28",
        "low_24_h": "0",
        "high_24_h": "23011.18",
        "best_bid": "21932.97",
        "best_bid_quantity": "0.5",
        "best_ask": "21932.99",
        "best_ask_quantity": "1.25",
    }
    (msg,) = CoinbaseCodec().decode(envelope("ticker", 0, [{"type": "snapshot", "tickers": [tick]}]), 1.0)
    (t,) = msg.events
    assert type(t) is Ticker and msg.key == ("ticker", "BTC-USD")
    assert (t.last, t.bid, t.bid_size, t.ask, t.ask_size) == (21932.98, 21932.97, 0.5, 21932.99, 1.25)
    assert (t.high, t.low, t.volume) == (23011.18, None, 16038.28)


def test_candles_are_five_minute_klines_oldest_first() -> None:
    candles = [
        {
            "start": str(s),
            "high": "2",
            "low": "1",
            "open": "1.5",
            "close": "1.8",
            "volume": "3",
            "product_id": "ETH-USD",
        }
        for s in (1688998500, 1688998200)
    ]
    (msg,) = CoinbaseCodec().decode(envelope("candles", 0, [{"type": "snapshot", "candles": candles}]), 1688998700.0)
    assert msg.key == ("candles", "ETH-USD")
    first, running = msg.events
    assert type(first) is Kline and (first.open_time, first.close_time, first.interval) == (
        1688998200,
        1688998500,
        "5m",
    )
    assert first.closed and not running.closed and running.close == 1.8


def test_subscriptions_ack_and_errors_refuse_the_oldest_pending() -> None:
    codec = CoinbaseCodec()
    codec.subscribe_frames(("level2", "BTC-USD"))
    codec.subscribe_frames(("level2", "NOPE-USD"))
    listed = {"subscriptions": {"level2": ["BTC-USD"], "heartbeats": ["heartbeats"]}}
    assert codec.decode(envelope("subscriptions", 0, [listed]), 1.0) == [Ack(("level2", "BTC-USD"))]
    (refused,) = codec.decode(b'{"type":"error","message":"Failed to subscribe","reason":"no NOPE-USD"}', 1.0)
    assert type(refused) is Rejected and refused.key == ("level2", "NOPE-USD")
    assert "no NOPE-USD" in str(refused.error)
    (notice,) = codec.decode(b'{"type":"error","message":"rate limited"}', 1.0)
    assert type(notice) is Notice and isinstance(notice.event, SubscriptionError)


@pytest.mark.parametrize(
    "frame",
    [
        b'{"channel":"l2_data","sequence_num":"1","events":[]}',
        b'{"channel":"l2_data","sequence_num":1,"events":{}}',
        b'{"channel":"mystery","sequence_num":1,"events":[]}',
        b'{"type":"welcome"}',
        b"[1,2]",
        b"not json",
    ],
)
def test_malformed_envelopes_are_frame_errors(frame: bytes) -> None:
    with pytest.raises(FrameError):
        CoinbaseCodec().decode(frame, 1.0)


def test_an_unreadable_book_message_counts_as_lost() -> None:
    codec = CoinbaseCodec()
    codec.decode(snapshot(0, "BTC-USD"), 1.0)
    codec.decode(snapshot(1, "ETH-USD"), 1.0)
    with pytest.raises(FrameError):
        codec.decode(l2(2, "BTC-USD", "update", level("bid", "NaN", "1")), 1.0)
    out = codec.decode(l2(3, "ETH-USD", "update", level("bid", "9", "1")), 1.0)
    markers = [(e.symbol, e.first_sequence) for e in book_events(out) if not e.bids and not e.asks]
    assert markers == [("BTC-USD", 2), ("ETH-USD", 3)]
    assert codec.gaps == 1 and any(type(m) is Notice for m in out)
    # a bad ticker loses no book data: nothing to resync
    with pytest.raises(FrameError):
        codec.decode(envelope("ticker", 4, [{"type": "update", "tickers": [{"product_id": 5}]}]), 1.0)
    assert book_events(codec.decode(ticker(5), 1.0)) == [] and codec.gaps == 1


def test_an_unreadable_message_that_used_no_number_still_breaks_every_book() -> None:
    # a frame whose sequence_num itself is unreadable: the next message continues the numbering
    codec = CoinbaseCodec()
    events = book_events(codec.decode(snapshot(0, "BTC-USD"), 1.0))
    with pytest.raises(FrameError):
        codec.decode(b'{"channel":"l2_data","sequence_num":"x","events":[]}', 1.0)
    events += book_events(codec.decode(l2(1, "BTC-USD", "update", level("bid", "99", "1")), 1.0))
    source: Subject[Any] = Subject()
    books: list[Any] = []
    sub = source.pipe(ops.order_book(integrity=True)).subscribe(books.append)
    for e in events:
        source.on_next(e)
    sub.dispose()
    assert [v.kind for v in books if type(v) is IntegrityEvent][:2] == ["synced", "gap"]
    assert [v.synced for v in books if type(v) is not IntegrityEvent] == [True, False]
