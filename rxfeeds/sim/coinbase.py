"""Coinbase Advanced Trade market data simulator (``wss://advanced-trade-ws.coinbase.com`` on 127.0.0.1).

Wire shapes (see ``docs/venues/coinbase.md`` for the sources):

* client: ``{"type":"subscribe"|"unsubscribe","product_ids":[...],"channel":C[,"jwt":...]}``, one
  channel per message; channels ``level2``, ``market_trades``, ``ticker``, ``candles``,
  ``heartbeats`` (product ids optional for ``heartbeats``, and for ``unsubscribe``: all of them).
* every server message: ``{"channel","client_id":"","timestamp":RFC 3339 ns,"sequence_num":N,
  "events":[...]}``, ``N`` counting every message of the connection from 0, all channels together.
* ``subscriptions`` (after each subscribe and unsubscribe): ``events[0].subscriptions`` maps each
  channel to the connection's products.  Errors: ``{"type":"error","message":...}`` (no envelope).
* ``l2_data``: ``{"type":"snapshot"|"update","product_id",`` ``"updates":[{"side":"bid"|"offer",
  "event_time","price_level","new_quantity"}]}``; the snapshot holds the whole book.
* ``market_trades``: ``{"type","trades":[{"trade_id","product_id","price","size","side":"BUY"|"SELL",
  "time"}]}`` (snapshot: recent trades, newest first; ``side`` is the taker's).
* ``ticker``: ``{"type","tickers":[{"type":"ticker","product_id","price","volume_24_h",...,"best_bid",
  "best_bid_quantity","best_ask","best_ask_quantity"}]}`` after every step with trades.
* ``candles``: ``{"type","candles":[{"start":epoch s text,"high","low","open","close","volume",
  "product_id"}]}``, five-minute buckets; the running one at most every ``candle_interval`` s.
* ``heartbeats`` every ``heartbeat_interval`` s: ``{"current_time","heartbeat_counter"}``.

A connection that sends nothing within ``subscribe_timeout`` s (5) is closed, as the venue does.

Faults (beyond :mod:`rxfeeds.sim.faults`): ``faults.skip_sequence(product)`` loses the next
``l2_data`` update of that product in transit (its ``sequence_num`` is used, the frame is not
sent: the venue's book, :meth:`~rxfeeds.sim.server.SimServer.truth`, still changed);
:meth:`CoinbaseSim.miss_heartbeats` loses the next heartbeats the same way; a connection without
a ``heartbeats`` subscription has every channel quiet for ``quiet_timeout`` s closed (dropped
without notice, as the venue does after 60-90 s; counted as ``faults.counts["quiet_close"]``).

Example:
    >>> import json, websocket
    >>> with CoinbaseSim(seed=1, tick_interval=None) as sim:
    ...     ws = websocket.create_connection(sim.url)
    ...     _ = ws.send('{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"}')
    ...     first = json.loads(ws.recv())
    ...     ws.close()
    >>> first["channel"], first["sequence_num"], first["events"][0]["type"]
    ('l2_data', 0, 'snapshot')
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar, Final

import orjson

from .market import LevelChange, SimTrade, SyntheticMarket
from .server import SimConnection, SimServer

__all__ = ["CoinbaseSim"]

_PRODUCT: Final = re.compile(r"[A-Z0-9]{1,20}-[A-Z0-9]{1,20}")
_CHANNELS: Final = ("level2", "market_trades", "ticker", "candles")
CANDLE: Final = 300
_SIDES: Final = {"bid": "bid", "ask": "offer"}
_MIDS: Final = {"BTC": "50000", "ETH": "3000", "SOL": "150"}


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def rfc3339_ns(t: float) -> str:
    """``t`` as Coinbase writes times: RFC 3339 UTC with nine fraction digits.

    Example:
        >>> rfc3339_ns(1675974770.5)
        '2023-02-09T20:32:50.500000000Z'
    """
    whole = int(t)
    nanos = round((t - whole) * 1e9)
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{nanos:09d}Z"


class CoinbaseSim(SimServer):
    """Coinbase Advanced Trade market data simulator (see the module docstring).

    Args:
        heartbeat_interval: seconds between heartbeats (the venue sends one a second).
        quiet_timeout: seconds after which a channel with no update is closed on a connection
            without heartbeats (the venue: 60-90 s).
        candle_interval: seconds between updates of the running candle.
        subscribe_timeout: a connection that sends no subscribe within this many seconds is
            closed (the venue: 5 s).
        **options: :class:`~rxfeeds.sim.server.SimServer` options.
    """

    venue: ClassVar[str] = "coinbase"

    def __init__(
        self,
        *,
        heartbeat_interval: float = 1.0,
        quiet_timeout: float = 75.0,
        candle_interval: float = 1.0,
        subscribe_timeout: float = 5.0,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.subscribe_timeout = subscribe_timeout
        self.heartbeat_interval = heartbeat_interval
        self.quiet_timeout = quiet_timeout
        self.candle_interval = candle_interval
        self._beat: asyncio.Task[None] | None = None
        self._missed_heartbeats = 0

    def market_options(self, symbol: str) -> dict[str, Any]:
        base = symbol.split("-")[0]
        return {"mid": _MIDS.get(base, "100"), "tick_size": "0.01", "size_decimals": 8, "levels": 200}

    # -- sending -----------------------------------------------------------------------------

    def emit(
        self, conn: SimConnection, channel: str, events: list[Any], *, lost: bool = False, at: float | None = None
    ) -> None:
        """One envelope to ``conn`` with the connection's next ``sequence_num`` (``lost``: numbered,
        not sent); ``at`` is its ``timestamp`` (default now; book messages carry their market step's)."""
        seq = conn.state.get("seq", 0)
        conn.state["seq"] = seq + 1
        if lost:
            return
        body = {
            "channel": channel,
            "client_id": "",
            "timestamp": rfc3339_ns(self.clock() if at is None else at),
            "sequence_num": seq,
            "events": events,
        }
        conn.send(_dumps(body))

    def _touch(self, conn: SimConnection, key: tuple[str, str]) -> None:
        info = conn.subscriptions.get(key)
        if info is not None:
            info["last"] = time.monotonic()

    def miss_heartbeats(self, times: int = 1) -> None:
        """Lose the next ``times`` heartbeats of every connection (numbered, never sent). Any thread."""
        self.call(self._arm_missed, times)

    def _arm_missed(self, times: int) -> None:
        self._missed_heartbeats += times

    # -- connections and requests ------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["seq"] = 0
        conn.state["heartbeat_counter"] = 0
        conn.state["opened"] = time.monotonic()
        if self._beat is None or self._beat.done():
            self._beat = self.spawn(self._heartbeat_loop())

    def error(self, conn: SimConnection, reason: str) -> None:
        conn.send(_dumps({"type": "error", "message": "Failed to subscribe", "reason": reason[:200]}))

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        try:
            msg = orjson.loads(message)
        except orjson.JSONDecodeError:
            self.error(conn, "message is not JSON")
            return
        conn.state["spoke"] = True
        if not isinstance(msg, dict) or msg.get("type") not in ("subscribe", "unsubscribe"):
            self.error(conn, "type must be subscribe or unsubscribe")
            return
        channel = msg.get("channel")
        products = msg.get("product_ids")
        if channel != "heartbeats" and channel not in _CHANNELS:
            self.error(conn, f"unknown channel {str(channel)[:40]}")
            return
        if products is None and (msg["type"] == "unsubscribe" or channel == "heartbeats"):
            products = []
        if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
            self.error(conn, "product_ids must be a list of product ids")
            return
        if channel == "heartbeats":
            conn.state["heartbeats"] = msg["type"] == "subscribe"
            self._subscriptions(conn)
            return
        if msg["type"] == "unsubscribe":
            for key in [k for k in conn.subscriptions if k[0] == channel and (not products or k[1] in products)]:
                del conn.subscriptions[key]
            self._subscriptions(conn)
            return
        if not products:
            self.error(conn, "product_ids is required")
            return
        for product in products:
            if not _PRODUCT.fullmatch(product) or self.faults.should_reject(product):
                self.error(conn, f"{channel}: product {product[:40]} not found")
                return
        for product in products:
            key = (channel, product)
            conn.subscriptions[key] = {"last": time.monotonic()}
            self.send_initial(conn, channel, product)
        self._subscriptions(conn)

    def _subscriptions(self, conn: SimConnection) -> None:
        listed: dict[str, list[str]] = {}
        for channel, product in conn.subscriptions:
            listed.setdefault(channel, []).append(product)
        if conn.state.get("heartbeats"):
            listed["heartbeats"] = ["heartbeats"]
        self.emit(conn, "subscriptions", [{"subscriptions": listed}])

    def send_initial(self, conn: SimConnection, channel: str, product: str) -> None:
        """The snapshot a new subscription starts with."""
        m = self.market(product)
        if channel == "level2":
            self.emit(conn, "l2_data", [self.book_snapshot(product, m)], at=m.time)
        elif channel == "market_trades":
            recent = m.trades()[-50:]
            recent.reverse()  # newest first
            self.emit(conn, "market_trades", [{"type": "snapshot", "trades": [self._trade(m, t) for t in recent]}])
        elif channel == "ticker":
            self.emit(conn, "ticker", [{"type": "snapshot", "tickers": [self._ticker(m)]}])
        elif channel == "candles":
            candles = m.candles(CANDLE, since=m.time - CANDLE * 10)
            self.emit(conn, "candles", [{"type": "snapshot", "candles": [self._candle(m, c) for c in candles]}])
            conn.subscriptions[(channel, product)]["candle"] = candles[-1] if candles else None

    # -- payloads ----------------------------------------------------------------------------

    def book_snapshot(self, product: str, m: SyntheticMarket) -> dict[str, Any]:
        """The ``l2_data`` snapshot event of ``product`` (and the truth: the book as sent)."""
        stamp = rfc3339_ns(m.time)
        bids = [(m.price_text(p), m.size_text(s)) for p, s in m.bids()]
        asks = [(m.price_text(p), m.size_text(s)) for p, s in m.asks()]
        self.sent_book(product).replace(bids, asks)
        self.record_truth(product, m.time)  # clients' books carry the message timestamp: the step time
        updates = [{"side": "bid", "event_time": stamp, "price_level": p, "new_quantity": s} for p, s in bids]
        updates += [{"side": "offer", "event_time": stamp, "price_level": p, "new_quantity": s} for p, s in asks]
        return {"type": "snapshot", "product_id": product, "updates": updates}

    def _trade(self, m: SyntheticMarket, t: SimTrade) -> dict[str, Any]:
        return {
            "trade_id": str(t.id),
            "product_id": m.symbol,
            "price": m.price_text(t.price),
            "size": m.size_text(t.size),
            "side": "BUY" if t.side == "buy" else "SELL",
            "time": rfc3339_ns(t.time),
        }

    def _ticker(self, m: SyntheticMarket) -> dict[str, Any]:
        s = m.ticker()

        def px(ticks: int | None) -> str:
            return m.price_text(ticks) if ticks is not None else "0"

        change = "0"
        if s.open and s.last is not None:
            change = format((Decimal(s.last) - Decimal(s.open)) * 100 / Decimal(s.open), "f")
        return {
            "type": "ticker",
            "product_id": m.symbol,
            "price": px(s.last if s.last is not None else (s.bid[0] if s.bid else None)),
            "volume_24_h": m.size_text(s.volume),
            "low_24_h": px(s.low),
            "high_24_h": px(s.high),
            "low_52_w": px(s.low),
            "high_52_w": px(s.high),
            "price_percent_chg_24_h": change,
            "best_bid": px(s.bid[0] if s.bid else None),
            "best_bid_quantity": m.size_text(s.bid[1]) if s.bid else "0",
            "best_ask": px(s.ask[0] if s.ask else None),
            "best_ask_quantity": m.size_text(s.ask[1]) if s.ask else "0",
        }

    def _candle(self, m: SyntheticMarket, c: Any) -> dict[str, Any]:
        return {
            "start": str(int(c.open_time)),
            "high": m.price_text(c.high),
            "low": m.price_text(c.low),
            "open": m.price_text(c.open),
            "close": m.price_text(c.close),
            "volume": m.size_text(c.volume),
            "product_id": m.symbol,
        }

    # -- market steps ------------------------------------------------------------------------

    def on_step(self, symbol: str, market: SyntheticMarket, step: Any) -> None:
        conns = [c for c in self.connections if c.is_open]
        if symbol in self.sent_books:  # the venue's book as published, lost frames included
            self._apply(symbol, market, step.changes)
            if step.changes and not any(("level2", symbol) in c.subscriptions for c in conns):
                self.record_truth(symbol, step.time)
        book_subs = [c for c in conns if ("level2", symbol) in c.subscriptions]
        if step.changes and book_subs:
            lost = self.faults.take_skip_sequence(symbol)
            stamp = rfc3339_ns(step.time)
            updates = [
                {
                    "side": _SIDES[ch.side],
                    "event_time": stamp,
                    "price_level": market.price_text(ch.price),
                    "new_quantity": market.size_text(ch.size),
                }
                for ch in step.changes
            ]
            event = [{"type": "update", "product_id": symbol, "updates": updates}]
            for conn in book_subs:
                self.emit(conn, "l2_data", event, lost=lost, at=step.time)
                self._touch(conn, ("level2", symbol))
            self.record_truth(symbol, step.time)
        if step.trades:
            trades = [self._trade(market, t) for t in step.trades]
            ticker: list[Any] | None = None
            for conn in conns:
                if ("market_trades", symbol) in conn.subscriptions:
                    self.emit(conn, "market_trades", [{"type": "update", "trades": trades}])
                    self._touch(conn, ("market_trades", symbol))
                if ("ticker", symbol) in conn.subscriptions:
                    ticker = ticker or [{"type": "update", "tickers": [self._ticker(market)]}]
                    self.emit(conn, "ticker", ticker)
                    self._touch(conn, ("ticker", symbol))
        self._candles(symbol, market, conns)

    def _apply(self, symbol: str, m: SyntheticMarket, changes: Iterable[LevelChange]) -> None:
        book = self.sent_book(symbol)
        for ch in changes:
            book.set(ch.side, m.price_text(ch.price), m.size_text(ch.size))

    def _candles(self, symbol: str, m: SyntheticMarket, conns: list[SimConnection]) -> None:
        """The running candle, to each subscriber at most every ``candle_interval`` s, when it changed."""
        now = time.monotonic()
        current: Any = None
        for conn in conns:
            info = conn.subscriptions.get(("candles", symbol))
            if info is None or now < info.get("next", 0.0):
                continue
            if current is None:
                found = m.candles(CANDLE, since=m.time - CANDLE)
                current = found[-1] if found else False
            if not current or info.get("candle") == current:
                continue
            info["next"] = now + self.candle_interval
            info["candle"] = current
            self.emit(conn, "candles", [{"type": "update", "candles": [self._candle(m, current)]}])
            info["last"] = now

    # -- heartbeats and quiet channels -------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            self._heartbeats()

    def _heartbeats(self) -> None:
        lost = self._missed_heartbeats > 0
        if lost:
            self._missed_heartbeats -= 1
            self.faults.counts["missed_heartbeat"] += 1
        now = time.monotonic()
        for conn in [c for c in self._connections.values() if c.is_open]:
            if not conn.state.get("spoke") and now - conn.state.get("opened", now) > self.subscribe_timeout:
                conn.close(1000, "no subscribe message received")  # the venue's 5-second rule
                continue
            if not conn.state.get("heartbeats"):
                self._close_quiet(conn, now)
                continue
            counter = conn.state["heartbeat_counter"] = conn.state.get("heartbeat_counter", 0) + 1
            wall = self.clock()
            current = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(wall)) + f".{int(wall % 1 * 1e9):09d} +0000 UTC"
            self.emit(conn, "heartbeats", [{"current_time": current, "heartbeat_counter": str(counter)}], lost=lost)

    def _close_quiet(self, conn: SimConnection, now: float) -> None:
        quiet = [k for k, info in conn.subscriptions.items() if now - info.get("last", now) > self.quiet_timeout]
        for key in quiet:
            del conn.subscriptions[key]  # no notice: the channel just stops
            self.faults.counts["quiet_close"] += 1
