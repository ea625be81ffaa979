"""The harness's own judgement: a synced book equal to truth passes, any other is corrupted."""

from __future__ import annotations

import dataclasses
from typing import Any

import reactivex as rx

from rxfeeds import ops
from rxfeeds.books.book import OrderBook
from rxfeeds.events import BookDelta, BookSnapshot
from rxfeeds.sim.server import SimServer
from tests.chaos.harness import VENUES, VenueResult, _Checker


class Quiet(SimServer):
    venue = "quiet"


def books(*events: Any) -> list[OrderBook]:
    out: list[Any] = []
    rx.from_iterable(events).pipe(ops.order_book(depth=10)).subscribe(out.append)
    return [b for b in out if isinstance(b, OrderBook) and b.synced]


def test_checker_passes_truth_and_flags_other_books() -> None:
    sim = Quiet(tick_interval=None)
    sim.truth_history_size = 8
    sent = sim.sent_book("X")
    sent.replace(bids=[("99", "1")], asks=[("101", "1")])
    sim.record_truth("X", 5)
    sent.set("bid", "100", "2")
    sim.record_truth("X", 6)
    snap = BookSnapshot(
        "t", "X", 1.0, 1.0, bids=((99.0, 1.0, "99", "1"),), asks=((101.0, 1.0, "101", "1"),), sequence=5
    )
    good = BookDelta("t", "X", 1.0, 1.0, bids=((100.0, 2.0, "100", "2"),), asks=(), sequence=6, first_sequence=6)
    wrong = BookDelta("t", "X", 1.0, 1.0, bids=((100.0, 3.0, "100", "3"),), asks=(), sequence=6, first_sequence=6)
    ahead = BookDelta("t", "X", 1.0, 1.0, bids=(), asks=(), sequence=7, first_sequence=7)
    setup = dataclasses.replace(VENUES["hitbtc"], symbols=("X",))
    result = VenueResult("t", 0, 0)
    checker = _Checker(setup, result)
    checker.sims.append((0.0, sim))
    checker.check("X", [(b, "start") for b in books(snap, good)])
    assert (result.checked, result.corrupted, result.unmatched) == (2, 0, 0)
    checker.check("X", [(b, "close") for b in books(snap, wrong)])
    assert (result.checked, result.corrupted, result.unmatched) == (4, 1, 0)
    assert result.corrupted_by_kind == {"close": 1}
    checker.check("X", [(b, "reset") for b in books(snap, good, ahead)][-1:])
    assert (result.checked, result.unmatched) == (5, 1)  # no truth recorded at sequence 7
