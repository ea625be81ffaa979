"""``klines``: candles (bars) built from trades, in exchange time.

Marble sketch (``klines("1m")``, ``t@S`` = a trade at exchange second S, ``|`` the scheduler clock
passing a bucket end plus ``grace``)::

    trades:  --t@5--t@30-------t@65------------------------|(61+grace)----t@190---|
                                 |                                                 |
    klines:  -------------------[0,60)------------------[60,120)------------------[180,240)*|

    [0,60)   closes when the trade of the later bucket (t@65) arrives;
    [60,120) closes on the clock, with no trade after it (a quiet market still gets its bar);
    [120,180) had no trade: skipped, or a flat zero-volume bar with ``empty="fill"``;
    * at completion the open bar is flushed with ``closed=False``.

Rules (exchange time = ``Trade.time``; every bucket is ``[open_time, close_time)`` from
:mod:`rxfeeds.intervals`: epoch multiples, Monday weeks, calendar months):

* **Grouping**: one series of bars per ``(venue, symbol)``; all series come out interleaved in one
  stream.  Events other than :class:`~rxfeeds.events.Trade` are ignored.
* **Closing**: a bar closes when a trade of a later bucket arrives, or when the scheduler clock
  reaches ``close_time + grace``.  The scheduler clock and exchange time are treated as the same
  timeline: live, that is the local UTC clock, so ``grace`` must cover the exchange-to-local clock
  skew plus delivery latency (a trade stamped before a bucket end that arrives after
  ``end + grace`` by the local clock is late).  In replay with a virtual-time scheduler the virtual
  clock closes bars exactly as live.  ``grace=None`` turns the clock off: bars then close only on
  later trades (batch use over historical trades).  One timer per subscription is pending at any
  time (the earliest deadline over all symbols), never one per trade.  Bars closed by the clock are
  emitted on the scheduler's thread (the timer thread live); emissions are serialised by a lock.
* **Empty buckets**: ``empty="skip"`` emits nothing; ``empty="fill"`` emits a flat bar
  (open = high = low = close = previous close, volume 0, ``trades=0``) for every bucket without
  trades after a symbol's first trade, both when a later trade arrives and when the clock passes.
  At most ``max_fill`` flat bars are made for one gap (protection against absurd timestamps);
  bigger gaps are skipped and counted in :attr:`KlineStats.fill_skipped`.
* **Emission**: ``emit="close"`` emits each bar once, closed; ``emit="update"`` also emits the
  open bar (``closed=False``) after every trade.
* **Late trades**: a trade is late when its bucket is already closed: older than the open bar, or
  its bucket's ``end + grace`` has passed on the clock.  (For the open bar itself the clock is
  read by its timer, not per trade: a trade that reaches the open bar after its deadline but before
  the timer has run still counts.)  ``late="drop"`` drops it and counts it in
  :attr:`KlineStats.late_dropped` (and per symbol in ``late_by_symbol``).  ``late="amend"`` adds it
  to the closed bar and re-emits that bar with ``revision`` + 1 (a bucket that had no bar appears
  with ``revision=1``); with ``empty="fill"`` the flat bars that follow an amended bar are re-emitted
  too when their price changes.  The last ``history`` closed bars per symbol are kept for this;
  older trades, or trades older than a symbol's first bar, are dropped and counted.
* **Within a bar**, trades may arrive out of time order: open is the earliest trade by time, close
  the latest (ties keep arrival order).
* **Completion**: open bars are flushed with ``closed=False``, then the stream completes.  Errors
  pass through.  :class:`~rxfeeds.events.StreamReset` is ignored like any non-trade event: trades
  lost in a reconnect gap are missing from their bars (``reconcile_klines`` against the venue's
  own klines shows such bars).
* Volumes are float sums in arrival order; ``vwap = quote_volume / volume``.  ``buy_volume`` /
  ``sell_volume`` are ``None`` when no trade of the bar carried a side.

Example:
    >>> import reactivex
    >>> from rxfeeds.events import Trade
    >>> trades = [Trade("x", "BTC", t, t, price=p, size=1.0) for t, p in [(1, 10.0), (30, 12.0), (61, 11.0)]]
    >>> bars = []
    >>> _ = reactivex.from_iterable(trades).pipe(klines("1m", grace=None)).subscribe(bars.append)
    >>> [(k.open_time, k.open, k.high, k.close, k.volume, k.closed) for k in bars]
    [(0.0, 10.0, 12.0, 12.0, 2.0, True), (60.0, 11.0, 11.0, 11.0, 1.0, False)]
"""

from __future__ import annotations

from typing import Any

from reactivex import abc

from rxfeeds.events import Kline, Trade
from rxfeeds.intervals import IntervalLike
from rxfeeds.ops._bars import BarOperator, Emit, Empty, KlineStats, Late, _Bar, _Run, _Series, validate

__all__ = ["KlineStats", "Klines", "klines"]


