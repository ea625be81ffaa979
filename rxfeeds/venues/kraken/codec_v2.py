"""Kraken WebSocket API v2 codec (sans-I/O).

Keys follow the v1 client for symmetry: ``("book-10", "BTC/USD")``, ``("ohlc-5", "BTC/USD")``,
``("trade", ...)``, ``("ticker", ...)``; private ``("executions", "")`` and ``("balances", "")``.
v2 book data does not name its depth, so the codec remembers the depth each symbol was subscribed
with (one book depth per symbol and connection, as on Kraken).

Differences from v1 that matter here:

* JSON objects, RFC 3339 timestamps, ``req_id`` correlation; the codec numbers its subscribe
  frames and maps the reply's ``req_id`` back to the key, so ``success: false`` becomes a
  :class:`~rxfeeds.codec.Rejected` on exactly that subscription.
* Book prices and quantities are JSON **numbers**: book frames are parsed by the stdlib parser
  with ``parse_float=Decimal`` (``NaN``/``Infinity`` tokens refused) and rendered exactly, never
  with an exponent, by :func:`~rxfeeds.numeric.decimal_text` into the level texts, so the CRC32
  ``checksum`` (present on snapshots and updates) can be verified.  ``decimal_text`` bounds the
  exponent **before** formatting: ``"price":1e999999999`` is a FrameError, not a gigabyte
  string.  Other frames use orjson.
* ``executions`` and ``balances`` carry a per-channel ``sequence``; a gap appends an
  :class:`~rxfeeds.events.IntegrityEvent` after the message that revealed it.

Example:
    >>> codec = KrakenV2Codec()
    >>> frame = codec.subscribe_frames(("book-10", "BTC/USD"))[0]
    >>> frame
    '{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10,"snapshot":true},"req_id":1}'
    >>> [m] = codec.decode(b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD",'
    ...     b'"bids":[{"price":45283.50,"qty":0.10000000}],"asks":[],"checksum":7,'
    ...     b'"timestamp":"2023-10-06T17:35:55.440295Z"}]}', 1.0)
    >>> m.key, m.events[0].bids[0]
    (('book-10', 'BTC/USD'), (45283.5, 0.1, '45283.50', '0.10000000'))
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import orjson

from ...codec import HEARTBEAT, Ack, BaseCodec, Data, Key, Message, Notice, Pong, Rejected, Reply
from ...errors import FrameError, RequestError, SubscriptionError, UnknownMessage
from ...events import (
    BookDelta,
    BookSnapshot,
    Event,
    IntegrityEvent,
    Kline,
    Level,
    OrderUpdate,
    Side,
    Ticker,
    Trade,
    VenueEvent,
)
from ...numeric import (
    DECODE_ERRORS,
    MAX_PRICE,
    MAX_SIZE,
    BadValue,
    decimal_text,
    opt_size,
    price,
    reject_constant,
    seconds,
    size,
)
from ...numeric import symbol as check_symbol
from .codec import OHLC_INTERVALS, KrakenError, KrakenStatus

__all__ = [
    "VENUE_V2",
    "BOOK_DEPTHS_V2",
    "PRIVATE_CHANNELS_V2",
    "ORDER_METHODS_V2",
    "KrakenV2Codec",
    "parse_rfc3339",
    "method_frame",
]

VENUE_V2: Final = "kraken-v2"
BOOK_DEPTHS_V2: Final = (10, 25, 100, 500, 1000)
PRIVATE_CHANNELS_V2: Final = ("executions", "balances")
#: Request methods answered with a Reply correlated by ``req_id``.
ORDER_METHODS_V2: Final = frozenset(
    {
        "add_order",
        "amend_order",
        "edit_order",
        "cancel_order",
        "cancel_all",
        "cancel_all_orders_after",
        "batch_add",
        "batch_cancel",
    }
)

_SIDES: Final[dict[str, Side]] = {"buy": "buy", "sell": "sell"}
_BOOK_MARK: Final = b'"channel":"book"'
_loads = orjson.loads


def parse_rfc3339(text: str) -> float:
    """Epoch seconds of an RFC 3339 UTC timestamp (up to nanosecond digits).

    Example:
        >>> parse_rfc3339("2023-10-04T16:25:00.000000000Z")
        1696436700.0
    """
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:
        digits = rest[:-6]
        text = f"{head}.{digits[:6]}{rest[-6:]}"
    return datetime.fromisoformat(text).timestamp()


def method_frame(method: str, params: dict[str, Any] | None, req_id: int | None) -> str:
    """A v2 request frame; ``None`` params are dropped.

    Example:
        >>> method_frame("cancel_all", {"token": "T", "x": None}, 4)
        '{"method":"cancel_all","params":{"token":"T"},"req_id":4}'
    """
    message: dict[str, Any] = {"method": method}
    if params is not None:
        message["params"] = {k: v for k, v in params.items() if v is not None}
    if req_id is not None:
        message["req_id"] = req_id
    return orjson.dumps(message, default=_json_default).decode()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _levels(raw: Sequence[dict[str, Any]]) -> tuple[Level, ...]:
    out = []
    for level in raw:
        # exact wire text for the checksum; decimal_text bounds exponent and length before expanding
        price_text = decimal_text(level["price"])
        qty_text = decimal_text(level["qty"])
        p = float(price_text)
        q = float(qty_text)
        if not (0.0 < p < MAX_PRICE and 0.0 <= q < MAX_SIZE):
            raise BadValue(f"book level out of range: {price_text}, {qty_text}")
        out.append((p, q, price_text, qty_text))
    return tuple(out)


_opt = opt_size


def _time(text: str) -> float:
    return seconds(parse_rfc3339(text))


# one decoder for every frame: json.loads(..., parse_float=...) would build a new one per call
_EXACT = json.JSONDecoder(parse_float=Decimal, parse_constant=reject_constant)


def _loads_exact(raw: bytes) -> Any:
    """The stdlib parser, numbers as Decimal: no NaN/Infinity tokens (nesting: RecursionError)."""
    return _EXACT.decode(raw.decode())


class KrakenV2Codec(BaseCodec):
    """Kraken WS v2 codec (see the module docstring).

    ``token`` (string or zero-argument callable) goes into private subscribe frames.

    Example:
        >>> KrakenV2Codec().decode(b'{"channel":"heartbeat"}', 0.0)
        [Heartbeat()]
    """

    venue = VENUE_V2

    def __init__(self, token: str | Callable[[], str | None] | None = None) -> None:
        self._token = token
        self._req_ids = itertools.count(1)
        self._pending: dict[int, Key] = {}
        self._book_depth: dict[str, int] = {}
        self._sequences: dict[str, int] = {}
        self.connection_id: int | None = None

    # --- frames out -----------------------------------------------------------------------
    def _token_value(self) -> str | None:
        token = self._token
        return token() if callable(token) else token

    def _params(self, key: Key, subscribe: bool, token: str | None = None) -> dict[str, Any]:
        channel, symbol = key
        name, dash, option = channel.partition("-")
        params: dict[str, Any] = {"channel": name if dash else channel}
        if symbol:
            params["symbol"] = [symbol]
        if dash and name == "book":
            params["depth"] = int(option)
            if subscribe:
                self._book_depth[symbol] = int(option)
        elif dash and name == "ohlc":
            params["interval"] = int(option)
        if subscribe and channel != "balances":
            params["snapshot"] = True
        if token is None and channel in PRIVATE_CHANNELS_V2:
            token = self._token_value()
        if token is not None:
            params["token"] = token
        return params

    def subscribe_frame(self, key: Key, token: str | None = None) -> str:
        """The subscribe frame for ``key`` (remembering its ``req_id`` and book depth)."""
        req_id = next(self._req_ids)
        self._remember(req_id, key)
        return method_frame("subscribe", self._params(key, True, token), req_id)

    def unsubscribe_frame(self, key: Key, token: str | None = None) -> str:
        """The unsubscribe frame for ``key``."""
        req_id = next(self._req_ids)
        self._remember(req_id, key)
        return method_frame("unsubscribe", self._params(key, False, token), req_id)

    def _remember(self, req_id: int, key: Key) -> None:
        pending = self._pending
        pending[req_id] = key
        if len(pending) > 4096:  # replies long gone: drop the oldest
            del pending[next(iter(pending))]

    def subscribe_frames(self, key: Key) -> Sequence[str]:
        return [self.subscribe_frame(key)]

    def unsubscribe_frames(self, key: Key) -> Sequence[str]:
        return [self.unsubscribe_frame(key)]

    def next_reqid(self) -> int:
        """A fresh request id (shared counter with subscriptions, so replies never collide)."""
        return next(self._req_ids)

    def reset(self) -> None:
        self._pending.clear()
        self._sequences.clear()
        self.connection_id = None

    def ping_frame(self) -> str | None:
        return f'{{"method":"ping","req_id":{next(self._req_ids)}}}'

    # --- frames in ------------------------------------------------------------------------
    def decode(self, frame: str | bytes, recv_time: float) -> Sequence[Message]:
        try:
            # inside the try: a str with lone surrogates cannot be encoded (UnicodeEncodeError)
            raw = frame.encode() if isinstance(frame, str) else frame
            if _BOOK_MARK in raw:
                message = _EXACT.decode(raw.decode())
            else:
                message = _loads(raw)
                if type(message) is dict and message.get("channel") in ("book", "status"):
                    # book: unusual spacing hid the marker, numbers must be exact; status (rare):
                    # the stdlib keeps a connection_id beyond 64 bits exact, orjson would not
                    message = _loads_exact(raw)
        except DECODE_ERRORS as exc:  # ValueError, RecursionError (deep nesting), ...
            raise FrameError(f"invalid JSON ({type(exc).__name__}: {exc})", frame, VENUE_V2) from None
        if type(message) is not dict:
            raise UnknownMessage("not a JSON object", frame, VENUE_V2)
        try:
            channel = message.get("channel")
            if channel is not None:
                return self._decode_channel(channel, message, frame, recv_time)
            method = message.get("method")
            if method is not None:
                return self._decode_method(method, message, frame, recv_time)
            if "error" in message or "Error" in message:
                text = str(message.get("error") or message.get("Error"))
                return [
                    Notice(KrakenError(VENUE_V2, "", recv_time, recv_time, kind="error", data=message, message=text))
                ]
        except FrameError:
            raise
        except DECODE_ERRORS as exc:
            raise FrameError(f"malformed frame ({type(exc).__name__}: {exc})", frame, VENUE_V2) from None
        raise UnknownMessage("neither a channel message nor a method reply", frame, VENUE_V2)

    def _decode_channel(self, channel: str, message: dict[str, Any], frame: str | bytes, t: float) -> list[Message]:
        if channel == "book":
            return self._book(message, t)
        if channel == "heartbeat":
            return [HEARTBEAT]
        if channel == "trade":
            return self._trade(message, t)
        if channel == "ticker":
            return self._ticker(message, t)
        if channel == "ohlc":
            return self._ohlc(message, t)
        if channel == "status":
            return self._status(message, t)
        if channel in PRIVATE_CHANNELS_V2:
            return self._private(channel, message, t)
        raise UnknownMessage(f"unknown channel {channel!r}", frame, VENUE_V2)

    def _book(self, message: dict[str, Any], recv_time: float) -> list[Message]:
        snapshot = message["type"] == "snapshot"
        out: list[Message] = []
        for entry in message["data"]:
            name = check_symbol(entry["symbol"])
            depth = self._book_depth.get(name, 10)
            bids = _levels(entry.get("bids") or ())
            asks = _levels(entry.get("asks") or ())
            stamp = entry.get("timestamp")
            exchange_time = _time(stamp) if stamp else recv_time
            checksum = entry.get("checksum")
            if checksum is not None and (type(checksum) is not int or not 0 <= checksum <= 0xFFFFFFFF):
                raise BadValue(f"checksum is not a 32-bit unsigned integer: {checksum!r}"[:100])
            event: Event
            if snapshot:
                event = BookSnapshot(
                    VENUE_V2, name, exchange_time, recv_time, bids, asks, checksum=checksum, depth=depth
                )
            else:
                event = BookDelta(VENUE_V2, name, exchange_time, recv_time, bids, asks, checksum=checksum)
            out.append(Data((f"book-{depth}", name), (event,)))
        return out

    def _trade(self, message: dict[str, Any], recv_time: float) -> list[Message]:
        by_symbol: dict[str, list[Event]] = {}
        for t in message["data"]:
            name = check_symbol(t["symbol"])
            side = t.get("side", "")
            trade = Trade(
                VENUE_V2,
                name,
                _time(t["timestamp"]),
                recv_time,
                price=price(t["price"]),
                size=size(t["qty"]),
                side=_SIDES.get(side) if type(side) is str else None,
                trade_id=t.get("trade_id"),
            )
            by_symbol.setdefault(name, []).append(trade)
        return [Data(("trade", name), events) for name, events in by_symbol.items()]

    def _ticker(self, message: dict[str, Any], recv_time: float) -> list[Message]:
        out: list[Message] = []
        for d in message["data"]:
            name = check_symbol(d["symbol"])
            stamp = d.get("timestamp")
            volume = _opt(d.get("volume"))
            vwap = _opt(d.get("vwap"))
            ticker = Ticker(
                VENUE_V2,
                name,
                _time(stamp) if stamp else recv_time,
                recv_time,
                bid=_opt(d.get("bid")),
                bid_size=_opt(d.get("bid_qty")),
                ask=_opt(d.get("ask")),
                ask_size=_opt(d.get("ask_qty")),
                last=_opt(d.get("last")),
                high=_opt(d.get("high")),
                low=_opt(d.get("low")),
                volume=volume,
                quote_volume=volume * vwap if volume is not None and vwap is not None else None,
                vwap=vwap,
            )
            out.append(Data(("ticker", name), (ticker,)))
        return out

    def _ohlc(self, message: dict[str, Any], recv_time: float) -> list[Message]:
        out: list[Message] = []
        for c in message["data"]:
            name = check_symbol(c["symbol"])
            interval = c["interval"]
            if type(interval) is not int or interval not in OHLC_INTERVALS:
                raise BadValue(f"unknown ohlc interval {interval!r}"[:100])
            begin = _time(c["interval_begin"])
            stamp = c.get("timestamp") or message.get("timestamp")
            kline = Kline(
                VENUE_V2,
                name,
                _time(stamp) if stamp else recv_time,
                recv_time,
                interval=OHLC_INTERVALS.get(interval) or f"{interval}m",
                open_time=begin,
                close_time=begin + interval * 60.0,
                open=size(c["open"]),
                high=size(c["high"]),
                low=size(c["low"]),
                close=size(c["close"]),
                volume=size(c["volume"]),
                vwap=_opt(c.get("vwap")),
                trades=int(c["trades"]) if c.get("trades") is not None else None,
                closed=False,
            )
            out.append(Data((f"ohlc-{interval}", name), (kline,)))
        return out

    def _status(self, message: dict[str, Any], recv_time: float) -> list[Message]:
        out: list[Message] = []
        for d in message["data"]:
            connection_id = d.get("connection_id")
            if connection_id is not None:
                self.connection_id = int(connection_id)
            status = KrakenStatus(
                VENUE_V2,
                "",
                recv_time,
                recv_time,
                kind="status",
                data=d,
                status=str(d.get("system", "")),
                version=str(d.get("version", "")),
                connection_id=self.connection_id,
            )
            out.append(Notice(status))
        return out

    def _private(self, channel: str, message: dict[str, Any], recv_time: float) -> list[Message]:
        events: list[Event] = []
        gap: IntegrityEvent | None = None
        sequence = message.get("sequence")
        if sequence is not None:
            sequence = int(sequence)
            previous = self._sequences.get(channel)
            if previous is not None and sequence != previous + 1:
                detail = f"expected {previous + 1}, got {sequence}"
                gap = IntegrityEvent(VENUE_V2, "", recv_time, recv_time, kind="gap", detail=detail)
            self._sequences[channel] = sequence
        for d in message["data"]:
            stamp = d.get("timestamp")
            exchange_time = _time(stamp) if stamp else recv_time
            if channel == "executions":
                price = d.get("last_price") if d.get("exec_type") == "trade" else d.get("limit_price")
                events.append(
                    OrderUpdate(
                        VENUE_V2,
                        str(d.get("symbol", "")),
                        exchange_time,
                        recv_time,
                        order_id=str(d["order_id"]),
                        status=str(d.get("order_status") or d.get("exec_type") or ""),
                        client_order_id=d.get("cl_ord_id"),
                        side=_SIDES.get(d.get("side", "")),
                        price=_opt(price),
                        size=_opt(d.get("order_qty")),
                        filled=_opt(d.get("cum_qty")),
                        raw=d,
                    )
                )
            else:
                events.append(VenueEvent(VENUE_V2, str(d.get("asset", "")), exchange_time, recv_time, "balance", d))
        if gap is not None:
            events.append(gap)  # after the message that revealed it
        return [Data((channel, ""), events)]

    def _decode_method(self, method: str, message: dict[str, Any], frame: str | bytes, t: float) -> list[Message]:
        req_id = message.get("req_id")
        success = message.get("success")
        if method == "pong":
            # also a Reply, so a client's ping() request completes
            return [Pong(req_id)] if req_id is None else [Pong(req_id), Reply(req_id, result=message)]
        if method in ("subscribe", "unsubscribe"):
            # Replies name the symbol but not always the channel: the req_id says which frame
            # (and so which channel) they answer; one frame may cover several symbols.
            sent = self._pending.get(req_id) if req_id is not None else None
            result = message.get("result") or {}
            channel = str(result.get("channel", ""))
            if channel == "book":
                channel = f"book-{result.get('depth', 10)}"
            elif channel == "ohlc":
                channel = f"ohlc-{result.get('interval', 1)}"
            symbol = result.get("symbol") or message.get("symbol")
            if sent is not None:
                channel = sent[0]
                symbol = symbol or sent[1]
            key = (channel, str(symbol or ""))
            if success:
                if method == "subscribe":
                    self._sequences.pop(key[0], None)
                    return [Ack(key)]
                return []
            text = str(message.get("error") or "subscription refused")
            if method == "unsubscribe":
                return [Notice(KrakenError(VENUE_V2, key[1], t, t, kind="unsubscribe", data=message, message=text))]
            return [Rejected(key, SubscriptionError(VENUE_V2, key, text))]
        if method in ORDER_METHODS_V2:
            if req_id is None:
                text = str(message.get("error") or method)
                return [Notice(KrakenError(VENUE_V2, "", t, t, kind=method, data=message, message=text))]
            if success:
                return [Reply(req_id, result=message.get("result"))]
            return [Reply(req_id, error=RequestError(VENUE_V2, str(message.get("error") or "request failed")))]
        if success is False:  # the venue refusing something we sent
            text = str(message.get("error") or "request failed")
            if req_id is not None:
                return [Reply(req_id, error=RequestError(VENUE_V2, text))]
            return [Notice(KrakenError(VENUE_V2, "", t, t, kind=str(method), data=message, message=text))]
        raise UnknownMessage(f"unknown method {method!r}", frame, VENUE_V2)
