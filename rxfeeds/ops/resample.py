"""``resample``: klines in, coarser klines out (1m -> 5m, 1h, 1d ...), with the closing rules of ``klines``.

Marble sketch (``resample("5m")`` over closed 1-minute bars ``b@M`` = the bar opening at minute M,
``|`` the clock passing a bucket end plus ``grace``)::

    1m bars: --b@0--b@1--b@3--b@4------b@5--b@9-----------------|(10m+grace)--
                                  |                   |
    5m bars: ---------------------[0m,5m)-------------[5m,10m)-----------------

    [0m,5m)  closes when its last fine bar (b@4, ending at 5m) arrives;
    [5m,10m) closes the same way (b@9); had b@9 been missing it would close on the clock at
             10m + grace, or when a bar of a later bucket arrives.

Rules:

* Input: :class:`~rxfeeds.events.Kline` events (anything else is ignored), grouped by
  ``(venue, symbol)``.  Their interval must divide the target (:meth:`Interval.divides
  <rxfeeds.intervals.Interval.divides>`): ``1m`` -> ``5m``/``1h``/``1d``/``1w``/``1M`` is fine,
  ``1w`` -> ``1M`` is not; a bar of a non-dividing interval ends the stream with
  :class:`~rxfeeds.errors.InvalidArgument`.
* Only **closed** input bars count; open bars (``closed=False``, from ``emit="update"`` or the
  completion flush) are ignored.  An **amended** input bar (``revision > 0``) replaces the bar
  with the same ``open_time``: inside the open coarse bar silently; for a closed coarse bar it is a
  late input (``late="drop"`` counts it, ``late="amend"`` re-emits the coarse bar with
  ``revision`` + 1).
* An input bar with no trades (``trades == 0``, or ``volume == 0`` when ``trades`` is unknown) adds
  nothing: it only tells that exchange time has reached its ``close_time``.  So flat bars from
  ``klines(empty="fill")`` never set a coarse open/high/low.
* Closing: a coarse bar closes when an input bar reaching its end arrives (``close_time >=`` the
  coarse end), when an input bar of a later bucket arrives, or when the scheduler clock passes the
  coarse end + ``grace``.  The default ``grace`` (2 s) exceeds ``klines``' default (1 s) so that the
  last fine bar closed by the clock arrives first; keep it larger than the upstream's.
* Aggregation: open of the earliest input bar, close of the latest, max high, min low, sums of
  volume / quote volume / trades / buy / sell volume (``None`` when an input lacks them),
  ``vwap = quote_volume / volume``, first/last trade time of the first/last input bar.
* ``empty``, ``emit``, ``late``, ``history`` (coarse bars kept per symbol, with their input bars),
  ``max_fill``, completion and ``stats`` are as in :func:`rxfeeds.ops.klines`.

Example:
    >>> import reactivex
    >>> from rxfeeds.events import Kline
    >>> def bar(minute, o, c, v):
    ...     return Kline("x", "BTC", minute * 60.0, 0.0, interval="1m", open_time=minute * 60.0,
    ...                  close_time=minute * 60.0 + 60, open=o, high=max(o, c), low=min(o, c), close=c,
    ...                  volume=v, trades=1)
    >>> out = []
    >>> _ = reactivex.of(bar(0, 1.0, 2.0, 1.0), bar(4, 2.0, 5.0, 2.0), bar(6, 5.0, 4.0, 1.0)).pipe(
    ...     resample("5m", grace=None)).subscribe(out.append)
    >>> [(k.interval, k.open_time, k.open, k.high, k.close, k.volume, k.closed) for k in out]
    [('5m', 0.0, 1.0, 5.0, 5.0, 3.0, True), ('5m', 300.0, 5.0, 5.0, 4.0, 1.0, False)]
"""

from __future__ import annotations

from typing import Any

from reactivex import abc

from rxfeeds.errors import InvalidArgument
from rxfeeds.events import Kline
from rxfeeds.intervals import Interval, IntervalLike, parse_interval
from rxfeeds.ops._bars import BarOperator, Emit, Empty, KlineStats, Late, _Bar, _Run, _Series, validate

__all__ = ["KlineStats", "Resample", "resample"]


def _is_empty(k: Kline) -> bool:
    return k.trades == 0 if k.trades is not None else k.volume == 0


def _add_part(bar: _Bar, k: Kline) -> None:
    parts = bar.parts
    if parts is None:
        parts = bar.parts = {}
    parts[k.open_time] = k
    bar.count = len(parts)
    bar.close = parts[max(parts)].close
    bar.recv_time = k.recv_time


