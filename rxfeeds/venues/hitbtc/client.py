"""``HitBTC``: the HitBTC socket API v2 as Observables.

Two named connections: ``"public"`` (market data and market-data requests, ``url``) and
``"trading"`` (login, reports, order entry, ``trading_url``).  The original v2 had one endpoint
for everything, ``wss://api.hitbtc.com/api/2/ws`` (:data:`SINGLE_URL`); pass it as both ``url``
and ``trading_url`` and, with credentials, everything shares one logged-in socket (the demo
venue: ``wss://api.demo.hitbtc.com/api/2/ws``).  HitBTC retired
v2 in 2023; it lives on in the simulator (``rxfeeds sim hitbtc``), in recorded captures and in
Bequant-style deployments.  Use :class:`~rxfeeds.venues.hitbtc.client_v3.HitBTCV3` for the live
venue.

Example::

    from rxfeeds import HitBTC, ops
    hitbtc = HitBTC()
    hitbtc.orderbook("ETHBTC").pipe(ops.order_book(depth=10)).subscribe(print)
    hitbtc.candles("ETHBTC", "M1").subscribe(print)

Blocking use (what the old client's ``recv()`` loop did)
--------------------------------------------------------
Every method returns a ``reactivex`` Observable whose callbacks run on the socket's thread.
To *pull* values instead:

* one reply: ``hitbtc.symbol("ETHBTC").run()`` blocks until it arrives and returns it (raises
  the venue's typed error, or :class:`~rxfeeds.errors.RequestTimeout`);
* the first N values of a stream: ``hitbtc.trades("ETHBTC").pipe(ops.take(100),
  ops.to_list()).run()`` (``reactivex.operators``);
* the old ``recv(timeout)`` loop: ``q = queue.Queue(); sub = hitbtc.trades("ETHBTC").subscribe(q.put)``
  then ``q.get(timeout=5)`` as often as you like, and ``sub.dispose()`` to unsubscribe;
* asyncio: bridge with the loop, ``obs.subscribe(lambda x: loop.call_soon_threadsafe(aq.put_nowait,
  x))`` into an ``asyncio.Queue`` ``aq``, or for one reply ``await
  asyncio.wrap_future(fut)`` with a ``concurrent.futures.Future`` ``fut`` filled by
  ``obs.subscribe(fut.set_result, fut.set_exception)``.

Credentials are only used to log in (``HS256`` by default: the secret never leaves the process)
and never appear in reprs, logs or exceptions.  Private methods called without credentials
raise :class:`~rxfeeds.errors.AuthError` at once; a refused login surfaces as
``AuthorizationFailed`` (1002) on the private Observables of that connection only.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, cast

import reactivex
from reactivex import Observable
from reactivex import operators as ops

from ...aio import awaitable
from ...codec import Key
from ...errors import AuthError, InvalidArgument
from ...events import BookDelta, BookSnapshot, Event, Kline, OrderUpdate, Ticker, Trade, VenueEvent
from ...feed import Feed
from ...intervals import IntervalLike, parse_interval
from ...transport import Transport
from ...transport.redact import redact_url
from ..base import VenueClient, check_seconds, check_url, feed
from ..orders import order_text
from ..symbols import check_symbol, common_symbols, one_or_many
from ._common import CANDLE_PERIODS, Credentials, candle_interval, iso_time, side_of
from .codec import HitBTCCodec, order_update

__all__ = ["HitBTC", "PUBLIC_URL", "TRADING_URL", "ACCOUNT_URL", "SINGLE_URL"]

PUBLIC_URL = "wss://api.hitbtc.com/api/2/ws/public"
TRADING_URL = "wss://api.hitbtc.com/api/2/ws/trading"
ACCOUNT_URL = "wss://api.hitbtc.com/api/2/ws/account"
#: the original single v2 endpoint (market data and trading on one socket)
SINGLE_URL = "wss://api.hitbtc.com/api/2/ws"

#: currency codes (``getCurrency``); symbols are checked against the venue spec's notation
_CURRENCY = re.compile(r"[A-Za-z0-9_.\-]{1,40}\Z")
_SIDES = ("buy", "sell")


def _check_currency(currency: Any) -> str:
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise InvalidArgument("currency", currency, "must be a HitBTC currency code such as 'ETH'")
    return currency


class HitBTC(VenueClient):
    """HitBTC socket API v2 client (see the module docstring).

    Args:
        url: market-data endpoint.
        trading_url: trading endpoint (login, reports, orders).
        account_url: account endpoint (balance and transaction streams).
        key / secret: API credentials for the trading endpoint (or ``credentials=``).
        algo: ``"HS256"`` (default) or ``"BASIC"`` login.
        request_timeout: seconds to wait for a request's reply.
        trades_limit / candles_limit: snapshot sizes asked for on subscribe.
        **options: :class:`~rxfeeds.venues.base.VenueClient` options (``backoff``,
            ``transport_factory``, socket options like ``ping_interval``).

    Example::

        with HitBTC(key="...", secret="...") as hitbtc:
            hitbtc.reports().subscribe(print)
            hitbtc.new_order("ETHBTC", "buy", "0.01", "0.05").run()
    """

    venue: ClassVar[str] = "hitbtc"
    default_url: ClassVar[str] = PUBLIC_URL
    default_trading_url: ClassVar[str] = TRADING_URL
    default_account_url: ClassVar[str | None] = ACCOUNT_URL
    #: trading method names of this API version
    trading_methods: ClassVar[Mapping[str, str]] = {
        "new_order": "newOrder",
        "cancel_order": "cancelOrder",
        "replace_order": "cancelReplaceOrder",
        "active_orders": "getOrders",
        "trading_balance": "getTradingBalance",
    }

    def __init__(
        self,
        url: str | None = None,
        *,
        trading_url: str | None = None,
        account_url: str | None = None,
        key: str | None = None,
        secret: str | None = None,
        algo: str = "HS256",
        credentials: Credentials | None = None,
        request_timeout: float = 10.0,
        trades_limit: int = 100,
        candles_limit: int = 100,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if (key is None) != (secret is None):
            raise InvalidArgument("key", "<hidden>", "give both key and secret, or neither")
        if key is not None and not (isinstance(key, str) and isinstance(secret, str) and key and secret):
            raise InvalidArgument("key", "<hidden>", "key and secret must be non-empty strings")
        if credentials is not None and key is not None:
            raise InvalidArgument("credentials", credentials, "give credentials= or key=/secret=, not both")
        if credentials is not None and not isinstance(credentials, Credentials):
            raise InvalidArgument("credentials", "<hidden>", "must be a Credentials")
        check_seconds("request_timeout", request_timeout)
        for name, value in (("trades_limit", trades_limit), ("candles_limit", candles_limit)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 1000:
                raise InvalidArgument(name, value, "must be an integer between 1 and 1000")
        for arg, endpoint in (("url", url), ("trading_url", trading_url), ("account_url", account_url)):
            if endpoint is not None:
                if not isinstance(endpoint, str):
                    raise InvalidArgument(arg, endpoint, "must be a ws:// or wss:// URL string")
                check_url(arg, endpoint)
        self.url = url or self.default_url
        self.trading_url = trading_url or self.default_trading_url
        self.account_url = account_url or self.default_account_url or self.trading_url
        self._credentials = credentials or (
            Credentials(key, secret, algo) if key is not None and secret is not None else None
        )
        self.request_timeout = request_timeout
        self.trades_limit = trades_limit
        self.candles_limit = candles_limit
        if self._credentials is not None:
            # The login goes to the trading (and account) endpoint: refuse plain ws:// there.
            self._require_secure("trading_url", self.trading_url)
            self._require_secure("account_url", self.account_url)

    def __repr__(self) -> str:
        login = self._credentials.algo if self._credentials else "none"
        url, trading_url = redact_url(self.url), redact_url(self.trading_url)
        return f"{type(self).__name__}(url={url!r}, trading_url={trading_url!r}, login={login})"

    # -- connections -----------------------------------------------------------------------

    def _make_codec(self, credentials: Credentials | None) -> Any:
        return HitBTCCodec(credentials, trades_limit=self.trades_limit, candles_limit=self.candles_limit)

    def _public(self) -> Transport:
        if self._credentials is not None and self.url == self.trading_url:
            return self._trading()  # the original single endpoint: one logged-in socket for all
        return self._transport("public", self.url, lambda: self._make_codec(None))

    def _trading(self) -> Transport:
        credentials = self._trading_credentials()
        return self._transport("trading", self.trading_url, lambda: self._make_codec(credentials))

    def _account(self) -> Transport:
        if self.account_url == self.trading_url:
            return self._trading()
        credentials = self._trading_credentials()
        return self._transport("account", self.account_url, lambda: self._make_codec(credentials))

    def _trading_credentials(self) -> Credentials:
        if self._credentials is None:
            raise AuthError(self.venue, "this method needs API credentials: pass key= and secret=")
        return self._credentials

    def _request(self, transport: Callable[[], Transport], method: str, params: Mapping[str, Any]) -> Observable[Any]:
        """A cold single-value Observable; every subscription sends a fresh request id."""
        transport()  # fail now (missing credentials), not on subscribe
        timeout = self.request_timeout

        def build(_: Any = None) -> Observable[Any]:
            t = transport()
            rid, frame = t.codec.request(method, dict(params))  # type: ignore[attr-defined]
            return t.request(frame, rid, timeout)

        return awaitable(reactivex.defer(build))

    # -- public channels -------------------------------------------------------------------

    def _channel(self, key: Key) -> Observable[Any]:
        return self._public().multiplex(key)

    @common_symbols
    @one_or_many
    def orderbook(self, symbol: str | Sequence[str]) -> Feed[BookSnapshot | BookDelta | Event]:
        """Full order book: a ``BookSnapshot`` then ``BookDelta`` s, each with ``sequence``.

        The returned :class:`~rxfeeds.feed.Feed` can ``resync(symbol)`` (unsubscribe + subscribe
        on the same socket), which ``ops.order_book`` does on a sequence gap.  ``StreamReset``
        markers arrive after reconnects.

        Example::

            hitbtc.orderbook("ETHBTC").pipe(ops.order_book(depth=5)).subscribe(print)
        """
        symbol = check_symbol(self.venue, symbol)
        key = ("orderbook", symbol)
        public = self._public()

        def resync(sym: str) -> None:
            public.resubscribe(("orderbook", sym))

        return feed(public.multiplex(key), resync)

    @common_symbols
    @one_or_many
    def book(self, symbol: str | Sequence[str], depth: int | None = None) -> Feed[BookSnapshot | BookDelta | Event]:
        """The common book method of every client: :meth:`orderbook` (HitBTC sends the full book;
        ``depth`` is only checked, trim with ``ops.order_book(depth=...)``).

        Example::

            hitbtc.book("ETHBTC", depth=10).pipe(ops.order_book(depth=10)).subscribe(print)
        """
        if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth <= 0):
            raise InvalidArgument("depth", depth, "must be a positive int or None (HitBTC sends the full book)")
        return self.orderbook(symbol)

    @common_symbols
    @one_or_many
    def trades(self, symbol: str | Sequence[str]) -> Observable[Trade | Event]:
        """Public trades: the venue's recent trades (oldest first), then each new one.

        Example::

            hitbtc.trades("ETHBTC").subscribe(lambda t: print(t.price, t.size, t.side))
        """
        return self._channel(("trades", check_symbol(self.venue, symbol)))

    @common_symbols
    @one_or_many
    def candles(self, symbol: str | Sequence[str], period: str = "M30") -> Observable[Kline | Event]:
        """Venue candles of ``period`` (``M1 M3 M5 M15 M30 H1 H4 D1 D7 1M``), oldest first.

        Updates repeat the current candle (``closed=False``) as it changes.

        Example::

            hitbtc.candles("ETHBTC", "M1").subscribe(print)
        """
        if not isinstance(period, str):
            raise InvalidArgument("period", period, "must be one of M1 M3 M5 M15 M30 H1 H4 D1 D7 1M")
        candle_interval(period)
        return self._channel(("candles-" + period, check_symbol(self.venue, symbol)))

    def klines(self, symbol: str | Sequence[str], interval: IntervalLike = "1m") -> Observable[Kline | Event]:
        """The common name of :meth:`candles`: ``interval`` ``"1m"`` (default), ``"4h"``, a ``timedelta``...

        Any spelling of ``rxfeeds.intervals`` naming one of HitBTC's periods (1m 3m 5m 15m 30m 1h 4h
        1d 1w 1M) is accepted.

        Example::

            hitbtc.klines("ETHBTC", "5m").subscribe(print)
        """
        name = parse_interval(interval, "interval").name
        period = next((p for p in CANDLE_PERIODS if candle_interval(p).name == name), None)
        if period is None:
            raise InvalidArgument("interval", interval, f"HitBTC candles are {', '.join(CANDLE_PERIODS)}")
        return self.candles(symbol, period)

    @common_symbols
    @one_or_many
    def ticker(self, symbol: str | Sequence[str]) -> Observable[Ticker | Event]:
        """Ticker updates (on change, and about every 15 s on quiet symbols).

        Example::

            hitbtc.ticker("ETHBTC").subscribe(lambda t: print(t.bid, t.ask))
        """
        return self._channel(("ticker", check_symbol(self.venue, symbol)))

    # -- market-data requests --------------------------------------------------------------

    def symbols(self) -> Observable[list[dict[str, Any]]]:
        """Every symbol's description (``getSymbols``).

        Example::

            ids = [s["id"] for s in hitbtc.symbols().run()]
        """
        return self._request(self._public, "getSymbols", {})

    def symbol(self, symbol: str) -> Observable[dict[str, Any]]:
        """One symbol's description (``getSymbol``); unknown -> ``SymbolNotFound`` (2001).

        Example::

            hitbtc.symbol("ETHBTC").run()["tickSize"]
        """
        return self._request(self._public, "getSymbol", {"symbol": check_symbol(self.venue, symbol)})

    def currencies(self) -> Observable[list[dict[str, Any]]]:
        """Every currency (``getCurrencies``).

        Example::

            hitbtc.currencies().run()
        """
        return self._request(self._public, "getCurrencies", {})

    def currency(self, currency: str) -> Observable[dict[str, Any]]:
        """One currency (``getCurrency``); unknown -> ``CurrencyNotFound`` (2002).

        Example::

            hitbtc.currency("ETH").run()["fullName"]
        """
        return self._request(self._public, "getCurrency", {"currency": _check_currency(currency)})

    def trades_history(
        self,
        symbol: str,
        *,
        sort: str = "DESC",
        by: str = "timestamp",
        since: str | int | None = None,
        till: str | int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Observable[list[Trade]]:
        """Past trades (``getTrades``) as a list of :class:`~rxfeeds.events.Trade`, in the order asked.

        ``since``/``till`` are ISO times (``by="timestamp"``) or trade ids (``by="id"``).

        Example::

            last = hitbtc.trades_history("ETHBTC", limit=10).run()
        """
        symbol = check_symbol(self.venue, symbol)
        if sort not in ("ASC", "DESC"):
            raise InvalidArgument("sort", sort, "must be 'ASC' or 'DESC'")
        if by not in ("timestamp", "id"):
            raise InvalidArgument("by", by, "must be 'timestamp' or 'id'")
        if not isinstance(limit, int) or not 0 < limit <= 1000:
            raise InvalidArgument("limit", limit, "must be an integer 1..1000")
        if not isinstance(offset, int) or not 0 <= offset <= 100_000:
            raise InvalidArgument("offset", offset, "must be an integer 0..100000")
        params: dict[str, Any] = {"symbol": symbol, "sort": sort, "by": by, "limit": limit, "offset": offset}
        if since is not None:
            params["from"] = since
        if till is not None:
            params["till"] = till
        venue = self.venue

        def to_trades(result: Any) -> list[Trade]:
            return _history_trades(venue, symbol, result)

        return self._request(self._public, "getTrades", params).pipe(ops.map(to_trades))

    # -- private ---------------------------------------------------------------------------

    def reports(self) -> Observable[OrderUpdate | Event]:
        """Your orders: the active orders (snapshot) then a report per change.

        Example::

            hitbtc.reports().subscribe(lambda o: print(o.client_order_id, o.status))
        """
        return self._trading().multiplex(("reports", ""))

    def balance(self) -> Observable[VenueEvent | Event]:
        """Balance updates: ``VenueEvent(kind="balance", data=[{"currency", "available", "reserved"}])``.

        v2: ``subscribeBalance`` on the account endpoint (``account_url``).

        Example::

            hitbtc.balance().subscribe(lambda e: print(e.data))
        """
        return self._account().multiplex(("balance", ""))

    def transactions(self) -> Observable[VenueEvent | Event]:
        """Deposit/withdrawal/transfer updates: ``VenueEvent(kind="transaction", data={...})``.

        v2: ``subscribeTransactions`` on the account endpoint.

        Example::

            hitbtc.transactions().subscribe(lambda e: print(e.data["status"]))
        """
        return self._account().multiplex(("transactions", ""))

    def new_order(
        self,
        symbol: str,
        side: str,
        quantity: str | float | int,
        price: str | float | int | None = None,
        *,
        type: str = "limit",
        time_in_force: str = "GTC",
        client_order_id: str | None = None,
        **extra: Any,
    ) -> Observable[OrderUpdate]:
        """Place an order; emits its report (``reportType="new"``).

        ``client_order_id`` defaults to a fresh random id; reusing an active one fails with
        ``DuplicateClientOrderId`` (20008).  The matching ``reports()`` update arrives before
        this reply.  ``extra`` passes venue fields as they are (``stopPrice``, ``postOnly``...).

        Example::

            hitbtc.new_order("ETHBTC", "sell", "0.5", "0.07").run().order_id
        """
        params = self._order_params(symbol, side, quantity, price, type, time_in_force, client_order_id, extra)
        return self._order_request("new_order", params)

    def _order_params(
        self,
        symbol: str,
        side: str,
        quantity: Any,
        price: Any,
        order_type: str,
        time_in_force: str,
        client_order_id: str | None,
        extra: Mapping[str, Any],
    ) -> dict[str, Any]:
        check_symbol(self.venue, symbol)
        if side not in _SIDES:
            raise InvalidArgument("side", side, "must be 'buy' or 'sell'")
        if order_type not in ("limit", "market", "stopLimit", "stopMarket"):
            raise InvalidArgument("type", order_type, "must be limit, market, stopLimit or stopMarket")
        if time_in_force not in ("GTC", "IOC", "FOK", "Day", "GTD"):
            raise InvalidArgument("time_in_force", time_in_force, "must be GTC, IOC, FOK, Day or GTD")
        if price is None and order_type in ("limit", "stopLimit"):
            raise InvalidArgument("price", price, f"a {order_type} order needs a price")
        if client_order_id is not None and (not isinstance(client_order_id, str) or not client_order_id):
            raise InvalidArgument("client_order_id", client_order_id, "must be a non-empty string")
        params: dict[str, Any] = {
            "clientOrderId": client_order_id or uuid.uuid4().hex,
            "symbol": symbol,
            "side": side,
            "type": order_type,
            "timeInForce": time_in_force,
            "quantity": order_text("quantity", quantity),
        }
        if price is not None:
            params["price"] = order_text("price", price)
        params.update(extra)
        return params

    def _wire(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Trading parameters in this API version's spelling (v2: as built)."""
        return dict(params)

    def _order_update(self, report: Any, recv_time: float) -> OrderUpdate:
        return order_update(report, recv_time, self.venue)

    def _order_request(self, action: str, params: Mapping[str, Any]) -> Observable[OrderUpdate]:
        method = self.trading_methods[action]
        return self._request(self._trading, method, self._wire(params)).pipe(
            ops.map(lambda r: self._order_update(r, time.time()))
        )

    def cancel_order(self, client_order_id: str) -> Observable[OrderUpdate]:
        """Cancel by client order id; emits the final report (``status="canceled"``).

        Unknown id -> ``OrderNotFound`` (20002).

        Example::

            hitbtc.cancel_order("my-order-1").run().status
        """
        if not isinstance(client_order_id, str) or not client_order_id:
            raise InvalidArgument("client_order_id", client_order_id, "must be a non-empty string")
        return self._order_request("cancel_order", {"clientOrderId": client_order_id})

    def replace_order(
        self,
        client_order_id: str,
        new_client_order_id: str,
        quantity: str | float | int,
        price: str | float | int,
    ) -> Observable[OrderUpdate]:
        """Cancel-replace (``cancelReplaceOrder``); emits the new order's report (``reportType="replaced"``).

        Example::

            hitbtc.replace_order("a1", "a2", "0.5", "0.071").run().client_order_id
        """
        for name, value in (("client_order_id", client_order_id), ("new_client_order_id", new_client_order_id)):
            if not isinstance(value, str) or not value:
                raise InvalidArgument(name, value, "must be a non-empty string")
        params = {
            "clientOrderId": client_order_id,
            "requestClientId": new_client_order_id,
            "quantity": order_text("quantity", quantity),
            "price": order_text("price", price),
        }
        return self._order_request("replace_order", params)

    def active_orders(self) -> Observable[list[OrderUpdate]]:
        """Your active orders (``getOrders``).

        Example::

            [o.client_order_id for o in hitbtc.active_orders().run()]
        """

        def to_updates(rows: Any) -> list[OrderUpdate]:
            now = time.time()
            return [self._order_update(r, now) for r in rows]

        return self._request(self._trading, self.trading_methods["active_orders"], {}).pipe(ops.map(to_updates))

    def trading_balance(self) -> Observable[list[dict[str, Any]]]:
        """Trading balances (``getTradingBalance``): ``[{"currency", "available", "reserved"}]``.

        Example::

            hitbtc.trading_balance().run()
        """
        return self._request(self._trading, self.trading_methods["trading_balance"], {})


def _history_trades(venue: str, symbol: str, result: Any) -> list[Trade]:
    rows = result.get("data", []) if isinstance(result, dict) else result
    out = []
    now = time.time()
    for t in cast(list[dict[str, Any]], rows):
        out.append(
            Trade(
                venue,
                symbol,
                iso_time(t["timestamp"]),
                now,
                price=float(t["price"]),
                size=float(t.get("quantity", t.get("qty", 0))),
                side=side_of(t.get("side")),
                trade_id=t.get("id"),
            )
        )
    return out
