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
import hashlib
import hmac
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import orjson

from ...errors import InvalidArgument
from ...intervals import Interval, parse_interval
from ...venues.hitbtc._common import CANDLE_PERIODS
from ..kit.clock import iso_ms, parse_iso
from ..market import LevelChange, MarketStep, SimTrade, SyntheticMarket
from ..server import SimConnection, SimServer

__all__ = ["QUOTE_CURRENCIES", "HitBTCSim", "RpcError", "period_interval"]

#: quote currencies a simulated symbol may end with (longest first when matching)
QUOTE_CURRENCIES = ("USDT", "TUSD", "EURS", "BTC", "ETH", "USD", "DAI")
_SYMBOL = re.compile(r"^([A-Z0-9]{2,12}?)(USDT|TUSD|EURS|BTC|ETH|USD|DAI)\Z")
_CURRENCY = re.compile(r"^[A-Z0-9]{2,12}\Z")

DEFAULT_LISTED = ("ETHBTC", "BTCUSD", "LTCBTC", "XRPBTC", "ETHUSD")

_MARKETS: dict[str, dict[str, Any]] = {
    "BTC": {"mid": "0.05", "tick_size": "0.000001", "size_decimals": 4},
    "ETH": {"mid": "0.002", "tick_size": "0.0000001", "size_decimals": 3},
}
_FIAT = {"mid": "30000", "tick_size": "0.01", "size_decimals": 5}

_BALANCES = {"BTC": "10", "ETH": "100", "USD": "100000", "USDT": "100000", "LTC": "500", "XRP": "100000"}


#: candle period -> interval, filled on first use
_PERIODS: dict[str, Interval] = {}


