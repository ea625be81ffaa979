"""Kline (candle) bars built incrementally from a :class:`~rxfeeds.sim.market.SyntheticMarket`'s trades.

A :class:`KlineBar` counts in ticks and units like the market; :meth:`KlineBar.texts` gives
the exact decimal texts a venue writes, and each venue lays them out in its own message.

Example:
    >>> from rxfeeds.intervals import parse_interval
    >>> from rxfeeds.sim.market import SimTrade
    >>> bar = KlineBar.start(parse_interval("1m"), 90.0, 100)
    >>> bar.add(SimTrade(1, 91.0, 101, 2, "buy")); bar.add(SimTrade(2, 95.0, 99, 1, "sell"))
    >>> (bar.open_time, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.count)
    (60.0, 101, 101, 99, 99, 3, 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ...intervals import Interval
from ..market import SimTrade, SyntheticMarket, format_units

__all__ = ["BarTexts", "KlineBar"]


class BarTexts(NamedTuple):
    """A bar's numbers as exact decimal texts."""

    open: str
    high: str
    low: str
    close: str
    volume: str
    quote_volume: str
    buy_volume: str
    buy_quote_volume: str


@dataclass
class KlineBar:
    """An incrementally built candle (ticks, units) of one symbol and interval."""

    interval: Interval
    open_time: float
    close_time: float
    open: int
    high: int
    low: int
    close: int
    volume: int = 0
    quote: int = 0  # sum(ticks * units)
    buy_volume: int = 0
    buy_quote: int = 0
    count: int = 0
    first_id: int = -1
    last_id: int = -1

    @classmethod
    def start(cls, interval: Interval, t: float, price: int) -> KlineBar:
        """An empty bar for the bucket holding ``t``, all prices at ``price``."""
        open_time, close_time = interval.bucket(t)
        return cls(interval, open_time, close_time, price, price, price, price)

    @classmethod
    def current(cls, interval: Interval, t: float, market: SyntheticMarket) -> KlineBar:
        """The bar holding ``t`` with every trade the market already printed in it."""
        history = market.trades()
        last = history[-1].price if history else (market.best_bid() or (1, 0))[0]
        bar = cls.start(interval, t, last)
        earlier = []
        for trade in reversed(history):
            if trade.time < bar.open_time:
                break
            earlier.append(trade)
        for trade in reversed(earlier):
            bar.add(trade)
        return bar

    def add(self, trade: SimTrade) -> None:
        """Account one trade."""
        if self.count == 0:
            self.open = self.high = self.low = trade.price
            self.first_id = trade.id
        self.high = max(self.high, trade.price)
        self.low = min(self.low, trade.price)
        self.close = trade.price
        self.volume += trade.size
        self.quote += trade.price * trade.size
        if trade.side == "buy":
            self.buy_volume += trade.size
            self.buy_quote += trade.price * trade.size
        self.count += 1
        self.last_id = trade.id

    def texts(self, market: SyntheticMarket, decimals: int) -> BarTexts:
        """Prices and sizes written with (at least) ``decimals`` places; quote volumes exact."""
        tick_units = int(market.tick_size.scaleb(market.price_decimals))
        scale = market.price_decimals + market.size_decimals
        places = max(decimals, scale)
        return BarTexts(
            market.price_text(self.open, decimals),
            market.price_text(self.high, decimals),
            market.price_text(self.low, decimals),
            market.price_text(self.close, decimals),
            market.size_text(self.volume, decimals),
            format_units(self.quote * tick_units, scale, places),
            market.size_text(self.buy_volume, decimals),
            format_units(self.buy_quote * tick_units, scale, places),
        )
