"""``ops.resample``: 1m bars resampled to 5m / 1h equal bars built directly from the same trades.

Prices and sizes are multiples of 1/64 and 1/8 so every sum is exact in binary floating point:
the two paths add the same numbers in a different grouping, and this makes the comparison exact.
(With arbitrary decimals the volumes agree to the last few bits only.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reactivex import Observable
from reactivex.subject import Subject
from reactivex.testing import ReactiveTest, TestScheduler

from rxfeeds import ops
from rxfeeds.errors import InvalidArgument
from rxfeeds.events import Kline, Side, Trade

on_next = ReactiveTest.on_next
on_completed = ReactiveTest.on_completed

T0 = 1_700_000_000.0
T0 = (T0 // 86400) * 86400  # a day boundary, so also a 1h, 5m and 1m boundary


def replay(
    trades: Sequence[Trade], build: Callable[[Observable[Trade], TestScheduler], Observable[Kline]]
) -> list[Kline]:
    """Push the trades in virtual time at their exchange times; run the clock well past the last."""
    scheduler = TestScheduler()
    scheduler.advance_to(T0 - 1)
    subject: Subject[Trade] = Subject()
    out: list[Kline] = []
    build(subject, scheduler).subscribe(out.append)
    for t in trades:
        scheduler.schedule_absolute(t.time, lambda _s, _st, t=t: subject.on_next(t))
    scheduler.advance_to(trades[-1].time + 7200)  # past the end + grace of any 1h bar
    return out


def fields(k: Kline) -> tuple[Any, ...]:
    return (
        k.venue, k.symbol, k.interval, k.open_time, k.close_time, k.open, k.high, k.low, k.close,
        k.volume, k.quote_volume, k.trades, k.vwap, k.buy_volume, k.sell_volume,
        k.first_trade_time, k.last_trade_time, k.time, k.closed, k.revision,
    )  # fmt: skip


sides: st.SearchStrategy[Side | None] = st.sampled_from(["buy", "sell", None])


@st.composite
def trade_lists(draw: st.DrawFn, max_gap: int) -> list[Trade]:
    """Time-ordered trades of two symbols (ties allowed), gaps up to ``max_gap`` quarter-seconds."""
    n = draw(st.integers(min_value=1, max_value=120))
    t = T0 + draw(st.integers(0, 400)) / 4
    out = []
    for _ in range(n):
        t += draw(st.integers(0, max_gap)) / 4
        out.append(
            Trade(
                "sim",
                draw(st.sampled_from(["A", "B"])),
                t,
                t,
                price=draw(st.integers(64, 64 * 200)) / 64,
                size=draw(st.integers(1, 800)) / 8,
                side=draw(sides),
            )
        )
    return out


@pytest.mark.parametrize("empty", ["skip", "fill"])
@pytest.mark.parametrize(("coarse", "max_gap"), [("5m", 4 * 90), ("1h", 4 * 1200)])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_resampled_1m_bars_equal_bars_built_directly(
    empty: str, coarse: str, max_gap: int, data: st.DataObject
) -> None:
    trades = data.draw(trade_lists(max_gap))
    direct = replay(trades, lambda src, s: src.pipe(ops.klines(coarse, empty=empty, scheduler=s)))  # type: ignore[arg-type]
    via_1m = replay(
        trades,
        lambda src, s: src.pipe(
            ops.klines("1m", empty=empty, scheduler=s),  # type: ignore[arg-type]
            ops.resample(coarse, empty=empty, scheduler=s),  # type: ignore[arg-type]
        ),
    )
    assert direct, "the clock closes every bar"
    assert all(k.closed for k in direct + via_1m)
    assert sorted(map(fields, via_1m)) == sorted(map(fields, direct))


def kline(minute: int, o: float, h: float, lo: float, c: float, v: float, *, trades: int = 1, **kw: Any) -> Kline:
    start = T0 + 60.0 * minute
    return Kline(
        "sim", "A", start + 30, start + 60, interval="1m", open_time=start, close_time=start + 60,
        open=o, high=h, low=lo, close=c, volume=v, trades=trades, **kw,
    )  # fmt: skip


def run(
    make: Callable[[TestScheduler], Any], events: Sequence[tuple[float, Any]], until: float = T0 + 86400
) -> tuple[list[tuple[float, Kline]], Any]:
    scheduler = TestScheduler()
    op = make(scheduler)
    source = scheduler.create_hot_observable([on_next(at, ev) for at, ev in events])
    observer = scheduler.start(lambda: source.pipe(op), created=T0 - 3, subscribed=T0 - 2, disposed=until)
    return [(m.time, m.value.value) for m in observer.messages if m.value.kind == "N"], op


def test_coarse_bar_closes_when_its_last_fine_bar_arrives() -> None:
    bars = [kline(0, 10, 12, 9, 11, 1.0), kline(2, 11, 15, 11, 14, 2.0), kline(4, 14, 14, 8, 9, 3.0)]
    out, _ = run(lambda s: ops.resample("5m", scheduler=s), [(k.close_time + 1, k) for k in bars])
    [(at, bar)] = out
    assert at == T0 + 301  # with the bar ending at 5m, not on the clock at 5m + grace
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume, bar.trades) == (10, 15, 8, 9, 6.0, 3)
    assert (bar.open_time, bar.close_time, bar.interval) == (T0, T0 + 300, "5m")


def test_coarse_bar_closes_on_the_clock_when_its_last_minute_is_missing() -> None:
    out, _ = run(lambda s: ops.resample("5m", grace=2.0, scheduler=s), [(T0 + 61, kline(0, 1, 1, 1, 1, 1.0))])
    assert [(at, k.open_time) for at, k in out] == [(T0 + 302, T0)]


def test_open_input_bars_are_ignored_and_empty_bars_set_no_prices() -> None:
    flat = kline(0, 99, 99, 99, 99, 0.0, trades=0)  # a klines(empty="fill") flat bar
    open_bar = kline(1, 50, 50, 50, 50, 5.0, closed=False)
    real = kline(1, 10, 11, 9, 10, 1.0)
    out, _ = run(lambda s: ops.resample("5m", scheduler=s), [(T0 + 61, flat), (T0 + 90, open_bar), (T0 + 121, real)])
    [(_, bar)] = out
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (10, 11, 9, 10, 1.0)


def test_amended_input_replaces_its_bar_inside_the_open_coarse_bar() -> None:
    first = kline(0, 10, 10, 10, 10, 1.0)
    amended = kline(0, 10, 20, 10, 20, 3.0, trades=2, revision=1)
    out, _ = run(lambda s: ops.resample("5m", scheduler=s), [(T0 + 61, first), (T0 + 70, amended)])
    [(_, bar)] = out
    assert (bar.high, bar.close, bar.volume, bar.trades, bar.revision) == (20, 20, 3.0, 2, 0)


def test_amended_input_after_the_coarse_close_drop_or_amend() -> None:
    bars = [kline(0, 10, 10, 10, 10, 1.0), kline(5, 12, 12, 12, 12, 1.0)]
    amended = kline(0, 10, 30, 10, 30, 2.0, trades=2, revision=1)
    events = [(T0 + 61, bars[0]), (T0 + 361, bars[1]), (T0 + 362, amended)]
    dropped, op = run(lambda s: ops.resample("5m", scheduler=s), events)
    assert [k.revision for _, k in dropped] == [0, 0] and op.stats.late_dropped == 1
    amending, op = run(lambda s: ops.resample("5m", late="amend", scheduler=s), events)
    assert [(at, k.open_time, k.revision, k.high, k.volume) for at, k in amending] == [
        (T0 + 302, T0, 0, 10, 1.0),
        (T0 + 362, T0, 1, 30, 2.0),
        (T0 + 602, T0 + 300, 0, 12, 1.0),
    ]
    assert op.stats.late_amended == 1


def test_fill_between_coarse_bars() -> None:
    events = [(T0 + 61, kline(0, 5, 5, 5, 5, 1.0)), (T0 + 1201, kline(19, 7, 7, 7, 7, 1.0))]
    out, _ = run(lambda s: ops.resample("5m", empty="fill", grace=None, scheduler=s), events)
    assert [(k.open_time - T0, k.close, k.volume) for _, k in out] == [
        (0.0, 5, 1.0),
        (300.0, 5, 0.0),
        (600.0, 5, 0.0),
        (900.0, 7, 1.0),
    ]


def test_input_interval_must_divide_the_target() -> None:
    scheduler = TestScheduler()
    errors: list[Exception] = []
    subject: Subject[Kline] = Subject()
    subject.pipe(ops.resample("5m", scheduler=scheduler)).subscribe(on_error=errors.append)
    bad = Kline(
        "sim", "A", T0, T0, interval="7m", open_time=T0, close_time=T0 + 420, open=1, high=1, low=1, close=1, volume=1
    )
    subject.on_next(bad)
    assert len(errors) == 1 and isinstance(errors[0], InvalidArgument) and "7m" in str(errors[0])


def test_invalid_arguments() -> None:
    with pytest.raises(InvalidArgument) as err:
        ops.resample("fortnight")
    assert err.value.name == "interval"
    with pytest.raises(InvalidArgument) as err:
        ops.resample("1h", late="ignore")  # type: ignore[arg-type]
    assert err.value.name == "late"
