"""A seeded synthetic market: random-walk mid, full-depth L2 book, trades, candles, ticker.

Every venue simulator drives one :class:`SyntheticMarket` per symbol.  The market is pure
Python state with no I/O and no clock of its own: :meth:`SyntheticMarket.step` is given the
time and returns what changed (:class:`MarketStep`).  The same seed and the same number of
steps give exactly the same book changes and trades (trade times are the ``now`` passed in).

Numbers are exact integers internally:

* prices are **ticks** (``price = ticks * tick_size``),
* sizes are **units** of ``10 ** -size_decimals``.

Format them for the wire with :meth:`SyntheticMarket.price_text` / :meth:`size_text`
(any number of decimals at least the market's own, so Kraken's ``"5541.30000"`` style
padding is exact), or as floats with :meth:`price` / :meth:`size`.

What one step does (in this order; weights are constructor arguments):

* the mid price takes a Gaussian random-walk step (``volatility`` ticks);
* ``events_per_step`` events, each one of: a limit-order **arrival** (adds size to a level
  near the touch, sometimes deep in the book), a **cancel** (shrinks or removes a level), a
  **trade** (a taker order that consumes liquidity at the touch, sweeping up to
  ``max_sweep`` levels; one :class:`SimTrade` per level touched, each at that level's price);
* the book is refilled at its far end to ``levels`` levels per side and trimmed to
  ``max_levels``.

Invariants (tested): the book is never crossed or locked (best bid < best ask), sizes are
positive, every trade price was the best opposite price when it printed, and
:meth:`SyntheticMarket.candles` equals an aggregation of the trades the steps returned.

:class:`MarketStep` ``changes`` hold each touched level once, with its size after the step
(``0`` = removed); levels whose size ended where it started are left out.

Example:
    >>> m = SyntheticMarket("XBT/USD", seed=7, mid="50000", tick_size="0.1", size_decimals=8)
    >>> step = m.step(now=1_700_000_000.0)
    >>> bid, ask = m.best_bid(), m.best_ask()
    >>> bid is not None and ask is not None and bid[0] < ask[0]
    True
    >>> m.price_text(bid[0], decimals=5).endswith("0000")
    True
    >>> all(c.size >= 0 for c in step.changes)
    True
"""

from __future__ import annotations

import bisect
import math
import random
from collections import deque
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal, TypeAlias

from ..errors import InvalidArgument

__all__ = [
    "BookSide",
    "Candle",
    "LevelChange",
    "MarketStep",
    "SimTrade",
    "SyntheticMarket",
    "TickerSummary",
    "format_units",
]

BookSide: TypeAlias = Literal["bid", "ask"]
TakerSide: TypeAlias = Literal["buy", "sell"]


@dataclass(frozen=True, slots=True)
class LevelChange:
    """One book level after a step: ``size`` units at ``price`` ticks; ``size == 0`` = removed."""

    side: BookSide
    price: int
    size: int


@dataclass(frozen=True, slots=True)
class SimTrade:
    """One print: ``size`` units at ``price`` ticks.

    ``side`` is the taker's side: ``"buy"`` lifted an ask, ``"sell"`` hit a bid.  ``id`` counts
    up from 1 per market.  ``time`` is a whole millisecond (the resolution venues stamp trades
    with), so a candle made here holds exactly the trades whose wire time falls in its bucket:
    a trade in the last half millisecond of a second used to be stamped into the next second.
    """

    id: int
    time: float
    price: int
    size: int
    side: TakerSide


@dataclass(frozen=True, slots=True)
class MarketStep:
    """What one :meth:`SyntheticMarket.step` changed."""

    time: float
    changes: tuple[LevelChange, ...]
    trades: tuple[SimTrade, ...]


@dataclass(frozen=True, slots=True)
class Candle:
    """OHLCV of the market's own trades in ``[open_time, open_time + interval)``.

    Prices are ticks, volumes units; ``quote_volume`` is ``sum(price * size)`` in
    ticks*units (so ``vwap = quote_volume / volume`` ticks).  ``closed`` is true once the
    market's clock (the last step's time) reached the end of the interval.
    """

    open_time: float
    interval: float
    open: int
    high: int
    low: int
    close: int
    volume: int
    quote_volume: int
    count: int
    buy_volume: int
    first_trade_time: float
    last_trade_time: float
    closed: bool

    @property
    def close_time(self) -> float:
        """End of the interval (exclusive)."""
        return self.open_time + self.interval


