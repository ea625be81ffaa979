"""Binance spot simulator: combined streams with ``U``/``u`` diffs and the REST depth snapshot.

Speaks the protocol of ``protocols.md`` 4.8 on 127.0.0.1:

* websocket ``/stream`` (combined: frames wrapped as ``{"stream": name, "data": …}``), also
  ``/stream?streams=a/b`` (pre-subscribed) and ``/ws/<stream>`` (raw payloads);
* ``SUBSCRIBE`` / ``UNSUBSCRIBE`` / ``LIST_SUBSCRIPTIONS`` / ``GET_PROPERTY`` / ``SET_PROPERTY`` with ids,
  answered ``{"result": …, "id": n}``; malformed requests get
  ``{"error": {"code": …, "msg": …}, "id": …}`` (code 3 invalid JSON, code 2 invalid request);
* streams ``<symbol>@depth@100ms`` (every tick), ``<symbol>@depth`` / ``@depth@1000ms`` (once a
  second), ``@trade``, ``@aggTrade``, ``@kline_<interval>``, ``@bookTicker``, ``@ticker`` and
  ``@miniTicker`` (rolling 24 h, once a second) and the all-market arrays ``!ticker@arr`` and
  ``!miniTicker@arr``; ``/ws/<name>`` opens even when ``<name>`` is no stream (ccxt connects to
  ``/ws/<n>`` and subscribes afterwards), as Binance does;
* REST ``GET /api/v3/depth?symbol=…&limit=…`` (on the websocket port and on ``http_url``),
  ``/api/v3/exchangeInfo[?symbol=…]`` (assets, precisions, price and lot filters),
  ``/api/v3/ping``, ``/api/v3/time``;
* more than ``max_messages_per_second`` client messages in one second close the connection
  (1008), as Binance does above 5/s; server pings every 20 s.

Update ids: every tick that changes the book takes one id per changed level, so a diff covers
``U..u`` with ``U`` equal to the previous ``u + 1``; the REST snapshot's ``lastUpdateId`` is the
``u`` of the last tick, taken on the loop thread, so snapshot and diffs always agree.
``faults.skip_sequence(symbol)`` loses one id (and, on the 1000 ms stream, the diffs pending
in that second), which a client must detect by the bridge rule.

Unknown symbols: with ``listed`` given only those symbols exist; by default every well-formed
symbol (2-20 letters/digits) is served.  Subscribing an unknown symbol (or one rejected with
``faults.reject_subscriptions``) answers the request with code 2 ``Invalid symbol``; REST answers
HTTP 400 ``{"code": -1121, "msg": "Invalid symbol."}``.

``truth(symbol)`` is the full book a synced client has (upper-case symbol).

Example:
    >>> import json, urllib.request, websocket
    >>> with BinanceSpotSim(seed=1) as sim:
    ...     ws = websocket.create_connection(sim.url)
    ...     _ = ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 1}))
    ...     print(ws.recv())
    ...     diff = json.loads(ws.recv())["data"]
    ...     body = urllib.request.urlopen(sim.http_url + "/api/v3/depth?symbol=BTCUSDT&limit=5").read()
    ...     ws.close()
    {"result":null,"id":1}
    >>> diff["e"], diff["U"] <= diff["u"], len(json.loads(body)["bids"])
    ('depthUpdate', True, 5)
"""

from __future__ import annotations

import collections
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

import orjson

from ...codec import Key
from ...errors import InvalidArgument
from ...intervals import parse_interval
from ...venues.binance_spot.codec import KLINE_INTERVALS
from ..kit.clock import epoch_ms
from ..kit.klines import KlineBar
from ..kit.presets import market_options_for
from ..market import MarketStep, SyntheticMarket, format_units
from ..server import HttpRequest, HttpResponse, SimConnection, SimServer, json_response

__all__ = ["SPOT_INTERVALS", "BinanceSpotSim", "kline_payload"]

