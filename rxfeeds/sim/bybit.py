"""Bybit v5 public simulators: ``/v5/public/spot`` (:class:`BybitSim`) and ``/v5/public/linear``
(:class:`BybitLinearSim`), following ``docs/venues/bybit.md``.

* ``{"req_id": "1", "op": "subscribe", "args": [topic, ...]}`` is answered by
  ``{"success": true, "ret_msg": "", "conn_id": ..., "req_id": "1", "op": "subscribe"}``; a bad
  topic (unknown channel, depth or interval, malformed symbol, already subscribed) fails the
  whole request with ``success: false`` and a ``ret_msg`` naming it; ``unsubscribe`` likewise.
* ``orderbook.{depth}.{symbol}``: a ``snapshot`` on subscribe, then a ``delta`` whenever the top
  ``depth`` levels changed (a level that leaves the top is sent with size ``"0"``).  ``u``
  counts the topic's messages (one more per delta, shared by every connection), ``seq`` is a
  per-symbol cross sequence that only grows.  Depths: spot 1, 50, 200, 1000; linear 1, 50, 200,
  500, 1000.  Level-1 books are sent as snapshots only (each change one, ``u`` + 1); one that did
  not change for ``level1_repeat`` seconds is sent again with the same ``u``.
* ``publicTrade.{symbol}``: each step's prints, ``S`` the taker side (``Buy``/``Sell``), ``i`` the
  trade id (digits on spot, a UUID on linear), ``L`` the tick direction (linear only).
* ``tickers.{symbol}``: spot sends whole ``snapshot`` tickers when something changed; linear
  sends one ``snapshot`` then ``delta`` messages with only the changed fields.
* ``kline.{interval}.{symbol}``: the running bar (``confirm: false``) when it changed, and a bar
  that ended once more with ``confirm: true``; a bar without trades opens at the last close.
* ``{"op": "ping"}`` is answered ``{"success": true, "ret_msg": "pong", "conn_id": ..., "req_id":
  ..., "op": "ping"}`` (the public endpoints' form).  A connection that sent no ping for
  ``idle_timeout`` seconds is closed (Bybit asks for a ping every 20 s).

Faults (see :mod:`rxfeeds.sim.faults`): ``faults.skip_sequence(symbol)`` loses the next book
message of every depth of ``symbol`` (its ``u`` is used, the frame never sent: the next delta shows
the gap); :meth:`BybitSim.restart` renumbers books from ``u == 1`` with a new snapshot (the venue
restarting its book service); ``faults.reject_subscriptions`` fails subscribe requests; idle
disconnects follow from ``idle_timeout``; ``faults.counts`` counts ``skip_sequence``, ``restart``
and ``idle_close`` too.

``truth((symbol, depth))`` is the book sent on that topic; ``truth(symbol)`` the deepest topic of
``symbol`` that was subscribed.

Example:
    >>> import json, websocket
    >>> with BybitSim(seed=1, tick_interval=None) as sim:
    ...     ws = websocket.create_connection(sim.url)
    ...     _ = ws.send('{"req_id":"7","op":"subscribe","args":["orderbook.50.BTCUSDT"]}')
    ...     ack, book = json.loads(ws.recv()), json.loads(ws.recv())
    ...     ws.close()
    >>> ack["success"], ack["req_id"], book["type"], len(book["data"]["b"])
    (True, '7', 'snapshot', 50)
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import orjson

from ..intervals import parse_interval
from .market import SimTrade, SyntheticMarket
from .server import SimConnection, SimServer

__all__ = ["BybitLinearSim", "BybitSim"]

#: Bybit kline intervals -> the rxfeeds spelling of their length
KLINE_INTERVALS: Final = {
    "1": "1m", "3": "3m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "120": "2h", "240": "4h",
    "360": "6h", "720": "12h", "D": "1d", "W": "1w", "M": "1M",
}  # fmt: skip
_SYMBOL: Final = re.compile(r"[A-Z0-9]{2,30}(?:-[A-Z0-9]{2,12})?")


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _ms(t: float) -> int:
    return round(t * 1000)


@dataclass
class _BookTopic:
    """One ``orderbook.{depth}.{symbol}`` topic as the venue keeps it."""

    symbol: str
    depth: int
    u: int
    bids: dict[int, int] = field(default_factory=dict)  # ticks -> units, what was sent
    asks: dict[int, int] = field(default_factory=dict)
    changed_at: float = 0.0


@dataclass
class _Bar:
    start: float
    end: float
    open: int
    high: int
    low: int
    close: int
    volume: int = 0
    turnover: int = 0  # ticks * units
    last_time: float = 0.0


class BybitSim(SimServer):
    """Bybit v5 public spot simulator (see the module docstring).

    Args:
        idle_timeout: seconds without a client ping before the connection is closed (None: never).
        level1_repeat: seconds after which an unchanged level-1 book is sent again.
        **options: :class:`~rxfeeds.sim.server.SimServer` options.
    """

    venue: ClassVar[str] = "bybit"
    category: ClassVar[str] = "spot"
    path: ClassVar[str] = "/v5/public/spot"
    book_depths: ClassVar[tuple[int, ...]] = (1, 50, 200, 1000)

    def __init__(self, *, idle_timeout: float | None = 30.0, level1_repeat: float = 3.0, **options: Any) -> None:
        super().__init__(**options)
        self.idle_timeout = idle_timeout
        self.level1_repeat = level1_repeat
        self._books: dict[tuple[str, int], _BookTopic] = {}
        self._seq: dict[str, int] = {}
        self._tickers: dict[str, dict[str, str]] = {}
        self._bars: dict[tuple[str, str], _Bar] = {}

    def market_options(self, symbol: str) -> dict[str, Any]:
        levels = max(self.book_depths) + 50
        if symbol.startswith("BTC"):
            return {"mid": "50000", "tick_size": "0.1", "size_decimals": 6, "base_size": 0.3, "levels": levels}
        if symbol.startswith("ETH"):
            return {"mid": "3000", "tick_size": "0.01", "size_decimals": 5, "base_size": 3.0, "levels": levels}
        return {"mid": "1.2345", "tick_size": "0.0001", "size_decimals": 1, "base_size": 500.0, "levels": levels}

    # -- connections -----------------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["conn_id"] = f"sim-{self.seed}-{conn.id}"
        conn.state["ping_at"] = time.monotonic()
        if self.idle_timeout is not None:
            self.spawn(self._idle_watch(conn, self.idle_timeout))

    async def _idle_watch(self, conn: SimConnection, timeout: float) -> None:
        while not conn.closed:
            await asyncio.sleep(min(1.0, timeout / 4))
            if conn.closed or not conn.is_open:
                return
            if time.monotonic() - conn.state["ping_at"] > timeout:
                self.faults._count("idle_close")
                conn.close(1000, "ping timeout")
                return

    def _reply(self, conn: SimConnection, op: str, req_id: Any, success: bool, text: str = "") -> None:
        body = {"success": success, "ret_msg": text, "conn_id": conn.state["conn_id"]}
        if req_id is not None:
            body["req_id"] = req_id
        body["op"] = op
        conn.send(_dumps(body))

    def _pong(self, conn: SimConnection, req_id: Any) -> None:
        self._reply(conn, "ping", req_id if req_id is not None else "", True, "pong")

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        try:
            request = orjson.loads(message)
        except orjson.JSONDecodeError:
            self._reply(conn, "", None, False, "error:request not json")
            return
        if not isinstance(request, dict):
            self._reply(conn, "", None, False, "error:request not an object")
            return
        op, req_id, args = request.get("op"), request.get("req_id"), request.get("args")
        if op == "ping":
            conn.state["ping_at"] = time.monotonic()
            self._pong(conn, req_id)
        elif op in ("subscribe", "unsubscribe"):
            if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
                self._reply(conn, str(op), req_id, False, "error:args must be a non-empty list of topics")
            elif op == "subscribe":
                self._subscribe(conn, req_id, args)
            else:
                for topic in args:
                    conn.subscriptions.pop(topic, None)
                self._reply(conn, "unsubscribe", req_id, True)
        else:
            self._reply(conn, str(op)[:40], req_id, False, f"error:unknown op {str(op)[:40]}")

    # -- subscriptions ---------------------------------------------------------------------

    def _topic_error(self, conn: SimConnection, topic: str) -> str | None:
        channel, _, symbol = topic.rpartition(".")
        shown = topic[:120]  # echoed in the answer: never a client's megabyte
        if not _SYMBOL.fullmatch(symbol):
            return f"Invalid symbol :[{shown}]"
        if topic in conn.subscriptions:
            return f"error:already subscribed,topic:{shown}"
        parts = channel.split(".")
        ok = (
            (len(parts) == 2 and parts[0] == "orderbook" and parts[1] in {str(d) for d in self.book_depths})
            or (len(parts) == 2 and parts[0] == "kline" and parts[1] in KLINE_INTERVALS)
            or channel in ("publicTrade", "tickers")
        )
        if not ok:
            return f"error:handler not found,topic:{shown}"
        if self.faults.should_reject(symbol):
            return f"Invalid symbol :[{shown}]"
        return None

    def _subscribe(self, conn: SimConnection, req_id: Any, topics: list[str]) -> None:
        for topic in topics:
            error = self._topic_error(conn, topic)
            if error is not None:
                self._reply(conn, "subscribe", req_id, False, error)  # the whole request fails
                return
        for topic in topics:
            conn.subscriptions[topic] = {}
        self._reply(conn, "subscribe", req_id, True)
        now = self.clock()
        for topic in topics:
            channel, _, symbol = topic.rpartition(".")
            market = self.market(symbol)
            if channel.startswith("orderbook."):
                book = self._book_topic(symbol, int(channel[10:]), market, now)
                conn.send(self._book_frame(book, market, "snapshot", self._book_levels(book, market), now))
            elif channel == "tickers":
                state = self._tickers.get(symbol)
                if state is None or self._subscribers(topic) == [conn]:
                    # nobody else follows the deltas: start from the market as it is now
                    state = self._tickers[symbol] = self._ticker_fields(market)
                conn.send(self._ticker_frame(topic, "snapshot", state, now))
            elif channel.startswith("kline."):
                bar = self._bar(symbol, channel[6:], market, now)
                conn.send(self._kline_frame(topic, channel[6:], bar, False, now))

    def _subscribers(self, topic: str) -> list[SimConnection]:
        return [c for c in self.connections if topic in c.subscriptions and c.is_open]

    def _broadcast(self, topic: str, frame: str) -> None:
        for conn in self._subscribers(topic):
            conn.send(frame)

    # -- books -----------------------------------------------------------------------------

    def _book_topic(self, symbol: str, depth: int, market: SyntheticMarket, now: float) -> _BookTopic:
        book = self._books.get((symbol, depth))
        if book is None:
            start = self.symbol_seed(symbol) % 9_000_000 + 1_000_000
            book = self._books[(symbol, depth)] = _BookTopic(symbol, depth, start, changed_at=now)
            book.bids, book.asks = dict(market.bids(depth)), dict(market.asks(depth))
            self._record(book, market)
        return book

    def _record(
        self, book: _BookTopic, market: SyntheticMarket, changes: tuple[list[list[str]], list[list[str]]] | None = None
    ) -> None:
        """The sent book of the topic (and of the symbol, for its deepest topic) as clients see it:
        the whole book, or only the ``changes`` of a delta."""
        sent = self.sent_book((book.symbol, book.depth))
        if changes is None:
            bids, asks = self._book_levels(book, market)
            sent.replace([(p, q) for p, q in bids], [(p, q) for p, q in asks])
        else:
            for price_text, size_text in changes[0]:
                sent.set("bid", price_text, size_text)
            for price_text, size_text in changes[1]:
                sent.set("ask", price_text, size_text)
        deepest = max(d for (s, d) in self._books if s == book.symbol)
        self.sent_books[book.symbol] = self.sent_book((book.symbol, deepest))
        self.record_truth((book.symbol, book.depth), book.u)

    def _book_levels(self, book: _BookTopic, market: SyntheticMarket) -> tuple[list[list[str]], list[list[str]]]:
        pt, st = market.price_text, market.size_text
        bids = [[pt(p), st(s)] for p, s in sorted(book.bids.items(), reverse=True)]
        asks = [[pt(p), st(s)] for p, s in sorted(book.asks.items())]
        return bids, asks

    def _next_seq(self, symbol: str, by: int) -> int:
        seq = self._seq.get(symbol, self.symbol_seed(symbol) % 10**9 + 10**10) + by
        self._seq[symbol] = seq
        return seq

    def _book_frame(
        self,
        book: _BookTopic,
        market: SyntheticMarket,
        kind: str,
        levels: tuple[list[list[str]], list[list[str]]],
        now: float,
    ) -> str:
        data = {
            "s": book.symbol,
            "b": levels[0],
            "a": levels[1],
            "u": book.u,
            "seq": self._next_seq(book.symbol, 1 + len(levels[0]) + len(levels[1])),
        }
        topic = f"orderbook.{book.depth}.{book.symbol}"
        return _dumps({"topic": topic, "type": kind, "ts": _ms(now), "data": data, "cts": _ms(market.time)})

    def _book_step(self, book: _BookTopic, market: SyntheticMarket, now: float, lose: bool) -> None:
        depth = book.depth
        pt, st = market.price_text, market.size_text
        frames: list[list[list[str]]] = []
        for old, new in ((book.bids, dict(market.bids(depth))), (book.asks, dict(market.asks(depth)))):
            changes = [[pt(p), "0"] for p in old if p not in new]
            changes += [[pt(p), st(s)] for p, s in new.items() if old.get(p) != s]
            old.clear()
            old.update(new)
            frames.append(changes)
        topic = f"orderbook.{depth}.{book.symbol}"
        if frames[0] or frames[1]:
            book.u += 1
            book.changed_at = now
            self._record(book, market, (frames[0], frames[1]))
            if lose:
                return  # a lost message: its u is used, nobody gets it
            if depth == 1:  # level 1 comes as whole snapshots only
                self._broadcast(topic, self._book_frame(book, market, "snapshot", self._book_levels(book, market), now))
            else:
                self._broadcast(topic, self._book_frame(book, market, "delta", (frames[0], frames[1]), now))
        elif depth == 1 and now - book.changed_at >= self.level1_repeat:
            book.changed_at = now  # unchanged for a while: the same book again, same u
            self._broadcast(topic, self._book_frame(book, market, "snapshot", self._book_levels(book, market), now))

    def restart(self, symbol: str | None = None) -> int:
        """Restart the book service: every book topic (of ``symbol``) starts over at ``u == 1``
        with a fresh snapshot to its subscribers.  Any thread; returns the topics restarted."""

        def run() -> int:
            now = self.clock()
            n = 0
            for book in list(self._books.values()):
                if symbol is not None and book.symbol != symbol:
                    continue
                market = self.market(book.symbol)
                book.u = 1
                book.changed_at = now
                book.bids, book.asks = dict(market.bids(book.depth)), dict(market.asks(book.depth))
                self._record(book, market)
                topic = f"orderbook.{book.depth}.{book.symbol}"
                self._broadcast(topic, self._book_frame(book, market, "snapshot", self._book_levels(book, market), now))
                n += 1
            self.faults._count("restart", n)
            return n

        result: int = self.call(run)
        return result

    def update_id(self, symbol: str, depth: int) -> int:
        """The last ``u`` of the topic ``orderbook.{depth}.{symbol}`` (0 before its first subscriber)."""

        def read() -> int:
            book = self._books.get((symbol, depth))
            return book.u if book is not None else 0

        result: int = self.call(read)
        return result

    # -- tickers, trades, klines -------------------------------------------------------------

    def _ticker_fields(self, market: SyntheticMarket) -> dict[str, str]:
        s = market.ticker()

        def px(ticks: int | None) -> str:
            return market.price_text(ticks) if ticks is not None else ""

        turnover = market.price(1) * market.size(1) * s.quote_volume
        fields = {
            "symbol": market.symbol,
            "lastPrice": px(s.last),
            "highPrice24h": px(s.high),
            "lowPrice24h": px(s.low),
            "prevPrice24h": px(s.open),
            "volume24h": market.size_text(s.volume),
            "turnover24h": f"{turnover:.4f}",
            "price24hPcnt": f"{(s.last - s.open) / s.open:.4f}" if s.last and s.open else "0",
        }
        if self.category == "spot":
            fields["usdIndexPrice"] = px(s.last)
        else:
            fields.update(
                bid1Price=px(s.bid[0] if s.bid else None),
                bid1Size=market.size_text(s.bid[1]) if s.bid else "",
                ask1Price=px(s.ask[0] if s.ask else None),
                ask1Size=market.size_text(s.ask[1]) if s.ask else "",
                markPrice=px(s.last),
                indexPrice=px(s.last),
                openInterest="0",
                fundingRate="0.0001",
            )
        return fields

    def _ticker_frame(self, topic: str, kind: str, fields: dict[str, str], now: float) -> str:
        body: dict[str, Any] = {"topic": topic, "ts": _ms(now), "type": kind, "data": fields}
        if self.category != "spot":
            body["cs"] = self._seq.get(fields.get("symbol", ""), 0)
        return _dumps(body)

    def _ticker_step(self, symbol: str, market: SyntheticMarket, now: float) -> None:
        topic = f"tickers.{symbol}"
        if not self._subscribers(topic):
            return
        new = self._ticker_fields(market)
        old = self._tickers.get(symbol, {})
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if not changed:
            return
        self._tickers[symbol] = new
        if self.category == "spot":
            self._broadcast(topic, self._ticker_frame(topic, "snapshot", new, now))
        else:
            self._broadcast(topic, self._ticker_frame(topic, "delta", {"symbol": symbol, **changed}, now))

    def _trade_item(self, market: SyntheticMarket, t: SimTrade, previous: int | None) -> dict[str, Any]:
        if self.category == "spot":
            trade_id = str(self.symbol_seed(market.symbol) % 10**6 * 10**12 + t.id)
        else:
            trade_id = str(uuid.UUID(int=(self.symbol_seed(market.symbol) << 64) | t.id))
        item: dict[str, Any] = {
            "T": _ms(t.time),
            "s": market.symbol,
            "S": "Buy" if t.side == "buy" else "Sell",
            "v": market.size_text(t.size),
            "p": market.price_text(t.price),
        }
        if self.category != "spot":
            up = previous is None or t.price >= previous
            item["L"] = ("Plus" if up else "Minus") + "Tick" if previous != t.price else "ZeroPlusTick"
        item["i"] = trade_id
        item["BT"] = False
        return item

    def _trades_step(self, symbol: str, market: SyntheticMarket, trades: Iterable[SimTrade], now: float) -> None:
        topic = f"publicTrade.{symbol}"
        trades = list(trades)
        if not trades or not self._subscribers(topic):
            return
        previous: int | None = None
        items = []
        for t in trades:
            items.append(self._trade_item(market, t, previous))
            previous = t.price
        self._broadcast(topic, _dumps({"topic": topic, "type": "snapshot", "ts": _ms(now), "data": items}))

    def _bar(self, symbol: str, interval: str, market: SyntheticMarket, now: float) -> _Bar:
        bar = self._bars.get((symbol, interval))
        if bar is None:
            start, end = parse_interval(KLINE_INTERVALS[interval]).bucket(now)
            inside = [t for t in market.trades() if start <= t.time < end]
            last = market.trades()[-1].price if market.trades() else None
            if last is None:
                best = market.best_bid() or market.best_ask()
                last = best[0] if best else 1
            bar = _Bar(start, end, last, last, last, last, last_time=start)
            if inside:
                bar.open = inside[0].price
                bar.high = max(t.price for t in inside)
                bar.low = min(t.price for t in inside)
                bar.close = inside[-1].price
                bar.volume = sum(t.size for t in inside)
                bar.turnover = sum(t.size * t.price for t in inside)
                bar.last_time = inside[-1].time
            self._bars[(symbol, interval)] = bar
        return bar

    def _kline_frame(self, topic: str, interval: str, bar: _Bar, confirm: bool, now: float) -> str:
        market = self.market(topic.rpartition(".")[2])
        item = {
            "start": _ms(bar.start),
            "end": _ms(bar.end) - 1,
            "interval": interval,
            "open": market.price_text(bar.open),
            "close": market.price_text(bar.close),
            "high": market.price_text(bar.high),
            "low": market.price_text(bar.low),
            "volume": market.size_text(bar.volume),
            "turnover": f"{market.price(1) * market.size(1) * bar.turnover:.4f}",
            "confirm": confirm,
            "timestamp": _ms(now if confirm else max(bar.last_time, bar.start)),
        }
        return _dumps({"topic": topic, "data": [item], "ts": _ms(now), "type": "snapshot"})

    def _klines_step(self, symbol: str, market: SyntheticMarket, trades: list[SimTrade], now: float) -> None:
        for (sym, interval), bar in list(self._bars.items()):
            if sym != symbol:
                continue
            topic = f"kline.{interval}.{symbol}"
            changed = False
            if now >= bar.end:
                self._broadcast(topic, self._kline_frame(topic, interval, bar, True, now))
                start, end = parse_interval(KLINE_INTERVALS[interval]).bucket(now)
                c = bar.close
                bar = self._bars[(sym, interval)] = _Bar(start, end, c, c, c, c, last_time=start)
                changed = True
            for t in trades:
                if not bar.start <= t.time < bar.end:
                    continue
                bar.high, bar.low, bar.close = max(bar.high, t.price), min(bar.low, t.price), t.price
                bar.volume += t.size
                bar.turnover += t.size * t.price
                bar.last_time = t.time
                changed = True
            if changed:
                self._broadcast(topic, self._kline_frame(topic, interval, bar, False, now))

    # -- the market moves ------------------------------------------------------------------

    def on_step(self, symbol: str, market: SyntheticMarket, step: Any) -> None:
        now = step.time
        books = [b for (s, _d), b in self._books.items() if s == symbol]
        lose = bool(books) and self.faults.take_skip_sequence(symbol)
        for book in books:
            self._book_step(book, market, now, lose)
        trades = list(step.trades)
        self._trades_step(symbol, market, trades, now)
        self._ticker_step(symbol, market, now)
        self._klines_step(symbol, market, trades, now)


class BybitLinearSim(BybitSim):
    """Bybit v5 public linear simulator (USDT perpetuals): ticker deltas, UUID trade ids, tick directions."""

    venue: ClassVar[str] = "bybit-linear"
    category: ClassVar[str] = "linear"
    path: ClassVar[str] = "/v5/public/linear"
    book_depths: ClassVar[tuple[int, ...]] = (1, 50, 200, 500, 1000)
