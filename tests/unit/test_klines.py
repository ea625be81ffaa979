"""``ops.klines`` in virtual time (reactivex TestScheduler; one tick = one second of epoch time).

Expected bars are computed in the tests from the trade lists themselves (min/max/sum over the
trades of each bucket), never copied from the operator's output.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pytest
import reactivex
from reactivex import Observable
from reactivex.subject import Subject
from reactivex.testing import ReactiveTest, TestScheduler

from rxfeeds import ops
from rxfeeds.errors import InvalidArgument
from rxfeeds.events import Kline, Quote, Side, Trade

if TYPE_CHECKING:
    # not at run time: importing the submodule first would bind it over the ops.klines operator
    from rxfeeds.ops.klines import Klines

on_next = ReactiveTest.on_next
on_completed = ReactiveTest.on_completed


def trade(t: float, price: float, size: float = 1.0, side: Side | None = None, symbol: str = "BTC") -> Trade:
    return Trade("sim", symbol, t, t, price=price, size=size, side=side)


def run(
    make: Callable[[TestScheduler], Klines],
    events: Sequence[tuple[float, Any]],
    *,
    until: float = 10_000.0,
    complete_at: float | None = None,
) -> tuple[list[tuple[float, Kline]], Klines]:
    """Push ``(clock, event)`` pairs as a hot source; return ``(emission clock, kline)`` pairs."""
    scheduler = TestScheduler()
    op = make(scheduler)
    messages = [on_next(at, ev) for at, ev in events]
    if complete_at is not None:
        messages.append(on_completed(complete_at))
    source = scheduler.create_hot_observable(messages)
    observer = scheduler.start(lambda: source.pipe(op), created=0.1, subscribed=0.2, disposed=until)
    out = [(m.time, m.value.value) for m in observer.messages if m.value.kind == "N"]
    return out, op


def expected(trades: Sequence[Trade], start: float) -> tuple[float, float, float, float, float]:
    """OHLCV of the trades in ``[start, start + 60)``, straight from the list (time order)."""
    inside = sorted((t for t in trades if start <= t.time < start + 60), key=lambda t: t.time)
    prices = [t.price for t in inside]
    return prices[0], max(prices), min(prices), prices[-1], sum(t.size for t in inside)


def ohlcv(k: Kline) -> tuple[float, float, float, float, float]:
    return k.open, k.high, k.low, k.close, k.volume


def test_bar_closes_on_the_clock_without_a_later_trade() -> None:
    trades = [trade(5.0, 10.0, 1.0), trade(20.0, 12.0, 2.0), trade(30.0, 9.0, 0.5), trade(50.0, 11.0, 1.5)]
    out, _ = run(lambda s: ops.klines("1m", grace=1.5, scheduler=s), [(t.time, t) for t in trades])
    assert len(out) == 1
    at, bar = out[0]
    assert at == 61.5  # bucket end + grace on the scheduler clock, no trade needed
    assert (bar.open_time, bar.close_time, bar.interval, bar.closed) == (0.0, 60.0, "1m", True)
    assert ohlcv(bar) == expected(trades, 0.0)
    assert bar.trades == 4
    assert bar.quote_volume == pytest.approx(sum(t.price * t.size for t in trades))
    assert bar.vwap == pytest.approx(sum(t.price * t.size for t in trades) / sum(t.size for t in trades))
    assert (bar.first_trade_time, bar.last_trade_time, bar.time) == (5.0, 50.0, 50.0)
    assert bar.revision == 0


def test_quiet_market_closes_every_bar_in_time() -> None:
    trades = [trade(10.0, 1.0), trade(70.0, 2.0), trade(250.0, 3.0)]
    out, _ = run(lambda s: ops.klines("1m", grace=1.0, scheduler=s), [(t.time, t) for t in trades])
    assert [(at, k.open_time, k.close) for at, k in out] == [(61.0, 0.0, 1.0), (121.0, 60.0, 2.0), (301.0, 240.0, 3.0)]


def test_a_later_trade_closes_the_bar_before_the_clock() -> None:
    trades = [trade(10.0, 1.0), trade(65.0, 2.0)]
    out, _ = run(lambda s: ops.klines("1m", grace=30.0, scheduler=s), [(t.time, t) for t in trades])
    assert [(at, k.open_time) for at, k in out] == [(65.0, 0.0), (120.0 + 30.0, 60.0)]


def test_empty_fill_on_the_clock_flat_at_previous_close() -> None:
    trades = [trade(10.0, 5.0, 2.0), trade(40.0, 6.0, 1.0), trade(200.0, 7.0, 1.0)]
    out, op = run(lambda s: ops.klines("1m", empty="fill", scheduler=s), [(t.time, t) for t in trades])
    got = [(at, k.open_time, ohlcv(k), k.trades) for at, k in out]
    assert got == [
        (61.0, 0.0, expected(trades, 0.0), 2),
        (121.0, 60.0, (6.0, 6.0, 6.0, 6.0, 0.0), 0),  # flat at the previous close, zero volume
        (181.0, 120.0, (6.0, 6.0, 6.0, 6.0, 0.0), 0),
        (241.0, 180.0, expected(trades, 180.0), 1),
        (301.0, 240.0, (7.0, 7.0, 7.0, 7.0, 0.0), 0),  # and the clock keeps filling after the last trade
    ] + [(at, at - 61.0, (7.0, 7.0, 7.0, 7.0, 0.0), 0) for at in range(361, 10_000, 60)]
    assert out[1][1].vwap is None and out[1][1].first_trade_time is None and out[1][1].time == 60.0
    assert op.stats.filled == len(out) - 2


def test_empty_fill_when_a_later_trade_arrives_without_a_clock() -> None:
    trades = [trade(10.0, 5.0), trade(200.0, 7.0)]
    out, _ = run(lambda s: ops.klines("1m", empty="fill", grace=None, scheduler=s), [(t.time, t) for t in trades])
    # everything is emitted when the trade at 200 arrives (the clock is off)
    assert [(at, k.open_time, k.close, k.volume) for at, k in out] == [
        (200.0, 0.0, 5.0, 1.0),
        (200.0, 60.0, 5.0, 0.0),
        (200.0, 120.0, 5.0, 0.0),
    ]


def test_empty_skip_emits_no_bar_for_gaps() -> None:
    trades = [trade(10.0, 5.0), trade(200.0, 7.0)]
    out, op = run(lambda s: ops.klines("1m", scheduler=s), [(t.time, t) for t in trades])
    assert [k.open_time for _, k in out] == [0.0, 180.0]
    assert op.stats.filled == 0 and op.stats.bars == 2 and op.stats.items == 2


def test_emit_update_sends_the_open_bar_after_each_trade() -> None:
    trades = [trade(5.0, 10.0), trade(20.0, 12.0), trade(30.0, 9.0)]
    out, _ = run(lambda s: ops.klines("1m", emit="update", scheduler=s), [(t.time, t) for t in trades])
    updates = [(at, k) for at, k in out if not k.closed]
    assert [at for at, _ in updates] == [5.0, 20.0, 30.0]
    for n, (_, k) in enumerate(updates, start=1):
        assert ohlcv(k) == expected(trades[:n], 0.0)
        assert k.trades == n
    closed = [(at, k) for at, k in out if k.closed]
    assert [(at, ohlcv(k)) for at, k in closed] == [(61.0, expected(trades, 0.0))]


def test_late_trade_dropped_and_counted() -> None:
    trades = [trade(10.0, 5.0), trade(70.0, 6.0)]
    late = trade(50.0, 99.0)  # bucket [0, 60) already closed by the trade at 70
    events = [(10.0, trades[0]), (70.0, trades[1]), (75.0, late)]
    out, op = run(lambda s: ops.klines("1m", grace=10.0, scheduler=s), events)
    assert [(k.open_time, ohlcv(k), k.revision) for _, k in out] == [
        (0.0, expected(trades, 0.0), 0),
        (60.0, expected(trades, 60.0), 0),
    ]
    assert op.stats.late_dropped == 1
    assert op.stats.late_by_symbol == {("sim", "BTC"): 1}


def test_late_by_the_clock_is_late_even_without_an_open_bar() -> None:
    first = trade(10.0, 5.0)
    stale = Trade("sim", "BTC", 59.5, 61.5, price=8.0, size=1.0)  # stamped 59.5, delivered after 60 + grace
    out, op = run(lambda s: ops.klines("1m", grace=1.0, scheduler=s), [(10.0, first), (61.5, stale)])
    assert [(at, ohlcv(k)) for at, k in out] == [(61.0, (5.0, 5.0, 5.0, 5.0, 1.0))]
    assert op.stats.late_dropped == 1


def test_late_trade_amends_the_closed_bar_with_a_revision() -> None:
    trades = [trade(10.0, 5.0, 1.0), trade(70.0, 6.0, 1.0)]
    late = trade(50.0, 9.0, 2.0)
    events = [(10.0, trades[0]), (70.0, trades[1]), (75.0, late)]
    out, op = run(lambda s: ops.klines("1m", late="amend", grace=10.0, scheduler=s), events)
    assert [(at, k.open_time, k.revision) for at, k in out] == [(70.0, 0.0, 0), (75.0, 0.0, 1), (130.0, 60.0, 0)]
    amended = out[1][1]
    assert amended.closed
    assert ohlcv(amended) == expected([*trades, late], 0.0)
    assert amended.trades == 2 and amended.last_trade_time == 50.0
    assert op.stats.late_amended == 1 and op.stats.amendments == 1 and op.stats.late_dropped == 0


def test_amend_a_skipped_bucket_appears_with_revision_one() -> None:
    events = [(10.0, trade(10.0, 5.0)), (130.0, trade(130.0, 7.0)), (131.0, trade(70.0, 6.0))]
    out, _ = run(lambda s: ops.klines("1m", late="amend", grace=100.0, scheduler=s), events)
    assert [(at, k.open_time, k.close, k.revision) for at, k in out] == [
        (130.0, 0.0, 5.0, 0),
        (131.0, 60.0, 6.0, 1),
        (280.0, 120.0, 7.0, 0),
    ]


def test_amend_with_fill_re_emits_the_flat_bars_that_followed() -> None:
    events = [(10.0, trade(10.0, 5.0)), (190.0, trade(190.0, 7.0)), (191.0, trade(55.0, 4.0))]
    out, _ = run(lambda s: ops.klines("1m", empty="fill", late="amend", grace=None, scheduler=s), events)
    got = [(at, k.open_time, k.close, k.volume, k.revision) for at, k in out]
    assert got == [
        (190.0, 0.0, 5.0, 1.0, 0),
        (190.0, 60.0, 5.0, 0.0, 0),
        (190.0, 120.0, 5.0, 0.0, 0),
        (191.0, 0.0, 4.0, 2.0, 1),  # the amended bar: close is now the trade at 55
        (191.0, 60.0, 4.0, 0.0, 1),  # flat bars carried the old close: re-emitted
        (191.0, 120.0, 4.0, 0.0, 1),
    ]


def test_amend_history_is_bounded() -> None:
    trades = [trade(60.0 * i + 1, 1.0 + i) for i in range(5)]
    events: list[tuple[float, Any]] = [(t.time, t) for t in trades]
    events.append((300.0, trade(2.0, 50.0)))  # bucket 0: older than the 2 kept bars
    events.append((301.0, trade(181.0, 50.0)))  # bucket 180: still kept
    out, op = run(lambda s: ops.klines("1m", late="amend", history=2, grace=None, scheduler=s), events)
    assert [(k.open_time, k.revision) for _, k in out if k.revision] == [(180.0, 1)]
    assert op.stats.late_dropped == 1 and op.stats.late_amended == 1


def test_symbols_are_separate_series() -> None:
    a = [trade(5.0, 1.0, symbol="A"), trade(50.0, 3.0, symbol="A")]
    b = [trade(7.0, 100.0, symbol="B"), trade(8.0, 90.0, symbol="B"), trade(65.0, 95.0, symbol="B")]
    other = Trade("other", "A", 9.0, 9.0, price=1000.0, size=1.0)  # same symbol, other venue
    events = sorted([(t.time, t) for t in [*a, *b, other]], key=lambda e: e[0])
    out, _ = run(lambda s: ops.klines("1m", scheduler=s), events)
    bars = {(k.venue, k.symbol, k.open_time): k for _, k in out}
    assert ohlcv(bars["sim", "A", 0.0]) == expected(a, 0.0)
    assert ohlcv(bars["sim", "B", 0.0]) == expected(b, 0.0)
    assert ohlcv(bars["sim", "B", 60.0]) == expected(b, 60.0)
    assert ohlcv(bars["other", "A", 0.0]) == (1000.0, 1000.0, 1000.0, 1000.0, 1.0)
    assert len(bars) == 4


def test_out_of_order_trades_inside_a_bar() -> None:
    arrivals = [trade(30.0, 5.0), trade(10.0, 4.0), trade(50.0, 6.0), trade(40.0, 7.0), trade(10.0, 3.0)]
    out, _ = run(lambda s: ops.klines("1m", scheduler=s), [(31.0 + i, t) for i, t in enumerate(arrivals)])
    [(_, bar)] = out
    # open: earliest exchange time (ties keep arrival order), close: latest
    assert (bar.open, bar.close, bar.high, bar.low) == (4.0, 6.0, 7.0, 3.0)
    assert (bar.first_trade_time, bar.last_trade_time) == (10.0, 50.0)


def test_buy_and_sell_volume_only_when_sides_are_known() -> None:
    trades = [trade(1.0, 1.0, 2.0, "buy"), trade(2.0, 1.0, 3.0, "sell"), trade(3.0, 1.0, 5.0, None)]
    unsided = [trade(61.0, 1.0, 1.0)]
    out, _ = run(lambda s: ops.klines("1m", scheduler=s), [(t.time, t) for t in trades + unsided])
    first, second = (k for _, k in out)
    assert (first.buy_volume, first.sell_volume, first.volume) == (2.0, 3.0, 10.0)
    assert (second.buy_volume, second.sell_volume) == (None, None)


def test_completion_flushes_the_open_bar_unclosed() -> None:
    trades = [trade(5.0, 1.0), trade(65.0, 2.0)]
    out, _ = run(lambda s: ops.klines("1m", grace=100.0, scheduler=s), [(t.time, t) for t in trades], complete_at=70.0)
    assert [(at, k.open_time, k.closed) for at, k in out] == [(65.0, 0.0, True), (70.0, 60.0, False)]


def test_other_events_are_ignored() -> None:
    events = [(5.0, Quote("sim", "BTC", 5.0, 5.0, bid=1.0, bid_size=1.0, ask=2.0, ask_size=1.0)), (6.0, "x")]
    out, _ = run(lambda s: ops.klines("1m", scheduler=s), [*events, (7.0, trade(7.0, 3.0))])
    assert [ohlcv(k) for _, k in out] == [(3.0, 3.0, 3.0, 3.0, 1.0)]


def test_calendar_month_bars() -> None:
    def ts(*ymd: int) -> float:
        return dt.datetime(*ymd, tzinfo=dt.UTC).timestamp()

    trades = [trade(ts(2024, 1, 31, 23), 1.0), trade(ts(2024, 2, 1, 1), 2.0), trade(ts(2024, 2, 29, 12), 3.0)]
    out, _ = run(
        lambda s: ops.klines("1M", grace=None, scheduler=s),
        [(1.0 + i, t) for i, t in enumerate(trades)],
        complete_at=10.0,
    )
    (_, jan), (_, feb) = out
    assert (jan.open_time, jan.close_time, jan.closed) == (ts(2024, 1, 1), ts(2024, 2, 1), True)
    assert (feb.open_time, feb.close_time, feb.closed) == (ts(2024, 2, 1), ts(2024, 3, 1), False)
    assert (feb.open, feb.close, feb.volume) == (2.0, 3.0, 2.0)


def test_week_bars_start_on_monday() -> None:
    sunday = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC).timestamp()
    monday = dt.datetime(2024, 3, 11, 0, tzinfo=dt.UTC).timestamp()
    out, _ = run(
        lambda s: ops.klines("D7", grace=None, scheduler=s),
        [(1.0, trade(sunday, 1.0)), (2.0, trade(monday, 2.0))],
        complete_at=3.0,
    )
    assert [(k.open_time, k.close_time, k.interval) for _, k in out] == [
        (monday - 7 * 86400, monday, "1w"),
        (monday, monday + 7 * 86400, "1w"),
    ]


class CountingScheduler(TestScheduler):
    def __init__(self) -> None:
        super().__init__()
        self.scheduled = 0

    def schedule_absolute(self, duetime: Any, action: Any, state: Any = None) -> Any:
        self.scheduled += 1
        return super().schedule_absolute(duetime, action, state)


def test_timers_are_per_bar_not_per_trade() -> None:
    scheduler = CountingScheduler()
    trades = [trade(i * 0.05, 100.0 + i % 7, symbol="ABC"[i % 3]) for i in range(36_000)]  # 30 buckets, 3 symbols
    source = scheduler.create_hot_observable([on_next(t.time + 1.0, t) for t in trades])
    # the hot source itself schedules one action per message; count ours only
    before = scheduler.scheduled
    observer = scheduler.start(
        lambda: source.pipe(ops.klines("1m", scheduler=scheduler)), created=0.1, subscribed=0.2, disposed=5000.0
    )
    ours = scheduler.scheduled - before
    assert len([m for m in observer.messages if m.value.kind == "N"]) == 90
    assert ours <= 2 * 30 + 2  # at most one pending timer, re-armed about once per bucket


def test_invalid_arguments_raise_before_subscribing() -> None:
    for kwargs, name in [
        ({"interval": "7x"}, "interval"),
        ({"interval": "1m", "empty": "zero"}, "empty"),
        ({"interval": "1m", "emit": "always"}, "emit"),
        ({"interval": "1m", "late": "keep"}, "late"),
        ({"interval": "1m", "grace": -1.0}, "grace"),
        ({"interval": "1m", "history": 0}, "history"),
        ({"interval": "1m", "max_fill": -1}, "max_fill"),
    ]:
        with pytest.raises(InvalidArgument) as err:
            ops.klines(**kwargs)  # type: ignore[arg-type]
        assert err.value.name == name


def test_fill_gap_guard_skips_absurd_gaps() -> None:
    events = [(1.0, trade(0.5, 1.0)), (2.0, trade(1e9, 2.0))]
    out, op = run(
        lambda s: ops.klines("1s", empty="fill", max_fill=10, grace=None, scheduler=s), events, complete_at=3.0
    )
    assert [(k.open_time, k.closed) for _, k in out] == [(0.0, True), (1e9, False)]
    assert op.stats.fill_skipped > 10


def test_errors_pass_through() -> None:
    got: list[Exception] = []
    boom = ValueError("boom")
    source: Observable[Any] = reactivex.concat(reactivex.of(trade(1.0, 1.0)), reactivex.throw(boom))
    source.pipe(ops.klines("1m", grace=None)).subscribe(on_error=got.append)
    assert got == [boom]


def test_default_scheduler_closes_bars_in_real_time() -> None:
    from reactivex.subject import Subject

    from tests.helpers import wait_until

    subject: Subject[Trade] = Subject()
    bars: list[Kline] = []
    subject.pipe(ops.klines("1s", grace=0.05)).subscribe(bars.append)
    import time

    now = time.time()
    subject.on_next(Trade("sim", "BTC", now, now, price=1.0, size=1.0))
    wait_until(lambda: bars, timeout=5.0)  # closed by the timeout scheduler's timer, no further trade
    assert bars[0].closed and bars[0].open_time == float(int(now))


def test_replay_on_a_historical_scheduler_given_at_subscribe_time() -> None:
    from reactivex.scheduler import HistoricalScheduler

    start = dt.datetime(2021, 7, 15, 3, 0, tzinfo=dt.UTC)
    scheduler = HistoricalScheduler(start)
    subject: Subject[Trade] = Subject()
    bars: list[tuple[float, Kline]] = []
    t0 = start.timestamp()
    # no scheduler argument: the operator takes the one passed to subscribe (as a replay does)
    subject.pipe(ops.klines("1m")).subscribe(lambda k: bars.append((scheduler.now.timestamp(), k)), scheduler=scheduler)
    for offset, price in [(5.0, 1.0), (20.0, 3.0), (130.0, 2.0)]:
        tr = trade(t0 + offset, price)
        scheduler.schedule_absolute(
            dt.datetime.fromtimestamp(t0 + offset, dt.UTC), lambda _s, _st, tr=tr: subject.on_next(tr)
        )
    scheduler.advance_to(start + dt.timedelta(minutes=10))
    assert [(at - t0, k.open_time - t0, k.high, k.close) for at, k in bars] == [
        (61.0, 0.0, 3.0, 3.0),  # closed by the virtual clock at 60 + grace
        (181.0, 120.0, 2.0, 2.0),
    ]
