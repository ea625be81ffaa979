"""The Bybit v5 codec, frame by frame (no sockets)."""

from __future__ import annotations

import orjson
import pytest

from rxfeeds.codec import Ack, Data, Notice, Pong, Rejected
from rxfeeds.errors import FrameError, InvalidArgument, SubscriptionError, UnknownMessage
from rxfeeds.events import BookDelta, BookSnapshot, Kline, StreamReset, Ticker, Trade
from rxfeeds.venues.bybit.codec import BybitCodec, BybitLinearCodec, kline_interval, parse_topic


def frame(obj: object) -> bytes:
    return orjson.dumps(obj)


def book(kind: str, u: int, bids: list[list[str]], asks: list[list[str]], depth: int = 50) -> bytes:
    data = {"s": "BTCUSDT", "b": bids, "a": asks, "u": u, "seq": 10_000 + u}
    return frame({"topic": f"orderbook.{depth}.BTCUSDT", "type": kind, "ts": 1_700_000_000_000, "data": data})


def events(codec: BybitCodec, raw: bytes) -> list[object]:
    return [e for m in codec.decode(raw, 5.0) if isinstance(m, Data) for e in m.events]


def test_one_subscribe_request_per_key_acked_or_rejected_by_its_req_id() -> None:
    codec = BybitCodec()
    [first] = codec.subscribe_frames(("orderbook.50", "BTCUSDT"))
    [second] = codec.subscribe_frames(("publicTrade", "NOPE"))
    assert orjson.loads(first) == {"req_id": "1", "op": "subscribe", "args": ["orderbook.50.BTCUSDT"]}
    assert orjson.loads(second)["req_id"] == "2"
    refused = codec.decode(
        frame({"success": False, "ret_msg": "Invalid symbol :[publicTrade.NOPE]", "req_id": "2", "op": "subscribe"}),
        1.0,
    )
    assert isinstance(refused[0], Rejected) and refused[0].key == ("publicTrade", "NOPE")
    assert isinstance(refused[0].error, SubscriptionError) and "Invalid symbol" in refused[0].error.message
    ok = codec.decode(frame({"success": True, "ret_msg": "", "req_id": "1", "op": "subscribe"}), 1.0)
    assert ok == [Ack(("orderbook.50", "BTCUSDT"))]
    # an answer to a request this codec did not make is news, not an ack
    assert codec.decode(frame({"success": True, "ret_msg": "", "req_id": "1", "op": "subscribe"}), 1.0) == []
    [unsub] = codec.unsubscribe_frames(("orderbook.50", "BTCUSDT"))
    assert orjson.loads(unsub)["op"] == "unsubscribe"
    assert codec.decode(frame({"success": True, "ret_msg": "", "req_id": "3", "op": "unsubscribe"}), 1.0) == []


def test_both_pong_forms_and_the_ping_frame() -> None:
    codec = BybitLinearCodec()
    assert orjson.loads(codec.ping_frame()) == {"op": "ping"}
    assert codec.decode(b'{"success":true,"ret_msg":"pong","conn_id":"x","req_id":"","op":"ping"}', 1.0) == [Pong()]
    assert codec.decode(b'{"req_id":"","op":"pong","args":["1700000000000"],"conn_id":"x"}', 1.0) == [Pong()]
    [notice] = codec.decode(b'{"success":false,"ret_msg":"error:invalid op","op":"auth"}', 1.0)
    assert isinstance(notice, Notice)


def test_book_snapshot_and_delta_carry_u_and_the_topic_depth() -> None:
    codec = BybitCodec()
    [snap] = events(codec, book("snapshot", 41, [["100.5", "2"]], [["101", "1.25"]], depth=200))
    assert isinstance(snap, BookSnapshot)
    assert (snap.sequence, snap.depth, snap.time) == (41, 200, 1_700_000_000.0)
    assert snap.bids == ((100.5, 2.0, "100.5", "2"),) and snap.asks == ((101.0, 1.25, "101", "1.25"),)
    [delta] = events(codec, book("delta", 42, [["100.5", "0"]], []))
    assert isinstance(delta, BookDelta)
    assert (delta.sequence, delta.first_sequence, delta.bids) == (42, 42, ((100.5, 0.0, "100.5", "0"),))