SPOT_INTERVALS: Final = KLINE_INTERVALS
_SYMBOL: Final = re.compile(r"^[a-z0-9]{2,20}\Z")
#: diff stream channel -> seconds between diffs
_DEPTH_SPEEDS: Final = {"depth@100ms": 0.1, "depth": 1.0, "depth@1000ms": 1.0}
_PLAIN_CHANNELS: Final = frozenset({"trade", "aggTrade", "bookTicker", "ticker", "miniTicker"})
#: all-market array streams (no symbol): stream name -> per-symbol channel they gather
_ARRAY_STREAMS: Final = {"!ticker@arr": "ticker", "!miniTicker@arr": "miniTicker"}
#: rolling-window tickers are pushed once a second
_TICKER_PERIOD: Final = 1.0
_REST_LIMIT_MAX: Final = 5000
_MAX_STREAMS: Final = 1024
_DECIMALS: Final = 8


def kline_payload(bar: KlineBar, market: SyntheticMarket, symbol: str, closed: bool) -> dict[str, Any]:
    """The ``k`` object of a Binance spot kline event."""
    t = bar.texts(market, _DECIMALS)
    return {
        "t": epoch_ms(bar.open_time),
        "T": epoch_ms(bar.close_time) - 1,
        "s": symbol,
        "i": bar.interval.name,
        "f": bar.first_id,
        "L": bar.last_id,
        "o": t.open,
        "c": t.close,
        "h": t.high,
        "l": t.low,
        "v": t.volume,
        "n": bar.count,
        "x": closed,
        "q": t.quote_volume,
        "V": t.buy_volume,
        "Q": t.buy_quote_volume,
        "B": "0",
    }


@dataclass
class _SymbolState:
    update_id: int
    top: tuple[Any, Any] = (None, None)
    slow_first: int | None = None  # first U of the pending 1000 ms diff
    slow_changes: dict[tuple[str, int], int] = field(default_factory=dict)
    slow_emitted: float = 0.0
    ticker_emitted: float = 0.0
    last_trade_id: int = -1
    bars: dict[str, KlineBar] = field(default_factory=dict)


class _RequestError(Exception):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


