"""Binance DEX (Binance Chain) simulator: all twelve streams, method/topic control, URL stream forms.

The live venue was shut down in December 2024; this server keeps its websocket protocol
(``protocols.md`` section 4) alive for tests, demos and replay:

* connections under ``/api/``: ``/api/ws`` (empty, subscribe on demand), ``/api/ws/<stream>``
  (one stream, e.g. ``BNB_BTCB-1DE@marketDepth``), ``/api/ws/<address>`` (the three personal
  streams), ``/api/stream?streams=a/b`` (several);
* client messages ``subscribe`` / ``unsubscribe`` (``topic`` plus ``symbols``, or ``address`` /
  ``userAddress`` for ``accounts``, ``orders``, ``transfers``), ``keepAlive`` (counted) and
  ``close`` (the server closes the connection);
* one address per connection: subscribing another address drops the previous one's streams;
* every frame is ``{"stream": <topic>, "data": …}``.

Per tick (one block: ``blockheight`` rises by one): ``trades``, ``marketDiff`` (``E`` = block
height, absolute sizes, 0 = delete), ``marketDepth``/``100``/``500``/``1000`` (top-N snapshot,
``lastUpdateId`` = block height), ``kline_<i>``; once a second ``ticker``, ``miniTicker``,
``allTickers``, ``allMiniTickers``; every ``account_every`` ticks synthetic activity for each
subscribed address: an order report, a balance update and a transfer (kept in
``account_log[address]`` as sent).

The venue never documented errors; this simulator answers a bad request with
``{"error": {"code", "msg"}, "method", "topic", "symbols" | "address"}`` (code 400 malformed,
404 unknown symbol), which :class:`~rxfeeds.venues.binance_dex.codec.BinanceDexCodec` maps to
the subscription it names.  Unknown symbols: with ``listed`` given only those exist, otherwise
every well-formed ``BASE_QUOTE`` symbol; ``faults.reject_subscriptions`` also applies.

``truth(symbol)`` is the full book implied by ``marketDiff`` (upper-case symbol).

Example:
    >>> import json, websocket
    >>> with BinanceDexSim(seed=1) as sim:
    ...     ws = websocket.create_connection(sim.url + "ws/BNB_BTCB-1DE@marketDepth")
    ...     msg = json.loads(ws.recv())
    ...     ws.close()
    >>> msg["stream"], len(msg["data"]["bids"])
    ('marketDepth', 20)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from ..codec import Key
from ..intervals import parse_interval
from ..venues.binance_dex.codec import (
    ACCOUNT_TOPICS,
    ALL_MARKET_TOPICS,
    ALL_SYMBOLS,
    DEPTH_TOPICS,
    KLINE_INTERVALS,
)
from .kit import bech32
from .kit.clock import epoch_ms
from .kit.klines import KlineBar
from .kit.presets import market_options_for
from .market import MarketStep, SyntheticMarket
from .server import SimConnection, SimServer

__all__ = ["BinanceDexSim"]

_DECIMALS: Final = 8
_DEPTH_LEVELS: Final = {topic: levels for levels, topic in DEPTH_TOPICS.items()}
_SYMBOL_TOPICS: Final = frozenset(
    {"trades", "marketDiff", "ticker", "miniTicker", *DEPTH_TOPICS.values()} | {f"kline_{i}" for i in KLINE_INTERVALS}
)
_STATUSES: Final = ("Ack", "PartialFill", "FullyFill")


#: a market symbol BASE_QUOTE: tokens of letters/digits/dots with an optional ``-XXX`` issue
#: suffix, as the DEX lists them (``BNB_BTCB-1DE``, ``ANKR-E97_BNB``)
_TOKEN: Final = r"[A-Z0-9.]{2,14}(?:-[A-Z0-9]{3,4})?"
_SYMBOL_RE: Final = re.compile(rf"{_TOKEN}_{_TOKEN}")
_ADDRESS_PREFIXES: Final = ("bnb", "tbnb")  # mainnet, testnet
_ADDRESS_BYTES: Final = 20


def is_symbol(symbol: object) -> bool:
    """Whether ``symbol`` names a DEX market (any case).

    Example:
        >>> is_symbol("bnb_btcb-1de"), is_symbol("BNBBTC"), is_symbol("BNB/BTC")
        (True, False, False)
    """
    return isinstance(symbol, str) and _SYMBOL_RE.fullmatch(symbol.upper()) is not None


def is_address(address: object) -> bool:
    """Whether ``address`` is a Binance Chain account address: bech32, ``bnb``/``tbnb``, 20 bytes.

    Example:
        >>> is_address(bech32.encode("bnb", bytes(20))), is_address("bnb1qqqq")
        (True, False)
    """
    if not isinstance(address, str):
        return False
    decoded = bech32.decode(address)
    return decoded is not None and decoded[0] in _ADDRESS_PREFIXES and len(decoded[1]) == _ADDRESS_BYTES


@dataclass
class _SymbolState:
    bars: dict[str, KlineBar] = field(default_factory=dict)


class _Refused(Exception):
    def __init__(self, code: int, msg: str, symbols: list[str] | None = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.symbols = symbols


class BinanceDexSim(SimServer):
    """Binance DEX websocket simulator (see the module docstring).

    Args:
        listed: the market symbols that exist (any case); ``None`` = every well-formed symbol.
        account_every: ticks between synthetic account activities per subscribed address.
        start_height: block height before the first tick.
        options: :class:`~rxfeeds.sim.server.SimServer` arguments.
    """

    venue = "binance-dex"
    path = "/api/"
    ping_interval = 30.0

    def __init__(
        self,
        *,
        listed: Iterable[str] | None = None,
        account_every: int = 3,
        start_height: int = 300_000_000,
        **options: Any,
    ) -> None:
        symbols = options.pop("symbols", ())
        options["symbols"] = [s.upper() for s in ([symbols] if isinstance(symbols, str) else symbols)]
        super().__init__(**options)
        if isinstance(listed, str):
            listed = [listed]
        self.listed: frozenset[str] | None = None if listed is None else frozenset(s.upper() for s in listed)
        self.account_every = max(1, account_every)
        #: current block height (one block per tick)
        self.height = start_height
        #: ``keepAlive`` messages received, over all connections
        self.keepalives = 0
        #: ``close`` messages received
        self.close_requests = 0
        #: address -> [(topic, data)] of every account payload sent
        self.account_log: dict[str, list[tuple[str, Any]]] = {}
        self._states: dict[str, _SymbolState] = {}
        self._watchers: dict[Key, dict[int, SimConnection]] = {}
        self._ticks = 0
        self._last_ticker = 0.0
        self._activity: dict[str, int] = {}

    # -- venue helpers ----------------------------------------------------------------------

    def market_options(self, symbol: str) -> dict[str, Any]:
        base, _, quote = symbol.partition("_")
        base, quote = base.split("-")[0], quote.split("-")[0]
        if quote.startswith("BTC"):
            quote = "BTC"
        elif quote.startswith(("USD", "BUSD")):
            quote = "USDT"
        return market_options_for(base + quote)

    def truth(self, key: Any, depth: int | None = None) -> Any:
        """The book implied by ``marketDiff`` for ``key`` (a symbol, any case)."""
        if isinstance(key, str):
            key = key.upper()
            if self.running:
                self.call(self._state, key)  # a market nobody stepped yet still has a book
        return super().truth(key, depth)

    def is_listed(self, symbol: str) -> bool:
        """Whether ``symbol`` (any case) exists on this simulated venue."""
        return is_symbol(symbol) and (self.listed is None or symbol.upper() in self.listed)

    def _state(self, symbol: str) -> _SymbolState:
        st = self._states.get(symbol)
        if st is None:
            market = self.market(symbol)
            st = self._states[symbol] = _SymbolState()
            self.sent_book(symbol).replace(
                [(market.price_text(p, _DECIMALS), market.size_text(q, _DECIMALS)) for p, q in market.bids()],
                [(market.price_text(p, _DECIMALS), market.size_text(q, _DECIMALS)) for p, q in market.asks()],
            )
        return st

    def parse_stream(self, name: str) -> list[Key]:
        """Keys of a URL stream name (``<symbol>@<topic>``, ``$all@<topic>``, or an address)."""
        if is_address(name):
            return [(topic, name) for topic in ACCOUNT_TOPICS]
        symbol, sep, topic = name.partition("@")
        if not sep:
            raise _Refused(400, f"invalid stream name {name!r}")
        if topic in ALL_MARKET_TOPICS:
            if symbol != ALL_SYMBOLS:
                raise _Refused(400, f"stream {name!r}: {topic} takes $all")
            return [(topic, ALL_SYMBOLS)]
        if topic not in _SYMBOL_TOPICS:
            raise _Refused(400, f"invalid stream name {name!r}: unknown topic {topic!r}")
        self._check_symbol(symbol)
        return [(topic, symbol.upper())]

    def _check_symbol(self, symbol: Any) -> None:
        if not isinstance(symbol, str) or not self.is_listed(symbol):
            raise _Refused(404, f"unknown symbol {symbol!r}", [str(symbol)])
        if self.faults.should_reject(symbol.upper()):
            raise _Refused(404, f"subscription to {symbol!r} refused", [symbol])

    # -- websocket ---------------------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        path = conn.path
        names: list[str] = []
        if path.rstrip("/") in ("/api/ws", "/api/stream"):
            names = [n for n in conn.query.get("streams", "").split("/") if n]
        elif path.startswith("/api/ws/"):
            names = [path[len("/api/ws/") :]]
        else:
            conn.close(1008, f"unknown path {path}")
            return
        try:
            keys = [key for name in names for key in self.parse_stream(name)]
        except _Refused as exc:
            conn.close(1008, exc.msg[:120])
            return
        for key in keys:
            self._add(conn, key)

    def on_disconnect(self, conn: SimConnection) -> None:
        for key in list(conn.subscriptions):
            self._drop(conn, key)

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        msg: Any = None
        try:
            try:
                msg = orjson.loads(message)
            except orjson.JSONDecodeError:
                raise _Refused(400, "invalid JSON") from None
            if not isinstance(msg, dict):
                raise _Refused(400, "request must be a JSON object")
            method = msg.get("method")
            if method == "keepAlive":
                self.keepalives += 1
                conn.state["keepalives"] = conn.state.get("keepalives", 0) + 1
            elif method == "close":
                self.close_requests += 1
                conn.close(1000, "close requested")
            elif method == "subscribe":
                self._subscribe(conn, msg)
            elif method == "unsubscribe":
                self._unsubscribe(conn, msg)
            else:
                raise _Refused(400, f"unknown method {method!r}")
        except _Refused as exc:
            reply: dict[str, Any] = {"error": {"code": exc.code, "msg": exc.msg}}
            if isinstance(msg, dict):
                for name in ("method", "topic", "address"):
                    if isinstance(msg.get(name), str):
                        reply[name] = msg[name]
                symbols = exc.symbols if exc.symbols is not None else msg.get("symbols")
                if isinstance(symbols, list):
                    reply["symbols"] = symbols
            conn.send(orjson.dumps(reply))

    def on_oversize(self, conn: SimConnection, message: str | bytes) -> None:
        conn.send(orjson.dumps({"error": {"code": 400, "msg": "message too large"}}))

    def _subscribe(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        topic = msg.get("topic")
        if topic in ACCOUNT_TOPICS:
            address = msg.get("address") or msg.get("userAddress")  # the docs renamed userAddress
            if not is_address(address):
                raise _Refused(400, f"invalid address {address!r}")
            previous = conn.state.get("address")
            if previous is not None and previous != address:
                for key in [k for k in conn.subscriptions if k[0] in ACCOUNT_TOPICS]:
                    self._drop(conn, key)
            conn.state["address"] = address
            self._add(conn, (topic, str(address)))
            return
        if not isinstance(topic, str):
            raise _Refused(400, "missing topic")
        symbols = msg.get("symbols")
        if topic in ALL_MARKET_TOPICS:
            if symbols not in (None, [ALL_SYMBOLS]):
                raise _Refused(400, f'{topic} takes symbols ["$all"]')
            self._add(conn, (topic, ALL_SYMBOLS))
            return
        if topic not in _SYMBOL_TOPICS:
            raise _Refused(400, f"unknown topic {topic!r}")
        if not isinstance(symbols, list) or not symbols:
            raise _Refused(400, "symbols must be a non-empty list")
        bad = [s for s in symbols if not isinstance(s, str) or not self.is_listed(s)]
        if bad:
            raise _Refused(404, f"unknown symbol(s) {', '.join(map(str, bad))}", [str(s) for s in bad])
        for symbol in symbols:
            self._check_symbol(symbol)
        for symbol in symbols:
            self._add(conn, (topic, symbol.upper()))

    def _unsubscribe(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        topic = msg.get("topic")
        if not isinstance(topic, str):
            raise _Refused(400, "missing topic")
        symbols = msg.get("symbols")
        wanted = None if symbols is None else {str(s).upper() for s in symbols} if isinstance(symbols, list) else ()
        for key in [k for k in conn.subscriptions if k[0] == topic]:
            if wanted is None or topic in ACCOUNT_TOPICS or key[1].upper() in wanted:
                self._drop(conn, key)

    def _add(self, conn: SimConnection, key: Key) -> None:
        if key in conn.subscriptions:
            return
        topic, symbol = key
        conn.subscriptions[key] = True
        self._watchers.setdefault(key, {})[conn.id] = conn
        if topic in ACCOUNT_TOPICS:
            conn.state["address"] = symbol
            return
        if symbol == ALL_SYMBOLS:
            return
        st = self._state(symbol)
        if topic.startswith("kline_") and topic not in st.bars:
            st.bars[topic] = KlineBar.current(parse_interval(topic[6:]), self.clock(), self.market(symbol))

    def _drop(self, conn: SimConnection, key: Key) -> None:
        conn.subscriptions.pop(key, None)
        watchers = self._watchers.get(key)
        if watchers is not None:
            watchers.pop(conn.id, None)
            if not watchers:
                del self._watchers[key]

    def _push(self, key: Key, data: Any) -> None:
        watchers = self._watchers.get(key)
        if not watchers:
            return
        frame = orjson.dumps({"stream": key[0], "data": data})
        for conn in list(watchers.values()):
            conn.send(frame)

    # -- market data -----------------------------------------------------------------------

    def on_tick(self, now: float) -> None:
        self.height += 1
        self._ticks += 1
        super().on_tick(now)  # steps every market -> on_step
        self._push(("blockheight", ALL_SYMBOLS), {"h": self.height})
        if now - self._last_ticker >= 1.0 - 1e-6:
            self._last_ticker = now
            self._tickers(now)
        if self._ticks % self.account_every == 0:
            addresses = {k[1] for k in self._watchers if k[0] in ACCOUNT_TOPICS}
            for address in sorted(addresses):
                self._account_activity(address, now)

    def on_step(self, symbol: str, market: SyntheticMarket, step: MarketStep) -> None:
        st = self._states.get(symbol)
        if st is None:
            self._state(symbol)
            return
        height = self.height
        if step.changes:
            book = self.sent_book(symbol)
            bids: list[list[str]] = []
            asks: list[list[str]] = []
            for c in step.changes:
                p, q = market.price_text(c.price, _DECIMALS), market.size_text(c.size, _DECIMALS)
                book.set(c.side, p, q)
                (bids if c.side == "bid" else asks).append([p, q])
            self.record_truth(symbol, height)
            self._push(("marketDiff", symbol), {"e": "depthUpdate", "E": height, "s": symbol, "b": bids, "a": asks})
            for topic, levels in _DEPTH_LEVELS.items():
                if (topic, symbol) in self._watchers:
                    self._push(
                        (topic, symbol),
                        {
                            "lastUpdateId": height,
                            "symbol": symbol,
                            "bids": [[market.price_text(p, _DECIMALS), market.size_text(q, _DECIMALS)]
                                     for p, q in market.bids(levels)],
                            "asks": [[market.price_text(p, _DECIMALS), market.size_text(q, _DECIMALS)]
                                     for p, q in market.asks(levels)],
                        },
                    )  # fmt: skip
        if step.trades and ("trades", symbol) in self._watchers:
            self._push(
                ("trades", symbol),
                [
                    {"e": "trade", "E": height, "s": symbol, "t": f"{height}-{t.id}",
                     "p": market.price_text(t.price, _DECIMALS), "q": market.size_text(t.size, _DECIMALS),
                     "b": f"B-{t.id}", "a": f"S-{t.id}", "T": epoch_ms(t.time), "sa": "", "ba": "",
                     "tt": 2 if t.side == "buy" else 1}
                    for t in step.trades
                ],
            )  # fmt: skip
        now_ms = epoch_ms(step.time)
        for topic, bar in list(st.bars.items()):
            key = (topic, symbol)
            if key not in self._watchers:
                del st.bars[topic]
                continue
            if step.time >= bar.close_time:
                self._push(key, {"e": "kline", "E": now_ms, "s": symbol, "k": self._kline(bar, market, symbol, True)})
                bar = st.bars[topic] = KlineBar.start(bar.interval, step.time, bar.close)
            for t in step.trades:
                bar.add(t)
            if step.trades:
                self._push(key, {"e": "kline", "E": now_ms, "s": symbol, "k": self._kline(bar, market, symbol, False)})

    @staticmethod
    def _kline(bar: KlineBar, market: SyntheticMarket, symbol: str, closed: bool) -> dict[str, Any]:
        t = bar.texts(market, _DECIMALS)
        return {
            "t": epoch_ms(bar.open_time),
            "T": epoch_ms(bar.close_time) - 1,
            "s": symbol,
            "i": bar.interval.name,
            "f": str(bar.first_id),
            "L": str(bar.last_id),
            "o": t.open,
            "c": t.close,
            "h": t.high,
            "l": t.low,
            "v": t.volume,
            "n": bar.count,
            "x": closed,
            "q": t.quote_volume,
        }

    def _ticker(self, symbol: str, mini: bool, now: float) -> dict[str, Any]:
        market = self.market(symbol)
        s = market.ticker()
        touch = s.bid[0] if s.bid else 1
        last = s.last if s.last is not None else touch
        open_ = s.open if s.open is not None else last
        high = s.high if s.high is not None else last
        low = s.low if s.low is not None else last
        price = market.price_text
        tick_units = int(market.tick_size.scaleb(market.price_decimals))
        quote = s.quote_volume * tick_units / 10 ** (market.price_decimals + market.size_decimals)
        data: dict[str, Any] = {
            "e": "24hrMiniTicker" if mini else "24hrTicker",
            "E": epoch_ms(now),
            "s": symbol,
            "c": price(last, _DECIMALS),
            "o": price(open_, _DECIMALS),
            "h": price(high, _DECIMALS),
            "l": price(low, _DECIMALS),
            "v": market.size_text(s.volume, _DECIMALS),
            "q": f"{quote:.8f}",
        }
        if not mini:
            change = market.price(last) - market.price(open_)
            volume = market.size(s.volume)
            data.update(
                p=f"{change:.8f}",
                P=f"{(change / market.price(open_) * 100 if open_ else 0.0):.2f}",
                w=f"{(quote / volume if volume else market.price(last)):.8f}",
                x=price(open_, _DECIMALS),
                Q=market.size_text(s.last_size or 0, _DECIMALS),
                b=price(s.bid[0], _DECIMALS) if s.bid else "0.00000000",
                B=market.size_text(s.bid[1], _DECIMALS) if s.bid else "0.00000000",
                a=price(s.ask[0], _DECIMALS) if s.ask else "0.00000000",
                A=market.size_text(s.ask[1], _DECIMALS) if s.ask else "0.00000000",
                O=epoch_ms(now - s.window),
                C=epoch_ms(now),
                F="0",
                L="0",
                n=s.count,
            )
        return data

    def _tickers(self, now: float) -> None:
        symbols = sorted(self._states)
        for topic, mini in (("ticker", False), ("miniTicker", True)):
            for symbol in symbols:
                if (topic, symbol) in self._watchers:
                    self._push((topic, symbol), self._ticker(symbol, mini, now))
        for topic, mini in (("allTickers", False), ("allMiniTickers", True)):
            if (topic, ALL_SYMBOLS) in self._watchers and symbols:
                self._push((topic, ALL_SYMBOLS), [self._ticker(s, mini, now) for s in symbols])

    def _account_activity(self, address: str, now: float) -> None:
        n = self._activity.get(address, 0)
        self._activity[address] = n + 1
        height = self.height
        symbol = sorted(self._states)[0] if self._states else "BNB_BTCB-1DE"
        digest = hashlib.sha256(f"{self.seed}:{address}:{n}".encode()).digest()
        order = {
            "e": "executionReport", "E": height, "s": symbol, "S": 1 + n % 2, "o": 2, "f": 1,
            "q": "1.00000000", "p": "0.00250000", "x": "NEW" if n % 3 == 0 else "TRADE",
            "X": _STATUSES[n % 3], "i": f"{digest[:4].hex().upper()}-{n // 3 + 1}",
            "l": "0.00000000" if n % 3 == 0 else "0.50000000", "z": f"{0.5 * (n % 3):.8f}",
            "L": "0.00250000", "n": "" if n % 3 == 0 else "BNB:0.00010000", "T": epoch_ms(now), "t": f"{height}-0",
            "O": epoch_ms(now),
        }  # fmt: skip
        account = {
            "e": "outboundAccountInfo",
            "E": height,
            "B": [
                {"a": "BNB", "f": f"{100 - n * 0.001:.8f}", "l": f"{(n % 3) * 0.5:.8f}", "r": "0.00000000"},
                {"a": "BTCB-1DE", "f": f"{1 + n * 0.0001:.8f}", "l": "0.00000000", "r": "0.00000000"},
            ],
        }
        transfer = {
            "e": "outboundTransferInfo",
            "E": height,
            "H": digest.hex().upper(),
            "M": f"sim transfer {n}",
            "f": address,
            "t": [{"o": bech32.encode(address[: address.index("1")], digest[:20]),
                   "c": [{"a": "BNB", "A": f"{1 + n:.8f}"}]}],
        }  # fmt: skip
        log = self.account_log.setdefault(address, [])
        for topic, data in (("orders", [order]), ("accounts", [account]), ("transfers", transfer)):
            if (topic, address) in self._watchers:
                log.append((topic, data))
                self._push((topic, address), data)