def test_a_u_equal_1_snapshot_is_preceded_by_a_stream_reset() -> None:
    [message] = BybitCodec().decode(book("snapshot", 1, [["100", "1"]], [["101", "1"]]), 5.0)
    assert isinstance(message, Data) and message.key == ("orderbook.50", "BTCUSDT")
    reset, snap = message.events
    assert isinstance(reset, StreamReset) and reset.channel == "orderbook.50" and "u=1" in reset.reason
    assert isinstance(snap, BookSnapshot) and snap.sequence == 1
    # a u == 1 delta is no restart: it is just a (gapped) delta
    [delta] = events(BybitCodec(), book("delta", 1, [], []))
    assert isinstance(delta, BookDelta)


def test_a_repeated_level1_snapshot_keeps_the_book_synced_and_u_1_restarts_it() -> None:
    import reactivex as rx

    from rxfeeds.books.book import OrderBook
    from rxfeeds.events import IntegrityEvent
    from rxfeeds.ops import order_book

    codec = BybitCodec()
    frames = [
        book("snapshot", 5, [["100", "1"]], [["101", "1"]], depth=1),
        book("delta", 6, [["100", "2"]], [], depth=1),
        book("snapshot", 6, [["100", "2"]], [["101", "1"]], depth=1),  # unchanged for 3 s: sent again
        book("delta", 7, [], [["101", "3"]], depth=1),
        book("snapshot", 1, [["99", "1"]], [["102", "1"]], depth=1),  # the service restarted
        book("delta", 2, [["99", "4"]], [], depth=1),
    ]
    out: list[object] = []
    rx.from_iterable([e for f in frames for e in events(codec, f)]).pipe(order_book(integrity=True)).subscribe(
        out.append
    )
    kinds = [v.kind for v in out if isinstance(v, IntegrityEvent)]
    books = [v for v in out if isinstance(v, OrderBook)]
    assert kinds == ["synced", "reset", "synced"]
    assert [(b.sequence, b.synced) for b in books][-3:] == [(7, False), (1, True), (2, True)]
    assert books[3].asks == ((101.0, 3.0),) and books[-1].bids == ((99.0, 4.0),) and books[-1].asks == ((102.0, 1.0),)


def test_trades_are_oldest_first_with_the_taker_side() -> None:
    msg = {
        "topic": "publicTrade.BTCUSDT",
        "type": "snapshot",
        "ts": 1_700_000_000_100,
        "data": [
            {"T": 1_700_000_000_090, "s": "BTCUSDT", "S": "Sell", "v": "0.5", "p": "100", "i": "b", "BT": False},
            {"T": 1_700_000_000_080, "s": "BTCUSDT", "S": "Buy", "v": "0.25", "p": "101", "i": "a", "BT": False},
        ],
    }
    trades = events(BybitCodec(), frame(msg))
    assert all(isinstance(t, Trade) for t in trades)
    assert [(t.trade_id, t.side, t.price, t.size) for t in trades] == [  # type: ignore[attr-defined]
        ("a", "buy", 101.0, 0.25),
        ("b", "sell", 100.0, 0.5),
    ]


