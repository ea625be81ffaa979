"""``ops.reconcile_klines``: our bars vs the venue's, on synthetic streams and on HitBTC's real data."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import reactivex
from reactivex.subject import Subject

from rxfeeds import ops
from rxfeeds.errors import InvalidArgument
from rxfeeds.events import Kline
from tests.support.klines import klines_of, read_snapshots


def bar(minute: int, close: float, volume: float = 1.0, *, interval: str = "1m", closed: bool = True) -> Kline:
    start = 60.0 * minute
    return Kline(
        "sim", "BTC", start, start, interval=interval, open_time=start, close_time=start + 60,
        open=1.0, high=max(1.0, close), low=min(1.0, close), close=close, volume=volume, closed=closed,
    )  # fmt: skip


def reconcile(ours: list[Kline], theirs: list[Kline], **options: Any) -> list[Any]:
    out: list[Any] = []
    reactivex.from_iterable(ours).pipe(ops.reconcile_klines(reactivex.from_iterable(theirs), **options)).subscribe(
        out.append
    )
    return out


def test_agreeing_streams_give_nothing() -> None:
    bars = [bar(m, 1.0 + m) for m in range(5)]
    assert reconcile(bars, bars) == []


def test_differences_are_reported_per_bucket_with_field_names() -> None:
    ours = [bar(m, 2.0) for m in range(4)]
    theirs = [bar(0, 2.0), bar(1, 2.0), bar(2, 2.5, volume=3.0), bar(3, 2.0)]
    [m] = reconcile(ours, theirs)
    assert (m.symbol, m.interval, m.open_time, m.fields) == ("BTC", "1m", 120.0, ("high", "close", "volume"))
    assert m.ours == ours[2] and m.theirs == theirs[2]


def test_tolerance() -> None:
    ours = [bar(m, 2.0) for m in range(3)]
    theirs = [bar(0, 2.0), bar(1, 2.0 + 1e-12), bar(2, 2.0)]
    assert reconcile(ours, theirs) == []
    assert [m.open_time for m in reconcile(ours, theirs, tolerance=0.0, abs_tolerance=0.0)] == [60.0]


def test_missing_bars_on_either_side() -> None:
    ours = [bar(0, 1.0), bar(1, 1.0), bar(3, 1.0), bar(4, 1.0)]
    theirs = [bar(0, 1.0), bar(2, 1.0), bar(3, 1.0), bar(4, 1.0)]
    got = [(m.open_time, m.fields, m.ours is None, m.theirs is None) for m in reconcile(ours, theirs)]
    assert got == [(60.0, ("missing_theirs",), False, True), (120.0, ("missing_ours",), True, False)]


def test_first_bucket_and_before_either_start_are_not_compared() -> None:
    ours = [bar(0, 9.0), bar(1, 1.0), bar(2, 1.0)]  # our first bar is partial: ignored
    theirs = [bar(-3, 5.0), bar(0, 1.0), bar(1, 1.0), bar(2, 1.0)]  # theirs reaches further back
    assert reconcile(ours, theirs) == []
    assert [m.open_time for m in reconcile(ours, theirs, skip_first=False)] == [0.0]


def test_venue_spelling_of_the_interval_matches_and_open_bars_are_ignored() -> None:
    ours = [bar(0, 1.0), bar(1, 1.0), bar(2, 7.0, closed=False), bar(2, 1.0)]
    theirs = [bar(m, 1.0, interval="M1") for m in range(3)]
    assert reconcile(ours, theirs) == []


def test_a_bucket_is_compared_only_when_their_candle_is_final() -> None:
    ours_subject: Subject[Kline] = Subject()
    theirs_subject: Subject[Kline] = Subject()
    out: list[Any] = []
    ours_subject.pipe(ops.reconcile_klines(theirs_subject)).subscribe(out.append)
    for k in (bar(0, 1.0), bar(1, 1.0)):
        ours_subject.on_next(k)
    theirs_subject.on_next(bar(0, 1.0))
    theirs_subject.on_next(bar(1, 5.0, closed=False))  # their current candle, still changing
    assert out == []
    theirs_subject.on_next(bar(1, 1.0, closed=False))  # ... and now agreeing
    theirs_subject.on_next(bar(2, 1.0, closed=False))  # a later candle: bucket 1 is final
    assert out == []
    ours_subject.on_next(dataclasses.replace(bar(1, 3.0), revision=1))  # our correction re-compares
    assert [(m.open_time, m.fields, m.ours.revision) for m in out] == [(60.0, ("high", "close"), 1)]


def test_invalid_options() -> None:
    with pytest.raises(InvalidArgument) as err:
        ops.reconcile_klines(reactivex.empty(), fields=("colour",))
    assert err.value.name == "fields"
    with pytest.raises(InvalidArgument) as err:
        ops.reconcile_klines(reactivex.empty(), tolerance=-1.0)
    assert err.value.name == "tolerance"


@pytest.mark.captures
def test_hitbtc_trade_klines_reconcile_with_hitbtc_candles(capture_file: Any) -> None:
    trades, candles, snapshot_time = read_snapshots(capture_file("hitbtc-v2-public.dev.capture"))
    for symbol, symbol_trades in trades.items():
        ours = [k for k in klines_of(symbol_trades, snapshot_time[symbol]) if k.closed]
        assert reconcile(ours, candles[symbol]) == [], symbol
        # one trade's price changed: exactly its bucket is reported (unless the change is invisible)
        victim = len(symbol_trades) // 2
        changed = list(symbol_trades)
        changed[victim] = dataclasses.replace(changed[victim], price=changed[victim].price * 1.5)
        mutated = [k for k in klines_of(changed, snapshot_time[symbol]) if k.closed]
        reported = reconcile(mutated, candles[symbol])
        bucket = changed[victim].time // 60 * 60
        assert [m.open_time for m in reported] == [bucket], symbol
        assert "high" in reported[0].fields
