"""HitBTC socket API v3 simulator (``/api/3/ws/public``, ``/api/3/ws/trading``, REST ``/api/3/public``).

Same market engine, symbol rule, accounts and order book-keeping as
:class:`~rxfeeds.sim.hitbtc.HitBTCSim`; v3 wire shapes:

* ``{"method":"subscribe","ch":"orderbook/full","params":{"symbols":[...]},"id":n}`` ->
  ``{"result":{"ch":...,"subscriptions":[every symbol of that ch on this connection]},"id":n}``,
  then ``{"ch":"orderbook/full","snapshot":{"ETHBTC":{"t":ms,"s":seq,"a":[[p,q]],"b":[[p,q]]}}}``
  and ``"update"`` messages; channels ``trades``, ``candles/<period>``, ``ticker/1s`` /
  ``ticker/3s`` likewise (unknown symbols are left out of ``subscriptions``; when none is
  valid the answer is the ``2001`` error).  Partial books ``orderbook/D{5,10,20}/{100,500,1000}ms``
  (top ``N`` with ``s``) and ``orderbook/top/{speed}`` (``a/A/b/B``), each also as ``.../batch``
  (every symbol of the connection in one message), go out as ``"data"`` at their speed when
  changed.
* A request without an ``id`` is answered too, with no ``id`` key (``{"jsonrpc":"2.0",
  "result":true}``), errors likewise, as HitBTC does.  Ticker cadence is ``ticker_interval`` for both
  speeds, and ticker messages name the channel the connection subscribed first.
* ``login {type: HS256, api_key, timestamp, signature=hex(HMAC-SHA256(secret, str(timestamp)))}``
  or ``{type: BASIC, api_key, secret_key}``; 1002 on failure.
* ``spot_subscribe`` -> ``result: true``, ``spot_orders`` (list) then ``spot_order``
  notifications; ``spot_new_order`` / ``spot_cancel_order`` / ``spot_replace_order`` (the
  ``spot_order`` notification before the result), ``spot_get_orders``, ``spot_balances``,
  ``spot_balance_subscribe`` (``spot_balance`` notifications).  Order fields are snake_case.
* REST on the same port: ``GET /api/3/public/symbol[/{symbol}]``, ``/currency[/{currency}]``,
  ``/trades/{symbol}`` (errors: HTTP 400 with ``{"error":{code,message,description}}``).

Example:
    >>> import json, websocket
    >>> with HitBTCV3Sim(seed=1) as sim:
    ...     ws = websocket.create_connection(sim.public_url)
    ...     _ = ws.send('{"method":"subscribe","ch":"trades","params":{"symbols":["ETHBTC"]},"id":1}')
    ...     ack = json.loads(ws.recv())
    ...     ws.close()
    >>> ack
    {'result': {'ch': 'trades', 'subscriptions': ['ETHBTC']}, 'id': 1}
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar, Final

import orjson

from ...venues.hitbtc._common import CANDLE_PERIODS
from ..kit.clock import iso_ms
from ..market import LevelChange, SimTrade, SyntheticMarket
from ..server import HttpRequest, HttpResponse, SimConnection, json_response
from ._base import RpcError, symbol_not_found
from .v2 import HitBTCSim

__all__ = ["HitBTCV3Sim"]

_V3_ORDER_FIELDS = {
    "clientOrderId": "client_order_id",
    "timeInForce": "time_in_force",
    "cumQuantity": "quantity_cumulative",
    "postOnly": "post_only",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "reportType": "report_type",
    "originalRequestClientOrderId": "original_client_order_id",
}


#: partial books: ``orderbook/D{5,10,20}/{speed}`` and best bid/ask ``orderbook/top/{speed}``,
#: each with an optional ``/batch`` form (several symbols in one message)
_PARTIAL_BOOK: Final = re.compile(r"^orderbook/(D5|D10|D20|top)/(100ms|500ms|1000ms)(/batch)?$")


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _ms(t: float) -> int:
    return round(t * 1000)


class HitBTCV3Sim(HitBTCSim):
    """HitBTC socket API v3 simulator (see the module docstring); same options as HitBTCSim."""

    venue: ClassVar[str] = "hitbtc-v3"
    path: ClassVar[str] = "/api/3/ws/public"
    api_version: ClassVar[int] = 3
    report_method: ClassVar[str] = "spot_order"
    active_orders_method: ClassVar[str] = "spot_orders"

    @property
    def rest_url(self) -> str:
        """``http://127.0.0.1:PORT/api/3`` (the public REST API on the websocket port)."""
        return f"http://{self.host}:{self.port}/api/3"

    # -- frames ----------------------------------------------------------------------------

    def reply(self, conn: SimConnection, rid: Any, result: Any) -> None:
        # HitBTC answers a request sent without an id too, with no ``id`` key at all
        # (``{"jsonrpc":"2.0","result":true}``); clients that log in without an id wait for it.
        body: dict[str, Any] = {"jsonrpc": "2.0", "result": result}
        if rid is not None:
            body["id"] = rid
        conn.send(_dumps(body))

    def error(self, conn: SimConnection, rid: Any, err: RpcError) -> None:
        """A JSON-RPC error reply; without an ``id`` key when the request had none."""
        body: dict[str, Any] = {"jsonrpc": "2.0", "error": err.body()}
        if rid is not None:
            body["id"] = rid
        conn.send(_dumps(body))

    def send_book_snapshot(self, conn: SimConnection, symbol: str) -> None:
        m = self.market(symbol)
        bids, asks = m.bids(), m.asks()
        sequence = self.sequences.setdefault(symbol, self.symbol_seed(symbol) % 10_000_000)
        body = {
            "t": _ms(m.time),
            "s": sequence,
            "a": [[m.price_text(p), m.size_text(s)] for p, s in asks],
            "b": [[m.price_text(p), m.size_text(s)] for p, s in bids],
        }
        conn.send(_dumps({"ch": "orderbook/full", "snapshot": {symbol: body}}))
        self.sent_book(symbol).replace(
            [(m.price_text(p), m.size_text(s)) for p, s in bids], [(m.price_text(p), m.size_text(s)) for p, s in asks]
        )
        self.record_truth(symbol, sequence)

    def book_update_frame(self, symbol: str, m: SyntheticMarket, changes: Iterable[LevelChange], sequence: int) -> str:
        a = [[m.price_text(c.price), m.size_text(c.size)] for c in changes if c.side == "ask"]
        b = [[m.price_text(c.price), m.size_text(c.size)] for c in changes if c.side == "bid"]
        return _dumps({"ch": "orderbook/full", "update": {symbol: {"t": _ms(m.time), "s": sequence, "a": a, "b": b}}})

    def _trade_item(self, m: SyntheticMarket, t: SimTrade) -> dict[str, Any]:
        return {"t": _ms(t.time), "i": t.id, "p": m.price_text(t.price), "q": m.size_text(t.size), "s": t.side}

    def trades_frame(self, symbol: str, m: SyntheticMarket, trades: Iterable[SimTrade], snapshot: bool) -> str:
        data = [self._trade_item(m, t) for t in trades]
        return _dumps({"ch": "trades", ("snapshot" if snapshot else "update"): {symbol: data}})

    def _candle_item(self, m: SyntheticMarket, start: float, trades: list[SimTrade]) -> dict[str, Any]:
        v2 = super()._candle_item(m, start, trades)
        return {
            "t": _ms(start),
            "o": v2["open"],
            "c": v2["close"],
            "h": v2["max"],
            "l": v2["min"],
            "v": v2["volume"],
            "q": v2["volumeQuote"],
        }

    def candles_frame(self, symbol: str, period: str, items: list[dict[str, Any]], snapshot: bool) -> str:
        return _dumps({"ch": "candles/" + period, ("snapshot" if snapshot else "update"): {symbol: items}})

    def ticker_frame(self, symbol: str, m: SyntheticMarket, now: float) -> str:
        s = m.ticker()

        def px(ticks: int | None) -> str | None:
            return m.price_text(ticks) if ticks is not None else None

        quote = Decimal(s.quote_volume) * m.tick_size * Decimal(10) ** -m.size_decimals
        body = {
            "t": _ms(now),
            "a": px(s.ask[0] if s.ask else None),
            "A": m.size_text(s.ask[1]) if s.ask else None,
            "b": px(s.bid[0] if s.bid else None),
            "B": m.size_text(s.bid[1]) if s.bid else None,
            "c": px(s.last),
            "o": px(s.open),
            "h": px(s.high),
            "l": px(s.low),
            "v": m.size_text(s.volume),
            "q": format(quote, "f"),
            "L": self._last_trade_id(m),
        }
        ch = self._ticker_channels.get(symbol, "ticker/1s")
        return _dumps({"ch": ch, "data": {symbol: body}})

    @staticmethod
    def _last_trade_id(m: SyntheticMarket) -> int | None:
        trades = m.trades()
        return trades[-1].id if trades else None

    @property
    def _ticker_channels(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for conn in self.connections:
            for (channel, symbol), info in conn.subscriptions.items():
                if channel == "ticker":
                    found.setdefault(symbol, info.get("ch", "ticker/1s"))
        return found

    def partial_book_item(self, ch: str, m: SyntheticMarket) -> dict[str, Any]:
        """One symbol's body on a partial-book channel: top ``N`` levels with the sequence, or
        (``orderbook/top/...``) the best bid and ask as ``a/A/b/B`` strings."""
        kind = ch.split("/")[1]
        sequence = self.sequences.setdefault(m.symbol, self.symbol_seed(m.symbol) % 10_000_000)
        if kind == "top":
            bid, ask = m.best_bid(), m.best_ask()
            return {
                "t": _ms(m.time),
                "a": m.price_text(ask[0]) if ask else None,
                "A": m.size_text(ask[1]) if ask else None,
                "b": m.price_text(bid[0]) if bid else None,
                "B": m.size_text(bid[1]) if bid else None,
            }
        depth = int(kind[1:])
        return {
            "t": _ms(m.time),
            "s": sequence,
            "a": [[m.price_text(p), m.size_text(q)] for p, q in m.asks(depth)],
            "b": [[m.price_text(p), m.size_text(q)] for p, q in m.bids(depth)],
        }

    def on_tick(self, now: float) -> None:
        super().on_tick(now)
        self._partial_books(now)

    def _partial_books(self, now: float) -> None:
        """Partial books go out at their channel's speed, only when the content changed."""
        for conn in self.connections:
            if not conn.is_open:
                continue
            batches: dict[str, dict[str, Any]] = {}
            for (channel, symbol), info in conn.subscriptions.items():
                if not channel.startswith("orderbook/"):
                    continue
                speed = float(channel.split("/")[2][:-2]) / 1000
                due = info.get("next_at", 0.0)
                if now < due - 1e-6:
                    continue
                info["next_at"] = max(due + speed, now)
                item = self.partial_book_item(channel, self.market(symbol))
                content = (item.get("a"), item.get("b"), item.get("A"), item.get("B"))
                if info.get("last") == content:
                    continue
                info["last"] = content
                batches.setdefault(channel, {})[symbol] = item
            for channel, items in batches.items():
                if channel.endswith("/batch"):
                    conn.send(_dumps({"ch": channel, "data": items}))
                else:
                    for symbol, item in items.items():
                        conn.send(_dumps({"ch": channel, "data": {symbol: item}}))

    def report_view(self, order: dict[str, Any]) -> dict[str, Any]:
        return {_V3_ORDER_FIELDS.get(k, k): v for k, v in order.items()}

    # -- requests --------------------------------------------------------------------------

    def dispatch(
        self, conn: SimConnection, rid: Any, method: str, params: dict[str, Any], request: dict[str, Any]
    ) -> None:
        if method in ("subscribe", "unsubscribe"):
            self._channel_request(conn, rid, method, request.get("ch"), params)
        elif method == "login":
            stamp, window = params.get("timestamp"), params.get("window")
            message = f"{stamp}{window}" if window is not None else str(stamp)
            self.check_login(
                conn,
                params.get("type"),
                params.get("api_key"),
                params.get("secret_key"),
                message,
                params.get("signature"),
            )
            self.reply(conn, rid, True)
        elif method == "spot_subscribe":
            self._subscribe_reports(conn, rid, params)
        elif method == "spot_unsubscribe":
            self._unsubscribe_reports(conn, rid, params)
        elif method == "spot_balance_subscribe":
            account = self.account_of(conn)
            conn.subscriptions[("balance", "")] = {}
            self.reply(conn, rid, True)
            self.notify(conn, "spot_balance", self.balances(account))
        elif method == "spot_balance_unsubscribe":
            self.account_of(conn)
            conn.subscriptions.pop(("balance", ""), None)
            self.reply(conn, rid, True)
        elif method == "spot_new_order":
            account = self.account_of(conn)
            order = self.place_order(
                account,
                params.get("client_order_id"),
                params.get("symbol"),
                params.get("side"),
                params.get("type"),
                params.get("time_in_force"),
                params.get("quantity"),
                params.get("price"),
            )
            self.send_reports(account, order)
            self.reply(conn, rid, self.report_view(order))
        elif method == "spot_cancel_order":
            account = self.account_of(conn)
            order = self.cancel(account, params.get("client_order_id"))
            self.send_reports(account, order)
            self.reply(conn, rid, self.report_view(order))
        elif method == "spot_replace_order":
            account = self.account_of(conn)
            order = self.replace(
                account,
                params.get("client_order_id"),
                params.get("new_client_order_id"),
                params.get("quantity"),
                params.get("price"),
            )
            self.send_reports(account, order)
            self.reply(conn, rid, self.report_view(order))
        elif method == "spot_get_orders":
            account = self.account_of(conn)
            self.reply(conn, rid, [self.report_view(o) for o in self.orders.get(account, {}).values()])
        elif method == "spot_balances":
            self.reply(conn, rid, self.balances(self.account_of(conn)))
        else:
            raise RpcError(-32601, "Method not found", method[:100])

    def _channel_request(self, conn: SimConnection, rid: Any, method: str, ch: Any, params: dict[str, Any]) -> None:
        if not isinstance(ch, str):
            raise RpcError(10001, "Validation error", "ch is required")
        symbols = params.get("symbols")
        if not isinstance(symbols, list) or not symbols:
            raise RpcError(10001, "Validation error", "params.symbols must be a non-empty list")
        extra: dict[str, Any] = {}
        if ch == "orderbook/full":
            channel = "orderbook"
        elif ch == "trades":
            channel = "trades"
        elif ch.startswith("candles/") and ch[8:] in CANDLE_PERIODS:
            channel, extra["period"] = "candles", ch[8:]
        elif ch in ("ticker/1s", "ticker/3s"):
            channel = "ticker"
        elif _PARTIAL_BOOK.match(ch):
            channel = ch
        else:
            raise RpcError(10001, "Validation error", f"unknown channel {ch[:60]}")
        if method == "unsubscribe":
            for symbol in symbols:
                key = ("candles-" + extra["period"] if extra else channel, symbol)
                conn.subscriptions.pop(key, None)
            self._channel_result(conn, rid, ch, channel, extra)
            return
        accepted: list[tuple[str, str]] = []
        first_error: RpcError | None = None
        for symbol in symbols:
            try:
                key, info = self.market_subscription(
                    channel, symbol, {**params, **extra, "limit": params.get("limit", 100)}
                )
            except RpcError as err:
                first_error = first_error or err
                continue
            info["ch"] = ch
            conn.subscriptions[key] = info
            accepted.append(key)
        if not accepted:
            raise first_error or symbol_not_found(symbols)
        self._channel_result(conn, rid, ch, channel, extra)
        for key in accepted:
            self.send_initial(conn, key)

    def _channel_result(self, conn: SimConnection, rid: Any, ch: str, channel: str, extra: dict[str, Any]) -> None:
        name = "candles-" + extra["period"] if extra else channel
        current = [symbol for (c, symbol), info in conn.subscriptions.items() if c == name and info.get("ch") == ch]
        body: dict[str, Any] = {"result": {"ch": ch, "subscriptions": current}}
        if rid is not None:
            body["id"] = rid
        conn.send(_dumps(body))

    # -- REST ------------------------------------------------------------------------------

    def symbol_info_v3(self, symbol: str) -> dict[str, Any]:
        v2 = self.symbol_info(symbol)
        return {
            "type": "spot",
            "base_currency": v2["baseCurrency"],
            "quote_currency": v2["quoteCurrency"],
            "status": "working",
            "quantity_increment": v2["quantityIncrement"],
            "tick_size": v2["tickSize"],
            "take_rate": v2["takeLiquidityRate"],
            "make_rate": v2["provideLiquidityRate"],
            "fee_currency": v2["feeCurrency"],
        }

    def currency_info_v3(self, currency: str) -> dict[str, Any]:
        v2 = self.currency_info(currency)
        return {
            "full_name": v2["fullName"],
            "crypto": v2["crypto"],
            "payin_enabled": v2["payinEnabled"],
            "payout_enabled": v2["payoutEnabled"],
            "transfer_enabled": v2["transferEnabled"],
            "delisted": v2["delisted"],
            "payout_fee": v2["payoutFee"],
        }

    def handle_http(self, request: HttpRequest) -> HttpResponse | None:
        prefix = "/api/3/public/"
        if request.method != "GET" or not request.path.startswith(prefix):
            return None
        parts = request.path[len(prefix) :].strip("/").split("/")
        try:
            if parts == ["symbol"]:
                return json_response({s: self.symbol_info_v3(s) for s in self._all_symbols()})
            if len(parts) == 2 and parts[0] == "symbol":
                return json_response(self.symbol_info_v3(self._require_symbol(parts[1])))
            if parts == ["currency"]:
                return json_response({c: self.currency_info_v3(c) for c in self._currencies()})
            if len(parts) == 2 and parts[0] == "currency":
                if parts[1] not in self._currencies():
                    raise RpcError(2002, "Currency not found", parts[1])
                return json_response(self.currency_info_v3(parts[1]))
            if len(parts) == 2 and parts[0] == "trades":
                symbol = self._require_symbol(parts[1])
                m = self.market(symbol)
                picked = self.trades_history(symbol, request.query)
                return json_response(
                    [
                        {
                            "id": t.id,
                            "price": m.price_text(t.price),
                            "qty": m.size_text(t.size),
                            "side": t.side,
                            "timestamp": iso_ms(t.time),
                        }
                        for t in picked
                    ]
                )
        except RpcError as err:
            return json_response({"error": err.body()}, status=400)
        return None