class _KlinesRun(_Run):
    def on_trade_slow(self, s: _Series, ev: Trade) -> None:
        if self.done:
            return
        t = ev.time
        recv_time = ev.recv_time
        start, end = self.interval.bucket(t)
        if t >= s.start and self.grace is not None:
            now = self.now()
            if end + self.grace <= now:
                # the trade's bucket is past its deadline: let the clock close what it must first
                self.catch_up(s, now)
        if t < s.start:
            late = self.late_bar(s, start, end, recv_time)
            if late is not None:
                _add_trade(late, ev)
                self.emit_amended(s, late)
            return
        bar = self.roll(s, start, end, recv_time)
        _add_trade(bar, ev)
        if self.update:
            self.observer.on_next(self.kline(s, bar, False))


def _add_trade(bar: _Bar, ev: Trade) -> None:
    p = ev.price
    q = ev.size
    t = ev.time
    if bar.count == 0:
        bar.open = bar.high = bar.low = bar.close = p
        bar.first_time = bar.last_time = t
    else:
        if p > bar.high:
            bar.high = p
        elif p < bar.low:
            bar.low = p
        if t >= bar.last_time:
            bar.close = p
            bar.last_time = t
        elif t < bar.first_time:
            bar.open = p
            bar.first_time = t
    bar.volume += q
    bar.quote += p * q
    bar.count += 1
    bar.recv_time = ev.recv_time
    side = ev.side
    if side is not None:
        bar.sided = True
        if side == "buy":
            bar.buy += q
        else:
            bar.sell += q


class Klines(BarOperator):
    """The operator returned by :func:`klines`: call it on a trade stream (or use it in ``pipe``).

    ``stats`` holds its :class:`KlineStats` (summed over every subscription).
    """

    name = "klines"

    def _start(self, observer: abc.ObserverBase[Kline], scheduler: abc.SchedulerBase) -> _KlinesRun:
        return _KlinesRun(*self._run_settings(), observer, scheduler)

    def _on_next(self, run: Any) -> Any:
        lock = run.lock
        series = run.series
        update = run.update
        slow = run.on_trade_slow
        add = _add_trade
        last: _Series | None = None

        def on_next(ev: Any) -> None:
            nonlocal last
            if ev.__class__ is not Trade and not isinstance(ev, Trade):
                return
            with lock:
                s = last
                if s is None or s.symbol != ev.symbol or s.venue != ev.venue:
                    s = series.get((ev.venue, ev.symbol))
                    if s is None:
                        s = run.get_series(ev.venue, ev.symbol)
                    last = s
                t = ev.time
                if not s.start <= t < s.end:
                    slow(s, ev)
                    return
                # hot path: a trade of the open bar
                bar = s.bar
                assert bar is not None
                add(bar, ev)
                if update:
                    run.observer.on_next(run.kline(s, bar, False))

        return on_next


def klines(
    interval: IntervalLike,
    *,
    empty: Empty = "skip",
    emit: Emit = "close",
    late: Late = "drop",
    grace: float | None = 1.0,
    history: int = 100,
    max_fill: int = 100_000,
    scheduler: abc.SchedulerBase | None = None,
) -> Klines:
    """Build :class:`~rxfeeds.events.Kline` bars from :class:`~rxfeeds.events.Trade` events.

    Args:
        interval: bar length, any spelling :func:`rxfeeds.intervals.parse_interval` accepts
            (``"1m"``, ``"M5"``, ``"4h"``, ``"1w"``, ``"1M"``, ``60``).
        empty: ``"skip"`` (no bar for a bucket without trades) or ``"fill"`` (flat zero-volume bars).
        emit: ``"close"`` (closed bars only) or ``"update"`` (also the open bar after each trade).
        late: ``"drop"`` (count and drop trades of closed buckets) or ``"amend"`` (re-emit the
            corrected bar with ``revision`` + 1).
        grace: seconds after a bucket end before the scheduler clock closes it; ``None`` closes
            bars only on later trades.
        history: closed bars kept per symbol for ``late="amend"``.
        max_fill: most flat bars made for one gap with ``empty="fill"``.
        scheduler: clock and timers, chosen by :func:`rxfeeds.timing.timer_scheduler` (default:
            the subscribe scheduler unless it is an immediate or current-thread one, else a
            :class:`reactivex.scheduler.TimeoutScheduler`); pass a virtual-time scheduler in
            tests and replay.

    Returns:
        a :class:`Klines` operator; its ``stats`` count late trades and bars (see module docs).

    Raises:
        InvalidArgument: for a bad interval or option, when called (before subscribing).

    Example:
        >>> import reactivex
        >>> from reactivex.testing import TestScheduler
        >>> from rxfeeds.events import Trade
        >>> clock, trades, bars = TestScheduler(), reactivex.subject.Subject(), []
        >>> _ = trades.pipe(klines("1m", scheduler=clock)).subscribe(bars.append)
        >>> trades.on_next(Trade("x", "BTC", 3.0, 3.0, price=5.0, size=2.0))
        >>> bars   # still open: nothing yet
        []
        >>> clock.advance_to(61.0)   # the clock passes 60 + grace: the bar closes without a trade
        >>> [(k.open_time, k.close_time, k.close, k.volume, k.closed) for k in bars]
        [(0.0, 60.0, 5.0, 2.0, True)]
    """
    parsed = validate(interval, empty, emit, late, grace, history, max_fill)
    return Klines(
        parsed,
        empty=empty,
        emit=emit,
        late=late,
        grace=grace,
        history=history,
        max_fill=max_fill,
        scheduler=scheduler,
    )
