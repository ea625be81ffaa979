"""Shared bar engine of :mod:`rxfeeds.ops.klines` and :mod:`rxfeeds.ops.resample` (private).

It lives in its own module so that importing it from ``resample`` does not bind the
``rxfeeds.ops.klines`` submodule over the ``ops.klines`` operator in the lazy operator table.
Per-series state, closing by later input or by the scheduler clock, flat bars, late-input
amendment with a bounded history, and the single pending timer per subscription.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable, SerialDisposable

from rxfeeds.errors import InvalidArgument
from rxfeeds.events import Kline
from rxfeeds.intervals import Interval, IntervalLike, parse_interval
from rxfeeds.timing import timer_scheduler

__all__ = ["Emit", "Empty", "KlineStats", "Late"]

Empty = Literal["skip", "fill"]
Emit = Literal["close", "update"]
Late = Literal["drop", "amend"]

_INF = float("inf")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)


@dataclass
class KlineStats:
    """Counters of a kline operator, summed over its subscriptions.

    Each subscription updates them under its own lock; an operator object subscribed several times
    at once from different threads may (rarely) lose an increment.  Read them as monitoring figures.

    Example:
        >>> from rxfeeds.ops import klines
        >>> op = klines("1m", grace=None)
        >>> op.stats.late_dropped
        0
    """

    #: trades (``klines``) or non-empty input bars (``resample``) counted into bars
    items: int = 0
    #: closed bars with trades emitted (first versions)
    bars: int = 0
    #: flat bars emitted for empty buckets (``empty="fill"``)
    filled: int = 0
    #: empty buckets not filled because a gap exceeded ``max_fill``
    fill_skipped: int = 0
    #: late inputs dropped (``late="drop"``, or too old to amend)
    late_dropped: int = 0
    #: late inputs added to an already closed bar (``late="amend"``)
    late_amended: int = 0
    #: corrected bars emitted (revision > 0), including re-emitted flat bars
    amendments: int = 0
    #: late inputs dropped per ``(venue, symbol)``
    late_by_symbol: dict[tuple[str, str], int] = field(default_factory=dict)


class BarOperator:
    """Settings and ``repr`` shared by the ``klines`` and ``resample`` operator objects.

    ``stats`` holds a :class:`KlineStats` summed over every subscription.
    """

    name = "bars"

    def __init__(
        self,
        interval: Interval,
        *,
        empty: Empty,
        emit: Emit,
        late: Late,
        grace: float | None,
        history: int,
        max_fill: int,
        scheduler: abc.SchedulerBase | None,
    ) -> None:
        self.interval = interval
        self.empty = empty
        self.emit = emit
        self.late = late
        self.grace = grace
        self.history = history
        self.max_fill = max_fill
        self.scheduler = scheduler
        self.stats = KlineStats()

    def __repr__(self) -> str:
        return (
            f"{self.name}({self.interval.name!r}, empty={self.empty!r}, emit={self.emit!r}, "
            f"late={self.late!r}, grace={self.grace!r})"
        )

    def _start(self, observer: abc.ObserverBase[Kline], scheduler: abc.SchedulerBase) -> Any:
        """A fresh per-subscription run (``_Run`` subclass) for this operator's settings."""
        raise NotImplementedError

    def _on_next(self, run: Any) -> Callable[[Any], None]:
        """The source's ``on_next`` for one run."""
        raise NotImplementedError

    def _run_settings(self) -> tuple[Interval, bool, bool, bool, float | None, int, int, KlineStats]:
        return (
            self.interval, self.empty == "fill", self.emit == "update", self.late == "amend",
            self.grace, self.history, self.max_fill, self.stats,
        )  # fmt: skip

    def __call__(self, source: Observable[Any]) -> Observable[Kline]:
        def subscribe(
            observer: abc.ObserverBase[Kline], subscribe_scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            scheduler = timer_scheduler(self.scheduler, subscribe_scheduler)
            run = self._start(observer, scheduler)
            upstream = source.subscribe(
                self._on_next(run), run.on_error, run.on_completed, scheduler=subscribe_scheduler
            )
            return CompositeDisposable(upstream, Disposable(run.dispose))

        return reactivex.create(subscribe)


class _Bar:
    """Mutable accumulator of one bucket (never handed out; :class:`Kline` values are)."""

    __slots__ = (
        "buy",
        "close",
        "count",
        "end",
        "first_time",
        "high",
        "last_time",
        "low",
        "open",
        "parts",
        "quote",
        "recv_time",
        "revision",
        "sell",
        "sided",
        "start",
        "trades",
        "volume",
    )

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end
        self.open = self.high = self.low = self.close = 0.0
        self.volume = self.quote = self.buy = self.sell = 0.0
        self.count = 0  # trades (klines) or non-empty parts (resample); 0 = empty bar
        self.trades: int | None = 0
        self.sided = False
        self.first_time = self.last_time = self.recv_time = 0.0
        self.revision = 0
        self.parts: dict[float, Kline] | None = None

    def flat(self, price: float) -> None:
        self.open = self.high = self.low = self.close = price


class _Series:
    """State of one ``(venue, symbol)``.

    ``bar`` is the open bar (``None`` when none); ``[start, end)`` its bucket.  Without an open bar
    ``start == end ==`` the end of the last closed bucket, so the fast-path test fails and anything
    older is late.
    """

    __slots__ = ("amend_floor", "bar", "end", "history", "key", "last_close", "start", "symbol", "venue")

    def __init__(self, venue: str, symbol: str) -> None:
        self.venue = venue
        self.symbol = symbol
        self.key = (venue, symbol)
        self.bar: _Bar | None = None
        self.start = self.end = float("-inf")
        self.last_close: float | None = None
        self.history: dict[float, _Bar] = {}
        # oldest bucket late="amend" may still change (+inf until the first bar opens)
        self.amend_floor = _INF


def validate(
    interval: IntervalLike,
    empty: str,
    emit: str,
    late: str,
    grace: float | None,
    history: int,
    max_fill: int,
) -> Interval:
    parsed = parse_interval(interval)
    if empty not in ("skip", "fill"):
        raise InvalidArgument("empty", empty, 'must be "skip" or "fill"')
    if emit not in ("close", "update"):
        raise InvalidArgument("emit", emit, 'must be "close" or "update"')
    if late not in ("drop", "amend"):
        raise InvalidArgument("late", late, 'must be "drop" or "amend"')
    if grace is not None and (isinstance(grace, bool) or not grace >= 0):
        raise InvalidArgument("grace", grace, "must be a number of seconds >= 0, or None")
    if isinstance(history, bool) or not isinstance(history, int) or history < 1:
        raise InvalidArgument("history", history, "must be an int >= 1")
    if isinstance(max_fill, bool) or not isinstance(max_fill, int) or max_fill < 0:
        raise InvalidArgument("max_fill", max_fill, "must be an int >= 0")
    return parsed


class _Run:
    """One subscription: series states, the single pending timer, emission under one lock.

    Subclasses feed inputs; this class closes, fills, amends and schedules.
    """

    def __init__(
        self,
        interval: Interval,
        fill: bool,
        update: bool,
        amend: bool,
        grace: float | None,
        history: int,
        max_fill: int,
        stats: KlineStats,
        observer: abc.ObserverBase[Kline],
        scheduler: abc.SchedulerBase,
    ) -> None:
        self.interval = interval
        self.name = interval.name
        self.fill = fill
        self.update = update
        self.amend = amend
        self.grace = grace
        self.history = history
        self.max_fill = max_fill
        self.stats = stats
        self.observer = observer
        self.scheduler = scheduler
        # months vary in length; 28 days is the shortest, so gap counts are over-estimates
        self.nominal = float(interval.seconds or 28 * 86400)
        self.lock = threading.RLock()
        self.series: dict[tuple[str, str], _Series] = {}
        self.timer = SerialDisposable()
        self.timer_due: float | None = None
        self.done = False

    # -- clock ---------------------------------------------------------------------------------
    def now(self) -> float:
        now = self.scheduler.now
        if now.tzinfo is None:
            return (now - _NAIVE_EPOCH).total_seconds()
        return (now - _EPOCH).total_seconds()

    def want_timer(self, deadline: float) -> None:
        if self.grace is None or self.done:
            return
        due = self.timer_due
        if due is not None and due <= deadline:
            return
        self.timer_due = deadline
        when = datetime.fromtimestamp(deadline, tz=UTC)
        self.timer.disposable = self.scheduler.schedule_absolute(when, self.on_timer)

    def on_timer(self, _scheduler: abc.SchedulerBase, _state: Any = None) -> None:
        with self.lock:
            if self.done:
                return
            self.timer_due = None
            assert self.grace is not None
            grace = self.grace
            now = self.now()
            nearest: float | None = None
            for s in self.series.values():
                bar = s.bar
                if bar is not None and bar.end + grace <= now:
                    self.close_bar(s)
                if self.fill and s.bar is None and s.last_close is not None:
                    self.fill_until(s, self.interval.bucket_start(now - grace), now)
                due = self.deadline(s)
                if due is not None and (nearest is None or due < nearest):
                    nearest = due
            if nearest is not None:
                self.want_timer(nearest)

    def catch_up(self, s: _Series, now: float) -> None:
        """Apply the clock to one series now (the timer may lag behind the clock)."""
        assert self.grace is not None
        self.advance_to(s, now - self.grace, now)

    def advance_to(self, s: _Series, t: float, recv_time: float) -> None:
        """Exchange time has reached ``t`` for this series: every bucket ending at or before it is closed."""
        bar = s.bar
        if bar is not None and bar.end <= t:
            self.close_bar(s)
        if s.bar is None:
            closed_until = self.interval.bucket_start(t)
            if self.fill and s.last_close is not None:
                self.fill_until(s, closed_until, recv_time)
            elif closed_until > s.start:
                # buckets that passed without input are closed too (empty="skip")
                s.start = s.end = closed_until

    def deadline(self, s: _Series) -> float | None:
        assert self.grace is not None
        if s.bar is not None:
            return s.bar.end + self.grace
        if self.fill and s.last_close is not None:
            return self.interval.bucket_end(s.start) + self.grace
        return None

    # -- series and bars -----------------------------------------------------------------------
    def get_series(self, venue: str, symbol: str) -> _Series:
        key = (venue, symbol)
        s = self.series.get(key)
        if s is None:
            s = self.series[key] = _Series(venue, symbol)
        return s

    def kline(self, s: _Series, bar: _Bar, closed: bool) -> Kline:
        """The immutable value of ``bar``."""
        if bar.count == 0:
            return Kline(
                s.venue, s.symbol, bar.start, bar.recv_time, self.name, bar.start, bar.end,
                bar.open, bar.open, bar.open, bar.open, 0.0, 0.0, 0, None, None, None, None, None,
                closed, bar.revision,
            )  # fmt: skip
        volume = bar.volume
        sided = bar.sided
        return Kline(
            s.venue, s.symbol, bar.last_time, bar.recv_time, self.name, bar.start, bar.end,
            bar.open, bar.high, bar.low, bar.close, volume, bar.quote,
            bar.count if bar.parts is None else bar.trades,
            bar.quote / volume if volume else None,
            bar.buy if sided else None, bar.sell if sided else None,
            bar.first_time, bar.last_time, closed, bar.revision,
        )  # fmt: skip

    def close_bar(self, s: _Series) -> None:
        bar = s.bar
        assert bar is not None
        s.bar = None
        s.start = s.end = bar.end
        s.last_close = bar.close
        stats = self.stats
        stats.items += bar.count
        stats.bars += 1
        self.remember(s, bar)
        self.observer.on_next(self.kline(s, bar, True))

    def remember(self, s: _Series, bar: _Bar) -> None:
        if not self.amend:
            return
        history = s.history
        history[bar.start] = bar
        if len(history) > self.history:
            oldest = min(history)
            s.amend_floor = history.pop(oldest).end

    def fill_until(self, s: _Series, target: float, recv_time: float) -> None:
        """Emit flat bars for the empty buckets from ``s.start`` up to ``target`` (exclusive)."""
        start = s.start
        price = s.last_close
        if start >= target or price is None:
            return
        gaps = int((target - start) / self.nominal) + 1
        if gaps > self.max_fill:
            self.stats.fill_skipped += gaps
            s.start = s.end = target
            return
        interval = self.interval
        observer = self.observer
        while start < target:
            end = interval.bucket_end(start)
            bar = _Bar(start, end)
            bar.flat(price)
            bar.recv_time = recv_time
            self.stats.filled += 1
            self.remember(s, bar)
            observer.on_next(self.kline(s, bar, True))
            start = end
        s.start = s.end = start

    def roll(self, s: _Series, start: float, end: float, recv_time: float) -> _Bar:
        """Close the open bar and fill the gap, then open the bar of bucket ``[start, end)``."""
        if s.bar is not None:
            self.close_bar(s)
        if self.fill:
            self.fill_until(s, start, recv_time)
        if s.amend_floor == _INF:
            s.amend_floor = start
        bar = _Bar(start, end)
        s.bar = bar
        s.start = start
        s.end = end
        if self.grace is not None:
            self.want_timer(end + self.grace)
        return bar

    def late_bar(self, s: _Series, start: float, end: float, recv_time: float) -> _Bar | None:
        """The closed bar a late input of bucket ``[start, end)`` amends, or ``None`` (dropped)."""
        if self.amend and start >= s.amend_floor:
            bar = s.history.get(start)
            if bar is None:
                # the bucket closed with no bar (skipped, or before anything was kept)
                bar = _Bar(start, end)
                bar.recv_time = recv_time
                self.remember(s, bar)
            self.stats.late_amended += 1
            return bar
        stats = self.stats
        stats.late_dropped += 1
        stats.late_by_symbol[s.key] = stats.late_by_symbol.get(s.key, 0) + 1
        return None

    def emit_amended(self, s: _Series, bar: _Bar) -> None:
        stats = self.stats
        observer = self.observer
        bar.revision += 1
        stats.amendments += 1
        observer.on_next(self.kline(s, bar, True))
        price = bar.close
        end = bar.end
        if self.fill:
            # flat bars after the amended one carried its old close
            follower = s.history.get(end)
            while follower is not None and follower.count == 0:
                if follower.close != price:
                    follower.flat(price)
                    follower.revision += 1
                    stats.amendments += 1
                    observer.on_next(self.kline(s, follower, True))
                end = follower.end
                follower = s.history.get(end)
        if s.bar is None and s.start == end:
            s.last_close = price

    # -- completion ----------------------------------------------------------------------------
    def on_completed(self) -> None:
        with self.lock:
            if self.done:
                return
            self.done = True
            self.timer.dispose()
            for s in self.series.values():
                if s.bar is not None:
                    self.observer.on_next(self.kline(s, s.bar, False))
            self.observer.on_completed()

    def on_error(self, error: Exception) -> None:
        with self.lock:
            if self.done:
                return
            self.done = True
            self.timer.dispose()
            self.observer.on_error(error)

    def dispose(self) -> None:
        with self.lock:
            self.done = True
            self.timer.dispose()
