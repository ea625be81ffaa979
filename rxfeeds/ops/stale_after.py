"""``stale_after``: say so when a stream (or one symbol of it) goes silent, and when it returns.

Every element passes through unchanged.  When no element has arrived for ``seconds``, a
:class:`Stale` event is inserted into the stream; when data returns, a :class:`Recovered`
event is inserted just before it.  With ``per_symbol=True`` (default) each symbol is watched
on its own (the ``symbol`` attribute of the elements; elements without one count for the
whole stream, symbol ``""``).  Until the first element arrives the whole stream is watched
under symbol ``""``, so a subscription that never delivers is reported too.  Every element
counts as activity, ``StreamReset`` markers included.  With ``error=True`` the first
staleness ends the subscription with :class:`StaleError` instead (put ``retry_backoff`` after
it to resubscribe a silent stream).

Marble sketch (``seconds=3``; ``x``/``y`` = events of symbols X and Y; one character = 1 s)::

    source:          -xyx--------x-|
    stale_after(3):  -xyx-Ss-----Rx-|
                          ||     +-- R = Recovered(X, silent_for=9), at the same time as x
                          |+-------- s = Stale(X, silent_for=3)
                          +--------- S = Stale(Y, silent_for=3); Y stays stale

Cost is flat: an element only updates a per-symbol timestamp; one timer, rescheduled to the
earliest deadline, checks the symbols.  Time comes from ``scheduler`` (default: the
subscription's scheduler, else :class:`~reactivex.scheduler.TimeoutScheduler`), so it works
in virtual time on a ``TestScheduler`` or a replay's ``HistoricalScheduler``; the ``time`` and
``recv_time`` of the inserted events are that scheduler's time in epoch seconds.

Example:
    >>> import reactivex as rx
    >>> from reactivex import operators as ops
    >>> from reactivex.testing import TestScheduler
    >>> from rxfeeds.events import Trade
    >>> sched = TestScheduler()
    >>> trade = Trade("kraken", "XBT/USD", 0.0, 0.0, price=1.0, size=1.0)
    >>> later = rx.timer(5.0, scheduler=sched).pipe(ops.map(lambda _: trade))
    >>> source = rx.concat(rx.of(trade), later)
    >>> got = []
    >>> _ = source.pipe(stale_after(2.0, scheduler=sched)).subscribe(got.append)
    >>> _ = sched.start()
    >>> [type(e).__name__ for e in got]
    ['Trade', 'Stale', 'Recovered', 'Trade']
    >>> got[1].silent_for, got[2].silent_for
    (2.0, 5.0)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import Disposable, SerialDisposable, SingleAssignmentDisposable
from reactivex.scheduler import VirtualTimeScheduler

from ..errors import InvalidArgument, RxfeedsError
from ..events import Event
from ..timing import timer_scheduler

__all__ = ["stale_after", "Stale", "Recovered", "StaleError"]

_T = TypeVar("_T")

# Timer jitter and datetime rounding in virtual time stay well below this.
_EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class Stale(Event):
    """``symbol`` (``""``: the whole stream) has been silent for ``silent_for`` seconds.

    ``venue`` is that of the last element seen for the symbol (``""`` if none).

    Example:
        >>> Stale("kraken", "XBT/USD", 10.0, 10.0, silent_for=5.0).silent_for
        5.0
    """

    silent_for: float


@dataclass(frozen=True, slots=True)
class Recovered(Event):
    """Data for ``symbol`` returned after ``silent_for`` seconds of silence (emitted before it).

    Example:
        >>> Recovered("kraken", "XBT/USD", 12.0, 12.0, silent_for=7.0).silent_for
        7.0
    """

    silent_for: float


class StaleError(RxfeedsError, TimeoutError):
    """A stream watched by ``stale_after(..., error=True)`` was silent too long."""

    def __init__(self, symbol: str, silent_for: float) -> None:
        self.symbol = symbol
        self.silent_for = silent_for
        what = f"symbol {symbol!r}" if symbol else "the stream"
        super().__init__(f"no data for {what} in {silent_for:.3f} s")


def _clock_of(scheduler: abc.SchedulerBase) -> Callable[[], float]:
    if isinstance(scheduler, VirtualTimeScheduler):
        return lambda: scheduler.to_seconds(scheduler.now)
    return time.time


def stale_after(
    seconds: float,
    *,
    per_symbol: bool = True,
    error: bool = False,
    scheduler: abc.SchedulerBase | None = None,
) -> Callable[[Observable[_T]], Observable[_T | Stale | Recovered]]:
    """Insert :class:`Stale` / :class:`Recovered` events (see the module docstring).

    Args:
        seconds: silence that makes a stream (symbol) stale; > 0.
        per_symbol: watch each symbol on its own (default) or only the stream as a whole.
        error: end with :class:`StaleError` instead of emitting :class:`Stale`.
        scheduler: time source for the deadlines.

    Raises:
        InvalidArgument: ``seconds`` not a positive number.

    Example::

        client.trades("XBT/USD", "ETH/USD").pipe(ops.stale_after(30)).subscribe(alert_or_print)
        # resubscribe a stream that went silent:
        client.book("XBT/USD").pipe(ops.stale_after(10, error=True), ops.retry_backoff())
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
        raise InvalidArgument("seconds", seconds, "must be a positive number of seconds")
    limit = float(seconds)

    def operator(source: Observable[_T]) -> Observable[_T | Stale | Recovered]:
        def subscribe(
            observer: abc.ObserverBase[_T | Stale | Recovered], scheduler_: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            timers = timer_scheduler(scheduler, scheduler_)
            watch = _Watch(observer, timers, limit, per_symbol, error)
            watch.upstream.disposable = source.subscribe(
                watch.on_next, watch.on_error, watch.on_completed, scheduler=scheduler_
            )
            return Disposable(watch.dispose)

        return Observable(subscribe)

    return operator


class _Watch:
    """One subscription's deadlines.  ``last``: symbol -> time of its last element while fresh;
    ``stale``: symbol -> time of its last element once it went stale."""

    def __init__(
        self,
        observer: abc.ObserverBase[Any],
        timers: abc.SchedulerBase,
        limit: float,
        per_symbol: bool,
        error: bool,
    ) -> None:
        self.observer = observer
        self.timers = timers
        self.now = _clock_of(timers)
        self.limit = limit
        self.per_symbol = per_symbol
        self.error = error
        # reentrant: a subscriber may synchronously cause another element
        self.lock = threading.RLock()
        self.last: dict[str, float] = {}
        self.stale: dict[str, float] = {}
        self.venues: dict[str, str] = {}
        self.timer = SerialDisposable()
        self.upstream = SingleAssignmentDisposable()
        self.done = False
        self.placeholder = True  # watching the stream as a whole until the first element
        self.due: float | None = None
        with self.lock:
            start = self.now()
            self.last[""] = start
            self._arm(start + limit)

    def _arm(self, deadline: float) -> None:
        # with `lock` held; deadlines only move forward, so a pending timer is the earliest
        if self.due is None:
            self.due = deadline
            self.timer.disposable = self.timers.schedule_relative(max(0.0, deadline - self.now()), self._check)

    def _check(self, *_: Any) -> None:
        with self.lock:
            self.due = None
            if self.done:
                return
            t = self.now()
            went_stale: list[Stale] = []
            next_due: float | None = None
            for symbol, seen in self.last.items():
                deadline = seen + self.limit
                if deadline <= t + _EPSILON:
                    went_stale.append(Stale(self.venues.get(symbol, ""), symbol, t, t, silent_for=t - seen))
                elif next_due is None or deadline < next_due:
                    next_due = deadline
            for event in went_stale:
                self.stale[event.symbol] = self.last.pop(event.symbol)
            if went_stale and self.error:
                self.done = True
                self.upstream.dispose()
                first = went_stale[0]
                self.observer.on_error(StaleError(first.symbol, first.silent_for))
                return
            if next_due is not None:
                self._arm(next_due)
            for event in went_stale:
                self.observer.on_next(event)

    def on_next(self, element: Any) -> None:
        symbol = getattr(element, "symbol", "") if self.per_symbol else ""
        if not isinstance(symbol, str):
            symbol = ""
        with self.lock:
            if self.done:
                return
            t = self.now()
            recovered: list[Recovered] = []
            if self.placeholder:
                # the stream-level watch hands over to per-symbol watches
                self.placeholder = False
                if symbol != "":
                    self.last.pop("", None)
                    since = self.stale.pop("", None)
                    if since is not None:
                        recovered.append(Recovered("", "", t, t, silent_for=t - since))
            venues = self.venues
            if symbol not in venues:
                venue = getattr(element, "venue", "")
                venues[symbol] = venue if isinstance(venue, str) else ""
            since = self.stale.pop(symbol, None)
            if since is not None:
                recovered.append(Recovered(venues[symbol], symbol, t, t, silent_for=t - since))
            self.last[symbol] = t
            if self.due is None:
                self._arm(t + self.limit)
            for event in recovered:
                self.observer.on_next(event)
            self.observer.on_next(element)

    def _end(self) -> bool:
        with self.lock:
            if self.done:
                return False
            self.done = True
        self.timer.dispose()
        return True

    def on_error(self, exc: Exception) -> None:
        with self.lock:
            if self._end():
                self.observer.on_error(exc)

    def on_completed(self) -> None:
        with self.lock:
            if self._end():
                self.observer.on_completed()

    def dispose(self) -> None:
        self._end()
        self.upstream.dispose()
