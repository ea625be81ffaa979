"""Binance spot websocket codec (sans-I/O): combined streams, SUBSCRIBE/UNSUBSCRIBE, REST depth.

Routing keys are ``(channel, SYMBOL)`` taken from the stream name ``<symbol>@<channel>``:
``("depth@100ms", "BTCUSDT")``, ``("depth", "BTCUSDT")`` (the 1000 ms diff stream),
``("trade", …)``, ``("aggTrade", …)``, ``("kline_1m", …)``, ``("bookTicker", …)``.  Key symbols are
upper case, the spelling the venue uses in payloads and on REST, so keys, events, stream resets
and ``resync(symbol)`` all name a book the same way; stream names are lower case on the wire.

Decoded events:

* ``depthUpdate`` -> :class:`~rxfeeds.events.BookDelta` with ``first_sequence=U``, ``sequence=u``;
* REST ``GET /api/v3/depth`` body -> :class:`~rxfeeds.events.BookSnapshot` with
  ``sequence=lastUpdateId`` (:func:`decode_depth_snapshot`);
* ``trade`` / ``aggTrade`` -> :class:`~rxfeeds.events.Trade` (``m`` true means the buyer was the maker,
  so the taker sold);
* ``kline`` -> :class:`~rxfeeds.events.Kline` (``closed`` from ``x``);
* ``bookTicker`` -> :class:`~rxfeeds.events.Quote`.

Control replies: ``{"result": null, "id": n}`` to a SUBSCRIBE -> :class:`~rxfeeds.codec.Ack` per
stream of that request; an error reply (``{"error": {"code", "msg"}, "id": n}``, or the flat
``{"code", "msg", "id"}`` form) -> :class:`~rxfeeds.codec.Rejected` for those keys.  Replies to ids
the codec did not issue for a subscription come back as :class:`~rxfeeds.codec.Reply` (requests
such as ``LIST_SUBSCRIPTIONS``).

Binance accepts at most 5 incoming messages per second per connection; a SUBSCRIBE may carry
several streams (:meth:`BinanceSpotCodec.subscribe_many_frame`).

Example:
    >>> c = BinanceSpotCodec()
    >>> c.subscribe_frames(("depth@100ms", "BTCUSDT"))
    ['{"method":"SUBSCRIBE","params":["btcusdt@depth@100ms"],"id":1}']
    >>> c.decode(b'{"result":null,"id":1}', 0.0)
    [Ack(key=('depth@100ms', 'BTCUSDT'))]
    >>> frame = (b'{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1000,"s":"BTCUSDT",'
    ...          b'"U":5,"u":7,"b":[["10.5","2"]],"a":[]}}')
    >>> d = c.decode(frame, 1.5)[0].events[0]
    >>> d.first_sequence, d.sequence, d.bids[0][:2]
    (5, 7, (10.5, 2.0))
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

import orjson

from ...codec import Ack, BaseCodec, Data, Key, Message, Notice, Rejected, Reply
from ...errors import FrameError, RequestError, SubscriptionError, UnknownMessage
from ...events import BookDelta, BookSnapshot, Event, Kline, Level, Quote, Trade
from ...numeric import DECODE_ERRORS, ms_seconds, price, size, text_level_sides, text_levels
from ...numeric import symbol as check_symbol

__all__ = [
    "VENUE",
    "KLINE_INTERVALS",
    "BinanceSpotCodec",
    "decode_depth_snapshot",
    "stream_name",
    "parse_stream_name",
    "decode_levels",
]

VENUE: Final = "binance-spot"
#: kline intervals of the spot streams (``<symbol>@kline_<interval>``)
KLINE_INTERVALS: Final = (
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M",
)  # fmt: skip

_DEPTH_CHANNELS: Final = ("depth@100ms", "depth", "depth@1000ms")
_SUBSCRIBE: Final = "SUBSCRIBE"
_UNSUBSCRIBE: Final = "UNSUBSCRIBE"


def stream_name(key: Key) -> str:
    """The Binance stream name of a routing key (symbols are lower case in stream names).

    Example:
        >>> stream_name(("kline_1m", "ETHBTC"))
        'ethbtc@kline_1m'
    """
    channel, symbol = key
    return f"{symbol.lower()}@{channel}"


def parse_stream_name(name: str) -> Key:
    """The routing key of a stream name (the inverse of :func:`stream_name`).

    Example:
        >>> parse_stream_name("nknusdt@depth@100ms")
        ('depth@100ms', 'NKNUSDT')
    """
    symbol, sep, channel = name.partition("@")
    if not sep or not symbol or not channel:
        raise ValueError(f"not a stream name: {name!r}")
    return (channel, symbol.upper())


def decode_levels(raw: Sequence[Sequence[str]]) -> tuple[Level, ...]:
    """``[["price", "qty"], …]`` -> levels keeping the wire strings.

    Example:
        >>> decode_levels([["0.35130000", "6195.00000000"]])
        ((0.3513, 6195.0, '0.35130000', '6195.00000000'),)
    """
    return text_levels(raw)


def decode_depth_snapshot(
    body: str | bytes,
    symbol: str,
    recv_time: float,
    *,
    depth: int | None = None,
    venue: str = VENUE,
) -> BookSnapshot:
    """Decode a REST ``GET /api/v3/depth`` body into a snapshot with ``sequence=lastUpdateId``.

    ``symbol`` is the instrument the request asked for (stored upper-case, as in stream payloads);
    ``depth`` the ``limit`` requested.  A Binance error body (``{"code": -1121, "msg": …}``) raises
    :class:`~rxfeeds.errors.RequestError`; anything else unreadable raises
    :class:`~rxfeeds.errors.FrameError`.

    Example:
        >>> s = decode_depth_snapshot(b'{"lastUpdateId":9,"bids":[["1.0","2.0"]],"asks":[]}', "btcusdt", 3.0)
        >>> s.symbol, s.sequence, s.bids[0][:2], s.time
        ('BTCUSDT', 9, (1.0, 2.0), 3.0)
    """
    try:
        msg = orjson.loads(body)
    except DECODE_ERRORS as exc:
        raise FrameError(f"depth snapshot is not JSON ({exc})", body, venue) from None
    if not isinstance(msg, dict):
        raise FrameError("depth snapshot is not an object", body, venue)
    if "lastUpdateId" not in msg and "code" in msg:
        raise RequestError(venue, str(msg.get("msg", "depth request failed")), msg.get("code"))
    try:
        sequence = msg["lastUpdateId"]
        if not isinstance(sequence, int):
            raise TypeError("lastUpdateId is not an integer")
        bids, asks = text_level_sides(msg["bids"], msg["asks"])
        return BookSnapshot(
            venue,
            symbol.upper(),
            recv_time,
            recv_time,
            bids=bids,
            asks=asks,
            sequence=sequence,
            depth=depth,
        )
    except DECODE_ERRORS as exc:
        raise FrameError(f"bad depth snapshot ({exc!r})", body, venue) from None


_ms = ms_seconds


class BinanceSpotCodec(BaseCodec):
    """Codec for the Binance spot combined stream (see the module docstring).

    Request ids increase over the codec's life (also across reconnects), so a late reply to an
    old connection's request can never be taken for a new one.
    """

    venue = VENUE

    def __init__(self, venue: str = VENUE) -> None:
        self.venue = venue
        self._ids = itertools.count(1)  # next() is atomic: clients build requests off the socket thread
        # request id -> (method, keys) for SUBSCRIBE/UNSUBSCRIBE frames awaiting their reply
        self._pending: dict[int, tuple[str, tuple[Key, ...]]] = {}

    # -- frames -------------------------------------------------------------------------------

    def _take_id(self) -> int:
        return next(self._ids)

    def _method_frame(self, method: str, keys: tuple[Key, ...]) -> str:
        request_id = self._take_id()
        self._pending[request_id] = (method, keys)
        params = [stream_name(k) for k in keys]
        return orjson.dumps({"method": method, "params": params, "id": request_id}).decode()

    def subscribe_frames(self, key: Key) -> Sequence[str]:
        return [self._method_frame(_SUBSCRIBE, (key,))]

    def unsubscribe_frames(self, key: Key) -> Sequence[str]:
        return [self._method_frame(_UNSUBSCRIBE, (key,))]

    def subscribe_many_frame(self, keys: Iterable[Key]) -> str:
        """One SUBSCRIBE frame for several streams (each key is acked or rejected by its reply).

        Example:
            >>> BinanceSpotCodec().subscribe_many_frame([("trade", "A1"), ("trade", "B2")])
            '{"method":"SUBSCRIBE","params":["a1@trade","b2@trade"],"id":1}'
        """
        return self._method_frame(_SUBSCRIBE, tuple(keys))

    def unsubscribe_many_frame(self, keys: Iterable[Key]) -> str:
        """One UNSUBSCRIBE frame for several streams."""
        return self._method_frame(_UNSUBSCRIBE, tuple(keys))

    def request_frame(self, method: str, params: Sequence[Any] | None = None) -> tuple[str, int]:
        """A request frame (e.g. ``LIST_SUBSCRIPTIONS``) and its id, for ``transport.request``.

        Example:
            >>> BinanceSpotCodec().request_frame("LIST_SUBSCRIPTIONS")
            ('{"method":"LIST_SUBSCRIPTIONS","id":1}', 1)
        """
        request_id = self._take_id()
        body: dict[str, Any] = {"method": method}
        if params is not None:
            body["params"] = list(params)
        body["id"] = request_id
        return orjson.dumps(body).decode(), request_id

    def reset(self) -> None:
        """Forget replies awaited on the previous connection."""
        self._pending.clear()

    def decode_http(self, url: str, body: str | bytes, recv_time: float) -> Sequence[Message]:
        """A recorded ``/api/v3/depth`` reply as snapshot events for the symbol's diff streams (replay).

        Other URLs give nothing.

        Example:
            >>> (m, *_) = BinanceSpotCodec().decode_http(
            ...     "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=5",
            ...     '{"lastUpdateId":7,"bids":[],"asks":[]}', 1.0)
            >>> m.key, m.events[0].sequence, m.events[0].depth
            (('depth@100ms', 'BTCUSDT'), 7, 5)
        """
        parts = urlsplit(url)
        if not parts.path.endswith("/api/v3/depth"):
            return []
        query = dict(parse_qsl(parts.query))
        symbol = query.get("symbol", "").upper()
        if not symbol:
            return []
        limit = query.get("limit", "")
        snapshot = decode_depth_snapshot(
            body, symbol, recv_time, depth=int(limit) if limit.isdigit() else None, venue=self.venue
        )
        # the snapshot serves whichever diff speed the client subscribed
        return [Data((channel, symbol), [snapshot]) for channel in _DEPTH_CHANNELS]

    # -- decoding -----------------------------------------------------------------------------

    def decode(self, frame: str | bytes, recv_time: float) -> Sequence[Message]:
        try:
            msg = orjson.loads(frame)
        except DECODE_ERRORS as exc:
            raise FrameError(f"not JSON ({exc})", frame, self.venue) from None
        if not isinstance(msg, dict):
            raise UnknownMessage("not a JSON object", frame, self.venue)
        try:
            stream = msg.get("stream")
            if stream is not None:
                key = parse_stream_name(stream)
                return [Data(key, self._decode_event(msg["data"], recv_time, key, frame))]
            if "id" in msg or "result" in msg or "error" in msg or "code" in msg:
                return self._decode_reply(msg, frame)
            # Raw-stream form (/ws/<stream>): no envelope; derive the key from the payload.
            raw_key = self._raw_key(msg, frame)
            if raw_key is None:
                return [Notice(msg)]
            return [Data(raw_key, self._decode_event(msg, recv_time, raw_key, frame))]
        except FrameError:
            raise
        except DECODE_ERRORS as exc:
            raise FrameError(f"bad message ({type(exc).__name__}: {exc})"[:300], frame, self.venue) from None

    def _decode_reply(self, msg: dict[str, Any], frame: str | bytes) -> list[Message]:
        request_id = msg.get("id")
        error = msg.get("error")
        if error is None and "code" in msg and "result" not in msg:
            error = msg  # flat form {"code": 2, "msg": "...", "id": n}
        pending = self._pending.pop(request_id, None) if isinstance(request_id, int) else None
        if error is not None:
            if not isinstance(error, dict):
                error = {"msg": str(error)}
            code = error.get("code")
            text = str(error.get("msg", "error"))
            if pending is not None and pending[0] == _SUBSCRIBE:
                return [Rejected(key, SubscriptionError(self.venue, key, f"[{code}] {text}")) for key in pending[1]]
            if pending is not None:
                return [Notice(RequestError(self.venue, f"{pending[0]} failed: {text}", code))]
            if request_id is None:
                return [Notice(RequestError(self.venue, text, code))]
            return [Reply(request_id, error=RequestError(self.venue, text, code))]
        if pending is not None:
            return [Ack(key) for key in pending[1]] if pending[0] == _SUBSCRIBE else []
        if request_id is None:
            raise UnknownMessage("reply without id", frame, self.venue)
        return [Reply(request_id, result=msg.get("result"))]

    @staticmethod
    def _raw_key(msg: dict[str, Any], frame: str | bytes) -> Key | None:
        kind = msg.get("e")
        if kind is None:
            if "u" in msg and "b" in msg and "a" in msg and "s" in msg:
                return ("bookTicker", check_symbol(msg["s"]).upper())
            raise UnknownMessage("unknown message", frame, VENUE)
        symbol = check_symbol(msg.get("s", "")).upper()
        if kind == "depthUpdate":
            return ("depth", symbol)
        if kind in ("trade", "aggTrade"):
            return (kind, symbol)
        if kind == "kline":
            return (f"kline_{msg['k']['i']}", symbol)
        return None  # serverShutdown and other venue news

    def _decode_event(self, data: Any, recv_time: float, key: Key, frame: str | bytes) -> list[Event]:
        kind = data.get("e")
        venue = self.venue
        if kind == "depthUpdate":
            return [
                BookDelta(
                    venue,
                    check_symbol(data["s"]),
                    _ms(data["E"]),
                    recv_time,
                    bids=decode_levels(data["b"]),
                    asks=decode_levels(data["a"]),
                    sequence=int(data["u"]),
                    first_sequence=int(data["U"]),
                )
            ]
        if kind == "aggTrade" or kind == "trade":
            trade_id = data["a"] if kind == "aggTrade" else data["t"]
            return [
                Trade(
                    venue,
                    check_symbol(data["s"]),
                    _ms(data["T"]),
                    recv_time,
                    price=price(data["p"]),
                    size=size(data["q"]),
                    side="sell" if data["m"] else "buy",
                    trade_id=trade_id,
                )
            ]
        if kind == "kline":
            k = data["k"]
            volume = size(k["v"])
            quote_volume = size(k["q"])
            taker_buy = k.get("V")
            buy_volume = size(taker_buy) if taker_buy is not None else None
            return [
                Kline(
                    venue,
                    check_symbol(data["s"]),
                    _ms(data["E"]),
                    recv_time,
                    interval=check_symbol(k["i"]),
                    open_time=_ms(k["t"]),
                    close_time=_ms(k["T"] + 1),  # Binance close time is the bar's last millisecond
                    open=size(k["o"]),
                    high=size(k["h"]),
                    low=size(k["l"]),
                    close=size(k["c"]),
                    volume=volume,
                    quote_volume=quote_volume,
                    trades=int(k["n"]),
                    vwap=quote_volume / volume if volume > 0 else None,
                    buy_volume=buy_volume,
                    sell_volume=volume - buy_volume if buy_volume is not None else None,
                    closed=bool(k["x"]),
                )
            ]
        if kind is None and key[0] == "bookTicker":
            event_time = data.get("E")
            return [
                Quote(
                    venue,
                    check_symbol(data["s"]),
                    _ms(event_time) if event_time is not None else recv_time,
                    recv_time,
                    bid=size(data["b"]),  # "0.00000000" for an empty side
                    bid_size=size(data["B"]),
                    ask=size(data["a"]),
                    ask_size=size(data["A"]),
                )
            ]
        raise UnknownMessage(f"unknown event {kind!r} on stream {stream_name(key)}", frame, venue)