def test_linear_ticker_deltas_merge_into_the_full_ticker_and_reset_forgets() -> None:
    codec = BybitLinearCodec()
    snapshot = {
        "symbol": "BTCUSDT",
        "lastPrice": "100",
        "bid1Price": "99",
        "bid1Size": "3",
        "ask1Price": "101",
        "ask1Size": "4",
        "prevPrice24h": "90",
        "highPrice24h": "110",
        "lowPrice24h": "80",
        "volume24h": "1000",
        "turnover24h": "100000",
        "markPrice": "100.1",
    }
    ticker = {"topic": "tickers.BTCUSDT", "ts": 1_700_000_000_000}
    [first] = events(codec, frame({**ticker, "type": "snapshot", "data": snapshot}))
    assert isinstance(first, Ticker) and (first.bid, first.ask, first.last, first.open) == (99.0, 101.0, 100.0, 90.0)
    [merged] = events(codec, frame({**ticker, "type": "delta", "data": {"symbol": "BTCUSDT", "bid1Price": "99.5"}}))
    assert isinstance(merged, Ticker)
    assert (merged.bid, merged.bid_size, merged.ask, merged.high, merged.volume) == (99.5, 3.0, 101.0, 110.0, 1000.0)
    # a bad delta raises and leaves the merged state as it was
    with pytest.raises(FrameError):
        codec.decode(frame({**ticker, "type": "delta", "data": {"symbol": "BTCUSDT", "ask1Price": "-1"}}), 1.0)
    [again] = events(codec, frame({**ticker, "type": "delta", "data": {"symbol": "BTCUSDT", "lastPrice": "100.5"}}))
    assert isinstance(again, Ticker) and (again.ask, again.bid, again.last) == (101.0, 99.5, 100.5)
    codec.reset()  # a new connection: its snapshot comes first, old fields must not leak in
    [fresh] = events(codec, frame({**ticker, "type": "delta", "data": {"symbol": "BTCUSDT", "lastPrice": "1"}}))
    assert isinstance(fresh, Ticker) and (fresh.last, fresh.bid, fresh.ask) == (1.0, None, None)


def test_spot_ticker_empty_fields_are_none() -> None:
    data = {"symbol": "BTCUSDT", "lastPrice": "100", "highPrice24h": "", "volume24h": "5", "turnover24h": "500"}
    [t] = events(BybitCodec(), frame({"topic": "tickers.BTCUSDT", "ts": 1, "type": "snapshot", "data": data}))
    assert isinstance(t, Ticker) and (t.last, t.high, t.volume, t.quote_volume, t.bid) == (
        100.0,
        None,
        5.0,
        500.0,
        None,
    )


def test_klines_map_interval_end_and_confirm() -> None:
    item = {
        "start": 1_672_324_800_000,
        "end": 1_672_325_099_999,
        "interval": "5",
        "open": "16649.5",
        "close": "16677",
        "high": "16677",
        "low": "16608",
        "volume": "2.081",
        "turnover": "34666.4005",
        "confirm": True,
        "timestamp": 1_672_324_988_882,
    }
    [k] = events(BybitCodec(), frame({"topic": "kline.5.BTCUSDT", "data": [item], "ts": 1, "type": "snapshot"}))
    assert isinstance(k, Kline)
    assert (k.interval, k.open_time, k.close_time, k.closed) == ("5m", 1_672_324_800.0, 1_672_325_100.0, True)
    assert (k.open, k.high, k.low, k.close, k.volume, k.quote_volume) == (
        16649.5,
        16677.0,
        16608.0,
        16677.0,
        2.081,
        34666.4005,
    )
    item["interval"] = "15"  # disagrees with the topic
    with pytest.raises(FrameError):
        BybitCodec().decode(frame({"topic": "kline.5.BTCUSDT", "data": [item], "ts": 1, "type": "snapshot"}), 1.0)


def test_unknown_topics_and_shapes_are_unknown_messages() -> None:
    codec = BybitCodec()
    with pytest.raises(UnknownMessage):
        codec.decode(b'{"topic":"liquidation.BTCUSDT","type":"snapshot","ts":1,"data":{}}', 1.0)
    with pytest.raises(UnknownMessage):
        codec.decode(b'{"hello":1}', 1.0)
    with pytest.raises(UnknownMessage):
        codec.decode(b"[1,2]", 1.0)


def test_topic_and_interval_helpers() -> None:
    assert parse_topic("kline.D.ETHUSDT") == ("kline.D", "ETHUSDT")
    assert kline_interval("12h") == "720" and kline_interval("1M") == "M"
    with pytest.raises(InvalidArgument):
        kline_interval("2m")
