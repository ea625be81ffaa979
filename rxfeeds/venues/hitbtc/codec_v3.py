"""HitBTC socket API v3 codec, sans-I/O.

v3 keeps JSON-RPC ids but names channels with ``ch`` and batches symbols in one message:

=========================  ===========================================  =============================
key                        frame sent                                   events
=========================  ===========================================  =============================
``("orderbook", S)``       ``subscribe ch=orderbook/full {symbols}``    BookSnapshot, BookDelta
``("trades", S)``          ``subscribe ch=trades {symbols, limit}``     Trade (oldest first)
``("candles-M30", S)``     ``subscribe ch=candles/M30 {symbols, limit}`` Kline (oldest first)
``("ticker", S)``          ``subscribe ch=ticker/1s {symbols}``         Ticker
``("reports", "")``        ``spot_subscribe {}`` (after login)          OrderUpdate
``("balance", "")``        ``spot_balance_subscribe {mode: updates}``   VenueEvent(kind="balance")
=========================  ===========================================  =============================

Data: ``{"ch": "orderbook/full", "snapshot"|"update": {"ETHBTC": {"t": ms, "s": seq, "a": [[p, q]],
"b": [[p, q]]}}}``; trades ``{"t","i","p","q","s"}``; candles ``{"t","o","c","h","l","v","q"}``;
ticker ``{"t","a","A","b","B","c","o","h","l","v","q"}``.  Partial books: key ``(ch, S)`` with
``ch`` such as ``orderbook/D5/500ms`` (BookSnapshot of the top 5, each message whole) or
``orderbook/top/100ms`` (Quote), also their ``/batch`` forms.  A subscribe answer lists the
channel's current ``subscriptions``; a key missing from that list (or an ``error`` answer) becomes
``Rejected`` for that key only.

Login (every connection, when credentials are given): HS256 signs ``str(timestamp_ms)``;
BASIC sends the secret.  Trading: ``spot_new_order``, ``spot_cancel_order``,
``spot_replace_order``, ``spot_get_orders``, ``spot_balances`` via :meth:`HitBTCV3Codec.request`.

Example:
    >>> codec = HitBTCV3Codec()
    >>> codec.subscribe_frames(("trades", "ETHBTC"))
    ['{"method":"subscribe","ch":"trades","params":{"symbols":["ETHBTC"],"limit":100},"id":1}']
    >>> codec.decode(b'{"result":{"ch":"trades","subscriptions":["ETHBTC"]},"id":1}', 0.0)
    [Ack(key=('trades', 'ETHBTC'))]
    >>> [m] = codec.decode(b'{"ch":"trades","update":{"ETHBTC":[{"t":1626861109494,"i":7,'
    ...                    b'"p":"0.06","q":"1.5","s":"sell"}]}}', 1.0)
    >>> m.key, m.events[0].price, m.events[0].time
    (('trades', 'ETHBTC'), 0.06, 1626861109.494)
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from ...codec import Ack, Data, Key, Message, Notice, Rejected
from ...errors import FrameError, InvalidArgument, UnknownMessage
from ...events import BookDelta, BookSnapshot, Kline, OrderUpdate, Quote, Ticker, Trade
from ...numeric import DECODE_ERRORS, MAX_TIME, BadValue, price, size
from ._common import Credentials, JsonRpcCodec, candle_interval, opt_float, pair_levels, report_to_order, side_of
from .codec import _oldest_first
from .errors import HitBTCSubscriptionError, SymbolNotFound, error_from

__all__ = ["HitBTCV3Codec", "order_update_v3", "TICKER_SPEEDS"]

TICKER_SPEEDS = ("1s", "3s")
#: partial books (``orderbook/D5/500ms``, ``orderbook/top/100ms``, each also ``.../batch``)
_PARTIAL_BOOK = re.compile(r"^orderbook/(?:D5|D10|D20|top)/(?:100|500|1000)ms(?:/batch)?$")

_PRIVATE = {
    "reports": ("spot_subscribe", "spot_unsubscribe", {}),
    "balance": ("spot_balance_subscribe", "spot_balance_unsubscribe", {"mode": "updates"}),
}

_Handler = Callable[[str, Any, float], list[Message]]


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


_levels = pair_levels
_MAX_MS = MAX_TIME * 1000.0


def _ms(value: Any, fallback: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 0 <= value < _MAX_MS:  # compared before dividing: a huge int never overflows
            return value / 1000.0
        raise BadValue(f"time out of range: {value!r}"[:100])
    return fallback


def order_update_v3(report: Any, recv_time: float, venue: str = "hitbtc-v3") -> OrderUpdate:
    """An :class:`~rxfeeds.events.OrderUpdate` from a v3 ``spot_order`` report.

    Example:
        >>> order_update_v3({"id": 9, "client_order_id": "c", "symbol": "ETHBTC", "side": "sell",
        ...     "status": "new", "quantity": "2", "price": "0.07", "quantity_cumulative": "0.5"}, 1.0).filled
        0.5
    """
    return report_to_order(
        report,
        recv_time,
        venue,
        updated="updated_at",
        created="created_at",
        client_id="client_order_id",
        filled="quantity_cumulative",
    )


class HitBTCV3Codec(JsonRpcCodec):
    """Sans-I/O codec for HitBTC socket API v3 (see the module docstring).

    Args:
        credentials: log in on every connection (trading endpoint).
        trades_limit / candles_limit: snapshot sizes asked for.
        ticker_speed: ``"1s"`` or ``"3s"`` (channel ``ticker/<speed>``).
        venue: the venue name put in events.

    Example:
        >>> HitBTCV3Codec().subscribe_frames(("candles-M1", "ETHBTC"))
        ['{"method":"subscribe","ch":"candles/M1","params":{"symbols":["ETHBTC"],"limit":100},"id":1}']
    """

    venue = "hitbtc-v3"

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        trades_limit: int = 100,
        candles_limit: int = 100,
        ticker_speed: str = "1s",
        venue: str = "hitbtc-v3",
    ) -> None:
        if ticker_speed not in TICKER_SPEEDS:
            raise InvalidArgument("ticker_speed", ticker_speed, "must be '1s' or '3s'")
        super().__init__(credentials, venue)
        self.trades_limit = trades_limit
        self.candles_limit = candles_limit
        self.ticker_channel = "ticker/" + ticker_speed
        self._notifications: dict[str, Callable[[Any, float], list[Message]]] = {
            "spot_order": self._order,
            "spot_orders": self._orders,
            "spot_balance": self._balance,
        }

    # -- frames out -------------------------------------------------------------------------

    def channel_of(self, key: Key) -> str:
        """The v3 ``ch`` of a public key (``("candles-M1", S)`` -> ``"candles/M1"``)."""
        channel, symbol = key
        if not symbol:
            raise InvalidArgument("key", key, "public HitBTC channels need a symbol")
        if channel == "orderbook":
            return "orderbook/full"
        if channel == "trades":
            return "trades"
        if channel == "ticker":
            return self.ticker_channel
        if _PARTIAL_BOOK.match(channel):
            return channel
        if channel.startswith("candles-"):
            candle_interval(channel[8:])
            return "candles/" + channel[8:]
        raise InvalidArgument(
            "key", key, "channel must be orderbook, trades, ticker, candles-<period>, reports, balance"
        )

    def subscribe_frames(self, key: Key) -> Sequence[str]:
        rid = self.next_id()
        private = _PRIVATE.get(key[0])
        if private is not None:
            frame = _dumps({"method": private[0], "params": private[2], "id": rid})
        else:
            ch = self.channel_of(key)
            params: dict[str, Any] = {"symbols": [key[1]]}
            if ch == "trades":
                params["limit"] = self.trades_limit
            elif ch.startswith("candles/"):
                params["limit"] = self.candles_limit
            frame = _dumps({"method": "subscribe", "ch": ch, "params": params, "id": rid})
        self._subscribes[rid] = key
        return [frame]

    def unsubscribe_frames(self, key: Key) -> Sequence[str]:
        rid = self.next_id()
        private = _PRIVATE.get(key[0])
        if private is not None:
            frame = _dumps({"method": private[1], "params": {}, "id": rid})
        else:
            ch = self.channel_of(key)
            frame = _dumps({"method": "unsubscribe", "ch": ch, "params": {"symbols": [key[1]]}, "id": rid})
        self._unsubscribes.add(rid)
        return [frame]

    def login_frame(self) -> str | None:
        """The login request (fresh timestamp), or None without credentials."""
        creds = self._credentials
        if creds is None:
            return None
        rid = self.next_id()
        self._logins.add(rid)
        if creds.algo == "BASIC":
            params: dict[str, Any] = {"type": "BASIC", "api_key": creds.key, "secret_key": creds.secret()}
        else:
            stamp = int(time.time() * 1000)
            params = {
                "type": "HS256",
                "api_key": creds.key,
                "timestamp": stamp,
                "signature": creds.sign(str(stamp)),
            }
        return _dumps({"method": "login", "params": params, "id": rid})

    # -- frames in --------------------------------------------------------------------------

    def _subscribed(self, key: Key, msg: dict[str, Any]) -> list[Message]:
        # v3 acknowledges with the list of symbols it actually subscribed
        result = msg.get("result")
        listed = result.get("subscriptions") if isinstance(result, dict) else None
        if isinstance(listed, list) and key[1] and key[1] not in listed:
            refused = SymbolNotFound("Symbol not found", 2001, "not in the channel's subscriptions", self.venue)
            return [Rejected(key, HitBTCSubscriptionError(key, refused))]
        return [Ack(key)]

    def decode(self, frame: str | bytes, recv_time: float) -> Sequence[Message]:
        try:
            msg = orjson.loads(frame)
        except DECODE_ERRORS:
            raise FrameError("invalid JSON", frame, self.venue) from None
        if not isinstance(msg, dict):
            raise UnknownMessage("not a JSON object", frame, self.venue)
        try:
            ch = msg.get("ch")
            if ch is not None:
                return self._channel_data(ch, msg, recv_time, frame)
            method = msg.get("method")
            if method is not None:
                handler = self._notifications.get(method) if isinstance(method, str) else None
                if handler is None:
                    raise UnknownMessage(f"unknown method {method!r}", frame, self.venue)
                return handler(msg["params"], recv_time)
        except FrameError:
            raise
        except DECODE_ERRORS as exc:
            raise FrameError(f"bad message ({type(exc).__name__}: {exc})", frame, self.venue) from None
        if "id" in msg and ("result" in msg or "error" in msg):
            try:
                return self._reply(msg, frame)
            except FrameError:
                raise
            except DECODE_ERRORS as exc:
                raise FrameError(f"bad reply ({type(exc).__name__}: {exc})", frame, self.venue) from None
        if "result" in msg or "error" in msg:
            try:
                return self._idless_reply(msg, frame)
            except FrameError:
                raise
            except DECODE_ERRORS as exc:
                raise FrameError(f"bad reply ({type(exc).__name__}: {exc})", frame, self.venue) from None
        raise UnknownMessage("neither channel data, a notification nor a reply", frame, self.venue)

    def _channel_data(self, ch: Any, msg: dict[str, Any], recv_time: float, frame: str | bytes) -> list[Message]:
        if not isinstance(ch, str):
            raise UnknownMessage("bad ch", frame, self.venue)
        if "snapshot" in msg:
            body, snapshot = msg["snapshot"], True
        elif "update" in msg:
            body, snapshot = msg["update"], False
        elif "data" in msg:
            body, snapshot = msg["data"], False
        else:
            raise UnknownMessage("channel message without data", frame, self.venue)
        out: list[Message] = []
        venue = self.venue
        if ch == "orderbook/full":
            for symbol, book in body.items():
                when = _ms(book.get("t"), recv_time)
                sequence = int(book["s"])
                if snapshot:
                    bids, asks = _levels(book["b"], True), _levels(book["a"], True)
                    event: Any = BookSnapshot(venue, symbol, when, recv_time, bids=bids, asks=asks, sequence=sequence)
                else:
                    event = BookDelta(
                        venue,
                        symbol,
                        when,
                        recv_time,
                        bids=_levels(book.get("b", ()), False),
                        asks=_levels(book.get("a", ()), False),
                        sequence=sequence,
                        first_sequence=sequence,
                    )
                out.append(Data(("orderbook", symbol), (event,)))
        elif ch == "trades":
            for symbol, items in body.items():
                trades = [
                    Trade(
                        venue,
                        symbol,
                        _ms(t["t"], recv_time),
                        recv_time,
                        price=price(t["p"]),
                        size=size(t["q"]),
                        side=side_of(t.get("s")),
                        trade_id=t.get("i"),
                    )
                    for t in items
                ]
                _oldest_first(trades)
                if trades:
                    out.append(Data(("trades", symbol), trades))
        elif ch.startswith("candles/"):
            period = ch[8:]
            interval = candle_interval(period)
            for symbol, items in body.items():
                candles = []
                for c in items:
                    start, end = interval.bucket(_ms(c["t"], recv_time))
                    candles.append(
                        Kline(
                            venue,
                            symbol,
                            start,
                            recv_time,
                            interval=interval.name,
                            open_time=start,
                            close_time=end,
                            open=size(c["o"]),
                            high=size(c["h"]),
                            low=size(c["l"]),
                            close=size(c["c"]),
                            volume=size(c["v"]),
                            quote_volume=opt_float(c.get("q")),
                            closed=end <= recv_time,
                        )
                    )
                _oldest_first(candles)
                if candles:
                    out.append(Data(("candles-" + period, symbol), candles))
        elif ch.startswith("ticker/"):
            for symbol, t in body.items():
                tick = Ticker(
                    venue,
                    symbol,
                    _ms(t.get("t"), recv_time),
                    recv_time,
                    bid=opt_float(t.get("b")),
                    bid_size=opt_float(t.get("B")),
                    ask=opt_float(t.get("a")),
                    ask_size=opt_float(t.get("A")),
                    last=opt_float(t.get("c")),
                    open=opt_float(t.get("o")),
                    high=opt_float(t.get("h")),
                    low=opt_float(t.get("l")),
                    volume=opt_float(t.get("v")),
                    quote_volume=opt_float(t.get("q")),
                )
                out.append(Data(("ticker", symbol), (tick,)))
        elif ch.startswith("orderbook/") and _PARTIAL_BOOK.match(ch):
            out.extend(self._partial_book(ch, body, recv_time))
        else:
            raise UnknownMessage(f"unknown channel {ch!r}", frame, self.venue)
        return out

    def _partial_book(self, ch: str, body: Any, recv_time: float) -> list[Message]:
        """``orderbook/D{N}/{speed}[/batch]``: each message is the whole top ``N`` (a snapshot);
        ``orderbook/top/{speed}[/batch]``: best bid and ask.  The key's channel is ``ch``."""
        out: list[Message] = []
        venue = self.venue
        top = ch.split("/")[1] == "top"
        for symbol, book in body.items():
            when = _ms(book.get("t"), recv_time)
            if top:
                fields = [book.get(k) for k in ("b", "B", "a", "A")]
                if any(f is None for f in fields):
                    continue  # an empty side: no quote to give
                bid, ask = price(fields[0]), price(fields[2])
                bid_size, ask_size = size(fields[1]), size(fields[3])
                event: Any = Quote(
                    venue, symbol, when, recv_time, bid=bid, bid_size=bid_size, ask=ask, ask_size=ask_size
                )
            else:
                sequence = book.get("s")
                event = BookSnapshot(
                    venue,
                    symbol,
                    when,
                    recv_time,
                    bids=_levels(book["b"], True),
                    asks=_levels(book["a"], True),
                    sequence=int(sequence) if sequence is not None else None,
                    depth=int(ch.split("/")[1][1:]),
                )
            out.append(Data((ch, symbol), (event,)))
        return out

    def _idless_reply(self, msg: dict[str, Any], frame: str | bytes) -> list[Message]:
        """A reply without an ``id`` key: HitBTC's answer to a request sent without one.

        With one login pending it is that login's answer (so authentication completes);
        otherwise an error becomes a notice and a success is dropped.
        """
        if len(self._logins) == 1:
            return self._reply({**msg, "id": next(iter(self._logins))}, frame)
        error = msg.get("error")
        return [Notice(error_from(error, self.venue))] if error is not None else []

    def _order(self, p: Any, recv_time: float) -> list[Message]:
        return [Data(("reports", ""), (order_update_v3(p, recv_time, self.venue),))]

    def _orders(self, p: Any, recv_time: float) -> list[Message]:
        if not isinstance(p, list):
            raise TypeError("spot_orders params must be a list")
        return [Data(("reports", ""), [order_update_v3(r, recv_time, self.venue) for r in p])]
