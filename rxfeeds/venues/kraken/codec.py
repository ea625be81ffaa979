"""Kraken WebSocket API v1 codec (sans-I/O): frames in, :mod:`rxfeeds.codec` messages out.

Routing keys are ``(channelName, pair)``: ``("book-10", "XBT/USD")``, ``("ohlc-5", "XBT/USD")``,
``("trade", ...)``, ``("ticker", ...)``, ``("spread", ...)``; private channels use
``("ownTrades", "")`` and ``("openOrders", "")``.  The deprecated ``channelID`` is ignored: a data
frame ``[channelID, payload..., channelName, pair]`` is routed by its last two elements.

What each frame becomes:

* book snapshot (``as``/``bs``) -> :class:`~rxfeeds.events.BookSnapshot` (``depth`` from the
  channel name); book update (``a``/``b``, possibly both in two dicts, ``c`` in the last one) ->
  :class:`~rxfeeds.events.BookDelta` with ``checksum=int(c)``.  Levels are
  ``(float(price), float(volume), price_text, volume_text)`` keeping the wire strings for the
  CRC32.  The republish flag ``r`` is an ordinary update.  ``time`` is the newest level time.
* trade -> one :class:`~rxfeeds.events.Trade` per trade; ticker -> :class:`~rxfeeds.events.Ticker`
  (24-hour figures); spread -> :class:`~rxfeeds.events.Quote`; ohlc -> a running
  :class:`~rxfeeds.events.Kline` (``closed=False``).
* ownTrades -> :class:`OwnTrade`; openOrders -> :class:`~rxfeeds.events.OrderUpdate`.  Their
  per-channel ``sequence`` is checked: a gap appends an :class:`~rxfeeds.events.IntegrityEvent`
  (``kind="gap"``) after the message that revealed it (the client then resubscribes).
* ``systemStatus`` -> ``Notice(KrakenStatus)``; ``subscriptionStatus`` -> ``Ack`` / ``Rejected``;
  ``heartbeat`` -> ``Heartbeat``; ``pong`` -> ``Pong(reqid)``; ``addOrderStatus`` and the other
  order-entry statuses -> ``Reply(reqid, result=<status dict>)`` or ``Reply(reqid,
  error=RequestError)``.
* anything else raises :class:`~rxfeeds.errors.UnknownMessage`; broken JSON or wrong shapes raise
  :class:`~rxfeeds.errors.FrameError`, both carrying the raw frame.

This module holds the decoder; Kraken's event types are in :mod:`~rxfeeds.venues.kraken.events`, the
channel names and outgoing frames in :mod:`~rxfeeds.venues.kraken.frames`, the private-channel
decoding in :mod:`~rxfeeds.venues.kraken.private`; their names are importable from here too.

Example:
    >>> codec = KrakenCodec()
    >>> [m] = codec.decode(b'[1,[["1.50000","2.00000000","1618678142.5","s","l",""]],"trade","XBT/USD"]', 9.0)
    >>> m.key, m.events[0].price, m.events[0].side
    (('trade', 'XBT/USD'), 1.5, 'sell')
    >>> codec.subscribe_frames(("book-10", "XBT/USD"))
    ['{"event":"subscribe","pair":["XBT/USD"],"subscription":{"name":"book","depth":10}}']
"""

from __future__ import annotations

import functools
import itertools
import json
import operator
from collections.abc import Callable, Sequence
from typing import Any, Final

import orjson

from ...codec import HEARTBEAT, Ack, BaseCodec, Data, Key, Message, Notice, Pong, Rejected, Reply
from ...errors import FrameError, RequestError, SubscriptionError, UnknownMessage
from ...events import BookDelta, BookSnapshot, Event, Kline, Level, Quote, Ticker, Trade
from ...numeric import (
    DECODE_ERRORS,
    MAX_PRICE,
    MAX_SIZE,
    MAX_TEXT,
    MAX_TIME,
    BadValue,
    opt_size,
    price,
    seconds,
    size,
    text_levels,
)

# The event types, the wire vocabulary and the frame builders live in their own modules; they are
# re-exported here, where codec_v2, the clients, the benchmarks and the tests import them from.
from .events import KrakenError, KrakenStatus, OwnTrade
from .frames import (
    BOOK_DEPTHS,
    OHLC_INTERVALS,
    PRIVATE_CHANNELS,
    VENUE,
    book_channel,
    ohlc_channel,
    request_frame,
    status_key,
    subscribe_frame,
    subscription_of,
)
from .frames import SIDES as _SIDES
from .private import decode_private

__all__ = [
    "VENUE",
    "BOOK_DEPTHS",
    "OHLC_INTERVALS",
    "PRIVATE_CHANNELS",
    "ORDER_EVENTS",
    "KrakenCodec",
    "KrakenStatus",
    "KrakenError",
    "OwnTrade",
    "book_channel",
    "ohlc_channel",
    "subscription_of",
    "subscribe_frame",
    "request_frame",
]