class _ResampleRun(_Run):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fine: dict[str, Interval] = {}

    def kline(self, s: _Series, bar: _Bar, closed: bool) -> Kline:
        parts = bar.parts
        if not parts:
            return super().kline(s, bar, closed)
        ordered = [parts[start] for start in sorted(parts)]
        first, last = ordered[0], ordered[-1]
        volume = 0.0
        quote: float | None = 0.0
        trades: int | None = 0
        buy: float | None = None
        sell: float | None = None
        high, low = first.high, first.low
        for k in ordered:
            if k.high > high:
                high = k.high
            if k.low < low:
                low = k.low
            volume += k.volume
            quote = None if quote is None or k.quote_volume is None else quote + k.quote_volume
            trades = None if trades is None or k.trades is None else trades + k.trades
            if k.buy_volume is not None:
                buy = (buy or 0.0) + k.buy_volume
            if k.sell_volume is not None:
                sell = (sell or 0.0) + k.sell_volume
        return Kline(
            s.venue, s.symbol, last.time, bar.recv_time, self.name, bar.start, bar.end,
            first.open, high, low, last.close, volume, quote, trades,
            quote / volume if quote is not None and volume else None,
            buy, sell, first.first_trade_time, last.last_trade_time, closed, bar.revision,
        )  # fmt: skip

    def on_bar(self, k: Kline) -> None:
        if self.done or not k.closed:
            return
        fine = self.fine.get(k.interval)
        if fine is None:
            fine = parse_interval(k.interval)
            if not fine.divides(self.interval):
                error = InvalidArgument(
                    "interval", self.name, f"input bars of {fine.name} do not divide {self.name} buckets"
                )
                self.on_error(error)
                return
            self.fine[k.interval] = fine
        s = self.get_series(k.venue, k.symbol)
        t = k.open_time
        start, end = self.interval.bucket(t)
        if t >= s.start and self.grace is not None:
            now = self.now()
            if end + self.grace <= now:
                self.catch_up(s, now)
        empty = _is_empty(k)
        if t < s.start:
            if not empty:
                late = self.late_bar(s, start, end, k.recv_time)
                if late is not None:
                    _add_part(late, k)
                    self.emit_amended(s, late)
            return
        if not empty:
            bar = s.bar
            if bar is None or start >= s.end:
                bar = self.roll(s, start, end, k.recv_time)
            _add_part(bar, k)
            if self.update:
                self.observer.on_next(self.kline(s, bar, False))
        self.advance_to(s, k.close_time, k.recv_time)


class Resample(BarOperator):
    """The operator returned by :func:`resample`; ``stats`` holds its :class:`KlineStats`."""

    name = "resample"

    def _start(self, observer: abc.ObserverBase[Kline], scheduler: abc.SchedulerBase) -> _ResampleRun:
        return _ResampleRun(*self._run_settings(), observer, scheduler)

    def _on_next(self, run: Any) -> Any:
        lock = run.lock
        on_bar = run.on_bar

        def on_next(ev: Any) -> None:
            if isinstance(ev, Kline):
                with lock:
                    on_bar(ev)

        return on_next


def resample(
    interval: IntervalLike,
    *,
    empty: Empty = "skip",
    emit: Emit = "close",
    late: Late = "drop",
    grace: float | None = 2.0,
    history: int = 16,
    max_fill: int = 100_000,
    scheduler: abc.SchedulerBase | None = None,
) -> Resample:
    """Aggregate klines into coarser klines of ``interval`` (see the module docs for the rules).

    Args:
        interval: target bar length (``"5m"``, ``"1h"``, ``"1d"``, ``"1w"``, ``"1M"``...); every
            input bar's interval must divide it.
        empty, emit, late, max_fill, scheduler: as in :func:`rxfeeds.ops.klines`.
        grace: seconds after a coarse bucket end before the clock closes it; keep it above the
            upstream ``klines`` grace.  ``None``: no clock.
        history: closed coarse bars (with their input bars) kept per symbol for ``late="amend"``.

    Raises:
        InvalidArgument: for a bad interval or option, when called.

    Example:
        >>> op = resample("1h")
        >>> op.interval.name, op.stats.late_dropped
        ('1h', 0)
    """
    parsed = validate(interval, empty, emit, late, grace, history, max_fill)
    return Resample(
        parsed,
        empty=empty,
        emit=emit,
        late=late,
        grace=grace,
        history=history,
        max_fill=max_fill,
        scheduler=scheduler,
    )