@dataclass(frozen=True, slots=True)
class TickerSummary:
    """A rolling-window (24 h by default) summary of the market, in ticks and units.

    ``open``/``high``/``low``/``last`` are ``None`` until the first trade in the window;
    ``bid``/``ask`` are ``(ticks, units)`` of the touch.
    """

    time: float
    window: float
    open: int | None
    high: int | None
    low: int | None
    last: int | None
    last_size: int | None
    volume: int
    quote_volume: int
    count: int
    bid: tuple[int, int] | None
    ask: tuple[int, int] | None


def format_units(units: int, scale: int, decimals: int | None = None) -> str:
    """Exact decimal text of ``units * 10**-scale`` with ``decimals`` (>= scale) places.

    Example:
        >>> format_units(55413, 1, 5), format_units(7, 3), format_units(12, 0)
        ('5541.30000', '0.007', '12')
    """
    places = scale if decimals is None else decimals
    if places < scale:
        raise InvalidArgument("decimals", decimals, f"must be at least {scale} to stay exact")
    sign = "-" if units < 0 else ""
    digits = str(abs(units))
    if scale == 0:
        whole, frac = digits, ""
    else:
        digits = digits.rjust(scale + 1, "0")
        whole, frac = digits[:-scale], digits[-scale:]
    frac += "0" * (places - scale)
    return f"{sign}{whole}.{frac}" if places else f"{sign}{whole}"


def _decimal(name: str, value: str | float | int | Decimal) -> Decimal:
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise InvalidArgument(name, value, "not a number") from None
    if not d.is_finite() or d <= 0:
        raise InvalidArgument(name, value, "must be a positive number")
    return d