class BinanceSpotSim(SimServer):
    """Binance spot websocket + REST depth simulator (see the module docstring).

    Args:
        listed: the symbols that exist (any case); ``None`` = every well-formed symbol.
        max_messages_per_second: client messages allowed per second per connection (Binance: 5);
            ``None`` disables the limit.
        options: :class:`~rxfeeds.sim.server.SimServer` arguments (``seed``, ``port``,
            ``tick_interval``, ``symbols`` …).
    """

    venue = "binance-spot"
    path = "/stream"
    ping_interval = 20.0

    def __init__(
        self,
        *,
        listed: Iterable[str] | None = None,
        max_messages_per_second: int | None = 5,
        **options: Any,
    ) -> None:
        symbols = options.pop("symbols", ())
        options["symbols"] = [s.upper() for s in ([symbols] if isinstance(symbols, str) else symbols)]
        super().__init__(**options)
        if isinstance(listed, str):
            listed = [listed]
        self.listed: frozenset[str] | None = None if listed is None else frozenset(s.upper() for s in listed)
        if max_messages_per_second is not None and max_messages_per_second < 1:
            raise InvalidArgument("max_messages_per_second", max_messages_per_second, "must be >= 1 or None")
        self.max_messages_per_second = max_messages_per_second
        self._states: dict[str, _SymbolState] = {}
        #: (channel, SYMBOL) -> connections subscribed to that stream
        self._watchers: dict[Key, dict[int, SimConnection]] = {}
        #: tickers pushed in the current tick, gathered for the ``!…@arr`` streams
        self._array_pending: dict[str, list[dict[str, Any]]] | None = None

    # -- venue helpers ----------------------------------------------------------------------

    def market_options(self, symbol: str) -> dict[str, Any]:
        return market_options_for(symbol)

    def truth(self, key: Any, depth: int | None = None) -> Any:
        """The book a synced client has for ``key`` (a symbol, any case)."""
        if isinstance(key, str):
            key = key.upper()
            if self.running:
                self.call(self._state, key)  # a market nobody stepped yet still has a book
        return super().truth(key, depth)

    def update_id(self, symbol: str) -> int:
        """The last update id (``u``) of ``symbol``'s book (any case; thread-safe)."""
        return self.call(lambda: self._state(symbol.upper()).update_id)

    def is_listed(self, symbol: str) -> bool:
        """Whether ``symbol`` (any case) exists on this simulated venue."""
        if not _SYMBOL.match(symbol.lower()):
            return False
        return self.listed is None or symbol.upper() in self.listed

    def _state(self, symbol: str) -> _SymbolState:
        """Per-symbol venue state; creates the market (and the sent book) on first use."""
        st = self._states.get(symbol)
        if st is None:
            market = self.market(symbol)
            st = _SymbolState(update_id=1_000_000 + self.symbol_seed(symbol) % 1_000_000)
            self._states[symbol] = st
            book = self.sent_book(symbol)
            book.replace(
                [(market.price_text(p, _DECIMALS), market.size_text(q, _DECIMALS)) for p, q in market.bids()],
                [(market.price_text(p, _DECIMALS), market.size_text(q, _DECIMALS)) for p, q in market.asks()],
            )
            self.record_truth(symbol, st.update_id)
        return st

    @staticmethod
    def parse_stream(name: Any) -> Key:
        """``"btcusdt@depth@100ms"`` -> ``("depth@100ms", "BTCUSDT")``; raises ``ValueError`` if invalid."""
        if not isinstance(name, str):
            raise ValueError(f"stream name must be a string: {name!r}")
        if name in _ARRAY_STREAMS:
            return (name, "")
        symbol, sep, channel = name.partition("@")
        if not sep or not _SYMBOL.match(symbol):
            raise ValueError(f"invalid stream name {name!r}")
        if channel in _DEPTH_SPEEDS or channel in _PLAIN_CHANNELS:
            return (channel, symbol.upper())
        if channel.startswith("kline_") and channel[6:] in SPOT_INTERVALS:
            return (channel, symbol.upper())
        raise ValueError(f"invalid stream name {name!r}")

    # -- websocket ---------------------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["msg_times"] = collections.deque()
        names: list[str] = []
        if conn.path == "/ws" or conn.path.startswith("/ws/"):
            # Raw streams.  The path names streams (``/ws/a@trade/b@depth``), but Binance also
            # opens the socket when a path segment is no stream at all: clients such as ccxt
            # connect to ``/ws/<their own connection number>`` and then send SUBSCRIBE.
            conn.state["raw"] = True
            for name in conn.path[len("/ws/") :].split("/"):
                try:
                    key = self._checked_key(name)
                except _RequestError:
                    continue
                self._add(conn, name, key)
            return
        if conn.query.get("streams"):
            names = conn.query["streams"].split("/")
        try:
            keys = [self._checked_key(n) for n in names]
        except _RequestError as exc:
            conn.close(1008, exc.msg[:120])
            return
        for name, key in zip(names, keys, strict=True):
            self._add(conn, name, key)

    def on_disconnect(self, conn: SimConnection) -> None:
        for key in list(conn.subscriptions.values()):
            watchers = self._watchers.get(key)
            if watchers is not None:
                watchers.pop(conn.id, None)
                if not watchers:
                    del self._watchers[key]
        conn.subscriptions.clear()

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        if self._over_rate(conn):
            conn.close(1008, "Too many requests")
            return
        request_id: Any = None
        try:
            try:
                msg = orjson.loads(message)
            except orjson.JSONDecodeError as exc:
                raise _RequestError(3, f"Invalid JSON: {exc}") from None
            if not isinstance(msg, dict):
                raise _RequestError(2, "Invalid request: request must be a JSON object")
            request_id = msg.get("id")
            if not (
                (isinstance(request_id, int) and not isinstance(request_id, bool) and request_id >= 0)
                or (isinstance(request_id, str) and 0 < len(request_id) <= 36)
            ):
                request_id = None
                raise _RequestError(2, "Invalid request: request ID must be an unsigned integer")
            result = self._call(conn, msg.get("method"), msg.get("params"))
        except _RequestError as exc:
            conn.send(orjson.dumps({"error": {"code": exc.code, "msg": exc.msg}, "id": request_id}))
            return
        conn.send(orjson.dumps({"result": result, "id": request_id}))

    def on_oversize(self, conn: SimConnection, message: str | bytes) -> None:
        conn.send(orjson.dumps({"error": {"code": 2, "msg": "Invalid request: message too large"}, "id": None}))

    def _over_rate(self, conn: SimConnection) -> bool:
        limit = self.max_messages_per_second
        if limit is None:
            return False
        times: collections.deque[float] = conn.state["msg_times"]
        now = time.monotonic()
        times.append(now)
        while times and now - times[0] >= 1.0:
            times.popleft()
        return len(times) > limit

    def _call(self, conn: SimConnection, method: Any, params: Any) -> Any:
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not params:
                raise _RequestError(2, "Invalid request: params must be a non-empty array of stream names")
            keys = [self._checked_key(name) for name in params]
            if method == "SUBSCRIBE":
                fresh = {name for name in params if name not in conn.subscriptions}
                if len(conn.subscriptions) + len(fresh) > _MAX_STREAMS:
                    raise _RequestError(2, f"Invalid request: more than {_MAX_STREAMS} streams")
                for name, key in zip(params, keys, strict=True):
                    self._add(conn, name, key)
            else:
                for name in params:
                    self._drop(conn, name)
            return None
        if method == "LIST_SUBSCRIPTIONS":
            return list(conn.subscriptions)
        if method == "GET_PROPERTY":
            if params != ["combined"]:
                raise _RequestError(0, "Unknown property")
            return not conn.state.get("raw", False)
        if method == "SET_PROPERTY":
            if not isinstance(params, list) or len(params) != 2 or params[0] != "combined":
                raise _RequestError(0, "Unknown property")
            if not isinstance(params[1], bool):
                raise _RequestError(1, "Invalid value type: expected Boolean")
            conn.state["raw"] = not params[1]
            return None
        raise _RequestError(2, f"Invalid request: unknown method {method!r}")

    def _checked_key(self, name: Any) -> Key:
        try:
            key = self.parse_stream(name)
        except ValueError as exc:
            raise _RequestError(2, f"Invalid request: {exc}") from None
        if key[0] in _ARRAY_STREAMS:
            return key
        if not self.is_listed(key[1]) or self.faults.should_reject(key[1]):
            raise _RequestError(2, f"Invalid symbol: {key[1]} (stream {name!r})")
        return key

    def _add(self, conn: SimConnection, name: str, key: Key) -> None:
        if name in conn.subscriptions:
            return
        conn.subscriptions[name] = key
        self._watchers.setdefault(key, {})[conn.id] = conn
        if key[0] in _ARRAY_STREAMS:
            return
        st = self._state(key[1])
        channel = key[0]
        if channel.startswith("kline_") and channel not in st.bars:
            st.bars[channel] = KlineBar.current(parse_interval(channel[6:]), self.clock(), self.market(key[1]))

    def _drop(self, conn: SimConnection, name: str) -> None:
        key = conn.subscriptions.pop(name, None)
        if key is None:
            return
        watchers = self._watchers.get(key)
        if watchers is not None:
            watchers.pop(conn.id, None)
            if not watchers:
                del self._watchers[key]

    # -- market data -----------------------------------------------------------------------

    def _push(self, key: Key, data: dict[str, Any] | list[dict[str, Any]]) -> None:
        watchers = self._watchers.get(key)
        if not watchers:
            return
        wrapped: bytes | None = None
        raw: bytes | None = None
        for conn in list(watchers.values()):
            if conn.state.get("raw"):
                raw = raw or orjson.dumps(data)
                conn.send(raw)
            else:
                stream = f"{key[1].lower()}@{key[0]}" if key[1] else key[0]
                wrapped = wrapped or orjson.dumps({"stream": stream, "data": data})
                conn.send(wrapped)

    def on_step(self, symbol: str, market: SyntheticMarket, step: MarketStep) -> None:
        st = self._states.get(symbol)
        if st is None:
            self._state(symbol)  # created after this step: its book already includes it
            return
        now_ms = epoch_ms(step.time)
        self._depth(symbol, market, step, st, now_ms)
        self._trades(symbol, market, step, now_ms)
        self._book_ticker(symbol, market, st)
        self._klines(symbol, market, step, st, now_ms)
        self._tickers(symbol, market, step, st, now_ms)

    def on_tick(self, now: float) -> None:
        self._array_pending = {"ticker": [], "miniTicker": []}
        super().on_tick(now)
        # The all-market arrays carry the tickers of every symbol pushed in this round.
        for name, channel in _ARRAY_STREAMS.items():
            rows = self._array_pending[channel]
            if rows:
                self._push((name, ""), rows)

    def ticker_payloads(
        self, symbol: str, market: SyntheticMarket, now_ms: int, last_trade_id: int = -1
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ``24hrTicker`` and ``24hrMiniTicker`` events of ``symbol`` now (strings, 8 decimals)."""
        s = market.ticker()
        price = market.price_text
        bid = s.bid or (0, 0)
        ask = s.ask or (0, 0)
        last = s.last if s.last is not None else bid[0]
        opening = s.open if s.open is not None else last
        tick_units = int(market.tick_size.scaleb(market.price_decimals))
        scale = market.price_decimals + market.size_decimals
        quote = format_units(s.quote_volume * tick_units, scale, max(_DECIMALS, scale))
        # Weighted average price, rounded to the price's own ticks (Binance prints 8 decimals).
        vwap = round(s.quote_volume / s.volume) if s.volume else last
        pct = (Decimal(last - opening) * 100 / Decimal(opening)) if opening else Decimal(0)
        window_ms = round(market.ticker_window * 1000)
        # trade ids are consecutive, so the window's first id follows from the last one
        first = last_trade_id - s.count + 1 if s.count else -1
        full = {
            "e": "24hrTicker", "E": now_ms, "s": symbol,
            "p": price(last - opening, _DECIMALS) if last >= opening else "-" + price(opening - last, _DECIMALS),
            "P": str(pct.quantize(Decimal("0.001"))),
            "w": price(vwap, _DECIMALS),
            "x": price(opening, _DECIMALS),
            "c": price(last, _DECIMALS),
            "Q": market.size_text(s.last_size or 0, _DECIMALS),
            "b": price(bid[0], _DECIMALS), "B": market.size_text(bid[1], _DECIMALS),
            "a": price(ask[0], _DECIMALS), "A": market.size_text(ask[1], _DECIMALS),
            "o": price(opening, _DECIMALS),
            "h": price(s.high if s.high is not None else last, _DECIMALS),
            "l": price(s.low if s.low is not None else last, _DECIMALS),
            "v": market.size_text(s.volume, _DECIMALS),
            "q": quote,
            "O": now_ms - window_ms, "C": now_ms,
            "F": first, "L": (first + s.count - 1) if s.count else -1, "n": s.count,
        }  # fmt: skip
        mini = {"e": "24hrMiniTicker", "E": now_ms, "s": symbol}
        mini.update({k: full[k] for k in ("c", "o", "h", "l", "v", "q")})
        return full, mini

    def _tickers(self, symbol: str, market: SyntheticMarket, step: MarketStep, st: _SymbolState, now_ms: int) -> None:
        if step.time - st.ticker_emitted < _TICKER_PERIOD - 1e-6:
            return
        st.ticker_emitted = step.time
        pending = self._array_pending
        wanted = ("ticker", symbol) in self._watchers or ("miniTicker", symbol) in self._watchers
        if not wanted and not (pending is not None and any(("!" + c + "@arr", "") in self._watchers for c in pending)):
            return
        full, mini = self.ticker_payloads(symbol, market, now_ms, st.last_trade_id)
        self._push(("ticker", symbol), full)
        self._push(("miniTicker", symbol), mini)
        if pending is not None:
            pending["ticker"].append(full)
            pending["miniTicker"].append(mini)

    def _levels(
        self, market: SyntheticMarket, changes: Iterable[tuple[str, int, int]]
    ) -> tuple[list[list[str]], list[list[str]]]:
        bids: list[list[str]] = []
        asks: list[list[str]] = []
        for side, price, size in changes:
            level = [market.price_text(price, _DECIMALS), market.size_text(size, _DECIMALS)]
            (bids if side == "bid" else asks).append(level)
        return bids, asks

    def _depth(self, symbol: str, market: SyntheticMarket, step: MarketStep, st: _SymbolState, now_ms: int) -> None:
        if step.changes:
            skipped = self.faults.take_skip_sequence(symbol)
            first = st.update_id + 1 + (1 if skipped else 0)
            last = first + len(step.changes) - 1
            st.update_id = last
            book = self.sent_book(symbol)
            for c in step.changes:
                book.set(c.side, market.price_text(c.price, _DECIMALS), market.size_text(c.size, _DECIMALS))
            self.record_truth(symbol, last)
            bids, asks = self._levels(market, ((c.side, c.price, c.size) for c in step.changes))
            self._push(
                ("depth@100ms", symbol),
                {"e": "depthUpdate", "E": now_ms, "s": symbol, "U": first, "u": last, "b": bids, "a": asks},
            )
            if skipped or st.slow_first is None:
                # a lost id on the slow stream loses what was pending in that second too
                st.slow_first = first
                st.slow_changes.clear()
            for c in step.changes:
                st.slow_changes[(c.side, c.price)] = c.size
        if step.time - st.slow_emitted >= 1.0 - 1e-6:
            if st.slow_first is not None and st.slow_changes:
                bids, asks = self._levels(market, ((s, p, q) for (s, p), q in st.slow_changes.items()))
                data = {"e": "depthUpdate", "E": now_ms, "s": symbol, "U": st.slow_first, "u": st.update_id,
                        "b": bids, "a": asks}  # fmt: skip
                self._push(("depth", symbol), data)
                self._push(("depth@1000ms", symbol), data)
            st.slow_first = None
            st.slow_changes.clear()
            st.slow_emitted = step.time

    def _trades(self, symbol: str, market: SyntheticMarket, step: MarketStep, now_ms: int) -> None:
        for t in step.trades:
            self._states[symbol].last_trade_id = t.id
            p = market.price_text(t.price, _DECIMALS)
            q = market.size_text(t.size, _DECIMALS)
            self._push(
                ("trade", symbol),
                {"e": "trade", "E": now_ms, "s": symbol, "t": t.id, "p": p, "q": q, "b": 2 * t.id,
                 "a": 2 * t.id + 1, "T": epoch_ms(t.time), "m": t.side == "sell", "M": True},
            )  # fmt: skip
            self._push(
                ("aggTrade", symbol),
                {"e": "aggTrade", "E": now_ms, "s": symbol, "a": t.id, "p": p, "q": q, "f": t.id, "l": t.id,
                 "T": epoch_ms(t.time), "m": t.side == "sell", "M": True},
            )  # fmt: skip

    def _book_ticker(self, symbol: str, market: SyntheticMarket, st: _SymbolState) -> None:
        top = (market.best_bid(), market.best_ask())
        if top == st.top:
            return
        st.top = top
        bid, ask = top
        if bid is None or ask is None:
            return
        self._push(
            ("bookTicker", symbol),
            {"u": st.update_id, "s": symbol, "b": market.price_text(bid[0], _DECIMALS),
             "B": market.size_text(bid[1], _DECIMALS), "a": market.price_text(ask[0], _DECIMALS),
             "A": market.size_text(ask[1], _DECIMALS)},
        )  # fmt: skip

    def _klines(self, symbol: str, market: SyntheticMarket, step: MarketStep, st: _SymbolState, now_ms: int) -> None:
        for channel, bar in list(st.bars.items()):
            key = (channel, symbol)
            if key not in self._watchers:
                del st.bars[channel]  # nobody listens: stop building
                continue
            if step.time >= bar.close_time:
                self._push(key, {"e": "kline", "E": now_ms, "s": symbol, "k": kline_payload(bar, market, symbol, True)})
                bar = st.bars[channel] = KlineBar.start(bar.interval, step.time, bar.close)
            for t in step.trades:
                bar.add(t)
            if step.trades:
                k = kline_payload(bar, market, symbol, False)
                self._push(key, {"e": "kline", "E": now_ms, "s": symbol, "k": k})

    # -- REST ----------------------------------------------------------------------------------

    #: symbols ``exchangeInfo`` lists when the simulator serves every well-formed symbol
    default_listing: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "ETHBTC")

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        """The ``exchangeInfo`` entry of ``symbol``: assets, precisions and the price/lot filters."""
        options = market_options_for(symbol)
        for quote in ("USDT", "BUSD", "USDC", "TUSD", "BTC", "ETH", "EUR", "USD"):
            if symbol.endswith(quote) and len(symbol) > len(quote):
                base = symbol[: -len(quote)]
                break
        else:
            base, quote = symbol[:-3], symbol[-3:]
        tick = format_units(int(Decimal(options["tick_size"]).scaleb(_DECIMALS)), _DECIMALS)
        step = format_units(1, options["size_decimals"], _DECIMALS)
        return {
            "symbol": symbol,
            "status": "TRADING",
            "baseAsset": base,
            "baseAssetPrecision": 8,
            "quoteAsset": quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "1000000.00000000", "tickSize": tick},
                {"filterType": "LOT_SIZE", "minQty": step, "maxQty": "9000.00000000", "stepSize": step},
                {
                    "filterType": "NOTIONAL",
                    "minNotional": "5.00000000",
                    "applyMinToMarket": True,
                    "maxNotional": "9000000.00000000",
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    def _exchange_info(self, request: HttpRequest) -> HttpResponse:
        asked = request.query.get("symbol")
        if asked is not None:
            if not self.is_listed(asked) or asked != asked.upper():
                return json_response({"code": -1121, "msg": "Invalid symbol."}, 400)
            symbols = [asked]
        else:
            symbols = sorted(self.listed) if self.listed is not None else list(self.default_listing)
        return json_response(
            {
                "timezone": "UTC",
                "serverTime": epoch_ms(self.clock()),
                "rateLimits": [
                    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
                    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                ],
                "exchangeFilters": [],
                "symbols": [self.symbol_info(s) for s in symbols],
            }
        )

    def handle_http(self, request: HttpRequest) -> HttpResponse | None:
        if request.path == "/api/v3/ping":
            return json_response({})
        if request.path == "/api/v3/time":
            return json_response({"serverTime": epoch_ms(self.clock())})
        if request.path == "/api/v3/exchangeInfo":
            return self._exchange_info(request)
        if request.path != "/api/v3/depth":
            return None
        if request.method != "GET":
            return json_response({"code": -1102, "msg": "Use GET."}, 405)
        symbol = request.query.get("symbol", "")
        if not symbol:
            return json_response(
                {
                    "code": -1102,
                    "msg": "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
                },
                400,
            )
        if not self.is_listed(symbol) or symbol != symbol.upper():
            return json_response({"code": -1121, "msg": "Invalid symbol."}, 400)
        raw_limit = request.query.get("limit", "100")
        try:
            limit = int(raw_limit)
            if not 1 <= limit <= _REST_LIMIT_MAX:
                raise ValueError
        except ValueError:
            return json_response(
                {
                    "code": -1100,
                    "msg": f"Illegal value in parameter 'limit'; legal range is '1-{_REST_LIMIT_MAX}'.",
                },
                400,
            )
        st = self._state(symbol)
        market = self.market(symbol)
        return json_response(
            {
                "lastUpdateId": st.update_id,
                "bids": [
                    [market.price_text(p, _DECIMALS), market.size_text(q, _DECIMALS)] for p, q in market.bids(limit)
                ],
                "asks": [
                    [market.price_text(p, _DECIMALS), market.size_text(q, _DECIMALS)] for p, q in market.asks(limit)
                ],
            }
        )