#: Order-entry status events answered with a Reply correlated by ``reqid``.
ORDER_EVENTS: Final = frozenset(
    {
        "addOrderStatus",
        "editOrderStatus",
        "cancelOrderStatus",
        "cancelAllStatus",
        "cancelAllOrdersAfterStatus",
    }
)

_loads = orjson.loads
_THIRD = operator.itemgetter(2)
_levels = text_levels  # [price, volume, time(, "r")]: checked number strings


def _newest(raw: Sequence[Sequence[str]]) -> str:
    """The newest level time (wire text: fixed-point, so text order is time order)."""
    return max(map(_THIRD, raw), default="")


def _update_levels(raw: Sequence[Sequence[str]], newest: str) -> tuple[tuple[Level, ...], str]:
    """Levels of an update side, and the newest level time seen so far (wire text)."""
    if len(raw) == 1:  # the usual update: one level, checked inline (no helper call per level)
        level = raw[0]
        price_text, size_text, stamp = level[0], level[1], level[2]
        p = float(price_text)
        s = float(size_text)
        # one chained comparison each: also false for NaN; the text length bounds the digits.
        # float() and len() both succeeding means a str (no explicit type check: hot path)
        if not (0.0 < p < MAX_PRICE and 0.0 <= s < MAX_SIZE) or len(price_text) > MAX_TEXT or len(size_text) > MAX_TEXT:
            raise BadValue(f"book level out of range: {price_text!r}, {size_text!r}")
        return ((p, s, price_text, size_text),), stamp if stamp > newest else newest
    return _levels(raw), max(newest, _newest(raw))


_float_or_none = opt_size


def _time(text: str) -> float:
    return seconds(float(text))