class SyntheticMarket:
    """One symbol's seeded market (see the module docstring).

    Args:
        symbol: the venue's spelling; only stored.
        seed: RNG seed; same seed + same calls = same results.
        mid: starting mid price (decimal text recommended, e.g. ``"50000"``).
        tick_size: price increment, e.g. ``"0.1"``; also fixes the price decimals.
        size_decimals: sizes are integers of ``10**-size_decimals``.
        levels: price levels per side the book is refilled to.
        max_levels: levels per side beyond which the worst are removed (default ``2 * levels``).
        volatility: standard deviation of the mid's step, in ticks.
        events_per_step: order events per step.
        arrival_weight, cancel_weight, trade_weight: relative odds of each event kind.
        base_size: typical order size in whole size units (e.g. ``1.0`` = 1 BTC).
        max_sweep: most levels one taker order may consume.
        history: trades kept for :meth:`candles` and :meth:`ticker`.
        ticker_window: seconds summarised by :meth:`ticker`.

    Example:
        >>> m = SyntheticMarket("ETHBTC", seed=1, mid="0.05", tick_size="0.000001", size_decimals=4)
        >>> len(m.bids(10)), m.price_decimals
        (10, 6)
    """

    def __init__(
        self,
        symbol: str,
        seed: int = 0,
        *,
        mid: str | float | int | Decimal = "100",
        tick_size: str | float | int | Decimal = "0.01",
        size_decimals: int = 8,
        levels: int = 500,
        max_levels: int | None = None,
        volatility: float = 0.6,
        events_per_step: int = 8,
        arrival_weight: float = 0.45,
        cancel_weight: float = 0.35,
        trade_weight: float = 0.2,
        base_size: float = 1.0,
        max_sweep: int = 3,
        history: int = 200_000,
        ticker_window: float = 86_400.0,
        start_time: float = 0.0,
    ) -> None:
        tick = _decimal("tick_size", tick_size)
        mid_d = _decimal("mid", mid)
        if not 0 <= size_decimals <= 18:
            raise InvalidArgument("size_decimals", size_decimals, "must be between 0 and 18")
        if levels < 1:
            raise InvalidArgument("levels", levels, "must be at least 1")
        if max_levels is not None and max_levels < levels:
            raise InvalidArgument("max_levels", max_levels, "must be at least levels")
        weights = (arrival_weight, cancel_weight, trade_weight)
        if min(weights) < 0 or sum(weights) <= 0:
            raise InvalidArgument("weights", weights, "must be non-negative and not all zero")
        if events_per_step < 0:
            raise InvalidArgument("events_per_step", events_per_step, "must be >= 0")
        self.symbol = symbol
        self.seed = seed
        exponent = tick.normalize().as_tuple().exponent
        assert isinstance(exponent, int)
        #: decimals of a price at this tick size
        self.price_decimals = max(0, -exponent)
        self._tick_units = int(tick.scaleb(self.price_decimals))
        self.tick_size = tick
        self.size_decimals = size_decimals
        self.levels = levels
        self.max_levels = max_levels if max_levels is not None else 2 * levels
        self.volatility = volatility
        self.events_per_step = events_per_step
        total = sum(weights)
        self._p_arrival = arrival_weight / total
        self._p_cancel = (arrival_weight + cancel_weight) / total
        self.base_units = max(1.0, base_size * 10**size_decimals)
        self.max_sweep = max(1, max_sweep)
        self.ticker_window = ticker_window
        self._rng = random.Random(seed)
        self._mid = max(float(mid_d / tick), 4.0)
        self._bids: dict[int, int] = {}
        self._asks: dict[int, int] = {}
        self._bid_keys: list[int] = []  # ascending; best bid is last
        self._ask_keys: list[int] = []  # ascending; best ask is first
        self._trade_id = 0
        self._history: deque[SimTrade] = deque(maxlen=history)
        self._window: deque[SimTrade] = deque()
        self._win_volume = 0
        self._win_quote = 0
        self._win_high: int | None = None
        self._win_low: int | None = None
        #: time of the last step (the market's clock)
        self.time = start_time
        self._touched: dict[tuple[BookSide, int], int] | None = None
        self._seed_book()

    # -- formatting ------------------------------------------------------------------------

    def price_text(self, ticks: int, decimals: int | None = None) -> str:
        """Exact price text; ``decimals`` pads beyond the tick's own decimals."""
        return format_units(ticks * self._tick_units, self.price_decimals, decimals)

    def size_text(self, units: int, decimals: int | None = None) -> str:
        """Exact size text; ``decimals`` pads beyond ``size_decimals``."""
        return format_units(units, self.size_decimals, decimals)

    def price(self, ticks: int) -> float:
        """Price as a float (parsed from the exact text, so it equals ``float(price_text)``)."""
        return float(self.price_text(ticks))

    def size(self, units: int) -> float:
        """Size as a float (equals ``float(size_text)``)."""
        return float(self.size_text(units))

    def ticks(self, price: str | float | Decimal) -> int:
        """Ticks of a price (rounded to the nearest tick)."""
        return int((Decimal(str(price)) / self.tick_size).to_integral_value())

    # -- book accessors --------------------------------------------------------------------

    @property
    def mid(self) -> float:
        """The random-walk reference price (float price, not ticks)."""
        return self._mid * float(self.tick_size)

    def best_bid(self) -> tuple[int, int] | None:
        """``(ticks, units)`` of the best bid, or ``None`` for an empty side."""
        if not self._bid_keys:
            return None
        p = self._bid_keys[-1]
        return p, self._bids[p]

    def best_ask(self) -> tuple[int, int] | None:
        """``(ticks, units)`` of the best ask, or ``None`` for an empty side."""
        if not self._ask_keys:
            return None
        p = self._ask_keys[0]
        return p, self._asks[p]

    def bids(self, depth: int | None = None) -> list[tuple[int, int]]:
        """Bid levels ``(ticks, units)``, best (highest) first."""
        keys = self._bid_keys if depth is None else self._bid_keys[-depth:] if depth > 0 else []
        return [(p, self._bids[p]) for p in reversed(keys)]

    def asks(self, depth: int | None = None) -> list[tuple[int, int]]:
        """Ask levels ``(ticks, units)``, best (lowest) first."""
        keys = self._ask_keys if depth is None else self._ask_keys[:depth]
        return [(p, self._asks[p]) for p in keys]

    def level(self, side: BookSide, ticks: int) -> int:
        """Units resting at a price (0 when empty)."""
        return (self._bids if side == "bid" else self._asks).get(ticks, 0)

    # -- stepping --------------------------------------------------------------------------

    def step(self, now: float) -> MarketStep:
        """Advance the market one step at time ``now`` (epoch seconds) and return the changes."""
        rng = self._rng
        self.time = now
        self._touched = {}
        trades: list[SimTrade] = []
        self._mid = max(4.0, self._mid + rng.gauss(0.0, self.volatility))
        for _ in range(self.events_per_step):
            r = rng.random()
            if r < self._p_arrival:
                self._arrival()
            elif r < self._p_cancel:
                self._cancel()
            else:
                self._trade(round(now, 3), trades)
        self._refill()
        touched, self._touched = self._touched, None
        changes = tuple(
            LevelChange(side, price, after)
            for (side, price), before in touched.items()
            if (after := self.level(side, price)) != before
        )
        for t in trades:
            self._record(t)
        return MarketStep(now, changes, tuple(trades))

    def _set(self, side: BookSide, price: int, units: int) -> None:
        book, keys = (self._bids, self._bid_keys) if side == "bid" else (self._asks, self._ask_keys)
        touched = self._touched
        old = book.get(price, 0)
        if touched is not None and (side, price) not in touched:
            touched[(side, price)] = old
        if units > 0:
            if old == 0:
                bisect.insort(keys, price)
            book[price] = units
        elif old:
            del book[price]
            del keys[bisect.bisect_left(keys, price)]

    def _order_size(self) -> int:
        return max(1, int(self._rng.lognormvariate(0.0, 1.0) * self.base_units))

    def _anchors(self) -> tuple[int, int]:
        """Prices where new passive orders join: around the mid, never crossing the book."""
        bid_anchor = math.ceil(self._mid) - 1
        ask_anchor = math.floor(self._mid) + 1
        if self._ask_keys:
            bid_anchor = min(bid_anchor, self._ask_keys[0] - 1)
        if self._bid_keys:
            ask_anchor = max(ask_anchor, self._bid_keys[-1] + 1)
        return max(1, bid_anchor), max(2, ask_anchor)

    def _distance(self) -> int:
        rng = self._rng
        if rng.random() < 0.8:
            return int(rng.expovariate(0.2))
        return rng.randrange(self.levels * 2)

    def _arrival(self) -> None:
        bid_anchor, ask_anchor = self._anchors()
        units = self._order_size()
        if self._rng.random() < 0.5:
            price = bid_anchor - self._distance()
            if price >= 1:
                self._set("bid", price, self._bids.get(price, 0) + units)
        else:
            price = ask_anchor + self._distance()
            self._set("ask", price, self._asks.get(price, 0) + units)

    def _cancel(self) -> None:
        rng = self._rng
        side: BookSide = "bid" if rng.random() < 0.5 else "ask"
        keys = self._bid_keys if side == "bid" else self._ask_keys
        if not keys:
            return
        n = len(keys)
        k = rng.randrange(min(n, 10)) if rng.random() < 0.7 else rng.randrange(n)
        price = keys[n - 1 - k] if side == "bid" else keys[k]
        size = self.level(side, price)
        if rng.random() < 0.5 and size > 1:
            self._set(side, price, max(1, int(size * rng.uniform(0.1, 0.9))))
        else:
            self._set(side, price, 0)

    def _trade(self, now: float, trades: list[SimTrade]) -> None:
        rng = self._rng
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None:
            return
        # Lean the taker towards the mid so the book follows the random walk.
        pressure = (self._mid - (bid[0] + ask[0]) / 2) * 0.15
        side: TakerSide = "buy" if rng.random() < 0.5 + max(-0.4, min(0.4, pressure)) else "sell"
        wanted = self._order_size()
        for _ in range(self.max_sweep):
            touch = self.best_ask() if side == "buy" else self.best_bid()
            if touch is None or wanted <= 0:
                break
            price, resting = touch
            filled = min(wanted, resting)
            self._set("ask" if side == "buy" else "bid", price, resting - filled)
            self._trade_id += 1
            trades.append(SimTrade(self._trade_id, now, price, filled, side))
            wanted -= filled

    def _refill(self) -> None:
        rng = self._rng
        for side, keys in (("bid", self._bid_keys), ("ask", self._ask_keys)):
            s: BookSide = "bid" if side == "bid" else "ask"
            while len(keys) < self.levels:
                if not keys:
                    anchor = self._anchors()[0 if s == "bid" else 1]
                    self._set(s, anchor, self._order_size())
                    continue
                gap = 1 + int(rng.expovariate(1.0))
                if s == "bid":
                    price = keys[0] - gap
                    if price < 1:
                        break
                else:
                    price = keys[-1] + gap
                self._set(s, price, self._order_size())
            while len(keys) > self.max_levels:
                self._set(s, keys[0] if s == "bid" else keys[-1], 0)

    def _seed_book(self) -> None:
        self._refill()

    # -- trades, candles, ticker -----------------------------------------------------------

    def _record(self, t: SimTrade) -> None:
        self._history.append(t)
        self._window.append(t)
        self._win_volume += t.size
        self._win_quote += t.size * t.price
        self._win_high = t.price if self._win_high is None else max(self._win_high, t.price)
        self._win_low = t.price if self._win_low is None else min(self._win_low, t.price)

    def _expire(self) -> None:
        horizon = self.time - self.ticker_window
        window = self._window
        rescan = False
        while window and window[0].time < horizon:
            t = window.popleft()
            self._win_volume -= t.size
            self._win_quote -= t.size * t.price
            rescan = rescan or t.price in (self._win_high, self._win_low)
        if rescan or not window:
            self._win_high = max((t.price for t in window), default=None)
            self._win_low = min((t.price for t in window), default=None)

    def trades(self) -> list[SimTrade]:
        """Every trade still in the history (oldest first)."""
        return list(self._history)

    def candles(self, interval: float, since: float | None = None) -> list[Candle]:
        """Candles of ``interval`` seconds from the trade history (buckets with no trade are absent).

        Bucket = ``floor(time / interval) * interval``.  ``since`` drops buckets opening before it.

        Example:
            >>> m = SyntheticMarket("X", seed=3, trade_weight=5)
            >>> _ = [m.step(1000.0 + i * 0.25) for i in range(8)]
            >>> [c.open_time for c in m.candles(1.0)]
            [1000.0, 1001.0]
        """
        if interval <= 0:
            raise InvalidArgument("interval", interval, "must be positive")
        out: list[Candle] = []
        acc: list[SimTrade] = []
        bucket: float | None = None
        for t in self._history:
            b = math.floor(t.time / interval) * interval
            if b != bucket:
                if acc and bucket is not None:
                    out.append(self._candle(bucket, interval, acc))
                bucket, acc = b, []
            acc.append(t)
        if acc and bucket is not None:
            out.append(self._candle(bucket, interval, acc))
        if since is not None:
            out = [c for c in out if c.open_time >= since]
        return out

    def _candle(self, open_time: float, interval: float, trades: list[SimTrade]) -> Candle:
        prices = [t.price for t in trades]
        return Candle(
            open_time=open_time,
            interval=interval,
            open=prices[0],
            high=max(prices),
            low=min(prices),
            close=prices[-1],
            volume=sum(t.size for t in trades),
            quote_volume=sum(t.size * t.price for t in trades),
            count=len(trades),
            buy_volume=sum(t.size for t in trades if t.side == "buy"),
            first_trade_time=trades[0].time,
            last_trade_time=trades[-1].time,
            closed=self.time >= open_time + interval,
        )

    def ticker(self) -> TickerSummary:
        """Rolling ``ticker_window`` summary at the market's clock.

        Example:
            >>> m = SyntheticMarket("X", seed=3, trade_weight=5)
            >>> _ = m.step(1.0)
            >>> s = m.ticker()
            >>> s.count == len(m.trades()) and s.low <= s.last <= s.high
            True
        """
        self._expire()
        w = self._window
        return TickerSummary(
            time=self.time,
            window=self.ticker_window,
            open=w[0].price if w else None,
            high=self._win_high,
            low=self._win_low,
            last=w[-1].price if w else None,
            last_size=w[-1].size if w else None,
            volume=self._win_volume,
            quote_volume=self._win_quote,
            count=len(w),
            bid=self.best_bid(),
            ask=self.best_ask(),
        )

    def __repr__(self) -> str:
        bid, ask = self.best_bid(), self.best_ask()
        b = self.price_text(bid[0]) if bid else "-"
        a = self.price_text(ask[0]) if ask else "-"
        return f"SyntheticMarket({self.symbol!r}, bid={b}, ask={a}, levels={len(self._bids)}/{len(self._asks)})"
