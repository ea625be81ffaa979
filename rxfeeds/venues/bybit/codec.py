"""Bybit v5 public websocket codec (sans-I/O): spot and linear endpoints.

Routing keys are ``(channel, SYMBOL)`` where ``channel`` is the topic without its symbol:

==========================  ====================================  ==================================
key                         topic                                 events
==========================  ====================================  ==================================
``("orderbook.50", S)``     ``orderbook.{depth}.{S}``             BookSnapshot / BookDelta
``("publicTrade", S)``      ``publicTrade.{S}``                   Trade (``S`` = taker side)
``("tickers", S)``          ``tickers.{S}``                       Ticker (deltas merged)
``("kline.1", S)``          ``kline.{interval}.{S}``              Kline (``confirm`` = closed)
==========================  ====================================  ==================================

Book messages carry ``u`` (the update id, consecutive per topic) and ``seq`` (the matching
engine's cross sequence, not used for sync).  A ``snapshot`` becomes a
:class:`~rxfeeds.events.BookSnapshot` with ``sequence=u`` and ``depth`` from the topic; a ``delta``
a :class:`~rxfeeds.events.BookDelta` with ``first_sequence == sequence == u``, so the order book
requires ``u == previous u + 1`` (the ``sequence`` sync rule).  Level-1 books come as snapshots
only (each a whole image, so their ``u`` may jump).  ``u == 1`` in a snapshot means the
venue's book service restarted: the codec puts a :class:`~rxfeeds.events.StreamReset` before that
snapshot, so the order book drops the old numbering (an integrity ``reset`` event) instead of
taking the new, lower ids for stale ones.

Tickers: the spot endpoint sends whole ``snapshot`` tickers; the linear endpoint sends one
snapshot then ``delta`` messages holding only the fields that changed.  The codec keeps the last
full ticker per symbol (per connection: :meth:`BybitCodec.reset` forgets them) and emits the merged
one every time.

Control frames: one ``subscribe`` request per key with its own ``req_id``; the answer
``{"success": true|false, "ret_msg", "conn_id", "req_id", "op": "subscribe"}`` becomes
:class:`~rxfeeds.codec.Ack` or :class:`~rxfeeds.codec.Rejected` for that key.  The application
ping ``{"op": "ping"}`` is answered as ``{"success": true, "ret_msg": "pong", "op": "ping"}`` on the
public endpoints (``{"op": "pong", "args": [ms]}`` on private ones); both are :class:`~rxfeeds.codec.Pong`.

Example:
    >>> c = BybitCodec()
    >>> c.subscribe_frames(("orderbook.50", "BTCUSDT"))
    ['{"req_id":"1","op":"subscribe","args":["orderbook.50.BTCUSDT"]}']
    >>> c.decode(b'{"success":true,"ret_msg":"","conn_id":"c1","req_id":"1","op":"subscribe"}', 0.0)
    [Ack(key=('orderbook.50', 'BTCUSDT'))]
    >>> [m] = c.decode(b'{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000000,'
    ...                b'"data":{"s":"BTCUSDT","b":[["30000.5","0"]],"a":[],"u":8,"seq":99}}', 1.0)
    >>> d = m.events[0]
    >>> m.key, d.sequence, d.first_sequence, d.bids
    (('orderbook.50', 'BTCUSDT'), 8, 8, ((30000.5, 0.0, '30000.5', '0'),))
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Final

import orjson

from ...codec import Ack, BaseCodec, Data, Key, Message, Notice, Pong, Rejected, Reply
from ...errors import FrameError, InvalidArgument, RequestError, SubscriptionError, UnknownMessage
from ...events import BookDelta, BookSnapshot, Event, Kline, Side, StreamReset, Ticker, Trade
from ...numeric import DECODE_ERRORS, BadValue, ms_seconds, price, size, text_level_sides
from ...numeric import symbol as check_symbol

__all__ = [
    "BOOK_DEPTHS",
    "KLINE_INTERVALS",
    "VENUE",
    "BybitCodec",
    "BybitLinearCodec",
    "PING_ID",
    "kline_interval",
    "parse_topic",
    "topic",
]

VENUE: Final = "bybit"
#: ``req_id`` of the client's own ``ping()`` request (the periodic keep-alive pings carry none)
PING_ID: Final = "rxfeeds-ping"
#: order book depths per endpoint category (``orderbook.{depth}.{symbol}``)
#: (linear 500 was documented before 1000 replaced it; the venue answers with a refusal if it is gone)
BOOK_DEPTHS: Final = {"spot": (1, 50, 200, 1000), "linear": (1, 50, 200, 500, 1000)}
#: rxfeeds interval name -> Bybit's kline interval (minutes, or D / W / M)
KLINE_INTERVALS: Final = {
    "1m": "1", "3m": "3", "5m": "5", "15m": "15", "30m": "30", "1h": "60", "2h": "120", "4h": "240",
    "6h": "360", "12h": "720", "1d": "D", "1w": "W", "1M": "M",
}  # fmt: skip
_INTERVAL_NAMES: Final = {v: k for k, v in KLINE_INTERVALS.items()}

#: Bybit ticker field -> Ticker attribute (prices and amounts; others are ignored)
_TICKER_FIELDS: Final = (
    ("bid1Price", "bid"),
    ("bid1Size", "bid_size"),
    ("ask1Price", "ask"),
    ("ask1Size", "ask_size"),
    ("lastPrice", "last"),
    ("prevPrice24h", "open"),
    ("highPrice24h", "high"),
    ("lowPrice24h", "low"),
    ("volume24h", "volume"),
    ("turnover24h", "quote_volume"),
)
_PRICES: Final = frozenset({"bid", "ask", "last", "open", "high", "low"})
_SIDES: Final[dict[str, Side]] = {"Buy": "buy", "Sell": "sell"}
#: deepest book topic accepted (Bybit's deepest is 1000 levels)
_MAX_DEPTH: Final = 1000
#: symbols whose merged ticker is kept per connection (a hostile stream cannot grow it further)
_MAX_TICKERS: Final = 4096


def topic(key: Key) -> str:
    """The Bybit topic of a routing key.

    Example:
        >>> topic(("kline.5", "ETHUSDT"))
        'kline.5.ETHUSDT'
    """
    return f"{key[0]}.{key[1]}"


def parse_topic(name: str) -> Key:
    """The routing key of a topic (its last dot-separated part is the symbol).

    Example:
        >>> parse_topic("orderbook.200.BTCUSDT")
        ('orderbook.200', 'BTCUSDT')
    """
    channel, sep, sym = name.rpartition(".")
    if not sep or not channel or not sym:
        raise BadValue(f"not a topic: {name!r:.80}")
    return (channel, sym)


def kline_interval(name: str) -> str:
    """Bybit's interval text for an rxfeeds interval name (InvalidArgument when Bybit has none).

    Example:
        >>> kline_interval("1h"), kline_interval("1d")
        ('60', 'D')
    """
    try:
        return KLINE_INTERVALS[name]
    except KeyError:
        raise InvalidArgument("interval", name, f"Bybit klines take one of {', '.join(KLINE_INTERVALS)}") from None


def _opt(field: str, value: Any) -> float | None:
    # Bybit sends "" for fields that do not apply to an instrument
    if value is None or value == "":
        return None
    return price(value) if field in _PRICES else size(value)


class BybitCodec(BaseCodec):
    """Codec for Bybit's v5 public spot endpoint (see the module docstring).

    Request ids increase over the codec's life, so a late answer to an old connection's request
    is never taken for a new one.
    """

    venue = VENUE
    category = "spot"

    def __init__(self) -> None:
        self._ids = itertools.count(1)  # next() is atomic: frames are built off the socket thread too
        self._pending: dict[str, Key] = {}
        self._tickers: dict[str, dict[str, Any]] = {}

    # -- frames out ---------------------------------------------------------------------------

    def _frame(self, op: str, key: Key) -> str:
        req_id = str(next(self._ids))
        if op == "subscribe":
            self._pending[req_id] = key
        return orjson.dumps({"req_id": req_id, "op": op, "args": [topic(key)]}).decode()

    def subscribe_frames(self, key: Key) -> Sequence[str]:
        return [self._frame("subscribe", key)]

    def unsubscribe_frames(self, key: Key) -> Sequence[str]:
        return [self._frame("unsubscribe", key)]

    def ping_frame(self) -> str:
        """The application ping Bybit asks for every 20 s.

        Example:
            >>> BybitCodec().ping_frame()
            '{"op":"ping"}'
        """
        return '{"op":"ping"}'

    def reset(self) -> None:
        """A new connection: forget pending requests and merged tickers."""
        self._pending.clear()
        self._tickers.clear()

    # -- frames in ----------------------------------------------------------------------------

    def decode(self, frame: str | bytes, recv_time: float) -> Sequence[Message]:
        try:
            msg = orjson.loads(frame)
        except DECODE_ERRORS as exc:
            raise FrameError(f"not JSON ({exc})", frame, self.venue) from None
        if not isinstance(msg, dict):
            raise UnknownMessage("not a JSON object", frame, self.venue)
        try:
            name = msg.get("topic")
            if name is not None:
                return self._data(name, msg, recv_time, frame)
            op = msg.get("op")
            if op is not None:
                return self._control(op, msg, frame)
        except FrameError:
            raise
        except DECODE_ERRORS as exc:
            raise FrameError(f"bad message ({type(exc).__name__}: {exc})"[:300], frame, self.venue) from None
        raise UnknownMessage("neither topic data nor an op answer", frame, self.venue)

    def _control(self, op: Any, msg: dict[str, Any], frame: str | bytes) -> list[Message]:
        if op == "pong" or (op == "ping" and msg.get("ret_msg") == "pong"):
            if msg.get("req_id") == PING_ID:  # the answer to ping(): it completes that request too
                return [Pong(PING_ID), Reply(PING_ID, result="pong")]
            return [Pong()]
        success = msg.get("success")
        req_id = msg.get("req_id")
        text = str(msg.get("ret_msg", ""))[:300]
        if op == "subscribe":
            key = self._pending.pop(req_id, None) if isinstance(req_id, str) else None
            if key is None:
                if success is True:
                    return []
                return [Notice(RequestError(self.venue, f"subscribe failed: {text}"))]
            if success is True:
                return [Ack(key)]
            return [Rejected(key, SubscriptionError(self.venue, key, text or "refused"))]
        if op == "unsubscribe":
            return [] if success is True else [Notice(RequestError(self.venue, f"unsubscribe failed: {text}"))]
        if success is False:
            return [Notice(RequestError(self.venue, f"{str(op)[:40]} failed: {text}"))]
        raise UnknownMessage(f"unknown op {str(op)[:40]!r}", frame, self.venue)

    def _data(self, name: Any, msg: dict[str, Any], recv_time: float, frame: str | bytes) -> list[Message]:
        if type(name) is not str:
            raise BadValue("topic is not a string")
        key = parse_topic(name)
        channel, sym = key
        check_symbol(sym)
        kind = msg["type"]
        venue = self.venue
        if channel.startswith("orderbook."):
            data = msg["data"]
            when = ms_seconds(msg["ts"])
            u = data["u"]
            if type(u) is not int or u < 1:
                raise BadValue(f"update id u is not a positive integer: {u!r:.40}")
            bids, asks = text_level_sides(data["b"], data["a"])
            if kind == "snapshot":
                depth = int(channel[10:])
                if not 0 < depth <= _MAX_DEPTH:
                    raise BadValue(f"book depth out of range: {depth}")
                snap = BookSnapshot(venue, sym, when, recv_time, bids=bids, asks=asks, sequence=u, depth=depth)
                if u == 1:  # the venue's book service restarted: a new numbering starts here
                    reset = StreamReset(venue, sym, when, recv_time, channel=channel, reason="venue restart (u=1)")
                    return [Data(key, (reset, snap))]
                return [Data(key, (snap,))]
            if kind == "delta":
                delta = BookDelta(venue, sym, when, recv_time, bids=bids, asks=asks, sequence=u, first_sequence=u)
                return [Data(key, (delta,))]
            raise BadValue(f"unknown book message type {kind!r:.40}")
        if channel == "publicTrade":
            trades: list[Event] = [
                Trade(
                    venue,
                    sym,
                    ms_seconds(t["T"]),
                    recv_time,
                    price=price(t["p"]),
                    size=size(t["v"]),
                    side=_SIDES[t["S"]],
                    trade_id=check_symbol(t["i"]),
                )
                for t in msg["data"]
            ]
            if len(trades) > 1 and trades[0].time > trades[-1].time:
                trades.reverse()  # oldest first, as every rxfeeds trade stream
            return [Data(key, trades)] if trades else []
        if channel == "tickers":
            return [Data(key, (self._ticker(sym, kind, msg, recv_time),))]
        if channel.startswith("kline."):
            interval = _INTERVAL_NAMES[channel[6:]]
            bars: list[Event] = []
            for k in msg["data"]:
                if k["interval"] != channel[6:]:
                    raise BadValue("kline interval differs from its topic")
                bars.append(
                    Kline(
                        venue,
                        sym,
                        ms_seconds(k["timestamp"]),
                        recv_time,
                        interval=interval,
                        open_time=ms_seconds(k["start"]),
                        close_time=ms_seconds(k["end"] + 1),  # Bybit's end is the bar's last millisecond
                        open=price(k["open"]),
                        high=price(k["high"]),
                        low=price(k["low"]),
                        close=price(k["close"]),
                        volume=size(k["volume"]),
                        quote_volume=size(k["turnover"]),
                        closed=k["confirm"] is True,
                    )
                )
            return [Data(key, bars)] if bars else []
        raise UnknownMessage(f"unknown topic {name[:80]!r}", frame, self.venue)

    def _ticker(self, sym: str, kind: Any, msg: dict[str, Any], recv_time: float) -> Ticker:
        data = msg["data"]
        if not isinstance(data, dict):
            raise BadValue("ticker data is not an object")
        if kind == "snapshot":
            merged = dict(data)
        elif kind == "delta":
            # a delta before any snapshot merges into nothing: unknown fields stay None
            merged = {**self._tickers.get(sym, {}), **data}
        else:
            raise BadValue(f"unknown ticker message type {kind!r:.40}")
        values = {attr: _opt(attr, merged.get(field)) for field, attr in _TICKER_FIELDS}
        tickers = self._tickers
        if sym not in tickers and len(tickers) >= _MAX_TICKERS:
            del tickers[next(iter(tickers))]
        tickers[sym] = merged  # only after every field parsed: a bad delta changes nothing
        return Ticker(self.venue, sym, ms_seconds(msg["ts"]), recv_time, **values)


class BybitLinearCodec(BybitCodec):
    """Codec for Bybit's v5 public linear endpoint (USDT/USDC perpetuals and futures).

    Example:
        >>> BybitLinearCodec().venue
        'bybit-linear'
    """

    venue = "bybit-linear"
    category = "linear"