class KrakenCodec(BaseCodec):
    """Kraken WS v1 codec (see the module docstring).

    ``token`` (a string or a zero-argument callable) is put into private subscribe frames made by
    :meth:`subscribe_frames`; clients usually pass their own frames instead.

    Example:
        >>> KrakenCodec().decode('{"event":"heartbeat"}', 0.0)
        [Heartbeat()]
    """

    venue = VENUE

    def __init__(self, token: str | Callable[[], str | None] | None = None) -> None:
        self._token = token
        self._handlers: dict[str, Callable[[list[Any], float], list[Message]]] = {}
        self._sequences: dict[str, int] = {}
        self._ping_ids = itertools.count(1)
        self.connection_id: int | None = None

    # --- frames out -----------------------------------------------------------------------
    def _token_value(self) -> str | None:
        token = self._token
        return token() if callable(token) else token

    def subscribe_frames(self, key: Key) -> Sequence[str]:
        token = self._token_value() if key[0] in PRIVATE_CHANNELS else None
        return [subscribe_frame(key, "subscribe", token)]

    def unsubscribe_frames(self, key: Key) -> Sequence[str]:
        token = self._token_value() if key[0] in PRIVATE_CHANNELS else None
        return [subscribe_frame(key, "unsubscribe", token)]

    def reset(self) -> None:
        self._sequences.clear()
        self.connection_id = None

    def ping_frame(self) -> str | None:
        return f'{{"event":"ping","reqid":{next(self._ping_ids)}}}'

    def next_reqid(self) -> int:
        """A fresh ``reqid`` (shared with pings, so replies never collide)."""
        return next(self._ping_ids)

    # --- frames in ------------------------------------------------------------------------
    def decode(self, frame: str | bytes, recv_time: float) -> Sequence[Message]:
        try:
            message = _loads(frame)
        except orjson.JSONDecodeError as exc:
            raise FrameError(f"invalid JSON ({exc})", frame, VENUE) from None
        except DECODE_ERRORS as exc:  # a str with lone surrogates, ...
            raise FrameError(f"undecodable frame ({type(exc).__name__})", frame, VENUE) from None
        try:
            if type(message) is list:
                # hot path: a public channel seen before, routed by its last two elements
                handler = self._handlers.get(message[-2])
                if handler is not None and type(message[-1]) is str:
                    return handler(message, recv_time)
                return self._decode_data(message, frame, recv_time)
            if type(message) is dict:
                return self._decode_event(message, frame, recv_time)
        except FrameError:
            raise
        except DECODE_ERRORS as exc:
            raise FrameError(f"malformed frame ({type(exc).__name__}: {exc})", frame, VENUE) from None
        raise UnknownMessage("neither an event object nor a data array", frame, VENUE)

    def _decode_data(self, message: list[Any], frame: str | bytes, recv_time: float) -> list[Message]:
        channel = message[-2]
        last = message[-1]
        if type(last) is dict:
            if channel not in PRIVATE_CHANNELS:
                raise UnknownMessage(f"unknown private channel {channel!r}", frame, VENUE)
            return decode_private(self._sequences, message, recv_time)
        if type(last) is not str:
            raise UnknownMessage(f"pair is not a string: {last!r}", frame, VENUE)
        handler = self._handlers.get(channel)
        if handler is None:
            handler = self._handler_for(channel, frame)
        return handler(message, recv_time)

    def _handler_for(self, channel: Any, frame: str | bytes) -> Callable[[list[Any], float], list[Message]]:
        handler: Callable[[list[Any], float], list[Message]] | None = None
        if type(channel) is str:
            name, _, option = channel.partition("-")
            if name == "book" and option.isdigit():
                # partial, not a closure: one Python frame less per book message
                handler = functools.partial(self._book, channel, int(option))
            elif name == "ohlc" and option.isdigit():
                handler = functools.partial(self._ohlc, channel, int(option))
            elif channel == "trade":
                handler = self._trade
            elif channel == "ticker":
                handler = self._ticker
            elif channel == "spread":
                handler = self._spread
        if handler is None:
            raise UnknownMessage(f"unknown channel {channel!r}", frame, VENUE)
        self._handlers[channel] = handler
        return handler

    def _book(self, channel: str, depth: int, message: list[Any], recv_time: float) -> list[Message]:
        # an update is [id, {"a"|"b": levels, "c": crc}, (second dict,) channel, pair]
        pair: str = message[-1]
        if len(message) == 4:
            # hot path: one dict holding one side with one level, and the checksum
            part = message[1]
            raw = part.get("a")
            is_ask = raw is not None
            if not is_ask:
                raw = part.get("b")
            text = part.get("c")
            if text is not None and raw is not None and len(part) == 2 and len(raw) == 1:
                level = raw[0]
                price_text, size_text, stamp = level[0], level[1], level[2]
                if type(stamp) is str and stamp:
                    p = float(price_text)
                    s = float(size_text)
                    t = float(stamp)
                    # chained comparisons are also false for NaN; the text length bounds the
                    # digits; float() and len() both succeeding means a str
                    if (
                        not (0.0 < p < MAX_PRICE and 0.0 <= s < MAX_SIZE and 0.0 <= t < MAX_TIME)
                        or len(price_text) > MAX_TEXT
                        or len(size_text) > MAX_TEXT
                    ):
                        raise BadValue(f"book level out of range: {price_text!r:.60}, {size_text!r:.60}, {stamp!r:.60}")
                    one: tuple[Level, ...] = ((p, s, price_text, size_text),)
                    delta = BookDelta(
                        VENUE, pair, t, recv_time, () if is_ask else one, one if is_ask else (), None, None, int(text)
                    )
                    return [Data((channel, pair), (delta,))]
        asks: tuple[Level, ...] = ()
        bids: tuple[Level, ...] = ()
        checksum = None
        newest = ""
        for part in message[1:-2]:
            raw = part.get("a")
            if raw is not None:
                levels, newest = _update_levels(raw, newest)
                asks = asks + levels if asks else levels
            raw = part.get("b")
            if raw is not None:
                levels, newest = _update_levels(raw, newest)
                bids = bids + levels if bids else levels
            text = part.get("c")
            if text is not None:
                checksum = int(text)  # a wrong one is a checksum mismatch later: no range check here
        if checksum is None and not asks and not bids:
            return self._book_snapshot(channel, depth, message, recv_time)
        if newest:
            exchange_time = float(newest)
            if not 0.0 <= exchange_time < MAX_TIME:  # inline: this runs for every book update
                raise BadValue(f"time out of range: {newest!r}")
        else:
            exchange_time = recv_time
        delta = BookDelta(VENUE, pair, exchange_time, recv_time, bids, asks, None, None, checksum)
        return [Data((channel, pair), (delta,))]

    def _book_snapshot(self, channel: str, depth: int, message: list[Any], recv_time: float) -> list[Message]:
        pair: str = message[-1]
        first = message[1]
        snap_asks = first.get("as")
        snap_bids = first.get("bs")
        if snap_asks is None and snap_bids is None:
            raise ValueError("book frame with neither levels nor checksum")
        asks = _levels(snap_asks or ())
        bids = _levels(snap_bids or ())
        newest = max(_newest(snap_asks or ()), _newest(snap_bids or ()))
        exchange_time = _time(newest) if newest else recv_time
        snapshot = BookSnapshot(VENUE, pair, exchange_time, recv_time, bids, asks, depth=depth)
        return [Data((channel, pair), (snapshot,))]

    def _trade(self, message: list[Any], recv_time: float) -> list[Message]:
        pair: str = message[-1]
        trades: list[Event] = [
            Trade(
                VENUE,
                pair,
                _time(t[2]),
                recv_time,
                price=price(t[0]),
                size=size(t[1]),
                side=_SIDES.get(t[3]),
            )
            for t in message[1]
        ]
        return [Data(("trade", pair), trades)]

    def _ticker(self, message: list[Any], recv_time: float) -> list[Message]:
        pair: str = message[-1]
        d = message[1]
        ask = d.get("a")
        bid = d.get("b")
        last = d.get("c")
        volume = d.get("v")
        vwap = d.get("p")
        ticker = Ticker(
            VENUE,
            pair,
            recv_time,
            recv_time,
            # quotes may be 0 for an empty side: non-negative, not positive
            bid=size(bid[0]) if bid else None,
            bid_size=size(bid[2]) if bid else None,
            ask=size(ask[0]) if ask else None,
            ask_size=size(ask[2]) if ask else None,
            last=size(last[0]) if last else None,
            open=_float_or_none((d.get("o") or (None, None))[1]),
            high=_float_or_none((d.get("h") or (None, None))[1]),
            low=_float_or_none((d.get("l") or (None, None))[1]),
            volume=size(volume[1]) if volume else None,
            quote_volume=size(volume[1]) * size(vwap[1]) if volume and vwap else None,
            vwap=size(vwap[1]) if vwap else None,
        )
        return [Data(("ticker", pair), (ticker,))]

    def _spread(self, message: list[Any], recv_time: float) -> list[Message]:
        pair: str = message[-1]
        s = message[1]
        quote = Quote(
            VENUE,
            pair,
            _time(s[2]),
            recv_time,
            bid=size(s[0]),  # 0 for an empty side
            bid_size=size(s[3]),
            ask=size(s[1]),
            ask_size=size(s[4]),
        )
        return [Data(("spread", pair), (quote,))]

    def _ohlc(self, channel: str, interval: int, message: list[Any], recv_time: float) -> list[Message]:
        pair: str = message[-1]
        c = message[1]
        end = _time(c[1])
        name = OHLC_INTERVALS.get(interval) or f"{interval}m"
        kline = Kline(
            VENUE,
            pair,
            _time(c[0]),
            recv_time,
            interval=name,
            open_time=end - interval * 60.0,
            close_time=end,
            open=size(c[2]),
            high=size(c[3]),
            low=size(c[4]),
            close=size(c[5]),
            volume=size(c[7]),
            vwap=size(c[6]),
            trades=int(c[8]),
            closed=False,
        )
        return [Data((channel, pair), (kline,))]

    def _decode_event(self, message: dict[str, Any], frame: str | bytes, recv_time: float) -> list[Message]:
        event = message.get("event")
        if event == "heartbeat":
            return [HEARTBEAT]
        if event == "subscriptionStatus":
            key = status_key(message)
            status = message.get("status")
            if status == "subscribed":
                if key[0] in PRIVATE_CHANNELS:
                    self._sequences.pop(key[0], None)
                return [Ack(key)]
            if status == "error":
                text = str(message.get("errorMessage") or "subscription refused")
                return [Rejected(key, SubscriptionError(VENUE, key, text))]
            if status == "unsubscribed":
                return []
            raise UnknownMessage(f"unknown subscription status {status!r}", frame, VENUE)
        if event == "pong":
            reqid = message.get("reqid")
            # also a Reply, so a client's ping() request completes
            return [Pong(reqid)] if reqid is None else [Pong(reqid), Reply(reqid, result=message)]
        if event == "systemStatus":
            connection_id = message.get("connectionID")
            if isinstance(connection_id, float):
                # orjson turns integers beyond 64 bits into floats; the stdlib keeps them exact.
                connection_id = json.loads(frame).get("connectionID")
            self.connection_id = connection_id
            status_event = KrakenStatus(
                VENUE,
                "",
                recv_time,
                recv_time,
                kind="systemStatus",
                data=message,
                status=str(message.get("status", "")),
                version=str(message.get("version", "")),
                connection_id=connection_id,
            )
            return [Notice(status_event)]
        if event in ORDER_EVENTS or event == "error":
            reqid = message.get("reqid")
            failed = event == "error" or message.get("status") == "error"
            if reqid is None:
                text = str(message.get("errorMessage") or event)
                return [
                    Notice(KrakenError(VENUE, "", recv_time, recv_time, kind=str(event), data=message, message=text))
                ]
            if failed:
                text = str(message.get("errorMessage") or "request failed")
                return [Reply(reqid, error=RequestError(VENUE, text))]
            return [Reply(reqid, result=message)]
        if event is None and "Error" in message:
            text = str(message["Error"])
            return [Notice(KrakenError(VENUE, "", recv_time, recv_time, kind="error", data=message, message=text))]
        raise UnknownMessage(f"unknown event {event!r}", frame, VENUE)
