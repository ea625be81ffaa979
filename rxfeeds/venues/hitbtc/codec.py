"""HitBTC socket API v2 codec (JSON-RPC 2.0), sans-I/O.

Routing keys (``(channel, symbol)``):

==========================  ==========================================  ============================
key                         subscribe method                            events
==========================  ==========================================  ============================
``("orderbook", S)``        ``subscribeOrderbook {symbol}``             BookSnapshot, BookDelta
``("trades", S)``           ``subscribeTrades {symbol, limit}``         Trade (oldest first)
``("candles-M30", S)``      ``subscribeCandles {symbol, period, limit}`` Kline (oldest first)
``("ticker", S)``           ``subscribeTicker {symbol}``                Ticker
``("reports", "")``         ``subscribeReports {}`` (after login)       OrderUpdate
``("balance", "")``         ``subscribeBalance {}`` (account endpoint)  VenueEvent(kind="balance")
``("transactions", "")``    ``subscribeTransactions {}``                VenueEvent(kind="transaction")
==========================  ==========================================  ============================

Request ids are integers assigned by the codec.  It remembers which id subscribed which key, so
the venue's error reply to a subscribe (``2001 Symbol not found``) becomes
``Rejected(key, HitBTCSubscriptionError)`` for that key only, and ``result: true`` becomes
``Ack(key)``.  Replies to other requests (:meth:`HitBTCCodec.request`) become ``Reply(id, result
| error)`` with the error typed by :func:`~rxfeeds.venues.hitbtc.errors.error_from`.

Books: ``snapshotOrderbook`` -> ``BookSnapshot(sequence=s)`` (zero-size levels dropped, the doc's
own example has one); ``updateOrderbook`` -> ``BookDelta(sequence=s, first_sequence=s)``.  The
unsolicited mid-stream re-snapshot (same ``sequence`` as the last update) is just a snapshot.

Candles: ``Kline.interval`` is the canonical name (``"M1"`` -> ``"1m"``), ``min``/``max`` become
``low``/``high``, ``volumeQuote`` ``quote_volume``; HitBTC candles carry no last-trade time, so
``Kline.time`` is the open time, and ``closed`` is whether the candle's end is before the receive
time.

Login (BASIC or HS256) is sent by :meth:`HitBTCCodec.on_open_frames` on every (re)connection when
credentials are given.  If it fails, later ``1001 authorisation required`` errors on that
connection are reported as the login's own error (``1002 Authorisation failed``).

Example:
    >>> codec = HitBTCCodec()
    >>> codec.subscribe_frames(("orderbook", "ETHBTC"))
    ['{"method":"subscribeOrderbook","params":{"symbol":"ETHBTC"},"id":1}']
    >>> codec.decode(b'{"jsonrpc":"2.0","result":true,"id":1}', 0.0)
    [Ack(key=('orderbook', 'ETHBTC'))]
    >>> [m] = codec.decode(b'{"jsonrpc":"2.0","method":"updateOrderbook","params":{"ask":[],'
    ...     b'"bid":[{"price":"0.05","size":"0"}],"sequence":7,"timestamp":"2021-07-15T03:06:44.292Z",'
    ...     b'"symbol":"ETHBTC"}}', 1.0)
    >>> m.key, m.events[0].sequence, m.events[0].bids
    (('orderbook', 'ETHBTC'), 7, ((0.05, 0.0, '0.05', '0'),))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from ...codec import Data, Key, Message
from ...errors import FrameError, InvalidArgument, UnknownMessage
from ...events import BookDelta, BookSnapshot, Event, Kline, OrderUpdate, Ticker, Trade, VenueEvent
from ...numeric import DECODE_ERRORS, BadValue, price, size
from ...numeric import symbol as check_symbol
from ._common import (
    Credentials,
    JsonRpcCodec,
    book_levels,
    candle_interval,
    iso_time,
    opt_float,
    report_to_order,
    side_of,
)

__all__ = ["HitBTCCodec", "PUBLIC_CHANNELS", "PRIVATE_CHANNELS", "order_update"]

#: channels of the public (market data) endpoint; candles are ``"candles-<period>"``
PUBLIC_CHANNELS = ("orderbook", "trades", "ticker", "candles")
#: channels that need a login (reports: trading endpoint; balance/transactions: account endpoint)
PRIVATE_CHANNELS = ("reports", "balance", "transactions")

_PRIVATE_METHODS = {"reports": "Reports", "balance": "Balance", "transactions": "Transactions"}
_PUBLIC_METHODS = {"orderbook": "Orderbook", "trades": "Trades", "ticker": "Ticker"}

_Handler = Callable[[Any, float], list[Message]]


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


_levels = book_levels


def order_update(report: Any, recv_time: float, venue: str = "hitbtc") -> OrderUpdate:
    """An :class:`~rxfeeds.events.OrderUpdate` from a v2 order report (``raw`` keeps every field).

    Example:
        >>> u = order_update({"id": 5, "clientOrderId": "a1", "symbol": "ETHBTC", "side": "buy",
        ...     "status": "new", "quantity": "1.5", "price": "0.05", "cumQuantity": "0",
        ...     "updatedAt": "2021-07-15T03:06:43.095Z"}, 2.0)
        >>> u.order_id, u.client_order_id, u.size, u.time
        ('5', 'a1', 1.5, 1626318403.095)
    """
    return report_to_order(
        report,
        recv_time,
        venue,
        updated="updatedAt",
        created="createdAt",
        client_id="clientOrderId",
        filled="cumQuantity",
    )


class HitBTCCodec(JsonRpcCodec):
    """Sans-I/O codec for HitBTC socket API v2 (see the module docstring).

    Args:
        credentials: log in on every connection (trading/account endpoints); ``None`` for the
            public endpoint.
        trades_limit / candles_limit: ``limit`` sent with trades / candles subscriptions (the
            size of the snapshot; the venue's default and maximum is 100... 1000).
        venue: the venue name put in events (``"hitbtc"``; Bequant runs the same protocol).

    Example:
        >>> codec = HitBTCCodec()
        >>> rid, frame = codec.request("getSymbol", {"symbol": "ETHBTC"})
        >>> [reply] = codec.decode(
        ...     b'{"jsonrpc":"2.0","error":{"code":2001,"message":"Symbol not found"},"id":%d}' % rid, 0.0)
        >>> reply.request_id == rid, type(reply.error).__name__, str(reply.error)
        (True, 'SymbolNotFound', 'hitbtc [2001]: Symbol not found')
    """

    venue = "hitbtc"

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        trades_limit: int = 100,
        candles_limit: int = 100,
        venue: str = "hitbtc",
    ) -> None:
        super().__init__(credentials, venue)
        self.trades_limit = trades_limit
        self.candles_limit = candles_limit
        self._handlers: dict[str, _Handler] = {
            "snapshotOrderbook": self._snapshot_orderbook,
            "updateOrderbook": self._update_orderbook,
            "snapshotTrades": self._trades,
            "updateTrades": self._trades,
            "snapshotCandles": self._candles,
            "updateCandles": self._candles,
            "ticker": self._ticker,
            "activeOrders": self._active_orders,
            "report": self._report,
            "balance": self._balance,
            "updateTransaction": self._transaction,
        }

    # -- frames out -------------------------------------------------------------------------

    def subscribe_frames(self, key: Key) -> Sequence[str]:
        method, params = self._method_params(key)
        rid = self.next_id()
        self._subscribes[rid] = key
        return [_dumps({"method": "subscribe" + method, "params": params, "id": rid})]

    def unsubscribe_frames(self, key: Key) -> Sequence[str]:
        method, params = self._method_params(key)
        params.pop("limit", None)
        rid = self.next_id()
        self._unsubscribes.add(rid)
        return [_dumps({"method": "unsubscribe" + method, "params": params, "id": rid})]

    def _method_params(self, key: Key) -> tuple[str, dict[str, Any]]:
        channel, symbol = key
        if channel in _PRIVATE_METHODS:
            return _PRIVATE_METHODS[channel], {}
        if not symbol:
            raise InvalidArgument("key", key, "public HitBTC channels need a symbol")
        name = _PUBLIC_METHODS.get(channel)
        if name == "Trades":
            return name, {"symbol": symbol, "limit": self.trades_limit}
        if name is not None:
            return name, {"symbol": symbol}
        if channel.startswith("candles-"):
            period = channel[8:]
            candle_interval(period)
            return "Candles", {"symbol": symbol, "period": period, "limit": self.candles_limit}
        raise InvalidArgument(
            "key",
            key,
            "channel must be orderbook, trades, ticker, candles-<period>, reports, balance or transactions",
        )

    def login_frame(self) -> str | None:
        """The login request for this codec's credentials (fresh nonce), or None without them."""
        creds = self._credentials
        if creds is None:
            return None
        rid = self.next_id()
        self._logins.add(rid)
        if creds.algo == "BASIC":
            params = {"algo": "BASIC", "pKey": creds.key, "sKey": creds.secret()}
        else:
            nonce = os.urandom(12).hex()
            params = {"algo": "HS256", "pKey": creds.key, "nonce": nonce, "signature": creds.sign(nonce)}
        return _dumps({"method": "login", "params": params, "id": rid})

    # -- frames in --------------------------------------------------------------------------

    def decode(self, frame: str | bytes, recv_time: float) -> Sequence[Message]:
        try:
            msg = orjson.loads(frame)
        except DECODE_ERRORS:
            raise FrameError("invalid JSON", frame, self.venue) from None
        if not isinstance(msg, dict):
            raise UnknownMessage("not a JSON-RPC object", frame, self.venue)
        method = msg.get("method")
        if method is not None:
            handler = self._handlers.get(method) if isinstance(method, str) else None
            if handler is None:
                raise UnknownMessage(f"unknown method {method!r}", frame, self.venue)
            try:
                return handler(msg["params"], recv_time)
            except DECODE_ERRORS as exc:
                raise FrameError(f"bad {method} ({type(exc).__name__}: {exc})", frame, self.venue) from None
        if "id" in msg and ("result" in msg or "error" in msg):
            try:
                return self._reply(msg, frame)
            except FrameError:
                raise
            except DECODE_ERRORS as exc:
                raise FrameError(f"bad reply ({type(exc).__name__}: {exc})", frame, self.venue) from None
        raise UnknownMessage("neither a notification nor a reply", frame, self.venue)

    def _snapshot_orderbook(self, p: Any, recv_time: float) -> list[Message]:
        symbol = check_symbol(p["symbol"])
        stamp = p.get("timestamp")
        event = BookSnapshot(
            self.venue,
            symbol,
            iso_time(stamp) if stamp else recv_time,
            recv_time,
            bids=_levels(p["bid"], True),
            asks=_levels(p["ask"], True),
            sequence=int(p["sequence"]),
        )
        return [Data(("orderbook", symbol), (event,))]

    def _update_orderbook(self, p: Any, recv_time: float) -> list[Message]:
        symbol = p["symbol"]
        if type(symbol) is not str:  # inline (hot path); a list would break routing and books
            raise BadValue(f"symbol is a {type(symbol).__name__}, not a string")
        stamp = p.get("timestamp")
        sequence = int(p["sequence"])
        event = BookDelta(
            self.venue,
            symbol,
            iso_time(stamp) if stamp else recv_time,
            recv_time,
            bids=_levels(p["bid"], False),
            asks=_levels(p["ask"], False),
            sequence=sequence,
            first_sequence=sequence,
        )
        return [Data(("orderbook", symbol), (event,))]

    def _trades(self, p: Any, recv_time: float) -> list[Message]:
        symbol = check_symbol(p["symbol"])
        venue = self.venue
        trades = [
            Trade(
                venue,
                symbol,
                iso_time(t["timestamp"]),
                recv_time,
                price=price(t["price"]),
                size=size(t["quantity"]),
                side=side_of(t.get("side")),
                trade_id=t.get("id"),
            )
            for t in p["data"]
        ]
        _oldest_first(trades)
        return [Data(("trades", symbol), trades)] if trades else []

    def _candles(self, p: Any, recv_time: float) -> list[Message]:
        symbol = check_symbol(p["symbol"])
        period = p["period"]
        interval = candle_interval(period)
        venue = self.venue
        name = interval.name
        candles: list[Kline] = []
        for c in p["data"]:
            start, end = interval.bucket(iso_time(c["timestamp"]))
            candles.append(
                Kline(
                    venue,
                    symbol,
                    start,
                    recv_time,
                    interval=name,
                    open_time=start,
                    close_time=end,
                    open=size(c["open"]),
                    high=size(c["max"]),
                    low=size(c["min"]),
                    close=size(c["close"]),
                    volume=size(c["volume"]),
                    quote_volume=opt_float(c.get("volumeQuote")),
                    closed=end <= recv_time,
                )
            )
        _oldest_first(candles)
        return [Data(("candles-" + period, symbol), candles)] if candles else []

    def _ticker(self, p: Any, recv_time: float) -> list[Message]:
        symbol = check_symbol(p["symbol"])
        stamp = p.get("timestamp")
        event = Ticker(
            self.venue,
            symbol,
            iso_time(stamp) if stamp else recv_time,
            recv_time,
            bid=opt_float(p.get("bid")),
            ask=opt_float(p.get("ask")),
            last=opt_float(p.get("last")),
            open=opt_float(p.get("open")),
            high=opt_float(p.get("high")),
            low=opt_float(p.get("low")),
            volume=opt_float(p.get("volume")),
            quote_volume=opt_float(p.get("volumeQuote")),
        )
        return [Data(("ticker", symbol), (event,))]

    def _active_orders(self, p: Any, recv_time: float) -> list[Message]:
        if not isinstance(p, list):
            raise TypeError("activeOrders params must be a list")
        return [Data(("reports", ""), [order_update(r, recv_time, self.venue) for r in p])]

    def _report(self, p: Any, recv_time: float) -> list[Message]:
        return [Data(("reports", ""), (order_update(p, recv_time, self.venue),))]

    def _transaction(self, p: Any, recv_time: float) -> list[Message]:
        stamp = p.get("updatedAt") or p.get("createdAt")
        when = iso_time(stamp) if stamp else recv_time
        event = VenueEvent(self.venue, "", when, recv_time, kind="transaction", data=p)
        return [Data(("transactions", ""), (event,))]


def _oldest_first(events: list[Any]) -> None:
    """Sort in place by time (stable) unless already ordered; HitBTC snapshots vary in order."""
    if len(events) > 1 and events[0].time > events[-1].time:
        events.reverse()  # newest-first lists: keep same-time items in true order
    for i in range(1, len(events)):
        if events[i - 1].time > events[i].time:
            events.sort(key=_time_of)
            return


def _time_of(event: Event) -> float:
    return event.time
