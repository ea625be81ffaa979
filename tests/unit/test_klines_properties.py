"""Property tests of ``ops.klines`` against a brute-force aggregation of the same trades.

Trades of two symbols get random delivery delays (so they arrive out of order, some after their
bucket closed) and are pushed in virtual time at their arrival.  The reference is computed here by
grouping the trades by bucket, independently of the operator's incremental state:

* ``late="drop"``: a trade is accepted iff its bucket has not closed when it arrives: its
  ``end + grace`` is still ahead of the clock and no accepted trade of a later bucket arrived
  before it.  Bars must equal the reference over the accepted trades, and ``late_dropped`` must
  count the others.
* ``late="amend"``: the last revision of every bucket must equal the reference over *all* trades.

Open is the earliest trade by exchange time (the first to arrive among equals), close the latest
(the last to arrive among equals).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from reactivex.subject import Subject
from reactivex.testing import TestScheduler

from rxfeeds import ops
from rxfeeds.events import Kline, Trade

T0 = 1_800_000_000.0  # a minute boundary
# not on the 1/8 s grid of arrivals: no trade arrives exactly at a deadline, where the order of the
# trade and the closing timer (both due at that instant) would decide
GRACE = 1.3


@st.composite
def deliveries(draw: st.DrawFn) -> list[tuple[float, Trade]]:
    """``(arrival, trade)`` pairs in arrival order; each symbol's earliest trade arrives first, on time."""
    out: list[tuple[float, int, Trade]] = []
    for symbol in ("A", "B"):
        n = draw(st.integers(1, 40))
        times = sorted(T0 + draw(st.integers(0, 4 * 60 * 30)) / 4 for _ in range(n))
        for i, t in enumerate(times):
            delay = 0.0 if i == 0 else draw(st.sampled_from([0.125, 0.5, 2.0, 30.0, 90.0, 300.0]))
            price = draw(st.integers(1, 400)) / 4
            size = draw(st.integers(1, 64)) / 8
            out.append((t + delay, len(out), Trade("sim", symbol, t, t + delay, price=price, size=size)))
    out.sort(key=lambda e: (e[0], e[1]))
    return [(arrival, trade) for arrival, _, trade in out]


def push(events: list[tuple[float, Trade]], op: Any) -> list[Kline]:
    scheduler = TestScheduler()
    scheduler.advance_to(T0 - 1)
    subject: Subject[Trade] = Subject()
    out: list[Kline] = []
    subject.pipe(op(scheduler)).subscribe(out.append)
    for arrival, trade in events:  # scheduled in arrival order: equal times keep this order
        scheduler.schedule_absolute(arrival, lambda _s, _st, trade=trade: subject.on_next(trade))
    scheduler.advance_to(max(a for a, _ in events) + 3600)
    return out


def reference(trades: list[Trade]) -> dict[tuple[str, float], tuple[Any, ...]]:
    """Bars by brute force; ``trades`` in arrival order."""
    groups: dict[tuple[str, float], list[Trade]] = defaultdict(list)
    for t in trades:
        groups[t.symbol, math.floor(t.time / 60) * 60].append(t)
    bars = {}
    for key, group in groups.items():
        first_time = min(t.time for t in group)
        last_time = max(t.time for t in group)
        opening = next(t for t in group if t.time == first_time)
        closing = [t for t in group if t.time == last_time][-1]
        bars[key] = (
            opening.price,
            max(t.price for t in group),
            min(t.price for t in group),
            closing.price,
            sum(t.size for t in group),
            len(group),
            first_time,
            last_time,
        )
    return bars


def summary(k: Kline) -> tuple[Any, ...]:
    return (k.open, k.high, k.low, k.close, k.volume, k.trades, k.first_trade_time, k.last_trade_time)


@settings(max_examples=60, deadline=None)
@given(deliveries())
def test_drop_mode_equals_the_reference_over_accepted_trades(events: list[tuple[float, Trade]]) -> None:
    accepted: list[Trade] = []
    newest: dict[str, float] = {}
    dropped = 0
    for arrival, t in events:
        start = math.floor(t.time / 60) * 60
        if start + 60 + GRACE <= arrival or start < newest.get(t.symbol, -math.inf):
            dropped += 1
            continue
        accepted.append(t)
        newest[t.symbol] = max(newest.get(t.symbol, -math.inf), start)

    captured: list[Any] = []

    def make(scheduler: TestScheduler) -> Any:
        made = ops.klines("1m", grace=GRACE, scheduler=scheduler)
        captured.append(made)
        return made

    bars = push(events, make)
    assert all(k.closed and k.revision == 0 for k in bars)
    assert {(k.symbol, k.open_time): summary(k) for k in bars} == reference(accepted)
    assert len(bars) == len(reference(accepted))  # one bar per bucket, never twice
    assert captured[0].stats.late_dropped == dropped
    assert captured[0].stats.items == len(accepted)


@settings(max_examples=60, deadline=None)
@given(deliveries())
def test_amend_mode_final_revisions_equal_the_reference_over_all_trades(events: list[tuple[float, Trade]]) -> None:
    bars = push(events, lambda s: ops.klines("1m", late="amend", grace=GRACE, scheduler=s))
    final: dict[tuple[str, float], Kline] = {}
    for k in bars:
        key = (k.symbol, k.open_time)
        previous = final.get(key)
        assert previous is None or k.revision == previous.revision + 1  # revisions count up by one
        final[key] = k
    assert {key: summary(k) for key, k in final.items()} == reference([t for _, t in events])
