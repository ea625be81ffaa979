"""``KrakenV2``: the Kraken WebSocket API v2 as Observables.

Same shape as :class:`~rxfeeds.venues.kraken.client.Kraken` (v1): public channels take one
symbol or many and merge their per-symbol subscriptions; a refused symbol ends its Observable
with :class:`~rxfeeds.errors.SubscriptionError` (Kraken's text); ``book()`` is a
:class:`~rxfeeds.feed.Feed` that can resync one symbol; reconnects resubscribe everything and
each stream gets a :class:`~rxfeeds.events.StreamReset` then a fresh snapshot.

v2 specifics:

* symbols are spelled ``BTC/USD`` (not ``XBT``); book snapshots *and* updates carry the CRC32
  ``checksum``, computed by the codec from the exact JSON number texts;
* v2 has no ``spread`` channel: :meth:`KrakenV2.spread` maps the ``ticker`` stream (which it
  shares) to :class:`~rxfeeds.events.Quote`;
* private data is ``executions`` (order reports and fills, :class:`~rxfeeds.events.OrderUpdate`)
  and ``balances``; their ``sequence`` is checked and a gap resubscribes (after an
  :class:`~rxfeeds.events.IntegrityEvent` ``gap`` in the stream);
* order methods ``add_order``, ``amend_order``, ``edit_order``, ``cancel_order``, ``cancel_all``,
  ``cancel_all_orders_after``, ``batch_add``, ``batch_cancel`` emit the reply's ``result`` or
  fail with :class:`~rxfeeds.errors.RequestError` carrying Kraken's ``error`` text.

Example::

    from rxfeeds import KrakenV2, ops
    kraken = KrakenV2()
    kraken.book("BTC/USD").pipe(ops.order_book()).subscribe(print)
    order_id = kraken.add_order(token, "BTC/USD", "buy", "limit", 0.01, limit_price=20000).run()["order_id"]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Final

import orjson
import reactivex
from reactivex import Observable
from reactivex import operators as ops

from ...aio import awaitable
from ...errors import InvalidArgument
from ...events import Event, Quote, Ticker
from ...feed import Feed
from ...intervals import IntervalLike
from ...transport import Transport
from ..base import feed
from ..orders import order_text
from ..symbols import check_symbol, check_symbols, common_symbols
from .client import (
    KrakenEndpoints,
    Token,
    check_connection,
    check_depth,
    check_interval,
    check_timeout,
    check_token,
    merge_streams,
    resolve_token,
    resubscribe_on_gap,
)
from .codec_v2 import BOOK_DEPTHS_V2, KrakenV2Codec, method_frame

__all__ = ["KrakenV2", "URLS_V2"]

URLS_V2: Final = {
    "production": ("wss://ws.kraken.com/v2", "wss://ws-auth.kraken.com/v2"),
    "beta": ("wss://beta-ws.kraken.com/v2", "wss://beta-ws-auth.kraken.com/v2"),
}
_ORDER_TYPES_V2: Final = (
    "limit",
    "market",
    "iceberg",
    "stop-loss",
    "stop-loss-limit",
    "take-profit",
    "take-profit-limit",
    "trailing-stop",
    "trailing-stop-limit",
    "settle-position",
)


def _number(name: str, value: Any) -> orjson.Fragment:
    """A positive size or price for a v2 request: the shared order rule
    (:func:`rxfeeds.venues.orders.order_text`), sent as a JSON number written exactly as that
    plain decimal text (never through a float, never ``1e-05``)."""
    return orjson.Fragment(order_text(name, value).encode())


def _to_quote(event: Any) -> Any:
    if type(event) is Ticker and event.bid is not None and event.ask is not None:
        return Quote(
            event.venue,
            event.symbol,
            event.time,
            event.recv_time,
            bid=event.bid,
            bid_size=event.bid_size or 0.0,
            ask=event.ask,
            ask_size=event.ask_size or 0.0,
        )
    return event


class KrakenV2(KrakenEndpoints):
    """Kraken WebSocket API v2 client (see the module docstring).

    Args:
        url: public endpoint (default ``wss://ws.kraken.com/v2``).
        auth_url: private endpoint (default ``wss://ws-auth.kraken.com/v2``).
        env: ``"production"`` or ``"beta"``.
        request_timeout: seconds to wait for a method's reply.
        **options: :class:`~rxfeeds.venues.base.VenueClient` options.

    Example::

        with KrakenV2(url=sim.url, auth_url=sim.url) as kraken:
            kraken.trades("BTC/USD").subscribe(print)
    """

    venue: ClassVar[str] = "kraken-v2"
    urls: ClassVar[dict[str, tuple[str, str]]] = URLS_V2

    # -- connections -----------------------------------------------------------------------

    def _public(self, connection: str) -> Transport:
        return self._transport(check_connection(connection), self.url, KrakenV2Codec)

    def _private(self, connection: str) -> Transport:
        # Every private channel and order carries the token: never over plain ws:// to a remote host.
        self._require_secure("auth_url", self.auth_url)
        return self._transport(check_connection(connection), self.auth_url, KrakenV2Codec)

    def _channels(self, channel: str, symbols: list[str], connection: str) -> tuple[Transport, Observable[Any]]:
        transport = self._public(connection)
        return transport, merge_streams([transport.multiplex((channel, s)) for s in symbols])

    # -- public channels -------------------------------------------------------------------

    @common_symbols
    def book(self, symbols: str | Sequence[str], depth: int = 10, *, connection: str = "public") -> Feed[Event]:
        """Order book: ``BookSnapshot`` then ``BookDelta`` s, both with the CRC32 ``checksum``.

        Example::

            kraken.book("BTC/USD", depth=25).pipe(ops.order_book()).subscribe(print)
        """
        items = check_symbols(self.venue, symbols)
        channel = f"book-{check_depth(depth, BOOK_DEPTHS_V2)}"
        transport, source = self._channels(channel, items, connection)

        def resync(symbol: str) -> None:
            transport.resubscribe((channel, symbol))

        return feed(source, resync)

    @common_symbols
    def trades(self, symbols: str | Sequence[str], *, connection: str = "public") -> Observable[Event]:
        """Public trades (:class:`~rxfeeds.events.Trade` with Kraken's ``trade_id``).

        Example::

            kraken.trades("BTC/USD").subscribe(lambda t: print(t.trade_id, t.price))
        """
        return self._channels("trade", check_symbols(self.venue, symbols), connection)[1]

    @common_symbols
    def ticker(self, symbols: str | Sequence[str], *, connection: str = "public") -> Observable[Event]:
        """Ticker (:class:`~rxfeeds.events.Ticker`): a snapshot, then updates.

        Example::

            kraken.ticker("BTC/USD").subscribe(lambda t: print(t.bid, t.ask))
        """
        return self._channels("ticker", check_symbols(self.venue, symbols), connection)[1]

    @common_symbols
    def spread(self, symbols: str | Sequence[str], *, connection: str = "public") -> Observable[Event]:
        """Best bid/ask as :class:`~rxfeeds.events.Quote`, derived from the shared ticker subscription.

        Example::

            kraken.spread("BTC/USD").subscribe(lambda q: print(q.bid, q.ask))
        """
        return self.ticker(symbols, connection=connection).pipe(ops.map(_to_quote))

    @common_symbols
    def ohlc(
        self, symbols: str | Sequence[str], interval: int | str = 1, *, connection: str = "public"
    ) -> Observable[Event]:
        """Running candles (:class:`~rxfeeds.events.Kline`, ``closed=False``); ``interval`` as in v1.

        Example::

            kraken.ohlc("BTC/USD", "1h").subscribe(print)
        """
        channel = f"ohlc-{check_interval(interval)}"
        return self._channels(channel, check_symbols(self.venue, symbols), connection)[1]

    def klines(
        self, symbols: str | Sequence[str], interval: IntervalLike = "1m", *, connection: str = "public"
    ) -> Observable[Event]:
        """The common name of :meth:`ohlc` (``interval``: ``"1m"`` default, ``"1h"``, a ``timedelta``...).

        Example::

            kraken.klines("BTC/USD", "1h").subscribe(print)
        """
        return self.ohlc(symbols, check_interval(interval), connection=connection)

    def ping(self, *, connection: str = "public", timeout: float | None = None) -> Observable[Any]:
        """Application ping; emits the ``pong`` message (a dict) then completes.

        Example::

            kraken.ping().run()
        """
        return self._method(self._public(connection), "ping", None, None, timeout)

    # -- private channels ------------------------------------------------------------------

    def _private_channel(self, channel: str, token: Token, connection: str) -> Observable[Event]:
        token = check_token(token)
        transport = self._private(connection)
        codec: KrakenV2Codec = transport.codec  # type: ignore[assignment]
        key = (channel, "")

        def subscribe() -> list[str]:
            return [codec.subscribe_frame(key, resolve_token(token))]

        def unsubscribe() -> list[str]:
            return [codec.unsubscribe_frame(key, resolve_token(token))]

        stream = transport.multiplex(key, subscribe=subscribe, unsubscribe=unsubscribe)
        return stream.pipe(resubscribe_on_gap(transport, key))

    def executions(self, token: Token, *, connection: str = "private") -> Observable[Event]:
        """Your order reports and fills (:class:`~rxfeeds.events.OrderUpdate`, ``raw`` = Kraken's record).

        Example::

            kraken.executions(token).subscribe(lambda o: print(o.order_id, o.status))
        """
        return self._private_channel("executions", token, connection)

    def balances(self, token: Token, *, connection: str = "private") -> Observable[Event]:
        """Your balances (:class:`~rxfeeds.events.VenueEvent` ``kind="balance"``, ``symbol`` = asset).

        Example::

            kraken.balances(token).subscribe(lambda b: print(b.symbol, b.data["balance"]))
        """
        return self._private_channel("balances", token, connection)

    # -- methods ---------------------------------------------------------------------------

    def _method(
        self,
        transport: Transport,
        method: str,
        token: Token | None,
        params: dict[str, Any] | None,
        timeout: float | None,
    ) -> Observable[Any]:
        wait = self.request_timeout if timeout is None else timeout
        if isinstance(wait, bool) or not isinstance(wait, (int, float)) or wait <= 0:
            raise InvalidArgument("timeout", timeout, "must be a positive number of seconds")

        def build(_: Any = None) -> Observable[Any]:
            codec: KrakenV2Codec = transport.codec  # type: ignore[assignment]
            req_id = codec.next_reqid()
            body = dict(params) if params is not None else None
            if token is not None:
                body = body or {}
                body["token"] = resolve_token(token)
            return transport.request(method_frame(method, body, req_id), req_id, wait)

        return awaitable(reactivex.defer(build))

    def _order(
        self, method: str, token: Token, params: dict[str, Any], connection: str, timeout: float | None
    ) -> Observable[Any]:
        return self._method(self._private(connection), method, check_token(token), params, timeout)

    @staticmethod
    def _order_params(
        symbol: str, side: str, order_type: str, order_qty: Any, limit_price: Any, extra: dict[str, Any]
    ) -> dict[str, Any]:
        check_symbol("kraken-v2", symbol)
        if side not in ("buy", "sell"):
            raise InvalidArgument("side", side, "must be 'buy' or 'sell'")
        if order_type not in _ORDER_TYPES_V2:
            raise InvalidArgument("order_type", order_type, f"must be one of {', '.join(_ORDER_TYPES_V2)}")
        if order_type in ("limit", "iceberg", "stop-loss-limit", "take-profit-limit") and limit_price is None:
            raise InvalidArgument("limit_price", limit_price, f"is required for {order_type} orders")
        params: dict[str, Any] = {
            "order_type": order_type,
            "side": side,
            "order_qty": _number("order_qty", order_qty),
            "symbol": symbol,
        }
        if limit_price is not None:
            params["limit_price"] = _number("limit_price", limit_price)
        params.update({k: v for k, v in extra.items() if v is not None})
        return params

    def add_order(
        self,
        token: Token,
        symbol: str,
        side: str,
        order_type: str,
        order_qty: float | str,
        *,
        limit_price: float | str | None = None,
        cl_ord_id: str | None = None,
        time_in_force: str | None = None,
        post_only: bool | None = None,
        reduce_only: bool | None = None,
        validate: bool | None = None,
        connection: str = "private",
        timeout: float | None = None,
        **extra: Any,
    ) -> Observable[dict[str, Any]]:
        """Place an order; emits the ``result`` (``order_id``, ``cl_ord_id``) or Kraken's error.

        Example::

            kraken.add_order(token, "BTC/USD", "buy", "limit", 0.01, limit_price=20000).run()["order_id"]
        """
        if time_in_force not in (None, "gtc", "gtd", "ioc"):
            raise InvalidArgument("time_in_force", time_in_force, "must be gtc, gtd or ioc")
        fields = {
            "cl_ord_id": cl_ord_id,
            "time_in_force": time_in_force,
            "post_only": post_only,
            "reduce_only": reduce_only,
            "validate": validate,
            **extra,
        }
        params = self._order_params(symbol, side, order_type, order_qty, limit_price, fields)
        return self._order("add_order", token, params, connection, timeout)

    def amend_order(
        self,
        token: Token,
        order_id: str,
        *,
        order_qty: float | str | None = None,
        limit_price: float | str | None = None,
        connection: str = "private",
        timeout: float | None = None,
    ) -> Observable[dict[str, Any]]:
        """Amend an order in place (keeps its id); emits ``{"amend_id", "order_id"}``.

        Example::

            kraken.amend_order(token, order_id, limit_price=20100).run()
        """
        params = self._change_params(order_id, order_qty, limit_price)
        return self._order("amend_order", token, params, connection, timeout)

    def edit_order(
        self,
        token: Token,
        order_id: str,
        symbol: str,
        *,
        order_qty: float | str | None = None,
        limit_price: float | str | None = None,
        connection: str = "private",
        timeout: float | None = None,
    ) -> Observable[dict[str, Any]]:
        """Replace an order (new id); emits ``{"order_id", "original_order_id"}``.

        Example::

            kraken.edit_order(token, order_id, "BTC/USD", order_qty=0.02).run()["order_id"]
        """
        params = self._change_params(order_id, order_qty, limit_price)
        params["symbol"] = check_symbol(self.venue, symbol)
        return self._order("edit_order", token, params, connection, timeout)

    @staticmethod
    def _change_params(order_id: Any, order_qty: Any, limit_price: Any) -> dict[str, Any]:
        if not isinstance(order_id, str) or not order_id:
            raise InvalidArgument("order_id", order_id, "must be an order id")
        if order_qty is None and limit_price is None:
            raise InvalidArgument("order_qty", order_qty, "give order_qty and/or limit_price to change")
        params: dict[str, Any] = {"order_id": order_id}
        if order_qty is not None:
            params["order_qty"] = _number("order_qty", order_qty)
        if limit_price is not None:
            params["limit_price"] = _number("limit_price", limit_price)
        return params

    def cancel_order(
        self, token: Token, order_id: str | Sequence[str], *, connection: str = "private", timeout: float | None = None
    ) -> Observable[dict[str, Any]]:
        """Cancel one or more orders; emits the ``result``.

        Example::

            kraken.cancel_order(token, order_id).run()
        """
        ids = [order_id] if isinstance(order_id, str) else list(order_id) if isinstance(order_id, (list, tuple)) else []
        if not ids or not all(isinstance(i, str) and i for i in ids):
            raise InvalidArgument("order_id", order_id, "give an order id or a non-empty list of them")
        return self._order("cancel_order", token, {"order_id": ids}, connection, timeout)

    def cancel_all(
        self, token: Token, *, connection: str = "private", timeout: float | None = None
    ) -> Observable[dict[str, Any]]:
        """Cancel every open order; emits ``{"count": n}``.

        Example::

            kraken.cancel_all(token).run()["count"]
        """
        return self._order("cancel_all", token, {}, connection, timeout)

    def cancel_all_orders_after(
        self, token: Token, timeout: int, *, connection: str = "private", request_timeout: float | None = None
    ) -> Observable[dict[str, Any]]:
        """Dead man's switch (0 disables); emits ``{"currentTime", "triggerTime"}``.

        Example::

            kraken.cancel_all_orders_after(token, 60).run()
        """
        params = {"timeout": check_timeout(timeout)}
        return self._order("cancel_all_orders_after", token, params, connection, request_timeout)

    def batch_add(
        self,
        token: Token,
        symbol: str,
        orders: Sequence[dict[str, Any]],
        *,
        validate: bool | None = None,
        connection: str = "private",
        timeout: float | None = None,
    ) -> Observable[Any]:
        """Place 2-15 orders on one symbol at once; each order is a dict of ``add_order`` fields.

        Example::

            kraken.batch_add(token, "BTC/USD", [
                {"order_type": "limit", "side": "buy", "order_qty": 0.01, "limit_price": 20000},
                {"order_type": "limit", "side": "sell", "order_qty": 0.01, "limit_price": 90000},
            ]).run()
        """
        if not isinstance(orders, (list, tuple)) or not 2 <= len(orders) <= 15:
            raise InvalidArgument("orders", orders, "give between 2 and 15 orders")
        checked = []
        for order in orders:
            if not isinstance(order, dict):
                raise InvalidArgument("orders", order, "each order must be a dict of add_order fields")
            rest = {k: v for k, v in order.items() if k not in ("order_type", "side", "order_qty", "limit_price")}
            params = self._order_params(
                symbol, order.get("side", ""), order.get("order_type", ""), order.get("order_qty"),
                order.get("limit_price"), rest,
            )  # fmt: skip
            del params["symbol"]
            checked.append(params)
        body: dict[str, Any] = {"symbol": symbol, "orders": checked}
        if validate is not None:
            body["validate"] = validate
        return self._order("batch_add", token, body, connection, timeout)

    def batch_cancel(
        self, token: Token, orders: Sequence[str], *, connection: str = "private", timeout: float | None = None
    ) -> Observable[Any]:
        """Cancel 2-50 orders by id at once; emits the ``result``.

        Example::

            kraken.batch_cancel(token, [id1, id2]).run()
        """
        if not isinstance(orders, (list, tuple)) or not 2 <= len(orders) <= 50:
            raise InvalidArgument("orders", orders, "give between 2 and 50 order ids")
        if not all(isinstance(i, str) and i for i in orders):
            raise InvalidArgument("orders", orders, "order ids must be non-empty strings")
        return self._order("batch_cancel", token, {"orders": list(orders)}, connection, timeout)
