"""``Kraken``: the Kraken WebSocket API v1 as Observables.

Public channels (``book``, ``trades``, ``ticker``, ``ohlc``, ``spread``) take one pair or many
and return one Observable merging every pair's stream; each pair is its own ref-counted
subscription ``(channelName, pair)`` on the shared socket: the first observer sends
``subscribe``, the last one to leave sends ``unsubscribe``.  A refused pair (unknown pair, bad
depth) ends the Observable it belongs to with :class:`~rxfeeds.errors.SubscriptionError`
carrying Kraken's message; other Observables keep flowing.  Subscribe per pair when one bad pair
must not end the others.

Private channels and order entry run on the authenticated endpoint (``auth_url``) and need a
websocket token: a string, or a zero-argument callable such as
:class:`~rxfeeds.venues.kraken.auth.KrakenToken`, asked again at every (re)subscription.

Named connections (kraky's ``connection_name``): every method takes ``connection=``; each name
is its own socket (public methods default to ``"public"``, private ones to ``"private"``).
The first use of a name decides its URL.

Reconnects: the socket re-sends every active subscription; each stream first gets a
:class:`~rxfeeds.events.StreamReset`, then a fresh snapshot (books), so ``ops.order_book``
replaces the old book.  ``book()`` returns a :class:`~rxfeeds.feed.Feed` whose ``resync(pair)``
unsubscribes and resubscribes that pair only (on a checksum mismatch).

Private ``sequence`` numbers are checked by the codec: a gap appends an
:class:`~rxfeeds.events.IntegrityEvent` (``kind="gap"``) after the message that revealed it,
then the client resubscribes the channel (``StreamReset`` + a fresh snapshot of trades / open
orders).

The argument checks are in :mod:`~rxfeeds.venues.kraken.checks`, the stream helpers (merging,
resubscribing after a gap) in :mod:`~rxfeeds.venues.kraken.streams`; their names are importable from
here too.

Example::

    from rxfeeds import Kraken, ops
    kraken = Kraken()
    kraken.book("XBT/USD", depth=10).pipe(ops.order_book()).subscribe(print)
    kraken.trades(["XBT/USD", "ETH/USD"]).subscribe(lambda t: print(t.symbol, t.price))
    txid = kraken.add_order(token, "XBT/USD", "buy", "limit", "0.01", price="20000").run()["txid"]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Final

import orjson
import reactivex
from reactivex import Observable

from ...aio import awaitable
from ...errors import InvalidArgument
from ...events import Event
from ...feed import Feed
from ...intervals import IntervalLike
from ...transport import Transport
from ...transport.redact import redact_url
from ..base import VenueClient, check_seconds, check_url, feed
from ..symbols import check_symbol, check_symbols, common_symbols

# The argument checks and the stream helpers live in their own modules; they are re-exported here,
# where client_v2 and the tests import them from.
from .checks import ORDER_TYPES as _ORDER_TYPES
from .checks import (
    Token,
    check_connection,
    check_depth,
    check_interval,
    check_timeout,
    check_token,
    decimal_text,
    resolve_token,
)
from .checks import oflags_text as _oflags
from .codec import KrakenCodec
from .frames import book_channel, ohlc_channel, request_frame
from .streams import merge_streams, resubscribe_on_gap

__all__ = [
    "Kraken",
    "KrakenEndpoints",
    "Token",
    "URLS",
    "check_connection",
    "check_depth",
    "check_interval",
    "check_timeout",
    "check_token",
    "decimal_text",
    "merge_streams",
    "resolve_token",
    "resubscribe_on_gap",
]

#: env -> (public url, private url)
URLS: Final = {
    "production": ("wss://ws.kraken.com", "wss://ws-auth.kraken.com"),
    "beta": ("wss://beta-ws.kraken.com", "wss://beta-ws-auth.kraken.com"),
}


class KrakenEndpoints(VenueClient):
    """Endpoint selection shared by the v1 and v2 clients: ``url``/``auth_url`` or an ``env``.

    Nothing connects before a stream is subscribed.

    Example:
        >>> kraken = Kraken(env="beta")
        >>> kraken.url, kraken.auth_url
        ('wss://beta-ws.kraken.com', 'wss://beta-ws-auth.kraken.com')
        >>> kraken.close()
    """

    urls: ClassVar[dict[str, tuple[str, str]]] = {}

    def __init__(
        self,
        url: str | None = None,
        *,
        auth_url: str | None = None,
        env: str = "production",
        request_timeout: float = 10.0,
        **options: Any,
    ) -> None:
        if not isinstance(env, str) or env not in self.urls:
            raise InvalidArgument("env", env, f"must be one of {', '.join(self.urls)}")
        check_seconds("request_timeout", request_timeout)
        for name, value in (("url", url), ("auth_url", auth_url)):
            if value is not None:
                check_url(name, value)
        super().__init__(**options)
        self.env = env
        self.url = url or self.urls[env][0]
        self.auth_url = auth_url or self.urls[env][1]
        self.request_timeout = float(request_timeout)

    def __repr__(self) -> str:
        names = sorted(self.connections)
        url, auth_url = redact_url(self.url), redact_url(self.auth_url)
        return f"{type(self).__name__}(url={url!r}, auth_url={auth_url!r}, connections={names})"


class Kraken(KrakenEndpoints):
    """Kraken WebSocket API v1 client (see the module docstring).

    Args:
        url: public endpoint (default ``wss://ws.kraken.com``, or the beta one with ``env="beta"``).
        auth_url: private endpoint (default ``wss://ws-auth.kraken.com``).
        env: ``"production"`` or ``"beta"`` (``beta-ws[-auth].kraken.com``).
        request_timeout: seconds to wait for an order-entry reply.
        **options: :class:`~rxfeeds.venues.base.VenueClient` options (``backoff``,
            ``transport_factory``, socket options such as ``ping_interval``, ``stale_timeout``).

    Example::

        with Kraken(url=sim.url, auth_url=sim.url) as kraken:
            kraken.spread("XBT/USD").subscribe(print)
    """

    venue: ClassVar[str] = "kraken"
    urls: ClassVar[dict[str, tuple[str, str]]] = URLS

    # -- connections -----------------------------------------------------------------------

    def _codec(self) -> KrakenCodec:
        return KrakenCodec()

    def _public(self, connection: str) -> Transport:
        return self._transport(check_connection(connection), self.url, self._codec)

    def _private(self, connection: str) -> Transport:
        # Every private channel and order carries the token: never over plain ws:// to a remote host.
        self._require_secure("auth_url", self.auth_url)
        return self._transport(check_connection(connection), self.auth_url, self._codec)

    def _channels(self, channel: str, pairs: list[str], connection: str) -> tuple[Transport, Observable[Any]]:
        transport = self._public(connection)
        return transport, merge_streams([transport.multiplex((channel, pair)) for pair in pairs])

    # -- public channels -------------------------------------------------------------------

    @common_symbols
    def book(self, pairs: str | Sequence[str], depth: int = 10, *, connection: str = "public") -> Feed[Event]:
        """Order book: per pair a ``BookSnapshot`` then ``BookDelta`` s with the CRC32 ``checksum``.

        Levels keep Kraken's wire strings, so ``ops.order_book`` verifies every checksum and
        calls ``feed.resync(pair)`` on a mismatch.

        Example::

            kraken.book(["XBT/USD", "ETH/USD"], depth=25).pipe(ops.order_book()).subscribe(print)
        """
        items = check_symbols(self.venue, pairs, "pairs")
        channel = book_channel(check_depth(depth))
        transport, source = self._channels(channel, items, connection)

        def resync(pair: str) -> None:
            transport.resubscribe((channel, pair))

        return feed(source, resync)

    @common_symbols
    def trades(self, pairs: str | Sequence[str], *, connection: str = "public") -> Observable[Event]:
        """Public trades, one :class:`~rxfeeds.events.Trade` each (side ``buy``/``sell``).

        Example::

            kraken.trades("XBT/USD").subscribe(lambda t: print(t.price, t.size, t.side))
        """
        return self._channels("trade", check_symbols(self.venue, pairs, "pairs"), connection)[1]

    @common_symbols
    def ticker(self, pairs: str | Sequence[str], *, connection: str = "public") -> Observable[Event]:
        """Ticker (:class:`~rxfeeds.events.Ticker`, 24-hour figures): one on subscribe, then on change.

        Example::

            kraken.ticker("XBT/USD").subscribe(lambda t: print(t.bid, t.ask, t.last))
        """
        return self._channels("ticker", check_symbols(self.venue, pairs, "pairs"), connection)[1]

    @common_symbols
    def spread(self, pairs: str | Sequence[str], *, connection: str = "public") -> Observable[Event]:
        """Best bid/ask (:class:`~rxfeeds.events.Quote`) on every change.

        Example::

            kraken.spread("XBT/USD").subscribe(lambda q: print(q.bid, q.ask))
        """
        return self._channels("spread", check_symbols(self.venue, pairs, "pairs"), connection)[1]

    @common_symbols
    def ohlc(
        self, pairs: str | Sequence[str], interval: int | str = 1, *, connection: str = "public"
    ) -> Observable[Event]:
        """Kraken's running candle (:class:`~rxfeeds.events.Kline`, ``closed=False``) on every change.

        ``interval`` in minutes (1, 5, 15, 30, 60, 240, 1440, 10080, 21600) or spelled
        ``"5m"``, ``"1h"``, ``"1d"``, ``"1w"``, ``"15d"``.  On subscribe Kraken sends the last
        valid candle even if old.

        Example::

            kraken.ohlc("XBT/USD", "5m").subscribe(lambda k: print(k.open_time, k.close))
        """
        channel = ohlc_channel(check_interval(interval))  # ohlc is kraky's name; klines the common one
        return self._channels(channel, check_symbols(self.venue, pairs, "pairs"), connection)[1]

    def klines(
        self, pairs: str | Sequence[str], interval: IntervalLike = "1m", *, connection: str = "public"
    ) -> Observable[Event]:
        """The common name of :meth:`ohlc`: running candles, ``interval`` as in ``rxfeeds.intervals``.

        ``"1m"`` (the default), ``"1h"``, ``timedelta(hours=4)``, or Kraken's minutes (``60``).

        Example::

            kraken.klines("XBT/USD", "5m").subscribe(lambda k: print(k.open_time, k.close))
        """
        return self.ohlc(pairs, check_interval(interval), connection=connection)

    def ping(self, *, connection: str = "public", timeout: float | None = None) -> Observable[Any]:
        """Application ping; emits the ``pong`` message (a dict) then completes.

        Example::

            kraken.ping().run()
        """
        transport = self._public(connection)
        return self._request(transport, "ping", None, {}, timeout)

    # -- private channels ------------------------------------------------------------------

    def _private_channel(self, name: str, token: Token, options: dict[str, Any], connection: str) -> Observable[Event]:
        token = check_token(token)
        transport = self._private(connection)
        key = (name, "")

        def frames(event: str) -> Callable[[], list[str]]:
            def build() -> list[str]:
                subscription = {"name": name, "token": resolve_token(token), **options}
                if event == "unsubscribe":
                    subscription = {"name": name, "token": subscription["token"]}
                return [orjson.dumps({"event": event, "subscription": subscription}).decode()]

            return build

        stream = transport.multiplex(key, subscribe=frames("subscribe"), unsubscribe=frames("unsubscribe"))
        return stream.pipe(resubscribe_on_gap(transport, key))

    def own_trades(self, token: Token, *, snapshot: bool = True, connection: str = "private") -> Observable[Event]:
        """Your fills (:class:`~rxfeeds.venues.kraken.codec.OwnTrade`): the latest 50, then each new one.

        Example::

            kraken.own_trades(token).subscribe(lambda f: print(f.trade_id, f.price, f.size))
        """
        if not isinstance(snapshot, bool):
            raise InvalidArgument("snapshot", snapshot, "must be True or False")
        return self._private_channel("ownTrades", token, {} if snapshot else {"snapshot": False}, connection)

    def open_orders(self, token: Token, *, ratecounter: bool = False, connection: str = "private") -> Observable[Event]:
        """Your open orders (:class:`~rxfeeds.events.OrderUpdate`): full records, then changed fields.

        Example::

            kraken.open_orders(token).subscribe(lambda o: print(o.order_id, o.status))
        """
        if not isinstance(ratecounter, bool):
            raise InvalidArgument("ratecounter", ratecounter, "must be True or False")
        return self._private_channel("openOrders", token, {"ratecounter": True} if ratecounter else {}, connection)

    # -- order entry -----------------------------------------------------------------------

    def _request(
        self,
        transport: Transport,
        event: str,
        token: Token | None,
        fields: dict[str, Any],
        timeout: float | None,
    ) -> Observable[Any]:
        """Cold single-value request: every subscription sends one frame with a fresh ``reqid``."""
        wait = self.request_timeout if timeout is None else timeout
        if isinstance(wait, bool) or not isinstance(wait, (int, float)) or wait <= 0:
            raise InvalidArgument("timeout", timeout, "must be a positive number of seconds")

        def build(_: Any = None) -> Observable[Any]:
            reqid = transport.codec.next_reqid()  # type: ignore[attr-defined]
            secret = resolve_token(token) if token is not None else None
            return transport.request(request_frame(event, reqid, secret, fields), reqid, wait)

        return awaitable(reactivex.defer(build))

    def add_order(
        self,
        token: Token,
        pair: str,
        type: str,
        ordertype: str,
        volume: str | float | int,
        *,
        price: str | float | int | None = None,
        price2: str | float | int | None = None,
        leverage: str | int | None = None,
        oflags: str | Sequence[str] | None = None,
        starttm: str | int | None = None,
        expiretm: str | int | None = None,
        deadline: str | None = None,
        userref: int | None = None,
        timeinforce: str | None = None,
        validate: bool = False,
        close_ordertype: str | None = None,
        close_price: str | float | int | None = None,
        close_price2: str | float | int | None = None,
        connection: str = "private",
        timeout: float | None = None,
    ) -> Observable[dict[str, Any]]:
        """Place an order; emits Kraken's ``addOrderStatus`` (``txid``, ``descr``) or errors with its message.

        Example::

            ack = kraken.add_order(token, "XBT/USD", "buy", "limit", "0.01", price="20000").run()
            ack["txid"]
        """
        check_symbol(self.venue, pair, "pair")
        if type not in ("buy", "sell"):
            raise InvalidArgument("type", type, "must be 'buy' or 'sell'")
        if ordertype not in _ORDER_TYPES:
            raise InvalidArgument("ordertype", ordertype, f"must be one of {', '.join(_ORDER_TYPES)}")
        if ordertype != "market" and price is None and ordertype != "settle-position":
            raise InvalidArgument("price", price, f"is required for {ordertype} orders")
        if timeinforce not in (None, "GTC", "IOC", "GTD"):
            raise InvalidArgument("timeinforce", timeinforce, "must be GTC, IOC or GTD")
        if userref is not None and (isinstance(userref, bool) or not isinstance(userref, int)):
            raise InvalidArgument("userref", userref, "must be an integer")
        fields: dict[str, Any] = {
            "pair": pair,
            "type": type,
            "ordertype": ordertype,
            "volume": decimal_text("volume", volume),
            "price": decimal_text("price", price) if price is not None else None,
            "price2": decimal_text("price2", price2) if price2 is not None else None,
            "leverage": str(leverage) if leverage is not None else None,
            "oflags": _oflags(oflags),
            "starttm": str(starttm) if starttm is not None else None,
            "expiretm": str(expiretm) if expiretm is not None else None,
            "deadline": deadline,
            "userref": userref,
            "timeinforce": timeinforce,
            "validate": "true" if validate else "false",
            "close[ordertype]": close_ordertype,
            "close[price]": decimal_text("close_price", close_price) if close_price is not None else None,
            "close[price2]": decimal_text("close_price2", close_price2) if close_price2 is not None else None,
        }
        return self._request(self._private(connection), "addOrder", check_token(token), fields, timeout)

    def edit_order(
        self,
        token: Token,
        orderid: str,
        pair: str,
        *,
        volume: str | float | int | None = None,
        price: str | float | int | None = None,
        price2: str | float | int | None = None,
        oflags: str | Sequence[str] | None = None,
        newuserref: int | None = None,
        validate: bool = False,
        connection: str = "private",
        timeout: float | None = None,
    ) -> Observable[dict[str, Any]]:
        """Edit an open order; emits ``editOrderStatus`` (new ``txid``, ``originaltxid``).

        Example::

            kraken.edit_order(token, txid, "XBT/USD", price="20100").run()["txid"]
        """
        if not isinstance(orderid, str) or not orderid:
            raise InvalidArgument("orderid", orderid, "must be an order id")
        check_symbol(self.venue, pair, "pair")
        if volume is None and price is None and price2 is None and oflags is None and newuserref is None:
            raise InvalidArgument("volume", volume, "give at least one field to change")
        fields: dict[str, Any] = {
            "orderid": orderid,
            "pair": pair,
            "volume": decimal_text("volume", volume) if volume is not None else None,
            "price": decimal_text("price", price) if price is not None else None,
            "price2": decimal_text("price2", price2) if price2 is not None else None,
            "oflags": _oflags(oflags),
            "newuserref": str(newuserref) if newuserref is not None else None,
            "validate": "true" if validate else "false",
        }
        return self._request(self._private(connection), "editOrder", check_token(token), fields, timeout)

    def cancel_order(
        self, token: Token, txid: str | Sequence[str], *, connection: str = "private", timeout: float | None = None
    ) -> Observable[dict[str, Any]]:
        """Cancel one or more orders (by txid or userref); emits ``cancelOrderStatus``.

        Example::

            kraken.cancel_order(token, [txid1, txid2]).run()
        """
        ids = [txid] if isinstance(txid, str) else list(txid) if isinstance(txid, (list, tuple)) else []
        if not ids or not all(isinstance(i, str) and i for i in ids):
            raise InvalidArgument("txid", txid, "give an order id or a non-empty list of them")
        return self._request(self._private(connection), "cancelOrder", check_token(token), {"txid": ids}, timeout)

    def cancel_all(
        self, token: Token, *, connection: str = "private", timeout: float | None = None
    ) -> Observable[dict[str, Any]]:
        """Cancel every open order; emits ``cancelAllStatus`` with ``count``.

        Example::

            kraken.cancel_all(token).run()["count"]
        """
        return self._request(self._private(connection), "cancelAll", check_token(token), {}, timeout)

    def cancel_all_orders_after(
        self, token: Token, timeout: int, *, connection: str = "private", request_timeout: float | None = None
    ) -> Observable[dict[str, Any]]:
        """Dead man's switch: cancel everything ``timeout`` s from now unless refreshed (0 disables).

        Emits ``cancelAllOrdersAfterStatus`` (``currentTime``, ``triggerTime``).

        Example::

            kraken.cancel_all_orders_after(token, 60).run()["triggerTime"]
        """
        fields = {"timeout": check_timeout(timeout)}
        return self._request(
            self._private(connection), "cancelAllOrdersAfter", check_token(token), fields, request_timeout
        )
