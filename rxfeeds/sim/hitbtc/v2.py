"""HitBTC socket API v2 simulator: JSON-RPC market data, login, reports and order entry.

A real websocket server (see :mod:`rxfeeds.sim.server`) speaking the v2 protocol of
``protocols.md`` section 3 on every path (the original single ``/api/2/ws`` endpoint; the later
``/public`` and ``/trading`` split paths work too: :attr:`HitBTCSim.public_url`,
:attr:`HitBTCSim.trading_url`).

Market data
    ``subscribeOrderbook`` -> ``result: true``, ``snapshotOrderbook`` (current book, the symbol's
    current ``sequence``), then one ``updateOrderbook`` per market step with ``sequence`` +1.
    Sequences are per symbol, shared by every connection.  Each orderbook subscription gets one
    unsolicited re-snapshot ``resnapshot_after`` seconds later (same sequence as the last
    update, content = the current book), as the real venue did; :meth:`HitBTCSim.resnapshot`
    forces one.  ``subscribeTrades`` / ``subscribeCandles`` send ``snapshot*`` of the last
    ``limit`` (<= 100 by default) items oldest first, then ``update*`` as trades print; candle
    updates carry the current (possibly open) candle.  ``subscribeTicker`` sends a ticker at
    once and then on change (at most every ``ticker_interval`` s).

Symbols
    A symbol is *known* when it is upper-case letters/digits ending in a quote currency
    (``BTC ETH USD USDT EURS DAI TUSD``) with a base of 2-12 characters, and is not in
    ``unknown_symbols``.  Unknown symbols get ``2001 Symbol not found``, as do symbols the
    ``reject subscription`` fault names.

Accounts and trading
    ``subscribeBalance`` (account endpoint) -> ``result: true`` then one ``balance`` notification
    (static balances); ``subscribeTransactions`` is accepted (no transfers are simulated).
    ``api_keys`` maps API keys to secrets (default ``{"sim-key": "sim-secret"}``).  ``login``
    with BASIC or HS256 (``signature = hex(HMAC-SHA256(secret, nonce))``); a bad key or signature
    gets ``1002``.  Private methods before login get ``1001``.  ``subscribeReports`` ->
    ``result: true``, ``activeOrders`` (list), then ``report`` notifications.  ``newOrder`` /
    ``cancelOrder`` / ``cancelReplaceOrder`` send the ``report`` notification *before* the
    result; a clientOrderId already active gives ``20008``; an unknown one ``20002``.  Orders
    rest (they never fill).

Bad input
    Invalid JSON -> ``-32700 Parse error`` (id null); not a request -> ``-32600``; unknown
    method -> ``-32601``; oversize frame -> ``-32600`` with the connection kept.  The negative
    codes are JSON-RPC 2.0's (HitBTC's own codes for these cases are not documented).

Example:
    >>> import json, websocket
    >>> with HitBTCSim(seed=1) as sim:
    ...     ws = websocket.create_connection(sim.public_url)
    ...     _ = ws.send('{"method":"subscribeOrderbook","params":{"symbol":"ETHBTC"},"id":1}')
    ...     ack = json.loads(ws.recv()); snap = json.loads(ws.recv())
    ...     ws.close()
    >>> ack["result"], snap["method"], snap["params"]["symbol"]
    (True, 'snapshotOrderbook', 'ETHBTC')
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import orjson

from ..server import SimConnection
from ._base import RpcError
from .account import HitBTCAccount
from .feed import HitBTCMarketFeed

__all__ = ["HitBTCSim"]


class HitBTCSim(HitBTCMarketFeed, HitBTCAccount):
    """HitBTC socket API v2 simulator (see the module docstring).

    Args:
        api_keys: API key -> secret accepted by ``login``.
        unknown_symbols: well-formed symbols to refuse anyway with 2001.
        listed_symbols: what ``getSymbols`` lists (plus every symbol with a market).
        resnapshot_after: seconds after an orderbook subscription when its one unsolicited
            re-snapshot is sent (``None``: never).
        ticker_interval: shortest gap between two tickers of one symbol.
        ticker_quiet_resend: a ticker is re-sent after this long without one, changed or not.
        **options: :class:`~rxfeeds.sim.server.SimServer` options (``seed``, ``port``,
            ``tick_interval``, ``symbols``...).
    """

    # -- requests --------------------------------------------------------------------------

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        try:
            request = orjson.loads(message)
        except orjson.JSONDecodeError:
            self.error(conn, None, RpcError(-32700, "Parse error", "the request is not valid JSON"))
            return
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            rid = request.get("id") if isinstance(request, dict) else None
            self.error(conn, rid if isinstance(rid, (int, str)) else None, RpcError(-32600, "Invalid Request"))
            return
        rid = request.get("id")
        if rid is not None and not isinstance(rid, (int, str)):
            self.error(conn, None, RpcError(-32600, "Invalid Request", "id must be a string or a number"))
            return
        params = request.get("params")
        if params is None:
            params = {}
        try:
            if not isinstance(params, dict):
                raise RpcError(-32602, "Invalid params", "params must be an object")
            self.dispatch(conn, rid, request["method"], params, request)
        except RpcError as err:
            self.error(conn, rid, err)

    def dispatch(
        self, conn: SimConnection, rid: Any, method: str, params: dict[str, Any], request: dict[str, Any]
    ) -> None:
        """Run one request (raise :class:`RpcError` for an error reply)."""
        handler = self._methods.get(method)
        if handler is None:
            raise RpcError(-32601, "Method not found", method[:100])
        handler(conn, rid, params)

    def on_oversize(self, conn: SimConnection, message: str | bytes) -> None:
        self.error(conn, None, RpcError(-32600, "Invalid Request", f"message too big ({len(message)} bytes)"))

    def _method_table(self) -> dict[str, Callable[[SimConnection, Any, dict[str, Any]], None]]:
        table: dict[str, Callable[[SimConnection, Any, dict[str, Any]], None]] = {}
        for name, channel in (
            ("Orderbook", "orderbook"),
            ("Trades", "trades"),
            ("Candles", "candles"),
            ("Ticker", "ticker"),
        ):
            table["subscribe" + name] = functools.partial(self._subscribe_v2, channel)
            table["unsubscribe" + name] = functools.partial(self._unsubscribe_v2, channel)
        table.update(
            login=self._login,
            subscribeReports=self._subscribe_reports,
            unsubscribeReports=self._unsubscribe_reports,
            subscribeBalance=self._subscribe_balance,
            unsubscribeBalance=functools.partial(self._unsubscribe_private, "balance"),
            subscribeTransactions=self._subscribe_transactions,
            unsubscribeTransactions=functools.partial(self._unsubscribe_private, "transactions"),
            newOrder=self._new_order,
            cancelOrder=self._cancel_order,
            cancelReplaceOrder=self._replace_order,
            getOrders=self._get_orders,
            getTradingBalance=self._trading_balance,
            getSymbol=lambda c, r, p: self.reply(c, r, self.symbol_info(self._require_symbol(p.get("symbol")))),
            getSymbols=lambda c, r, p: self.reply(c, r, [self.symbol_info(s) for s in self._all_symbols()]),
            getCurrency=self._get_currency,
            getCurrencies=lambda c, r, p: self.reply(c, r, [self.currency_info(x) for x in self._currencies()]),
            getTrades=self._get_trades,
        )
        return table

    def _subscribe_v2(self, channel: str, conn: SimConnection, rid: Any, params: dict[str, Any]) -> None:
        self.subscribe_market(conn, rid, channel, params.get("symbol"), params)

    def _unsubscribe_v2(self, channel: str, conn: SimConnection, rid: Any, params: dict[str, Any]) -> None:
        self.unsubscribe_market(conn, rid, channel, params.get("symbol"), params)

    def _get_currency(self, conn: SimConnection, rid: Any, params: dict[str, Any]) -> None:
        currency = params.get("currency")
        if currency not in self._currencies():
            raise RpcError(2002, "Currency not found", f"{currency}")
        self.reply(conn, rid, self.currency_info(str(currency)))

    def _get_trades(self, conn: SimConnection, rid: Any, params: dict[str, Any]) -> None:
        symbol = self._require_symbol(params.get("symbol"))
        m = self.market(symbol)
        data = [self._trade_item(m, t) for t in self.trades_history(symbol, params)]
        self.reply(conn, rid, {"data": data, "symbol": symbol})

    # -- login and trading -----------------------------------------------------------------

    def _login(self, conn: SimConnection, rid: Any, params: dict[str, Any]) -> None:
        self.check_login(
            conn,
            params.get("algo"),
            params.get("pKey"),
            params.get("sKey"),
            params.get("nonce"),
            params.get("signature"),
        )
        self.reply(conn, rid, True)

    def _subscribe_reports(self, conn: SimConnection, rid: Any, params: dict[str, Any]) -> None:
        account = self.account_of(conn)
        conn.subscriptions[("reports", "")] = {}
        self.reply(conn, rid, True)
        active = [self.report_view(o) for o in self.orders.get(account, {}).values()]
        self.notify(conn, self.active_orders_method, active)

    def _unsubscribe_reports(self, conn: SimConnection, rid: Any, params: dict[str, Any]) -> None:
        self.account_of(conn)
        conn.subscriptions.pop(("reports", ""), None)
        self.reply(conn, rid, True)

    def _subscribe_balance(self, conn: SimConnection, rid: Any, params: dict[str, Any]) -> None:
        account = self.account_of(conn)
        conn.subscriptions[("balance", "")] = {}
        self.reply(conn, rid, True)
        self.notify(conn, "balance", self.balances(account))

    def _subscribe_transactions(self, conn: SimConnection, rid: Any, params: dict[str, Any]) -> None:
        self.account_of(conn)  # the simulated accounts never move funds: no updateTransaction follows
        conn.subscriptions[("transactions", "")] = {}
        self.reply(conn, rid, True)

    def _unsubscribe_private(self, channel: str, conn: SimConnection, rid: Any, params: dict[str, Any]) -> None:
        self.account_of(conn)
        conn.subscriptions.pop((channel, ""), None)
        self.reply(conn, rid, True)

    def _new_order(self, conn: SimConnection, rid: Any, p: dict[str, Any]) -> None:
        account = self.account_of(conn)
        order = self.place_order(
            account,
            p.get("clientOrderId"),
            p.get("symbol"),
            p.get("side"),
            p.get("type"),
            p.get("timeInForce"),
            p.get("quantity"),
            p.get("price"),
        )
        self.send_reports(account, order)  # the report comes before the result
        self.reply(conn, rid, self.report_view(order))

    def _cancel_order(self, conn: SimConnection, rid: Any, p: dict[str, Any]) -> None:
        account = self.account_of(conn)
        order = self.cancel(account, p.get("clientOrderId"))
        self.send_reports(account, order)
        self.reply(conn, rid, self.report_view(order))

    def _replace_order(self, conn: SimConnection, rid: Any, p: dict[str, Any]) -> None:
        account = self.account_of(conn)
        order = self.replace(
            account, p.get("clientOrderId"), p.get("requestClientId"), p.get("quantity"), p.get("price")
        )
        self.send_reports(account, order)
        self.reply(conn, rid, self.report_view(order))

    def _get_orders(self, conn: SimConnection, rid: Any, p: dict[str, Any]) -> None:
        account = self.account_of(conn)
        self.reply(conn, rid, [self.report_view(o) for o in self.orders.get(account, {}).values()])

    def _trading_balance(self, conn: SimConnection, rid: Any, p: dict[str, Any]) -> None:
        self.reply(conn, rid, self.balances(self.account_of(conn)))
