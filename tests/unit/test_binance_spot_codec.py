"""Binance spot codec: control replies, raw-stream form and bad input (no sockets)."""

from __future__ import annotations

import json

import pytest

from rxfeeds.codec import Ack, Data, Notice, Rejected, Reply
from rxfeeds.errors import FrameError, RequestError, SubscriptionError, UnknownMessage
from rxfeeds.events import BookDelta, Quote, Trade
from rxfeeds.venues.binance_spot.codec import BinanceSpotCodec, decode_depth_snapshot


def test_subscribe_reply_acks_every_stream_of_the_request() -> None:
    codec = BinanceSpotCodec()
    keys = [("depth@100ms", "BTCUSDT"), ("trade", "ETHBTC")]
    frame = json.loads(codec.subscribe_many_frame(keys))
    assert frame["method"] == "SUBSCRIBE"
    assert frame["params"] == ["btcusdt@depth@100ms", "ethbtc@trade"]
    reply = json.dumps({"result": None, "id": frame["id"]})
    assert codec.decode(reply, 0.0) == [Ack(k) for k in keys]
    # the id is consumed: a duplicate reply is a plain Reply, not a second Ack
    assert codec.decode(reply, 0.0) == [Reply(frame["id"], result=None)]


@pytest.mark.parametrize(
    "error_reply",
    [
        {"error": {"code": 2, "msg": "Invalid request: unknown symbol"}, "id": 0},
        {"code": 2, "msg": "Invalid request: unknown symbol", "id": 0},
    ],
)
def test_error_reply_rejects_only_that_request(error_reply: dict[str, object]) -> None:
    codec = BinanceSpotCodec()
    ok = json.loads(codec.subscribe_frames(("trade", "BTCUSDT"))[0])
    bad = json.loads(codec.subscribe_frames(("trade", "NOSUCHCOIN"))[0])
    error_reply = {**error_reply, "id": bad["id"]}
    (rejected,) = codec.decode(json.dumps(error_reply), 0.0)
    assert isinstance(rejected, Rejected)
    assert rejected.key == ("trade", "NOSUCHCOIN")
    assert isinstance(rejected.error, SubscriptionError)
    assert "unknown symbol" in str(rejected.error)
    assert codec.decode(json.dumps({"result": None, "id": ok["id"]}), 0.0) == [Ack(("trade", "BTCUSDT"))]


def test_unsubscribe_reply_is_silent_and_request_reply_is_correlated() -> None:
    codec = BinanceSpotCodec()
    unsub = json.loads(codec.unsubscribe_frames(("trade", "BTCUSDT"))[0])
    assert unsub["method"] == "UNSUBSCRIBE" and unsub["params"] == ["btcusdt@trade"]
    assert codec.decode(json.dumps({"result": None, "id": unsub["id"]}), 0.0) == []
    frame, request_id = codec.request_frame("LIST_SUBSCRIPTIONS")
    assert json.loads(frame) == {"method": "LIST_SUBSCRIPTIONS", "id": request_id}
    assert codec.decode(json.dumps({"result": ["btcusdt@trade"], "id": request_id}), 0.0) == [
        Reply(request_id, result=["btcusdt@trade"])
    ]
    (failed,) = codec.decode(json.dumps({"error": {"code": 1, "msg": "nope"}, "id": 99}), 0.0)
    assert isinstance(failed, Reply) and isinstance(failed.error, RequestError) and failed.error.code == 1


def test_ids_keep_increasing_across_reset() -> None:
    codec = BinanceSpotCodec()
    first = json.loads(codec.subscribe_frames(("trade", "BTCUSDT"))[0])["id"]
    codec.reset()
    second = json.loads(codec.subscribe_frames(("trade", "BTCUSDT"))[0])["id"]
    assert second > first
    # the old request's late reply is no longer an Ack
    assert codec.decode(json.dumps({"result": None, "id": first}), 0.0) == [Reply(first, result=None)]


def test_raw_stream_form_is_routed_by_payload() -> None:
    codec = BinanceSpotCodec()
    (diff,) = codec.decode(b'{"e":"depthUpdate","E":5000,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[["10","0"]]}', 1.0)
    assert isinstance(diff, Data) and diff.key == ("depth", "BTCUSDT")
    assert isinstance(diff.events[0], BookDelta) and diff.events[0].asks[0][1] == 0.0
    (trade,) = codec.decode(b'{"e":"trade","E":1,"s":"BTCUSDT","t":12,"p":"10.0","q":"1.5","T":2000,"m":true}', 1.0)
    assert isinstance(trade, Data) and trade.key == ("trade", "BTCUSDT")
    event = trade.events[0]
    assert isinstance(event, Trade) and event.side == "sell" and event.trade_id == 12 and event.time == 2.0
    (quote,) = codec.decode(b'{"u":3,"s":"BTCUSDT","b":"1.0","B":"2.0","a":"1.5","A":"3.0"}', 7.0)
    assert isinstance(quote, Data) and isinstance(quote.events[0], Quote) and quote.events[0].time == 7.0
    (notice,) = codec.decode(b'{"e":"serverShutdown","E":1}', 1.0)
    assert isinstance(notice, Notice)


@pytest.mark.parametrize(
    "frame",
    [
        b"not json",
        b"[1,2]",
        b'{"stream":"btcusdt@depth","data":{"e":"depthUpdate","s":"BTCUSDT"}}',
        b'{"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":1,"s":"X","U":"a","u":2,"b":[],"a":[]}}',
        b'{"stream":"nonsense","data":{}}',
        b'{"stream":"btcusdt@mystery","data":{"e":"mystery"}}',
        b'{"hello":1}',
    ],
)
def test_bad_frames_raise_frame_error_with_raw(frame: bytes) -> None:
    with pytest.raises(FrameError) as info:
        BinanceSpotCodec().decode(frame, 0.0)
    assert info.value.raw == frame


def test_unknown_event_is_unknown_message() -> None:
    with pytest.raises(UnknownMessage):
        BinanceSpotCodec().decode(b'{"stream":"btcusdt@mystery","data":{"e":"mystery"}}', 0.0)


def test_snapshot_error_body_and_garbage() -> None:
    with pytest.raises(RequestError) as info:
        decode_depth_snapshot(b'{"code":-1121,"msg":"Invalid symbol."}', "XX", 0.0)
    assert info.value.code == -1121 and "Invalid symbol" in str(info.value)
    with pytest.raises(FrameError):
        decode_depth_snapshot(b'{"lastUpdateId":"x","bids":[],"asks":[]}', "XX", 0.0)
    with pytest.raises(FrameError):
        decode_depth_snapshot(b"<html>", "XX", 0.0)
