"""Binance DEX codec: frames for every topic, decoding of the documented payloads, errors.

Payload shapes are the ones documented in protocols.md 4.4 (no capture exists for this venue).
"""

from __future__ import annotations

import json

import pytest

from rxfeeds.codec import Data, Notice, Rejected
from rxfeeds.errors import FrameError, SubscriptionError
from rxfeeds.events import BookDelta, BookSnapshot, Kline, OrderUpdate, Ticker, Trade
from rxfeeds.venues.binance_dex.codec import (
    BinanceDexCodec,
    BlockHeight,
    DexAccount,
    DexOrderUpdate,
    DexTransfer,
    bech32_encode,
    is_address,
)

ADDRESS = "bnb1m4m9etgf3ca5wpgkqe5nr6r33a4ynxfln3yz4v"  # the docs' example address


def test_address_check() -> None:
    assert is_address(ADDRESS) and is_address(ADDRESS, "bnb") and not is_address(ADDRESS, "tbnb")
    testnet = bech32_encode("tbnb", bytes(range(20)))
    assert testnet.startswith("tbnb1") and is_address(testnet, "tbnb")
    for bad in [ADDRESS[:-1] + "w", ADDRESS.upper(), "bnb1short", "cosmos1" + ADDRESS[4:], 42, ""]:
        assert not is_address(bad), bad


def test_subscribe_frames_for_every_topic() -> None:
    codec = BinanceDexCodec()
    (orders,) = codec.subscribe_frames(("orders", ADDRESS))
    assert json.loads(orders) == {
        "method": "subscribe",
        "topic": "orders",
        "address": ADDRESS,
        "userAddress": ADDRESS,
    }
    assert json.loads(codec.unsubscribe_frames(("orders", ADDRESS))[0]) == {
        "method": "unsubscribe",
        "topic": "orders",
    }
    for topic in [
        "trades",
        "marketDiff",
        "marketDepth",
        "marketDepth500",
        "kline_1h",
        "ticker",
        "miniTicker",
    ]:
        assert json.loads(codec.subscribe_frames((topic, "BNB_BTCB-1DE"))[0]) == {
            "method": "subscribe",
            "topic": topic,
            "symbols": ["BNB_BTCB-1DE"],
        }
        assert json.loads(codec.unsubscribe_frames((topic, "BNB_BTCB-1DE"))[0]) == {
            "method": "unsubscribe",
            "topic": topic,
            "symbols": ["BNB_BTCB-1DE"],
        }
    for topic in ["allTickers", "allMiniTickers", "blockheight"]:
        assert json.loads(codec.subscribe_frames((topic, "$all"))[0])["symbols"] == ["$all"]
    assert json.loads(codec.ping_frame()) == {"method": "keepAlive"}
    assert json.loads(codec.close_frame()) == {"method": "close"}


def decode_one(codec: BinanceDexCodec, stream: str, data: object) -> Data:
    (message,) = codec.decode(json.dumps({"stream": stream, "data": data}).encode(), 100.0)
    assert isinstance(message, Data)
    return message


def test_account_streams_are_routed_to_the_subscribed_address() -> None:
    codec = BinanceDexCodec()
    codec.subscribe_frames(("accounts", ADDRESS))
    order = {
        "e": "executionReport",
        "E": 7,
        "s": "ETH_BTC",
        "S": 2,
        "o": 2,
        "f": 1,
        "q": "1.5",
        "p": "0.03",
        "x": "NEW",
        "X": "PartialFill",
        "i": "A1-5",
        "l": "0.5",
        "z": "0.5",
        "L": "0.03",
        "n": "",
        "T": 1600000000123,
        "t": "tr",
        "O": 1600000000000,
    }
    msg = decode_one(codec, "orders", [order])
    assert msg.key == ("orders", ADDRESS)
    (update,) = msg.events
    assert isinstance(update, OrderUpdate) and isinstance(update, DexOrderUpdate) and update.channel == "orders"
    assert (update.symbol, update.order_id, update.status, update.side) == (
        "ETH_BTC",
        "A1-5",
        "PartialFill",
        "sell",
    )
    assert (update.price, update.size, update.filled, update.time) == (0.03, 1.5, 0.5, 1600000000.123)
    account = {"e": "outboundAccountInfo", "E": 9, "B": [{"a": "BNB", "f": "1.5", "l": "0.25", "r": "0"}]}
    msg = decode_one(codec, "accounts", [account])
    assert msg.key == ("accounts", ADDRESS)
    (balance,) = msg.events
    assert isinstance(balance, DexAccount) and balance.kind == "accounts"
    assert balance.balances == (("BNB", 1.5, 0.25, 0.0),) and balance.height == 9
    transfer = {
        "e": "outboundTransferInfo",
        "E": 10,
        "H": "ABC",
        "M": "hi",
        "f": ADDRESS,
        "t": [{"o": "bnb1other", "c": [{"a": "BNB", "A": "100.00000000"}]}],
    }
    msg = decode_one(codec, "transfers", transfer)
    (sent,) = msg.events
    assert isinstance(sent, DexTransfer) and sent.kind == "transfers"
    assert (sent.tx_hash, sent.memo, sent.from_address, sent.outputs) == (
        "ABC",
        "hi",
        ADDRESS,
        (("bnb1other", "BNB", 100.0),),
    )


