"""The Binance spot market feed: depth diffs, trades, book tickers, klines and rolling tickers.

Every tick that changes the book takes one update id per changed level (``U..u`` diffs on the
100 ms stream, gathered per second on the 1000 ms one); trades and aggregate trades print as the
market trades; klines carry the running bar; the 24 h tickers go out once a second, also
gathered into the all-market ``!…@arr`` streams.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import orjson

from ...codec import Key
from ..kit.clock import epoch_ms
from ..kit.klines import KlineBar
from ..market import MarketStep, SyntheticMarket, format_units
from ._base import _ARRAY_STREAMS, _DECIMALS, _TICKER_PERIOD, BinanceSpotBase, _SymbolState

__all__ = ["BinanceSpotFeed", "kline_payload"]


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


class BinanceSpotFeed(BinanceSpotBase):
    """The market-data streams of the Binance spot simulator."""

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