def period_interval(period: str) -> Interval:
    """The interval of a candle period from :data:`CANDLE_PERIODS` (``"M15"``, ``"D7"``, ``"1M"``).

    Example:
        >>> period_interval("M15").seconds, period_interval("H4").seconds
        (900, 14400)
    """
    found = _PERIODS.get(period)
    if found is None:
        if period not in CANDLE_PERIODS:
            raise InvalidArgument("period", period, f"must be one of {', '.join(CANDLE_PERIODS)}")
        found = _PERIODS[period] = parse_interval(period, "period")
    return found


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _positive(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (ArithmeticError, ValueError):
        return None
    return number if number.is_finite() and number > 0 else None


class RpcError(Exception):
    """An error reply the simulator sends: JSON-RPC ``code``, ``message``, ``description``."""

    def __init__(self, code: int, message: str, description: str = "") -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.description = description

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.description:
            out["description"] = self.description
        return out


def symbol_not_found(symbol: Any) -> RpcError:
    return RpcError(
        2001, "Symbol not found", f"Try get /api/2/public/symbol, to get list of all available symbols ({symbol})"
    )


AUTH_REQUIRED = RpcError(1001, "Authorization required")
AUTH_FAILED = RpcError(1002, "Authorization failed")


class HitBTCSim(SimServer):
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

    venue: ClassVar[str] = "hitbtc"
    path: ClassVar[str] = "/api/2/ws"
    #: the version segment of the URL paths (``/api/2/ws/public``)
    api_version: ClassVar[int] = 2

    def __init__(
        self,
        *,
        api_keys: Mapping[str, str] | None = None,
        unknown_symbols: Iterable[str] = (),
        listed_symbols: Iterable[str] = DEFAULT_LISTED,
        resnapshot_after: float | None = 1.0,
        ticker_interval: float = 0.5,
        ticker_quiet_resend: float = 15.0,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.api_keys = dict(api_keys if api_keys is not None else {"sim-key": "sim-secret"})
        self.unknown_symbols = set(unknown_symbols)
        self.listed_symbols = list(listed_symbols)
        self.resnapshot_after = resnapshot_after
        self.ticker_interval = ticker_interval
        self.ticker_quiet_resend = ticker_quiet_resend
        #: symbol -> last orderbook sequence number sent (loop thread)
        self.sequences: dict[str, int] = {}
        #: account (API key) -> clientOrderId -> active order (v2 field names)
        self.orders: dict[str, dict[str, dict[str, Any]]] = {}
        self._order_ids = itertools.count(1_000_000_001)
        self._last_ticker: dict[str, float] = {}
        self._last_touch: dict[str, tuple[Any, Any]] = {}
        self._methods: dict[str, Callable[[SimConnection, Any, dict[str, Any]], None]] = self._method_table()

    # -- urls ------------------------------------------------------------------------------

    @property
    def public_url(self) -> str:
        """``ws://127.0.0.1:PORT/api/2/ws/public`` (market data)."""
        return f"ws://{self.host}:{self.port}/api/{self.api_version}/ws/public"

    @property
    def trading_url(self) -> str:
        """``ws://127.0.0.1:PORT/api/2/ws/trading`` (login, reports, orders)."""
        return f"ws://{self.host}:{self.port}/api/{self.api_version}/ws/trading"

    # -- symbols ---------------------------------------------------------------------------

    def is_known(self, symbol: Any) -> bool:
        """The simulator's rule for an existing symbol (see the module docstring)."""
        return isinstance(symbol, str) and symbol not in self.unknown_symbols and _SYMBOL.match(symbol) is not None

    def split_symbol(self, symbol: str) -> tuple[str, str]:
        """``("ETH", "BTC")`` for ``"ETHBTC"`` (the symbol must be known)."""
        match = _SYMBOL.match(symbol)
        if match is None:
            raise InvalidArgument("symbol", symbol, "not a simulated HitBTC symbol")
        return match.group(1), match.group(2)

    def market_options(self, symbol: str) -> dict[str, Any]:
        quote = self.split_symbol(symbol)[1] if self.is_known(symbol) else ""
        return {**_MARKETS.get(quote, _FIAT), "levels": 100}

    def _require_symbol(self, symbol: Any) -> str:
        if not self.is_known(symbol):
            raise symbol_not_found(symbol)
        return str(symbol)

    def _all_symbols(self) -> list[str]:
        seen = dict.fromkeys([s for s in self.listed_symbols if self.is_known(s)])
        seen.update(dict.fromkeys(s for s in self.markets if self.is_known(s)))
        return list(seen)

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        """The v2 ``getSymbol`` object of ``symbol``."""
        base, quote = self.split_symbol(symbol)
        m = self.market(symbol)
        return {
            "id": symbol,
            "baseCurrency": base,
            "quoteCurrency": quote,
            "quantityIncrement": m.size_text(1),
            "tickSize": m.price_text(1),
            "takeLiquidityRate": "0.0025",
            "provideLiquidityRate": "0.001",
            "feeCurrency": quote,
        }

    def _currencies(self) -> list[str]:
        out: dict[str, None] = {}
        for symbol in self._all_symbols():
            out.update(dict.fromkeys(self.split_symbol(symbol)))
        return list(out)

    def currency_info(self, currency: str) -> dict[str, Any]:
        """The v2 ``getCurrency`` object of ``currency``."""
        return {
            "id": currency,
            "fullName": f"Simulated {currency}",
            "crypto": currency not in ("USD", "EURS"),
            "payinEnabled": True,
            "payinPaymentId": False,
            "payinConfirmations": 2,
            "payoutEnabled": True,
            "payoutIsPaymentId": False,
            "transferEnabled": True,
            "delisted": False,
            "payoutFee": "0.001",
        }

    # -- wire helpers ----------------------------------------------------------------------

    def reply(self, conn: SimConnection, rid: Any, result: Any) -> None:
        """A JSON-RPC result (nothing for a notification without id)."""
        if rid is not None:
            conn.send(_dumps({"jsonrpc": "2.0", "result": result, "id": rid}))

    def error(self, conn: SimConnection, rid: Any, err: RpcError) -> None:
        """A JSON-RPC error reply."""
        conn.send(_dumps({"jsonrpc": "2.0", "error": err.body(), "id": rid}))

    def notify(self, conn: SimConnection, method: str, params: Any) -> None:
        """A server notification ``{"jsonrpc","method","params"}``."""
        conn.send(_dumps({"jsonrpc": "2.0", "method": method, "params": params}))

    def _levels(self, m: SyntheticMarket, levels: Iterable[tuple[int, int]]) -> list[dict[str, str]]:
        return [{"price": m.price_text(p), "size": m.size_text(s)} for p, s in levels]

    def _trade_item(self, m: SyntheticMarket, t: SimTrade) -> dict[str, Any]:
        return {
            "id": t.id,
            "price": m.price_text(t.price),
            "quantity": m.size_text(t.size),
            "side": t.side,
            "timestamp": iso_ms(t.time),
        }

    def _candle_item(self, m: SyntheticMarket, start: float, trades: list[SimTrade]) -> dict[str, Any]:
        prices = [t.price for t in trades]
        quote = sum((Decimal(t.price * t.size) for t in trades), Decimal(0))
        quote *= m.tick_size * Decimal(10) ** -m.size_decimals
        return {
            "timestamp": iso_ms(start),
            "open": m.price_text(prices[0]),
            "close": m.price_text(prices[-1]),
            "min": m.price_text(min(prices)),
            "max": m.price_text(max(prices)),
            "volume": m.size_text(sum(t.size for t in trades)),
            "volumeQuote": format(quote, "f"),
        }

    def _ticker_item(self, symbol: str, m: SyntheticMarket, now: float) -> dict[str, Any]:
        s = m.ticker()

        def px(ticks: int | None) -> str | None:
            return m.price_text(ticks) if ticks is not None else None

        quote = Decimal(s.quote_volume) * m.tick_size * Decimal(10) ** -m.size_decimals
        return {
            "ask": px(s.ask[0] if s.ask else None),
            "bid": px(s.bid[0] if s.bid else None),
            "last": px(s.last),
            "open": px(s.open),
            "low": px(s.low),
            "high": px(s.high),
            "volume": m.size_text(s.volume),
            "volumeQuote": format(quote, "f"),
            "timestamp": iso_ms(now),
            "symbol": symbol,
        }

    # -- market-data frames (v3 overrides these) --------------------------------------------

    def send_book_snapshot(self, conn: SimConnection, symbol: str) -> None:
        m = self.market(symbol)
        bids, asks = m.bids(), m.asks()
        sequence = self.sequences.setdefault(symbol, self.symbol_seed(symbol) % 10_000_000)
        self.notify(
            conn,
            "snapshotOrderbook",
            {
                "ask": self._levels(m, asks),
                "bid": self._levels(m, bids),
                "symbol": symbol,
                "sequence": sequence,
                "timestamp": iso_ms(m.time),
            },
        )
        self.sent_book(symbol).replace(
            [(m.price_text(p), m.size_text(s)) for p, s in bids], [(m.price_text(p), m.size_text(s)) for p, s in asks]
        )
        self.record_truth(symbol, sequence)

    def book_update_frame(self, symbol: str, m: SyntheticMarket, changes: Iterable[LevelChange], sequence: int) -> str:
        ask = [{"price": m.price_text(c.price), "size": m.size_text(c.size)} for c in changes if c.side == "ask"]
        bid = [{"price": m.price_text(c.price), "size": m.size_text(c.size)} for c in changes if c.side == "bid"]
        params = {"ask": ask, "bid": bid, "symbol": symbol, "sequence": sequence, "timestamp": iso_ms(m.time)}
        return _dumps({"jsonrpc": "2.0", "method": "updateOrderbook", "params": params})

    def trades_frame(self, symbol: str, m: SyntheticMarket, trades: Iterable[SimTrade], snapshot: bool) -> str:
        method = "snapshotTrades" if snapshot else "updateTrades"
        data = [self._trade_item(m, t) for t in trades]
        return _dumps({"jsonrpc": "2.0", "method": method, "params": {"data": data, "symbol": symbol}})

    def candles_frame(self, symbol: str, period: str, items: list[dict[str, Any]], snapshot: bool) -> str:
        method = "snapshotCandles" if snapshot else "updateCandles"
        params = {"data": items, "symbol": symbol, "period": period}
        return _dumps({"jsonrpc": "2.0", "method": method, "params": params})

    def ticker_frame(self, symbol: str, m: SyntheticMarket, now: float) -> str:
        return _dumps({"jsonrpc": "2.0", "method": "ticker", "params": self._ticker_item(symbol, m, now)})

    # -- candles from the market's trades ---------------------------------------------------

    def candles_of(self, m: SyntheticMarket, interval: Interval, limit: int) -> list[dict[str, Any]]:
        """The last ``limit`` candles of ``interval`` from the market's trades, oldest first."""
        groups: list[tuple[float, list[SimTrade]]] = []
        for t in m.trades():
            start = interval.bucket_start(t.time)
            if groups and groups[-1][0] == start:
                groups[-1][1].append(t)
            else:
                groups.append((start, [t]))
        return [self._candle_item(m, start, trades) for start, trades in groups[-limit:]]

    def _current_candle(self, m: SyntheticMarket, interval: Interval) -> dict[str, Any] | None:
        history = m.trades()
        if not history:
            return None
        start = interval.bucket_start(history[-1].time)
        trades: list[SimTrade] = []
        for t in reversed(history):
            if t.time < start:
                break
            trades.append(t)
        trades.reverse()
        return self._candle_item(m, start, trades)

    # -- subscriptions ---------------------------------------------------------------------

    def market_subscription(
        self, channel: str, symbol: Any, params: dict[str, Any]
    ) -> tuple[tuple[str, str], dict[str, Any]]:
        """Validate a market-data subscription: ``(key, info)`` or :class:`RpcError`."""
        symbol = self._require_symbol(symbol)
        if self.faults.should_reject(symbol):
            raise symbol_not_found(symbol)
        limit = params.get("limit", 100)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= 1000:
            raise RpcError(10001, "Validation error", "limit must be an integer 1..1000")
        if channel == "candles":
            period = params.get("period", "M30")
            if period not in CANDLE_PERIODS:
                raise RpcError(10001, "Validation error", f"period must be one of {', '.join(CANDLE_PERIODS)}")
            channel = "candles-" + str(period)
        info: dict[str, Any] = {"limit": limit}
        if channel == "orderbook" and self.resnapshot_after is not None:
            info["resnapshot_at"] = self.clock() + self.resnapshot_after
        return (channel, symbol), info

    def send_initial(self, conn: SimConnection, key: tuple[str, str]) -> None:
        """What a new subscription gets first: the book snapshot, recent trades/candles, a ticker."""
        channel, symbol = key
        m = self.market(symbol)
        limit = conn.subscriptions[key]["limit"]
        if channel == "orderbook":
            self.send_book_snapshot(conn, symbol)
        elif channel == "trades":
            conn.send(self.trades_frame(symbol, m, m.trades()[-limit:], True))
        elif channel.startswith("candles-"):
            period = channel[8:]
            conn.send(self.candles_frame(symbol, period, self.candles_of(m, period_interval(period), limit), True))
        elif channel == "ticker":
            conn.send(self.ticker_frame(symbol, m, self.clock()))

    def subscribe_market(
        self, conn: SimConnection, rid: Any, channel: str, symbol: Any, params: dict[str, Any]
    ) -> None:
        """Validate, answer ``result: true``, record the subscription and send its snapshot."""
        key, info = self.market_subscription(channel, symbol, params)
        conn.subscriptions[key] = info
        self.reply(conn, rid, True)
        self.send_initial(conn, key)

    def unsubscribe_market(
        self, conn: SimConnection, rid: Any, channel: str, symbol: Any, params: dict[str, Any]
    ) -> None:
        symbol = self._require_symbol(symbol)
        if channel == "candles":
            channel = "candles-" + str(params.get("period", "M30"))
        conn.subscriptions.pop((channel, symbol), None)
        self.reply(conn, rid, True)

    def resnapshot(self, symbol: str) -> int:
        """Send the unsolicited re-snapshot of ``symbol`` to every subscriber now (any thread)."""

        def run() -> int:
            n = 0
            for conn in self.connections:
                if ("orderbook", symbol) in conn.subscriptions and conn.is_open:
                    self.send_book_snapshot(conn, symbol)
                    n += 1
            return n

        return self.call(run)

    # -- market steps ----------------------------------------------------------------------

    def on_step(self, symbol: str, market: SyntheticMarket, step: MarketStep) -> None:
        conns = [c for c in self.connections if c.is_open]
        book_key = ("orderbook", symbol)
        if step.changes:
            sequence = self.sequences.setdefault(symbol, self.symbol_seed(symbol) % 10_000_000) + 1
            book_subs = [c for c in conns if book_key in c.subscriptions]
            if book_subs and self.faults.take_skip_sequence(symbol):
                sequence += 1
            self.sequences[symbol] = sequence
            if book_subs:
                frame = self.book_update_frame(symbol, market, step.changes, sequence)
                for c in book_subs:
                    c.send(frame)
                sent = self.sent_book(symbol)
                for change in step.changes:
                    sent.set(change.side, market.price_text(change.price), market.size_text(change.size))
                self.record_truth(symbol, sequence)
        if step.trades:
            trade_subs = [c for c in conns if ("trades", symbol) in c.subscriptions]
            if trade_subs:
                frame = self.trades_frame(symbol, market, step.trades, False)
                for c in trade_subs:
                    c.send(frame)
            candle_frames: dict[str, str] = {}
            for c in conns:
                for key in c.subscriptions:
                    if key[1] == symbol and key[0].startswith("candles-"):
                        period = key[0][8:]
                        frame_c = candle_frames.get(period)
                        if frame_c is None:
                            item = self._current_candle(market, period_interval(period))
                            items = [item] if item is not None else []
                            frame_c = candle_frames[period] = self.candles_frame(symbol, period, items, False)
                        c.send(frame_c)
        now = step.time
        touch = (market.best_bid(), market.best_ask())
        since = now - self._last_ticker.get(symbol, 0.0)
        changed = bool(step.trades) or touch != self._last_touch.get(symbol)
        # on change (throttled), and re-sent on quiet symbols like the real venue (~15 s)
        if (changed and since >= self.ticker_interval) or since >= self.ticker_quiet_resend:
            ticker_subs = [c for c in conns if ("ticker", symbol) in c.subscriptions]
            if ticker_subs:
                self._last_ticker[symbol] = now
                self._last_touch[symbol] = touch
                frame = self.ticker_frame(symbol, market, now)
                for c in ticker_subs:
                    c.send(frame)
        if self.resnapshot_after is not None:
            clock = self.clock()
            for c in conns:
                info = c.subscriptions.get(book_key)
                if info is not None and info.get("resnapshot_at", float("inf")) <= clock:
                    info.pop("resnapshot_at")
                    self.send_book_snapshot(c, symbol)

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

    def trades_history(self, symbol: str, params: Mapping[str, Any]) -> list[SimTrade]:
        """Trades for ``getTrades`` / REST: ``sort`` ASC|DESC, ``by`` timestamp|id, ``from``, ``till``,
        ``limit`` (<= 1000, default 100), ``offset``."""
        m = self.market(symbol)
        trades = m.trades()
        by = params.get("by", "timestamp")
        if by not in ("timestamp", "id"):
            raise RpcError(10001, "Validation error", "by must be timestamp or id")

        def bound(value: Any) -> float | None:
            if value is None:
                return None
            if by == "id":
                return float(value)
            return parse_iso(str(value)) if not isinstance(value, (int, float)) else float(value)

        try:
            low, high = bound(params.get("from")), bound(params.get("till"))
            limit = int(params.get("limit", 100))
            offset = int(params.get("offset", 0))
        except (TypeError, ValueError):
            raise RpcError(10001, "Validation error", "bad from/till/limit/offset") from None
        if not 0 < limit <= 1000 or not 0 <= offset <= 100_000:
            raise RpcError(10001, "Validation error", "limit must be 1..1000 and offset 0..100000")

        def value(t: SimTrade) -> float:
            return float(t.id) if by == "id" else t.time

        picked = [t for t in trades if (low is None or value(t) >= low) and (high is None or value(t) <= high)]
        if str(params.get("sort", "DESC")).upper() == "DESC":
            picked.reverse()
        return picked[offset : offset + limit]

    def _get_trades(self, conn: SimConnection, rid: Any, params: dict[str, Any]) -> None:
        symbol = self._require_symbol(params.get("symbol"))
        m = self.market(symbol)
        data = [self._trade_item(m, t) for t in self.trades_history(symbol, params)]
        self.reply(conn, rid, {"data": data, "symbol": symbol})

    # -- login and trading -----------------------------------------------------------------

    def check_login(self, conn: SimConnection, algo: Any, key: Any, secret: Any, message: Any, signature: Any) -> None:
        """Verify BASIC (secret) or HS256 (``signature`` of ``message``) and bind the account."""
        if algo not in ("BASIC", "HS256"):
            raise RpcError(1004, "Unsupported authorization method", str(algo)[:20])
        known = self.api_keys.get(key) if isinstance(key, str) else None
        if known is None:
            conn.state.pop("account", None)
            raise AUTH_FAILED
        if algo == "BASIC":
            ok = isinstance(secret, str) and hmac.compare_digest(secret, known)
        else:
            expected = hmac.new(known.encode(), str(message).encode(), hashlib.sha256).hexdigest()
            ok = isinstance(signature, str) and hmac.compare_digest(signature, expected)
        if not ok:
            conn.state.pop("account", None)
            raise AUTH_FAILED
        conn.state["account"] = key

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

    def account_of(self, conn: SimConnection) -> str:
        """The logged-in account of ``conn`` or the 1001 error."""
        account = conn.state.get("account")
        if account is None:
            raise AUTH_REQUIRED
        return str(account)

    def report_view(self, order: dict[str, Any]) -> dict[str, Any]:
        """An order as the wire shows it (v2: the stored v2 fields)."""
        return dict(order)

    def send_reports(self, account: str, order: dict[str, Any]) -> None:
        """The ``report`` notification to every connection of ``account`` subscribed to reports."""
        view = self.report_view(order)
        for c in self.connections:
            if c.is_open and c.state.get("account") == account and ("reports", "") in c.subscriptions:
                self.notify(c, self.report_method, view)

    report_method: ClassVar[str] = "report"
    active_orders_method: ClassVar[str] = "activeOrders"

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

    def place_order(
        self,
        account: str,
        client_order_id: Any,
        symbol: Any,
        side: Any,
        order_type: Any,
        time_in_force: Any,
        quantity: Any,
        price: Any,
    ) -> dict[str, Any]:
        """Validate and store a new order; returns it (v2 field names)."""
        symbol = self._require_symbol(symbol)
        if side not in ("buy", "sell"):
            raise RpcError(10001, "Validation error", "side must be buy or sell")
        order_type = order_type or "limit"
        if order_type not in ("limit", "market", "stopLimit", "stopMarket"):
            raise RpcError(10001, "Validation error", "unknown order type")
        qty = _positive(quantity)
        if qty is None:
            raise RpcError(10001, "Validation error", "quantity must be a positive number")
        px = _positive(price) if price is not None else None
        if order_type in ("limit", "stopLimit") and px is None:
            raise RpcError(10001, "Validation error", "price must be a positive number")
        book = self.orders.setdefault(account, {})
        if client_order_id is None:
            client_order_id = f"sim{next(self._order_ids)}"
        if not isinstance(client_order_id, str) or not client_order_id:
            raise RpcError(10001, "Validation error", "clientOrderId must be a string")
        if client_order_id in book:
            raise RpcError(20008, "Duplicate clientOrderId", client_order_id)
        now = iso_ms(self.clock())
        order = {
            "id": str(next(self._order_ids)),
            "clientOrderId": client_order_id,
            "symbol": symbol,
            "side": side,
            "status": "new",
            "type": order_type,
            "timeInForce": time_in_force or "GTC",
            "quantity": str(quantity),
            "price": str(price) if price is not None else None,
            "cumQuantity": "0",
            "postOnly": False,
            "createdAt": now,
            "updatedAt": now,
            "reportType": "new",
        }
        book[client_order_id] = order
        return order

    def cancel(self, account: str, client_order_id: Any) -> dict[str, Any]:
        """Remove an active order; returns its final (canceled) state."""
        order = self.orders.get(account, {}).pop(client_order_id, None) if isinstance(client_order_id, str) else None
        if order is None:
            raise RpcError(20002, "Order not found", f"{client_order_id}")
        order = {**order, "status": "canceled", "reportType": "canceled", "updatedAt": iso_ms(self.clock())}
        return order

    def replace(self, account: str, client_order_id: Any, new_id: Any, quantity: Any, price: Any) -> dict[str, Any]:
        """Replace an active order by a new one with id ``new_id``; returns the new order."""
        book = self.orders.get(account, {})
        old = book.get(client_order_id) if isinstance(client_order_id, str) else None
        if old is None:
            raise RpcError(20002, "Order not found", f"{client_order_id}")
        if not isinstance(new_id, str) or not new_id:
            raise RpcError(10001, "Validation error", "requestClientId must be a string")
        if new_id in book:
            raise RpcError(20008, "Duplicate clientOrderId", new_id)
        if _positive(quantity) is None or (price is not None and _positive(price) is None):
            raise RpcError(10001, "Validation error", "quantity and price must be positive numbers")
        del book[client_order_id]
        order = {
            **old,
            "id": str(next(self._order_ids)),
            "clientOrderId": new_id,
            "quantity": str(quantity),
            "price": str(price) if price is not None else old["price"],
            "updatedAt": iso_ms(self.clock()),
            "reportType": "replaced",
            "originalRequestClientOrderId": client_order_id,
        }
        book[new_id] = order
        return order

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

    def balances(self, account: str) -> list[dict[str, str]]:
        """Static balances; ``reserved`` is what the account's open orders hold (sim: 0)."""
        return [{"currency": c, "available": v, "reserved": "0"} for c, v in _BALANCES.items()]

    def _trading_balance(self, conn: SimConnection, rid: Any, p: dict[str, Any]) -> None:
        self.reply(conn, rid, self.balances(self.account_of(conn)))