def test_market_streams_decode() -> None:
    codec = BinanceDexCodec()
    trades = [
        {
            "e": "trade",
            "E": 5,
            "s": "BNB_BTCB-1DE",
            "t": "5-0",
            "p": "0.002",
            "q": "10",
            "b": "x",
            "a": "y",
            "T": 1600000000000,
            "sa": "s",
            "ba": "b",
            "tt": 1,
        },
        {
            "e": "trade",
            "E": 5,
            "s": "BNB_USDT.B-B7C",
            "t": "5-1",
            "p": "20",
            "q": "1",
            "b": "x",
            "a": "y",
            "T": 1600000000000,
            "sa": "s",
            "ba": "b",
            "tt": 2,
        },
        {
            "e": "trade",
            "E": 5,
            "s": "BNB_BTCB-1DE",
            "t": "5-2",
            "p": "0.003",
            "q": "1",
            "b": "x",
            "a": "y",
            "T": 1600000000000,
            "sa": "s",
            "ba": "b",
            "tt": 5,
        },
    ]
    messages = codec.decode(json.dumps({"stream": "trades", "data": trades}).encode(), 1.0)
    by_key = {m.key: m.events for m in messages if isinstance(m, Data)}
    assert [t.trade_id for t in by_key[("trades", "BNB_BTCB-1DE")] if isinstance(t, Trade)] == ["5-0", "5-2"]
    assert [t.side for t in by_key[("trades", "BNB_BTCB-1DE")] if isinstance(t, Trade)] == ["sell", None]
    assert [t.side for t in by_key[("trades", "BNB_USDT.B-B7C")] if isinstance(t, Trade)] == ["buy"]

    diff = decode_one(
        codec,
        "marketDiff",
        {"e": "depthUpdate", "E": 1, "s": "BNB_BTC", "b": [["0.0024", "10"]], "a": [["0.0026", "0"]]},
    )
    (delta,) = diff.events
    assert diff.key == ("marketDiff", "BNB_BTC")
    assert isinstance(delta, BookDelta) and delta.sequence is None and delta.asks == ((0.0026, 0.0, "0.0026", "0"),)

    depth = decode_one(
        codec,
        "marketDepth100",
        {"lastUpdateId": 160, "symbol": "BNB_BTC", "bids": [["0.0024", "10"]], "asks": []},
    )
    (snap,) = depth.events
    assert depth.key == ("marketDepth100", "BNB_BTC")
    assert isinstance(snap, BookSnapshot) and snap.sequence == 160 and snap.depth == 100

    k = {
        "t": 1600000000000,
        "T": 1600000059999,
        "s": "BNB_BTC",
        "i": "1m",
        "f": "1",
        "L": "2",
        "o": "1",
        "c": "2",
        "h": "3",
        "l": "0.5",
        "v": "4",
        "n": 2,
        "x": True,
        "q": "6",
    }
    kline_msg = decode_one(codec, "kline_1m", {"e": "kline", "E": 12, "s": "BNB_BTC", "k": k})
    (kline,) = kline_msg.events
    assert isinstance(kline, Kline) and kline_msg.key == ("kline_1m", "BNB_BTC")
    assert (kline.open_time, kline.close_time, kline.high, kline.vwap, kline.closed) == (
        1600000000.0,
        1600000060.0,
        3.0,
        1.5,
        True,
    )

    ticker = {
        "e": "24hrTicker",
        "E": 1600000000500,
        "s": "BNB_BTC",
        "p": "0",
        "P": "0",
        "w": "1.1",
        "x": "1",
        "c": "1.2",
        "Q": "1",
        "b": "1.1",
        "B": "2",
        "a": "1.3",
        "A": "3",
        "o": "1",
        "h": "1.4",
        "l": "0.9",
        "v": "100",
        "q": "110",
        "O": 0,
        "C": 0,
        "F": "0",
        "L": "0",
        "n": 5,
    }
    (t,) = decode_one(codec, "ticker", ticker).events
    assert isinstance(t, Ticker) and (t.last, t.bid, t.ask_size, t.vwap, t.time) == (
        1.2,
        1.1,
        3.0,
        1.1,
        1600000000.5,
    )
    alls = decode_one(codec, "allTickers", [ticker, {**ticker, "s": "ETH_BTC"}])
    assert alls.key == ("allTickers", "$all") and [e.symbol for e in alls.events] == ["BNB_BTC", "ETH_BTC"]
    mini = {
        "e": "24hrMiniTicker",
        "E": 3,
        "s": "BNB_BTC",
        "c": "1.2",
        "o": "1",
        "h": "1.4",
        "l": "0.9",
        "v": "100",
        "q": "110",
    }
    (m,) = decode_one(codec, "miniTicker", mini).events
    assert isinstance(m, Ticker) and (m.last, m.high, m.bid, m.time) == (1.2, 1.4, None, 100.0)
    assert decode_one(codec, "allMiniTickers", [mini]).key == ("allMiniTickers", "$all")
    (h,) = decode_one(codec, "blockheight", {"h": 123456789}).events
    assert isinstance(h, BlockHeight) and h.height == 123456789 and h.kind == "block_height"


