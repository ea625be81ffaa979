"""The HitBTC public market feed: order book, trades, candles and ticker subscriptions and frames.

Book snapshots and updates with per-symbol sequences (one unsolicited re-snapshot a while after
each orderbook subscription), trades and candles from the market's trades, throttled tickers,
and the trades history ``getTrades`` and REST read.  The frame methods write v2 shapes; the v3
protocol overrides them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ...intervals import Interval
from ...venues.hitbtc._common import CANDLE_PERIODS
from ..kit.clock import iso_ms, parse_iso
from ..market import LevelChange, MarketStep, SimTrade, SyntheticMarket
from ..server import SimConnection
from ._base import HitBTCBase, RpcError, _dumps, period_interval, symbol_not_found

__all__ = ["HitBTCMarketFeed"]


class HitBTCMarketFeed(HitBTCBase):
    """Market-data subscriptions and frames of the HitBTC simulators."""

    # -- market-data items -----------------------------------------------------------------

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

    # -- trades history ---------------------------------------------------------------------

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
