"""One scheduler rule for every time-based operator (:func:`rxfeeds.timing.timer_scheduler`).

A subscriber that passes an immediate (or current-thread) scheduler to ``subscribe`` must not
make an operator's timers fail with ``WouldBlockException`` or sleep on the caller's thread: the
operator falls back to a ``TimeoutScheduler``, whose timers close bars and raise staleness on
their own.  ``ops.klines`` used to skip the rule and failed here.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from reactivex.scheduler import CurrentThreadScheduler, ImmediateScheduler, TimeoutScheduler
from reactivex.subject import Subject
from reactivex.testing import TestScheduler

from rxfeeds import ops
from rxfeeds.events import BookDelta, IntegrityEvent, Kline, Trade
from rxfeeds.ops.stale_after import Stale
from rxfeeds.timing import timer_scheduler
from tests.helpers import wait_until

BLOCKING = [ImmediateScheduler.singleton(), CurrentThreadScheduler.singleton()]


class Sink:
    """Values and errors of one subscription (on_next may run on a timer thread)."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.errors: list[Exception] = []

    def on_next(self, value: Any) -> None:
        self.values.append(value)

    def on_error(self, exc: Exception) -> None:
        self.errors.append(exc)


@pytest.mark.parametrize("scheduler", BLOCKING, ids=["immediate", "current_thread"])
def test_klines_subscribed_with_a_blocking_scheduler_closes_bars_on_a_timer(scheduler: Any) -> None:
    trades: Subject[Trade] = Subject()
    sink = Sink()
    subscription = trades.pipe(ops.klines("1s", grace=0.05)).subscribe(sink.on_next, sink.on_error, scheduler=scheduler)
    try:
        now = time.time()
        trades.on_next(Trade("sim", "BTC", now, now, price=100.0, size=2.0))
        # no later trade arrives: only the timer can close the bar
        wait_until(lambda: sink.errors or any(isinstance(v, Kline) and v.closed for v in sink.values), timeout=30)
        assert sink.errors == []
        (bar,) = sink.values
        assert (bar.open, bar.close, bar.volume, bar.closed) == (100.0, 100.0, 2.0, True)
    finally:
        subscription.dispose()


@pytest.mark.parametrize("scheduler", BLOCKING, ids=["immediate", "current_thread"])
def test_resample_subscribed_with_a_blocking_scheduler_closes_bars_on_a_timer(scheduler: Any) -> None:
    bars: Subject[Kline] = Subject()
    sink = Sink()
    subscription = bars.pipe(ops.resample("2s", grace=0.05)).subscribe(sink.on_next, sink.on_error, scheduler=scheduler)
    try:
        start = float(int(time.time()) // 2 * 2)
        bars.on_next(
            Kline("sim", "BTC", start + 1, start + 1, interval="1s", open_time=start, close_time=start + 1,
                  open=1.0, high=2.0, low=0.5, close=1.5, volume=3.0)
        )  # fmt: skip
        wait_until(lambda: sink.errors or sink.values, timeout=30)
        assert sink.errors == []
        (coarse,) = sink.values
        assert (coarse.interval, coarse.open_time, coarse.volume, coarse.closed) == ("2s", start, 3.0, True)
    finally:
        subscription.dispose()


@pytest.mark.parametrize("scheduler", BLOCKING, ids=["immediate", "current_thread"])
def test_stale_after_subscribed_with_a_blocking_scheduler_reports_silence(scheduler: Any) -> None:
    trades: Subject[Trade] = Subject()
    sink = Sink()
    subscription = trades.pipe(ops.stale_after(0.05)).subscribe(sink.on_next, sink.on_error, scheduler=scheduler)
    try:
        now = time.time()
        trades.on_next(Trade("sim", "BTC", now, now, price=100.0, size=1.0))
        wait_until(lambda: sink.errors or any(isinstance(v, Stale) for v in sink.values), timeout=30)
        assert sink.errors == []
    finally:
        subscription.dispose()


@pytest.mark.parametrize("scheduler", BLOCKING, ids=["immediate", "current_thread"])
def test_order_book_subscribed_with_a_blocking_scheduler_times_out_a_missing_snapshot(scheduler: Any) -> None:
    deltas: Subject[BookDelta] = Subject()
    sink = Sink()
    asked: list[str] = []
    subscription = deltas.pipe(ops.order_book(resync=asked.append, resync_timeout=0.05, integrity=True)).subscribe(
        sink.on_next, sink.on_error, scheduler=scheduler
    )
    try:
        now = time.time()
        deltas.on_next(BookDelta("sim", "BTC", now, now, bids=((100.0, 1.0, "", ""),), asks=()))
        # no snapshot comes: only the resync timer can notice and ask for one
        wait_until(lambda: sink.errors or asked, timeout=30)
        assert sink.errors == []
        assert asked[0] == "BTC"
        assert any(isinstance(v, IntegrityEvent) and v.kind == "stale" for v in sink.values)
    finally:
        subscription.dispose()


def test_the_rule_prefers_the_explicit_scheduler_then_a_non_blocking_subscribe_scheduler() -> None:
    clock, other = TestScheduler(), TestScheduler()
    assert timer_scheduler(clock, other) is clock
    assert timer_scheduler(None, other) is other
    for blocking in BLOCKING:
        assert timer_scheduler(None, blocking) is TimeoutScheduler.singleton()
    assert timer_scheduler(None, None) is TimeoutScheduler.singleton()
