"""Kraken v2 codec: subscribe/ack/error correlation, exact book number texts, every channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from rxfeeds.codec import Ack, Data, Heartbeat, Notice, Pong, Rejected, Reply
from rxfeeds.errors import FrameError, RequestError, SubscriptionError, UnknownMessage
from rxfeeds.events import (
    BookDelta,
    BookSnapshot,
    IntegrityEvent,
    Kline,
    OrderUpdate,
    Ticker,
    Trade,
    VenueEvent,
)
from rxfeeds.venues.kraken.codec import KrakenStatus
from rxfeeds.venues.kraken.codec_v2 import KrakenV2Codec, parse_rfc3339


def decode(codec: KrakenV2Codec, message: Any) -> list[Any]:
    text = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
    return list(codec.decode(text.encode(), 100.0))


def test_subscribe_frame_and_ack_error_by_req_id() -> None:
    codec = KrakenV2Codec()
    book = json.loads(codec.subscribe_frames(("book-25", "BTC/USD"))[0])
    assert book["method"] == "subscribe"
    assert book["params"] == {"channel": "book", "symbol": ["BTC/USD"], "depth": 25, "snapshot": True}
    ohlc = json.loads(codec.subscribe_frames(("ohlc-15", "ETH/USD"))[0])
    assert ohlc["params"]["interval"] == 15 and ohlc["req_id"] != book["req_id"]
    ack = {
        "method": "subscribe",
        "req_id": book["req_id"],
        "success": True,
        "result": {"channel": "book", "symbol": "BTC/USD", "depth": 25, "snapshot": True},
    }
    assert decode(codec, ack) == [Ack(("book-25", "BTC/USD"))]
    err = {
        "method": "subscribe",
        "req_id": ohlc["req_id"],
        "success": False,
        "error": "Currency pair not supported ETH/USD",
        "symbol": "ETH/USD",
    }
    [rejected] = decode(codec, err)
    assert isinstance(rejected, Rejected) and rejected.key == ("ohlc-15", "ETH/USD")
    assert isinstance(rejected.error, SubscriptionError) and "Currency pair not supported" in str(rejected.error)


def test_private_subscribe_carries_token() -> None:
    codec = KrakenV2Codec(token="tok")
    frame = json.loads(codec.subscribe_frames(("executions", ""))[0])
    assert frame["params"] == {"channel": "executions", "snapshot": True, "token": "tok"}


def test_book_levels_keep_exact_number_text() -> None:
    codec = KrakenV2Codec()
    codec.subscribe_frames(("book-10", "XBT/EUR"))
    frame = (
        '{"channel":"book","type":"snapshot","data":[{"symbol":"XBT/EUR",'
        '"bids":[{"price":30000.10,"qty":1e-7},{"price":29999,"qty":2.50000000}],'
        '"asks":[{"price":30001.00,"qty":0.00100000}],"checksum":3310070434}]}'
    )
    [data] = decode(codec, frame)
    [snap] = data.events
    assert isinstance(snap, BookSnapshot) and data.key == ("book-10", "XBT/EUR")
    assert snap.bids == ((30000.1, 1e-7, "30000.10", "0.0000001"), (29999.0, 2.5, "29999", "2.50000000"))
    assert snap.asks == ((30001.0, 0.001, "30001.00", "0.00100000"),)
    assert snap.checksum == 3310070434 and snap.depth == 10
    # Same numbers with spaces after the colons: still parsed exactly.
    [spaced] = decode(codec, frame.replace('"channel":"book"', '"channel": "book"'))
    assert spaced.events[0].asks[0][3] == "0.00100000"
    update = (
        '{"channel":"book","type":"update","data":[{"symbol":"XBT/EUR","bids":[],'
        '"asks":[{"price":30001.00,"qty":0}],"checksum":5,"timestamp":"2023-10-06T17:35:55.440295Z"}]}'
    )
    [upd] = decode(codec, update)
    [delta] = upd.events
    assert isinstance(delta, BookDelta) and delta.asks == ((30001.0, 0.0, "30001.00", "0"),) and delta.checksum == 5
    assert delta.time == datetime(2023, 10, 6, 17, 35, 55, 440295, tzinfo=UTC).timestamp()


def test_trade_ticker_ohlc() -> None:
    codec = KrakenV2Codec()
    [trades] = decode(
        codec,
        {
            "channel": "trade",
            "type": "update",
            "data": [
                {
                    "symbol": "MATIC/USD",
                    "side": "sell",
                    "price": 0.5117,
                    "qty": 40.0,
                    "ord_type": "market",
                    "trade_id": 4665906,
                    "timestamp": "2023-09-25T07:49:37.708706Z",
                }
            ],
        },
    )
    [trade] = trades.events
    assert isinstance(trade, Trade) and trades.key == ("trade", "MATIC/USD")
    assert (trade.price, trade.size, trade.side, trade.trade_id) == (0.5117, 40.0, "sell", 4665906)
    [tick] = decode(
        codec,
        {
            "channel": "ticker",
            "type": "snapshot",
            "data": [
                {
                    "symbol": "ALGO/USD",
                    "bid": 0.1,
                    "bid_qty": 5.0,
                    "ask": 0.11,
                    "ask_qty": 6.0,
                    "last": 0.105,
                    "volume": 1000.0,
                    "vwap": 0.104,
                    "low": 0.09,
                    "high": 0.12,
                    "change": 0.0,
                    "change_pct": 0.0,
                }
            ],
        },
    )
    [ticker] = tick.events
    assert isinstance(ticker, Ticker) and tick.key == ("ticker", "ALGO/USD")
    assert (ticker.bid, ticker.bid_size, ticker.ask, ticker.ask_size, ticker.last, ticker.volume) == (
        0.1,
        5.0,
        0.11,
        6.0,
        0.105,
        1000.0,
    )
    [candle] = decode(
        codec,
        {
            "channel": "ohlc",
            "type": "update",
            "timestamp": "2023-10-04T16:26:30.524394914Z",
            "data": [
                {
                    "symbol": "ETH/USD",
                    "open": 1.0,
                    "high": 2.0,
                    "low": 0.5,
                    "close": 1.5,
                    "trades": 3,
                    "volume": 7.0,
                    "vwap": 1.2,
                    "interval_begin": "2023-10-04T16:25:00.000000000Z",
                    "interval": 5,
                }
            ],
        },
    )
    [kline] = candle.events
    assert isinstance(kline, Kline) and candle.key == ("ohlc-5", "ETH/USD")
    assert kline.interval == "5m" and kline.closed is False
    assert kline.open_time == parse_rfc3339("2023-10-04T16:25:00Z") and kline.close_time - kline.open_time == 300


def test_control_messages() -> None:
    codec = KrakenV2Codec()
    assert isinstance(decode(codec, '{"channel":"heartbeat"}')[0], Heartbeat)
    pong = decode(codec, '{"method":"pong","req_id":5,"time_in":"x","time_out":"y"}')
    assert pong[0] == Pong(5) and isinstance(pong[1], Reply) and pong[1].request_id == 5
    [status] = decode(
        codec,
        '{"channel":"status","type":"update","data":[{"api_version":"v2",'
        '"connection_id":18266300427528990701,"system":"online","version":"2.0.0"}]}',
    )
    assert isinstance(status, Notice) and isinstance(status.event, KrakenStatus)
    assert status.event.connection_id == 18266300427528990701 and status.event.status == "online"
    huge = 2**64 + 99
    [big] = decode(
        codec, f'{{"channel":"status","type":"update","data":[{{"connection_id":{huge},"system":"online"}}]}}'
    )
    assert big.event.connection_id == huge
    [ok] = decode(codec, {"method": "add_order", "req_id": 9, "success": True, "result": {"order_id": "OA-1"}})
    assert ok == Reply(9, result={"order_id": "OA-1"})
    [bad] = decode(codec, {"method": "cancel_order", "req_id": 10, "success": False, "error": "EOrder:Unknown order"})
    assert isinstance(bad.error, RequestError) and "EOrder:Unknown order" in str(bad.error)


def test_executions_balances_and_sequence_gap() -> None:
    codec = KrakenV2Codec()

    def executions(seq: int) -> dict[str, Any]:
        return {
            "channel": "executions",
            "type": "update",
            "sequence": seq,
            "data": [
                {
                    "exec_type": "new",
                    "order_id": "O-1",
                    "symbol": "BTC/USD",
                    "side": "buy",
                    "order_qty": 1.5,
                    "limit_price": 100.0,
                    "order_status": "new",
                    "cum_qty": 0.0,
                    "timestamp": "2024-01-01T00:00:00Z",
                }
            ],
        }

    [first] = decode(codec, executions(1))
    [update] = first.events
    assert isinstance(update, OrderUpdate) and first.key == ("executions", "")
    assert (update.order_id, update.status, update.side, update.price, update.size) == (
        "O-1",
        "new",
        "buy",
        100.0,
        1.5,
    )
    [gapped] = decode(codec, executions(3))
    assert isinstance(gapped.events[-1], IntegrityEvent) and gapped.events[-1].kind == "gap"
    [balances] = decode(
        codec,
        {
            "channel": "balances",
            "type": "snapshot",
            "sequence": 1,
            "data": [{"asset": "BTC", "balance": 1.25}],
        },
    )
    assert balances.key == ("balances", "")
    [balance] = balances.events
    assert isinstance(balance, VenueEvent) and balance.symbol == "BTC" and balance.data["balance"] == 1.25


@pytest.mark.parametrize(
    "frame",
    [
        b"nope",
        b"[1,2]",
        b'{"channel":"mystery"}',
        b'{"method":"fly"}',
        b'{"channel":"trade","data":[{}]}',
        b'{"channel":"book","type":"update","data":[{"symbol":"X","asks":[{"price":"x","qty":1}]}]}',
        b"{}",
    ],
)
def test_bad_frames_are_typed_errors(frame: bytes) -> None:
    with pytest.raises(FrameError) as info:
        KrakenV2Codec().decode(frame, 1.0)
    assert info.value.raw == frame


def test_unknown_channel_is_unknown_message() -> None:
    with pytest.raises(UnknownMessage):
        KrakenV2Codec().decode(b'{"channel":"mystery"}', 1.0)


def test_data_key_matches_subscription() -> None:
    codec = KrakenV2Codec()
    codec.subscribe_frames(("book-100", "ETH/USD"))
    [msg] = decode(
        codec,
        {
            "channel": "book",
            "type": "update",
            "data": [{"symbol": "ETH/USD", "bids": [{"price": 1.5, "qty": 2}], "asks": [], "checksum": 1}],
        },
    )
    assert isinstance(msg, Data) and msg.key == ("book-100", "ETH/USD")
