"""ops.stale_after on reactivex's TestScheduler (virtual time): staleness, recovery, per symbol."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from reactivex import abc
from reactivex.scheduler import HistoricalScheduler
from reactivex.subject import Subject
from reactivex.testing import ReactiveTest, TestScheduler

from rxfeeds.errors import InvalidArgument
from rxfeeds.events import Trade
from rxfeeds.ops.stale_after import Recovered, Stale, StaleError, stale_after
from tests.helpers import wait_until

on_next = ReactiveTest.on_next
on_error = ReactiveTest.on_error
on_completed = ReactiveTest.on_completed


def trade(symbol: str, price: float = 1.0) -> Trade:
    return Trade("kraken", symbol, 0.0, 0.0, price=price, size=1.0)


def summary(result: Any) -> list[tuple[float, Any]]:
    """(time, what) per notification: the element itself, or a compact Stale/Recovered tuple."""
    out: list[tuple[float, Any]] = []
    for m in result.messages:
        n = m.value
        if n.kind == "N" and isinstance(n.value, (Stale, Recovered)):
            out.append((m.time, (type(n.value).__name__, n.value.symbol, round(n.value.silent_for, 6))))
        elif n.kind == "N":
            out.append((m.time, n.value))
        else:
            out.append((m.time, n.kind))
    return out


def test_whole_stream_goes_stale_and_recovers() -> None:
    #  source:        -a-b-----------c--|     (one character = 5 s, seconds=10)
    #  stale_after:   -a-b---S-------Rc--|
    sched = TestScheduler()
    a, b, c = trade("XBT/USD", 1), trade("XBT/USD", 2), trade("XBT/USD", 3)
    source = sched.create_hot_observable(on_next(210, a), on_next(215, b), on_next(240, c), on_completed(250))
    result = sched.start(lambda: source.pipe(stale_after(10.0)))
    assert summary(result) == [
        (210, a),
        (215, b),
        (225, ("Stale", "XBT/USD", 10.0)),
        (240, ("Recovered", "XBT/USD", 25.0)),
        (240, c),
        (250, "C"),
    ]
    stale = result.messages[2].value.value
    # inserted events carry the scheduler's time (epoch seconds) and the symbol's venue
    assert (stale.venue, stale.time, stale.recv_time) == ("kraken", 225.0, 225.0)


def test_each_symbol_is_watched_on_its_own() -> None:
    sched = TestScheduler()
    x = [trade("X", i) for i in range(6)]
    y = [trade("Y", i) for i in range(2)]
    source = sched.create_hot_observable(
        on_next(201, x[0]),
        on_next(203, y[0]),
        on_next(204, x[1]),
        on_next(207, x[2]),  # Y silent since 203 -> stale at 208
        on_next(210, x[3]),
        on_next(213, x[4]),
        on_next(215, y[1]),  # Y back after 12 s
        on_next(216, x[5]),  # last X: stale at 221, Y stale at 220
    )
    result = sched.start(lambda: source.pipe(stale_after(5.0)), disposed=230)
    assert summary(result) == [
        (201, x[0]),
        (203, y[0]),
        (204, x[1]),
        (207, x[2]),
        (208, ("Stale", "Y", 5.0)),
        (210, x[3]),
        (213, x[4]),
        (215, ("Recovered", "Y", 12.0)),
        (215, y[1]),
        (216, x[5]),
        (220, ("Stale", "Y", 5.0)),
        (221, ("Stale", "X", 5.0)),
    ]


def test_per_symbol_false_watches_only_the_stream_as_a_whole() -> None:
    sched = TestScheduler()
    events = [trade("X" if i % 2 else "Y", i) for i in range(6)]
    # alternating symbols every 4 s: each symbol is silent 8 s, the stream only 4 s
    source = sched.create_hot_observable(*[on_next(202 + 4 * i, e) for i, e in enumerate(events)])
    whole = sched.start(lambda: source.pipe(stale_after(5.0, per_symbol=False)), disposed=223)
    assert summary(whole) == [(202 + 4 * i, e) for i, e in enumerate(events)]

    sched = TestScheduler()
    source = sched.create_hot_observable(*[on_next(202 + 4 * i, e) for i, e in enumerate(events)])
    each = sched.start(lambda: source.pipe(stale_after(5.0)), disposed=223)
    stale_marks = [(t, v) for t, v in summary(each) if isinstance(v, tuple)]
    assert stale_marks[:2] == [(207, ("Stale", "Y", 5.0)), (210, ("Recovered", "Y", 8.0))]


def test_a_stream_that_never_delivers_is_reported() -> None:
    sched = TestScheduler()
    source = sched.create_hot_observable(on_next(230, trade("X")))
    result = sched.start(lambda: source.pipe(stale_after(10.0)), disposed=235)
    # watched as a whole (symbol "") from the subscription at 200; the first element hands
    # over to per-symbol watching and closes the stream-level staleness
    assert summary(result) == [
        (210, ("Stale", "", 10.0)),
        (230, ("Recovered", "", 30.0)),
        (230, trade("X")),
    ]


def test_error_option_ends_the_subscription_with_stale_error() -> None:
    sched = TestScheduler()
    source = sched.create_hot_observable(on_next(203, trade("X")), on_next(230, trade("X")))
    result = sched.start(lambda: source.pipe(stale_after(5.0, error=True)))
    assert [(m.time, m.value.kind) for m in result.messages] == [(203, "N"), (208, "E")]
    error = result.messages[1].value.exception
    assert isinstance(error, StaleError) and isinstance(error, TimeoutError)
    assert (error.symbol, error.silent_for) == ("X", 5.0)
    # the source was unsubscribed when the error was raised
    assert [(s.subscribe, s.unsubscribe) for s in source.subscriptions] == [(200, 208)]


def test_source_errors_and_completion_pass_and_stop_the_timer() -> None:
    # without the error/completion the stream would go stale at 208
    sched = TestScheduler()
    boom = RuntimeError("boom")
    source = sched.create_hot_observable(on_next(203, trade("X")), on_error(205, boom))
    result = sched.start(lambda: source.pipe(stale_after(5.0)))
    assert result.messages == [on_next(203, trade("X")), on_error(205, boom)]

    sched = TestScheduler()
    source = sched.create_hot_observable(on_next(203, trade("X")), on_completed(204))
    result = sched.start(lambda: source.pipe(stale_after(5.0)))
    assert result.messages == [on_next(203, trade("X")), on_completed(204)]


class CountingScheduler(TestScheduler):
    """Counts relative timers (the operator's only way to schedule)."""

    def __init__(self) -> None:
        super().__init__()
        self.timers = 0

    def schedule_relative(self, duetime: Any, action: Any, state: Any = None) -> abc.DisposableBase:
        self.timers += 1
        return super().schedule_relative(duetime, action, state)


def test_timer_cost_does_not_grow_with_the_event_rate() -> None:
    sched = CountingScheduler()
    # 2000 events over 20 s for 4 symbols, seconds=5: no staleness, so the only timers are the
    # rescheduled deadline checks (about one per 5 s), not one per event
    events = [on_next(200.01 + i * 0.01, trade(f"S{i % 4}", i)) for i in range(2000)]
    source = sched.create_hot_observable(*events)
    result = sched.start(lambda: source.pipe(stale_after(5.0)), disposed=220.5)
    assert len(result.messages) == 2000
    assert sched.timers <= 8


def test_elements_without_symbols_count_for_the_whole_stream() -> None:
    sched = TestScheduler()
    source = sched.create_hot_observable(on_next(203, {"raw": 1}), on_next(205, 42))
    result = sched.start(lambda: source.pipe(stale_after(5.0)), disposed=220)
    assert summary(result) == [(203, {"raw": 1}), (205, 42), (210, ("Stale", "", 5.0))]


@pytest.mark.parametrize("seconds", [0, -1.0, "5", True, float("nan")])
def test_bad_seconds_raise_invalid_argument(seconds: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        stale_after(seconds)
    assert info.value.name == "seconds" and isinstance(info.value, ValueError)


def test_default_scheduler_runs_in_real_time_without_blocking_the_producer() -> None:
    source: Subject[Trade] = Subject()
    got: list[Any] = []
    subscription = source.pipe(stale_after(0.05)).subscribe(got.append)
    try:
        source.on_next(trade("X"))
        wait_until(lambda: any(isinstance(e, Stale) for e in got), timeout=10)
        stale = next(e for e in got if isinstance(e, Stale))
        assert stale.symbol == "X" and stale.silent_for >= 0.05 - 1e-3
        source.on_next(trade("X", 2))
        assert isinstance(got[-2], Recovered) and got[-1] == trade("X", 2)
        assert got[-2].silent_for >= stale.silent_for
    finally:
        subscription.dispose()


def test_replay_time_on_a_historical_scheduler() -> None:
    # replays run on a HistoricalScheduler whose clock is a datetime: inserted events carry
    # that (epoch) time, so a replayed outage shows when it happened, not when it was replayed
    start = datetime(2024, 1, 1, tzinfo=UTC)
    sched = HistoricalScheduler(start)
    source: Subject[Trade] = Subject()
    got: list[Any] = []
    source.pipe(stale_after(5.0, scheduler=sched)).subscribe(got.append)
    source.on_next(trade("X"))
    sched.advance_by(4.0)
    assert got == [trade("X")]
    sched.advance_by(2.0)
    (stale,) = got[1:]
    assert isinstance(stale, Stale) and stale.silent_for == pytest.approx(5.0)
    assert stale.time == pytest.approx(start.timestamp() + 5.0)


def test_the_marble_sketch_of_the_docstring() -> None:
    #  source:          -xyx--------x-|
    #  stale_after(3):  -xyx-Ss-----Rx-|
    sched = TestScheduler()
    x, y = trade("X"), trade("Y")
    source = sched.create_hot_observable(
        on_next(201, x), on_next(202, y), on_next(203, x), on_next(212, x), on_completed(214)
    )
    result = sched.start(lambda: source.pipe(stale_after(3.0)))
    assert summary(result) == [
        (201, x),
        (202, y),
        (203, x),
        (205, ("Stale", "Y", 3.0)),
        (206, ("Stale", "X", 3.0)),
        (212, ("Recovered", "X", 9.0)),
        (212, x),
        (214, "C"),
    ]
