"""HitBTC v2 and v3 codecs: frames out, correlation of replies, typed errors, bad input."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from rxfeeds.codec import Ack, Data, Notice, Rejected, Reply
from rxfeeds.errors import (
    AuthError,
    FrameError,
    InvalidArgument,
    RequestError,
    SubscriptionError,
    UnknownMessage,
)
from rxfeeds.events import BookDelta, BookSnapshot, Kline, OrderUpdate, Ticker
from rxfeeds.venues.hitbtc import errors as E
from rxfeeds.venues.hitbtc._common import Credentials, iso_time
from rxfeeds.venues.hitbtc.codec import HitBTCCodec
from rxfeeds.venues.hitbtc.codec_v3 import HitBTCV3Codec

KEY, SECRET = "public-key-123", "very-secret-456"

# the documented table (protocols.md 3.8), written out independently of the code
DOCUMENTED = {
    403: "ActionForbidden",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
    600: "ActionNotAllowed",
    1001: "AuthorizationRequired",
    1002: "AuthorizationFailed",
    1003: "ForbiddenForApiKey",
    1004: "UnsupportedAuthMethod",
    2001: "SymbolNotFound",
    2002: "CurrencyNotFound",
    10001: "ValidationError",
    10021: "UserDisabled",
    20001: "InsufficientFunds",
    20002: "OrderNotFound",
    20003: "LimitExceeded",
    20004: "TransactionNotFound",
    20005: "PayoutNotFound",
    20006: "PayoutAlreadyCommitted",
    20007: "PayoutAlreadyRolledBack",
    20008: "DuplicateClientOrderId",
}


def error_frame(rid: Any, code: int, message: str) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": rid}).encode()


def venue_error(message: Any) -> E.HitBTCSubscriptionError:
    assert isinstance(message, Rejected) and isinstance(message.error, E.HitBTCSubscriptionError)
    return message.error


def test_error_table_complete_and_typed() -> None:
    assert set(E.ERRORS) == set(DOCUMENTED)
    for code, name in DOCUMENTED.items():
        err = E.error_from({"code": code, "message": f"venue text {code}", "description": "why"})
        assert type(err).__name__ == name and err.code == code
        assert f"venue text {code}" in str(err) and "why" in str(err)
        assert isinstance(err, RequestError)
        assert isinstance(err, AuthError) == (1001 <= code <= 1004)
    odd = E.error_from({"code": 777, "message": "strange"})
    assert type(odd) is E.HitBTCError and odd.code == 777


def test_v2_subscribe_ack_and_rejection_are_per_key() -> None:
    codec = HitBTCCodec()
    [book] = codec.subscribe_frames(("orderbook", "ETHBTC"))
    [candles] = codec.subscribe_frames(("candles-M1", "NOPE"))
    book_msg, candle_msg = json.loads(book), json.loads(candles)
    assert book_msg["method"] == "subscribeOrderbook" and book_msg["params"] == {"symbol": "ETHBTC"}
    assert candle_msg["method"] == "subscribeCandles"
    assert candle_msg["params"] == {"symbol": "NOPE", "period": "M1", "limit": 100}
    assert book_msg["id"] != candle_msg["id"]
    [rejected] = codec.decode(error_frame(candle_msg["id"], 2001, "Symbol not found"), 0.0)
    assert isinstance(rejected, Rejected) and rejected.key == ("candles-M1", "NOPE")
    assert isinstance(rejected.error, SubscriptionError) and venue_error(rejected).code == 2001
    assert isinstance(venue_error(rejected).error, E.SymbolNotFound)
    assert "Symbol not found" in str(rejected.error)
    ack = codec.decode(json.dumps({"jsonrpc": "2.0", "result": True, "id": book_msg["id"]}), 0.0)
    assert ack == [Ack(("orderbook", "ETHBTC"))]
    [unsub] = codec.unsubscribe_frames(("trades", "ETHBTC"))
    assert json.loads(unsub)["params"] == {"symbol": "ETHBTC"}
    assert codec.decode(json.dumps({"jsonrpc": "2.0", "result": True, "id": json.loads(unsub)["id"]}), 0.0) == []


def test_v2_bad_keys_are_invalid_arguments() -> None:
    codec = HitBTCCodec()
    with pytest.raises(InvalidArgument, match="period"):
        codec.subscribe_frames(("candles-M2", "ETHBTC"))
    with pytest.raises(InvalidArgument, match="key"):
        codec.subscribe_frames(("depth", "ETHBTC"))
    with pytest.raises(InvalidArgument, match="key"):
        codec.subscribe_frames(("orderbook", ""))


def test_v2_hs256_login_signature_and_secret_hidden() -> None:
    codec = HitBTCCodec(Credentials(KEY, SECRET))
    [frame] = codec.on_open_frames()
    login = json.loads(frame)
    params = login["params"]
    assert login["method"] == "login" and params["algo"] == "HS256" and params["pKey"] == KEY
    expected = hmac.new(SECRET.encode(), params["nonce"].encode(), hashlib.sha256).hexdigest()
    assert params["signature"] == expected and SECRET not in frame
    assert json.loads(codec.on_open_frames()[0])["params"]["nonce"] != params["nonce"]  # fresh per connection
    for text in (repr(codec), str(codec), repr(Credentials(KEY, SECRET))):
        assert SECRET not in text and KEY not in text


def test_v2_basic_login_and_failed_login_explains_later_1001() -> None:
    codec = HitBTCCodec(Credentials(KEY, SECRET, algo="BASIC"))
    [frame] = codec.on_open_frames()
    login = json.loads(frame)
    assert login["params"] == {"algo": "BASIC", "pKey": KEY, "sKey": SECRET}
    [notice] = codec.decode(error_frame(login["id"], 1002, "Authorization failed"), 0.0)
    assert isinstance(notice, Notice) and isinstance(notice.event, E.AuthorizationFailed)
    [sub] = codec.subscribe_frames(("reports", ""))
    assert json.loads(sub)["method"] == "subscribeReports" and json.loads(sub)["params"] == {}
    [rejected] = codec.decode(error_frame(json.loads(sub)["id"], 1001, "Authorization required"), 0.0)
    assert isinstance(venue_error(rejected).error, E.AuthorizationFailed)
    rid, _ = codec.request("newOrder", {"symbol": "ETHBTC"})
    [reply] = codec.decode(error_frame(rid, 1001, "Authorization required"), 0.0)
    assert isinstance(reply, Reply) and isinstance(reply.error, E.AuthorizationFailed)
    codec.reset()  # a new connection logs in afresh: 1001 means 1001 again
    rid, _ = codec.request("newOrder", {})
    [reply] = codec.decode(error_frame(rid, 1001, "Authorization required"), 0.0)
    assert isinstance(reply, Reply) and isinstance(reply.error, E.AuthorizationRequired)


def test_v2_reports_decode() -> None:
    codec = HitBTCCodec()
    report = {
        "id": "4345613661",
        "clientOrderId": "57d5525562c945448e3cbd559bd068c3",
        "symbol": "BCCBTC",
        "side": "sell",
        "status": "new",
        "type": "limit",
        "timeInForce": "GTC",
        "quantity": "0.013",
        "price": "0.100000",
        "cumQuantity": "0.000",
        "createdAt": "2017-10-20T12:17:12.245Z",
        "updatedAt": "2017-10-20T12:17:12.245Z",
        "reportType": "status",
    }
    [m] = codec.decode(json.dumps({"jsonrpc": "2.0", "method": "activeOrders", "params": [report]}), 5.0)
    assert isinstance(m, Data) and m.key == ("reports", "")
    [u] = m.events
    assert isinstance(u, OrderUpdate)
    assert (u.order_id, u.client_order_id, u.side, u.price, u.size, u.filled) == (
        "4345613661",
        "57d5525562c945448e3cbd559bd068c3",
        "sell",
        0.1,
        0.013,
        0.0,
    )
    assert u.raw["reportType"] == "status" and u.time == 1508501832.245


@pytest.mark.parametrize(
    "frame",
    [
        b"not json",
        b"[1,2,3]",
        b'{"jsonrpc":"2.0","method":"updateOrderbook","params":{"symbol":"X"}}',
        b'{"jsonrpc":"2.0","method":"updateOrderbook","params":{"symbol":"X","ask":[{"price":"a","size":"1"}],'
        b'"bid":[],"sequence":1}}',
        b'{"jsonrpc":"2.0","method":"ticker","params":{"symbol":"X","timestamp":"yesterday"}}',
        b'{"jsonrpc":"2.0","method":"somethingNew","params":{}}',
        b'{"jsonrpc":"2.0","id":{"x":1},"result":true}',
        b'{"hello":"world"}',
    ],
)
def test_bad_input_is_a_frame_error_carrying_the_raw_frame(frame: bytes) -> None:
    for codec in (HitBTCCodec(), HitBTCV3Codec()):
        with pytest.raises(FrameError) as info:
            codec.decode(frame, 0.0)
        assert info.value.raw == frame


def test_unknown_method_is_unknown_message() -> None:
    with pytest.raises(UnknownMessage):
        HitBTCCodec().decode(b'{"jsonrpc":"2.0","method":"somethingNew","params":{}}', 0.0)


def test_iso_time_is_utc_epoch_seconds() -> None:
    import calendar

    cases = {
        "2021-07-15T03:06:43.095Z": calendar.timegm((2021, 7, 15, 3, 6, 43)) + 0.095,
        "2020-02-29T23:59:59.999Z": calendar.timegm((2020, 2, 29, 23, 59, 59)) + 0.999,
        "2021-07-15T03:06:43Z": calendar.timegm((2021, 7, 15, 3, 6, 43)),
        "2021-07-15T03:06:43.095": calendar.timegm((2021, 7, 15, 3, 6, 43)) + 0.095,  # no offset: UTC
        "2021-07-15T05:06:43.095+02:00": calendar.timegm((2021, 7, 15, 3, 6, 43)) + 0.095,
    }
    for text, expected in cases.items():
        assert iso_time(text) == pytest.approx(expected, abs=1e-6), text
    with pytest.raises(ValueError):
        iso_time("yesterday")


# -- v3 ---------------------------------------------------------------------------------------


def test_v3_subscription_rejected_when_symbol_missing_from_subscriptions() -> None:
    codec = HitBTCV3Codec()
    [good] = codec.subscribe_frames(("orderbook", "ETHBTC"))
    [bad] = codec.subscribe_frames(("orderbook", "NOPE"))
    g, b = json.loads(good), json.loads(bad)
    assert g["ch"] == "orderbook/full" and g["params"] == {"symbols": ["ETHBTC"]}
    reply = {"result": {"ch": "orderbook/full", "subscriptions": ["ETHBTC"]}}
    assert codec.decode(json.dumps({**reply, "id": g["id"]}), 0.0) == [Ack(("orderbook", "ETHBTC"))]
    [rejected] = codec.decode(json.dumps({**reply, "id": b["id"]}), 0.0)
    assert (
        isinstance(rejected, Rejected) and rejected.key == ("orderbook", "NOPE") and venue_error(rejected).code == 2001
    )
    [odd] = codec.subscribe_frames(("trades", "ETHBTC"))
    assert codec.decode(json.dumps({"result": {"subscriptions": 5}, "id": json.loads(odd)["id"]}), 0.0) == [
        Ack(("trades", "ETHBTC"))
    ]
    [sub] = codec.subscribe_frames(("ticker", "XBTC"))
    [err] = codec.decode(error_frame(json.loads(sub)["id"], 2001, "Symbol not found"), 0.0)
    assert isinstance(venue_error(err).error, E.SymbolNotFound)


def test_v3_book_candles_ticker_decode() -> None:
    codec = HitBTCV3Codec()
    snap = {
        "ch": "orderbook/full",
        "snapshot": {"ETHBTC": {"t": 1626866578796, "s": 27617207,
                                "a": [["0.060506", "0"], ["0.0606", "2.5"]], "b": [["0.060501", "1.2"]]}},
    }  # fmt: skip
    [m] = codec.decode(json.dumps(snap), 1.0)
    [s] = m.events  # type: ignore[union-attr]
    assert isinstance(s, BookSnapshot) and s.sequence == 27617207 and s.time == 1626866578.796
    assert s.asks == ((0.0606, 2.5, "0.0606", "2.5"),) and s.bids == ((0.060501, 1.2, "0.060501", "1.2"),)
    upd = {
        "ch": "orderbook/full",
        "update": {"ETHBTC": {"t": 1626866578900, "s": 27617208, "b": [["0.060501", "0"]]}},
    }
    [m] = codec.decode(json.dumps(upd), 1.0)
    [d] = m.events  # type: ignore[union-attr]
    assert isinstance(d, BookDelta) and d.sequence == d.first_sequence == 27617208 and d.asks == ()
    candles = {
        "ch": "candles/M30",
        "snapshot": {"BTCUSDT": [
            {"t": 1626861600000, "o": "2", "c": "3", "h": "4", "l": "1", "v": "10", "q": "25"},
            {"t": 1626859800000, "o": "1", "c": "2", "h": "2", "l": "1", "v": "5", "q": "7"},
        ]},
    }  # fmt: skip
    [m] = codec.decode(json.dumps(candles), 1626862000.0)
    assert m.key == ("candles-M30", "BTCUSDT")  # type: ignore[union-attr]
    first, second = m.events  # type: ignore[union-attr]
    assert isinstance(first, Kline) and isinstance(second, Kline)
    assert first.open_time == 1626859800.0 and first.close_time == 1626861600.0 and first.closed
    assert (second.open, second.high, second.low, second.close, second.quote_volume) == (
        2.0,
        4.0,
        1.0,
        3.0,
        25.0,
    )
    assert not second.closed
    fields = {"t": 1614815872000, "a": "0.031", "A": "0.05", "b": "0.030", "B": "0.5", "c": "0.0305",
              "o": "0.03", "h": "0.032", "l": "0.029", "v": "100", "q": "3"}  # fmt: skip
    tick = {"ch": "ticker/1s", "data": {"ETHBTC": fields}}
    [m] = codec.decode(json.dumps(tick), 1.0)
    [t] = m.events  # type: ignore[union-attr]
    assert isinstance(t, Ticker) and (t.bid, t.bid_size, t.ask, t.ask_size, t.last) == (
        0.03,
        0.5,
        0.031,
        0.05,
        0.0305,
    )


def test_v3_login_hs256_signs_timestamp() -> None:
    codec = HitBTCV3Codec(Credentials(KEY, SECRET))
    [frame] = codec.on_open_frames()
    params = json.loads(frame)["params"]
    assert params["type"] == "HS256" and params["api_key"] == KEY and isinstance(params["timestamp"], int)
    expected = hmac.new(SECRET.encode(), str(params["timestamp"]).encode(), hashlib.sha256).hexdigest()
    assert params["signature"] == expected and SECRET not in frame


# -- fuzz: whatever arrives, a codec returns messages or raises FrameError (never anything else) --

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_KEYS = ["symbol", "sequence", "timestamp", "price", "size", "ask", "bid", "data", "period", "id", "quantity",
         "side", "status", "subscriptions", "ch", "code", "message", "t", "s", "a", "b", "p", "q", "o", "c", "h",
         "l", "v", "i", "ETHBTC", "updatedAt", "updated_at", "open", "close", "min", "max", "volume"]  # fmt: skip
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["0.05", "0", "2021-07-15T03:06:43.095Z", "ETHBTC", "buy", "M1", "1"])
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=4), inner, max_size=6)
    ),
    max_leaves=16,
)
_methods = st.sampled_from(
    ["snapshotOrderbook", "updateOrderbook", "snapshotTrades", "updateTrades", "snapshotCandles", "ticker",
     "activeOrders", "report", "balance", "updateTransaction", "spot_order", "spot_orders", "spot_balance"]
)  # fmt: skip
_channels = st.sampled_from(["orderbook/full", "trades", "candles/M1", "ticker/1s", "candles/X"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=_methods, ch=_channels, params=_json, kind=st.sampled_from(["snapshot", "update", "data"]))
def test_fuzzed_frames_never_escape_as_other_errors(method: str, ch: str, params: Any, kind: str) -> None:
    frames = [
        json.dumps({"jsonrpc": "2.0", "method": method, "params": params}),
        json.dumps({"ch": ch, kind: params}),
        json.dumps({"ch": ch, kind: {"ETHBTC": params}}),
        json.dumps({"jsonrpc": "2.0", "result": params, "id": 1}),
        json.dumps({"jsonrpc": "2.0", "error": params, "id": 1}),
    ]
    for codec in (HitBTCCodec(), HitBTCV3Codec()):
        codec.subscribe_frames(("trades", "ETHBTC"))  # id 1 is a pending subscribe
        for frame in frames:
            try:
                result = codec.decode(frame, 1.0)
            except FrameError:
                continue
            assert isinstance(result, list)