def test_error_rejects_only_the_named_subscription() -> None:
    codec = BinanceDexCodec()
    frame = {
        "error": {"code": 404, "msg": "unknown symbol NOPE_BNB"},
        "topic": "trades",
        "symbols": ["NOPE_BNB"],
    }
    (rejected,) = codec.decode(json.dumps(frame), 0.0)
    assert isinstance(rejected, Rejected) and rejected.key == ("trades", "NOPE_BNB")
    assert isinstance(rejected.error, SubscriptionError) and "NOPE_BNB" in str(rejected.error)
    (notice,) = codec.decode(json.dumps({"error": {"code": 400, "msg": "bad"}}), 0.0)
    assert isinstance(notice, Notice)


@pytest.mark.parametrize(
    "frame",
    [
        b"{",
        b"[]",
        b'{"stream":"nope","data":{}}',
        b'{"stream":"trades","data":[{"s":"X"}]}',
        b'{"x":1}',
        b'{"stream":"marketDepth","data":{"symbol":"A_B","lastUpdateId":"z","bids":[],"asks":[]}}',
    ],
)
def test_bad_frames_raise_frame_error(frame: bytes) -> None:
    with pytest.raises(FrameError) as info:
        BinanceDexCodec().decode(frame, 0.0)
    assert info.value.raw == frame


def test_of_channel_separates_the_three_account_streams() -> None:
    import reactivex as rx

    from rxfeeds import ops

    codec = BinanceDexCodec()
    codec.subscribe_frames(("orders", ADDRESS))
    order = {"s": "ETH_BTC", "i": "1", "X": "Ack", "S": 1, "p": "1", "q": "1", "z": "0", "T": 1}
    account = {"E": 1, "B": [{"a": "BNB", "f": "1", "l": "0", "r": "0"}]}
    transfer = {"E": 2, "H": "h", "f": ADDRESS, "t": []}
    events = [
        *decode_one(codec, "orders", [order]).events,
        *decode_one(codec, "accounts", [account]).events,
        *decode_one(codec, "transfers", transfer).events,
    ]
    for channel, kind in [("orders", DexOrderUpdate), ("accounts", DexAccount), ("transfers", DexTransfer)]:
        got: list[object] = []
        rx.from_iterable(events).pipe(ops.of_channel(channel)).subscribe(got.append)
        assert len(got) == 1 and isinstance(got[0], kind), channel
