"""Unit tests of ops.order_book with events built directly: sync rules, integrity, resync, values."""

from __future__ import annotations

import dataclasses
import zlib
from typing import Any

import pytest
import reactivex as rx
from reactivex import Subject
from reactivex.testing import TestScheduler

from rxfeeds import ops
from rxfeeds.books.book import OrderBook
from rxfeeds.errors import IntegrityError, InvalidArgument
from rxfeeds.events import (
    BookDelta,
    BookOrder,
    BookSnapshot,
    IntegrityEvent,
    StreamReset,
    Trade,
)
from rxfeeds.feed import Feed
from rxfeeds.ops.order_book import order_book
from rxfeeds.transport.backoff import Backoff
from tests.helpers import Collector
from tests.support.books import V, delta, snap


def crc(asks: list[tuple[float, float]], bids: list[tuple[float, float]]) -> int:
    """Kraken checksum computed here from scratch (texts as lv() renders them)."""

    def seg(p: float, s: float) -> str:
        return f"{p:.2f}".replace(".", "").lstrip("0") + f"{s:.4f}".replace(".", "").lstrip("0")

    asks = sorted(asks)[:10]
    bids = sorted(bids, reverse=True)[:10]
    return zlib.crc32("".join(seg(p, s) for p, s in asks + bids).encode())


def run(events: list[Any], **kw: Any) -> Collector:
    out = Collector()
    rx.from_iterable(events).pipe(order_book(**{"integrity": True, **kw})).subscribe(out)
    return out


# --- values ---------------------------------------------------------------------------------------


def test_exported_from_ops() -> None:
    # ops.__getattr__ is the lazy table; once the submodule was imported directly, plain attribute
    # access finds the module (an ops/__init__ issue reported to the lead), so ask the table itself
    assert ops.order_book is order_book
    assert ops.OrderBook is OrderBook


def test_snapshot_then_delta_builds_the_book() -> None:
    out = run(
        [
            snap(bids=[(99, 1), (98, 2)], asks=[(101, 1), (102, 3)]),
            delta(bids=[(99, 0), (100, 5)], asks=[(102, 4)]),
        ]
    )
    assert out.kinds() == ["synced"]
    book = out.books[-1]
    assert book.synced
    assert book.bids == ((100.0, 5.0), (98.0, 2.0))
    assert book.asks == ((101.0, 1.0), (102.0, 4.0))
    assert book.best_bid == (100.0, 5.0) and book.best_ask == (101.0, 1.0)
    assert book.mid == 100.5 and book.spread == 1.0
    assert book.top(1) == (((100.0, 5.0),), ((101.0, 1.0),))
    assert book.copy() == ({100.0: 5.0, 98.0: 2.0}, {101.0: 1.0, 102.0: 4.0})
    bids, _ = book.levels()
    assert bids[0] == (100.0, 5.0, "100.00", "5.0000")
    assert "synced" in repr(book) and "100.0" in repr(book)
    assert "<table" in book._repr_html_() and "100" in book._repr_html_()


def test_held_book_never_changes() -> None:
    subject: Subject[Any] = Subject()
    out = Collector()
    subject.pipe(order_book(integrity=True)).subscribe(out)
    # prices stay positive: a non-positive price is an invalid level
    subject.on_next(snap(bids=[(399 - i, 1 + i) for i in range(200)], asks=[(401 + i, 1) for i in range(200)]))
    held = out.books[-1]
    before = (held.levels(), held.bids, held.asks, held.copy(), held.best_bid, held.synced)
    for i in range(300):
        subject.on_next(delta(bids=[(399 - (i % 250), 0 if i % 3 else 7 + i)], asks=[(401 + (i % 90), 2 + i)]))
    subject.on_next(StreamReset(V, "A", 3.0, 3.0, channel="book", reason="reconnect"))
    assert out.books[-1] is not held
    assert (held.levels(), held.bids, held.asks, held.copy(), held.best_bid, held.synced) == before
    with pytest.raises(AttributeError):
        held.synced = False  # type: ignore[misc]


@pytest.mark.parametrize("depth", [1, 5, 10])
def test_held_depth_limited_book_never_changes(depth: int) -> None:
    # a book with a view depth holds copies of its best `depth` levels only; changes above and
    # below that depth, and a reset, leave a held value exactly as it was
    subject: Subject[Any] = Subject()
    out = Collector()
    subject.pipe(order_book(depth=depth, integrity=True)).subscribe(out)
    subject.on_next(snap(bids=[(399 - i, 1 + i) for i in range(200)], asks=[(401 + i, 1) for i in range(200)]))
    held = out.books[-1]
    before = (held.levels(), held.bids, held.asks, held.copy(), held.best_bid, held.bid_count, held.ask_count)
    assert held.bid_count == held.ask_count == depth and len(held.levels()[0]) == depth
    assert held.bids == tuple((399.0 - i, 1.0 + i) for i in range(depth))
    seen = []
    for i in range(300):
        subject.on_next(delta(bids=[(399 - (i % 250), 0 if i % 3 else 7 + i)], asks=[(401 + (i % 90), 2 + i)]))
        seen.append((out.books[-1], out.books[-1].levels()))
    subject.on_next(StreamReset(V, "A", 3.0, 3.0, channel="book", reason="reconnect"))
    assert (held.levels(), held.bids, held.asks, held.copy(), held.best_bid, held.bid_count, held.ask_count) == before
    assert all(book.levels() == levels for book, levels in seen)  # every later value too
    assert len({levels for _, levels in seen}) > 1  # the book did move on


def test_hand_made_list_levels_are_copied_not_shared() -> None:
    # the book keeps the events' level tuples as they are; lists a user built are copied, so
    # changing them afterwards cannot change an emitted book
    bid = [99.0, 1.0, "99", "1"]
    ask = [101.0, 2.0, "101", "2"]
    new_bid = [100.0, 3.0, "100", "3"]
    out = run(
        [
            BookSnapshot(V, "A", 1.0, 1.0, bids=(bid,), asks=(ask,)),  # type: ignore[arg-type]
            BookDelta(V, "A", 2.0, 2.0, bids=(new_bid,), asks=()),  # type: ignore[arg-type]
        ]
    )
    first, second = out.books
    bid[1] = ask[1] = new_bid[1] = 77.0
    assert first.levels() == (((99.0, 1.0, "99", "1"),), ((101.0, 2.0, "101", "2"),))
    assert second.bids == ((100.0, 3.0), (99.0, 1.0)) and type(second.levels()[0][0]) is tuple


def test_copy_is_independent() -> None:
    book = run([snap(bids=[(1, 1)], asks=[(2, 1)])]).books[-1]
    bids, _ = book.copy()
    bids[1.0] = 99.0
    assert book.bids == ((1.0, 1.0),)


def test_depth_limits_views_and_top() -> None:
    out = run([snap(bids=[(100 - i, 1) for i in range(30)], asks=[(101 + i, 1) for i in range(30)])], depth=5)
    book = out.books[-1]
    assert len(book.bids) == 5 and book.bids[0] == (100.0, 1.0)
    assert len(book.top(10)[0]) == 5
    assert book.depth == 5


def test_empty_book_views() -> None:
    book = run([snap()]).books[-1]
    assert book.best_bid is None and book.best_ask is None and book.mid is None and book.spread is None
    assert book.top() == ((), ())


def test_other_events_are_dropped_and_delta_before_snapshot_ignored() -> None:
    out = run(
        [
            Trade(V, "A", 1.0, 1.0, price=1.0, size=1.0),
            delta(bids=[(5, 1)]),
            snap(bids=[(1, 1)], asks=[(2, 1)]),
        ]
    )
    assert [type(v).__name__ for v in out.values] == ["IntegrityEvent", "OrderBook"]
    assert out.books[-1].bids == ((1.0, 1.0),)


def test_snapshot_zero_levels_are_ignored_and_unknown_removal_is_fine() -> None:
    out = run([snap(bids=[(1, 0), (0.5, 1)], asks=[(2, 1)]), delta(bids=[(0.7, 0)])])
    assert out.books[-1].bids == ((0.5, 1.0),)
    assert out.kinds() == ["synced"]


def test_symbols_are_kept_apart() -> None:
    out = run(
        [
            snap("A", bids=[(1, 1)], asks=[(2, 1)]),
            snap("B", bids=[(10, 1)], asks=[(20, 1)]),
            delta("A", bids=[(1.5, 2)]),
        ]
    )
    last = {b.symbol: b for b in out.books}
    assert last["A"].bids == ((1.5, 2.0), (1.0, 1.0))
    assert last["B"].bids == ((10.0, 1.0),)


# --- sequence rules -----------------------------------------------------------------------------


def test_hitbtc_style_sequence_contiguous_stale_and_resnapshot() -> None:
    out = run(
        [
            snap(bids=[(1, 1)], asks=[(2, 1)], sequence=10),
            delta(bids=[(1, 2)], sequence=11, first_sequence=11),
            delta(bids=[(1, 9)], sequence=11, first_sequence=11),  # stale: dropped
            delta(bids=[(1, 3)], sequence=12, first_sequence=12),
            snap(bids=[(1, 3)], asks=[(2, 1)], sequence=12),  # unsolicited re-snapshot, same seq
            delta(bids=[(1, 4)], sequence=13, first_sequence=13),
        ]
    )
    assert out.kinds() == ["synced"]
    assert [b.bids[0][1] for b in out.books] == [1.0, 2.0, 3.0, 3.0, 4.0]
    assert out.books[-1].sequence == 13


def test_resnapshot_at_the_synced_sequence_is_not_reloaded() -> None:
    # the venue says the book at sequence 12 is this image; ours already is the book at 12, so only
    # the best levels are compared (a deeper difference would have to be a venue error)
    out = run(
        [
            snap(bids=[(1, 1), (0.5, 1)], asks=[(2, 1)], sequence=11),
            delta(bids=[(1, 3)], sequence=12, first_sequence=12),
            dataclasses.replace(snap(bids=[(1, 3), (0.5, 7)], asks=[(2, 1)], sequence=12), time=5.0),
            delta(asks=[(2, 2)], sequence=13, first_sequence=13),
        ]
    )
    assert out.kinds() == ["synced"]
    repeat = out.books[2]
    assert repeat.synced and repeat.sequence == 12 and repeat.time == 5.0
    assert repeat.bids == ((1.0, 3.0), (0.5, 1.0))  # kept, not reloaded
    assert out.books[-1].asks == ((2.0, 2.0),) and out.books[-1].sequence == 13


def test_resnapshot_at_the_synced_sequence_with_other_best_levels_replaces_the_book() -> None:
    out = run(
        [
            snap(bids=[(1, 1)], asks=[(2, 1)], sequence=11),
            delta(bids=[(1, 3)], sequence=12, first_sequence=12),
            snap(bids=[(1, 4), (0.5, 7)], asks=[(2, 1)], sequence=12),
            snap(bids=[(1, 4), (0.5, 7)], asks=[(3, 1)], sequence=12),
        ]
    )
    assert out.kinds() == ["synced"]
    assert out.books[2].bids == ((1.0, 4.0), (0.5, 7.0))
    assert out.books[3].asks == ((3.0, 1.0),)


def test_resnapshot_at_the_synced_sequence_with_a_bad_best_level_is_an_integrity_failure() -> None:
    out = run(
        [
            snap(bids=[(1, 1)], asks=[(2, 1)], sequence=11),
            snap(bids=[(1, float("nan"))], asks=[(2, 1)], sequence=11),
        ]
    )
    assert out.kinds() == ["synced", "invalid"]
    assert out.books[-1].synced is False and out.books[-1].bids == ((1.0, 1.0),)


def test_snapshot_at_the_last_sequence_of_an_unsynced_book_is_loaded() -> None:
    out = run(
        [
            snap(bids=[(1, 1)], asks=[(2, 1)], sequence=10),
            StreamReset(V, "A", 3.0, 3.0, channel="book", reason="reconnect"),  # unsynced at sequence 10
            snap(bids=[(1, 1), (0.5, 2)], asks=[(2, 1)], sequence=10),
        ]
    )
    assert out.kinds() == ["synced", "reset", "synced"]
    assert out.books[-1].synced and out.books[-1].bids == ((1.0, 1.0), (0.5, 2.0))


def test_first_delta_after_snapshot_must_be_next_for_hitbtc() -> None:
    out = run([snap(bids=[(1, 1)], asks=[(2, 1)], sequence=10), delta(bids=[(1, 2)], sequence=12, first_sequence=12)])
    assert out.kinds() == ["synced", "gap"]
    assert out.books[-1].synced is False
    assert out.books[-1].bids == ((1.0, 1.0),)  # last good content


def test_binance_bridge_buffering() -> None:
    out = run(
        [
            delta(bids=[(1, 5)], first_sequence=95, sequence=99),  # before the snapshot: buffered
            delta(bids=[(1, 6)], first_sequence=100, sequence=103),  # bridges lastUpdateId=101
            delta(asks=[(3, 1)], first_sequence=104, sequence=104),
            snap(bids=[(1, 1)], asks=[(2, 1)], sequence=101),
            delta(asks=[(2, 0)], first_sequence=105, sequence=107),
        ]
    )
    assert out.kinds() == ["synced"]
    first, last = out.books
    assert first.sequence == 104 and first.bids == ((1.0, 6.0),) and first.asks == ((2.0, 1.0), (3.0, 1.0))
    assert last.asks == ((3.0, 1.0),) and last.sequence == 107


def test_binance_buffered_delta_not_bridging_is_a_gap() -> None:
    out = run(
        [
            delta(bids=[(1, 6)], first_sequence=103, sequence=105),
            snap(bids=[(1, 1)], asks=[(2, 1)], sequence=101),
        ]
    )
    assert out.kinds() == ["gap"]
    assert out.books == []


def test_gap_after_bridge_must_be_contiguous() -> None:
    out = run(
        [
            snap(bids=[(1, 1)], asks=[(2, 1)], sequence=101),
            delta(bids=[(1, 2)], first_sequence=100, sequence=103),
            delta(bids=[(1, 3)], first_sequence=103, sequence=105),  # overlaps: not last+1
        ]
    )
    assert out.kinds() == ["synced", "gap"]


def test_gap_then_new_snapshot_with_buffer_resyncs() -> None:
    out = run(
        [
            snap(bids=[(1, 1)], asks=[(2, 1)], sequence=10),
            delta(bids=[(1, 2)], sequence=12, first_sequence=12),  # gap
            delta(bids=[(1, 3)], sequence=13, first_sequence=13),  # buffered
            snap(bids=[(1, 2)], asks=[(2, 1)], sequence=12),  # fresh snapshot
        ]
    )
    assert out.kinds() == ["synced", "gap", "synced"]
    assert out.books[-1].synced and out.books[-1].bids == ((1.0, 3.0),) and out.books[-1].sequence == 13


def test_older_snapshot_is_ignored_when_synced() -> None:
    out = run(
        [
            snap(bids=[(1, 1)], asks=[(2, 1)], sequence=10),
            delta(bids=[(1, 2)], sequence=11, first_sequence=11),
            snap(bids=[(1, 7)], asks=[(2, 1)], sequence=9),
        ]
    )
    assert out.books[-1].bids == ((1.0, 2.0),) and len(out.books) == 2


def test_buffer_is_bounded() -> None:
    events: list[Any] = [delta(bids=[(1, i)], sequence=i, first_sequence=i) for i in range(1, 50)]
    events.append(snap(bids=[(1, 1)], asks=[(2, 1)], sequence=10))
    out = run(events, max_buffer=5)  # only 45..49 kept: 45 does not bridge 11
    assert out.kinds() == ["gap"]


# --- checksum, crossed, reset ------------------------------------------------------------------------


def test_checksum_verified_and_mismatch_detected() -> None:
    asks, bids = [(101.0, 1.0), (102.0, 2.0)], [(99.0, 3.0)]
    good = crc([(101.0, 1.0), (102.0, 5.0)], bids)
    out = run(
        [
            snap(bids=bids, asks=asks, depth=10),
            delta(asks=[(102, 5)], checksum=good),
            delta(asks=[(102, 6)], checksum=good),  # wrong: the book now has 6
        ]
    )
    assert out.kinds() == ["synced", "checksum"]
    assert out.books[1].checksum == good and out.books[1].synced
    assert out.books[-1].synced is False


def test_checksum_v2_snapshot_is_verified() -> None:
    asks, bids = [(101.0, 1.0)], [(99.0, 3.0)]
    assert run([snap(bids=bids, asks=asks, checksum=crc(asks, bids))]).kinds() == ["synced"]
    assert run([snap(bids=bids, asks=asks, checksum=crc(asks, bids) ^ 1)]).kinds() == ["checksum"]


def test_truncation_to_venue_depth_before_checksum() -> None:
    asks = [(100.0 + i, 1.0) for i in range(12)]
    bids = [(99.0 - i, 1.0) for i in range(12)]
    # depth 11: the new best bid pushes the 11th-best out; the checksum covers top 10 anyway,
    # so check the kept depth directly
    expected = crc(asks, [(99.5, 1.0), *bids])
    out = run([snap(bids=bids, asks=asks, depth=11), delta(bids=[(99.5, 1)], checksum=expected)])
    assert out.kinds() == ["synced"]
    assert out.books[-1].bid_count == 11 and out.books[-1].ask_count == 11


def test_crossed_book_is_an_integrity_failure() -> None:
    out = run([snap(bids=[(1, 1)], asks=[(2, 1)]), delta(bids=[(2.5, 1)])])
    assert out.kinds() == ["synced", "crossed"]
    assert out.books[-1].synced is False and out.books[-1].best_bid == (1.0, 1.0)
    assert run([snap(bids=[(2, 1)], asks=[(2, 1)])]).kinds() == ["crossed"]


def test_stream_reset_unsyncs_without_resync_until_snapshot() -> None:
    asked: list[str] = []
    events = [
        snap(bids=[(1, 1)], asks=[(2, 1)], sequence=5),
        StreamReset(V, "A", 3.0, 3.0, channel="book", reason="reconnect"),
        delta(bids=[(1, 2)], sequence=6, first_sequence=6),  # after reset: buffered
        snap(bids=[(1, 1)], asks=[(2, 1)], sequence=5),
    ]
    out = Collector()
    scheduler = TestScheduler()
    feed: Feed[Any] = Feed(rx.from_iterable(events).subscribe, resync=asked.append)
    feed.pipe(order_book(integrity=True, scheduler=scheduler)).subscribe(out)
    scheduler.advance_by(100.0)
    assert out.kinds() == ["synced", "reset", "synced"]
    assert [b.synced for b in out.books] == [True, False, True]
    assert out.books[-1].bids == ((1.0, 2.0),)
    assert asked == []


def test_reset_of_a_symbol_without_book_is_ignored() -> None:
    out = run([StreamReset(V, "Z", 3.0, 3.0, channel="book", reason="reconnect"), snap("A", bids=[(1, 1)])])
    assert [(v.symbol, v.kind) for v in out.values if isinstance(v, IntegrityEvent)] == [("A", "synced")]


def test_connection_wide_reset_concerns_every_symbol_of_the_venue() -> None:
    out = run(
        [
            snap("A", bids=[(1, 1)], asks=[(2, 1)]),
            snap("B", bids=[(1, 1)], asks=[(2, 1)]),
            StreamReset(V, "", 3.0, 3.0, channel="", reason="reconnect"),
        ]
    )
    assert sorted(v.symbol for v in out.values if isinstance(v, IntegrityEvent) and v.kind == "reset") == [
        "A",
        "B",
    ]


# --- order-level books ----------------------------------------------------------------------------


def order(oid: str, side: str, price: float, size: float, **kw: Any) -> BookOrder:
    return BookOrder(V, "M", 1.0, 1.0, order_id=oid, side=side, price=price, size=size, **kw)  # type: ignore[arg-type]


def test_orders_aggregate_into_levels() -> None:
    out = run(
        [
            order("1", "buy", 10.0, 1.0, snapshot=True, frame_end=False),
            order("2", "buy", 10.0, 2.0, snapshot=True, frame_end=False),
            order("3", "sell", 11.0, 1.5, snapshot=True),
            order("1", "buy", 10.0, 0.5),  # replaced by id
            order("2", "buy", 10.0, 0.0, removed=True),
            order("4", "buy", 9.0, 1.0),
            order("4", "buy", 9.5, 1.0),  # moved price
            order("9", "sell", 12.0, 0.0, removed=True),  # unknown: fine
        ]
    )
    assert out.books[0].bids == ((10.0, 3.0),) and out.books[0].asks == ((11.0, 1.5),)  # the whole image
    book = out.books[-1]
    assert book.bids == ((10.0, 0.5), (9.5, 1.0)) and book.asks == ((11.0, 1.5),)
    assert out.kinds() == ["synced"]


def test_orders_after_reset_wait_for_a_new_image() -> None:
    out = run(
        [
            order("1", "buy", 10.0, 1.0, snapshot=True),
            StreamReset(V, "M", 2.0, 2.0, channel="book", reason="reconnect"),
            order("2", "buy", 9.0, 1.0),  # before the new image: dropped
            order("3", "buy", 8.0, 2.0, snapshot=True),
            order("4", "sell", 12.0, 1.0),
        ]
    )
    assert out.kinds() == ["synced", "reset", "synced"]
    assert out.books[-1].bids == ((8.0, 2.0),) and out.books[-1].asks == ((12.0, 1.0),)


def test_new_order_image_replaces_the_book() -> None:
    out = run(
        [
            order("1", "buy", 10.0, 1.0, snapshot=True),
            order("2", "buy", 9.0, 1.0),
            order("7", "sell", 12.0, 1.0, snapshot=True),
        ]
    )
    assert out.books[-1].bids == () and out.books[-1].asks == ((12.0, 1.0),)


# --- resync ---------------------------------------------------------------------------------------


def gap_events(symbol: str, seq: int) -> list[Any]:
    return [
        snap(symbol, bids=[(1, 1)], asks=[(2, 1)], sequence=seq),
        delta(symbol, bids=[(1, 2)], sequence=seq + 5, first_sequence=seq + 5),
    ]


def test_gap_resyncs_that_symbol_only_and_recovers() -> None:
    scheduler = TestScheduler()
    subject: Subject[Any] = Subject()
    asked: list[str] = []
    out = Collector()
    subject.pipe(order_book(integrity=True, resync=asked.append, scheduler=scheduler)).subscribe(out)
    for ev in [snap("B", bids=[(5, 1)], asks=[(6, 1)], sequence=1), *gap_events("A", 10)]:
        subject.on_next(ev)
    scheduler.advance_by(0.001)
    assert asked == ["A"]
    assert out.kinds("A") == ["synced", "gap", "resync"]
    subject.on_next(delta("B", bids=[(5, 2)], sequence=2, first_sequence=2))  # B keeps flowing
    assert out.books[-1].symbol == "B" and out.books[-1].synced
    subject.on_next(snap("A", bids=[(1, 3)], asks=[(2, 1)], sequence=20))
    subject.on_next(delta("A", bids=[(1, 4)], sequence=21, first_sequence=21))
    scheduler.advance_by(100.0)
    assert asked == ["A"]  # the snapshot cancelled the timeout
    assert out.kinds("A") == ["synced", "gap", "resync", "synced"]
    assert out.kinds("B") == ["synced"]
    assert out.error is None


def test_resync_hook_comes_from_the_feed() -> None:
    asked: list[str] = []
    scheduler = TestScheduler()
    source = rx.concat(rx.from_iterable(gap_events("A", 1)), rx.never())
    feed: Feed[Any] = Feed(source.subscribe, resync=asked.append)
    out = Collector()
    feed.pipe(order_book(integrity=True, scheduler=scheduler)).subscribe(out)
    scheduler.advance_by(0.001)
    assert asked == ["A"]


def test_no_hook_means_no_resync_and_no_failure() -> None:
    scheduler = TestScheduler()
    out = Collector()
    rx.from_iterable(gap_events("A", 1)).pipe(order_book(integrity=True, scheduler=scheduler)).subscribe(out)
    scheduler.advance_by(1000.0)
    assert out.kinds() == ["synced", "gap"] and out.error is None


def test_repeated_failure_backs_off_then_errors() -> None:
    scheduler = TestScheduler()
    subject: Subject[Any] = Subject()
    asked: list[float] = []
    out = Collector()
    policy = Backoff(initial=1.0, max_delay=8.0, jitter="none")
    subject.pipe(
        order_book(
            integrity=True,
            resync=lambda s: asked.append(scheduler.clock),
            backoff=policy,
            max_resyncs=3,
            resync_timeout=5.0,
            scheduler=scheduler,
        )
    ).subscribe(out)
    for ev in gap_events("A", 1):
        subject.on_next(ev)
    scheduler.advance_to(1.0)
    assert asked == [0.0]  # first attempt at once
    # each attempt: the snapshot comes back but the very next delta gaps again
    for ev in gap_events("A", 100):
        subject.on_next(ev)
    scheduler.advance_to(3.0)
    assert asked == [0.0, 2.0]  # 1 s back-off after the 2nd failure (at t=1)
    for ev in gap_events("A", 200):
        subject.on_next(ev)
    scheduler.advance_to(6.0)
    assert asked == [0.0, 2.0, 5.0]  # 2 s back-off after the 3rd failure (at t=3)
    scheduler.advance_to(9.9)
    assert out.error is None
    scheduler.advance_to(10.0)  # no snapshot within resync_timeout of attempt 3: 4th failure
    assert out.kinds()[-2:] == ["stale", "failed"]
    assert isinstance(out.error, IntegrityError)
    assert "venue A" in str(out.error) and "3 resync attempts" in str(out.error)
    subject.on_next(snap("A", bids=[(1, 1)], asks=[(2, 1)], sequence=1000))
    assert out.books[-1].sequence != 1000  # nothing after the error


def test_clean_delta_resets_the_attempt_count() -> None:
    scheduler = TestScheduler()
    subject: Subject[Any] = Subject()
    asked: list[str] = []
    out = Collector()
    subject.pipe(order_book(integrity=True, resync=asked.append, max_resyncs=1, scheduler=scheduler)).subscribe(out)
    for base in (1, 100, 200):
        for ev in gap_events("A", base):
            subject.on_next(ev)
        scheduler.advance_by(1.0)
        subject.on_next(snap("A", bids=[(1, 1)], asks=[(2, 1)], sequence=base + 50))
        subject.on_next(delta("A", bids=[(1, 1)], sequence=base + 51, first_sequence=base + 51))
    assert out.error is None and len(asked) == 3


def test_hook_exception_counts_as_failure() -> None:
    scheduler = TestScheduler()
    out = Collector()

    def broken(symbol: str) -> None:
        raise RuntimeError("socket closed")

    rx.concat(rx.from_iterable(gap_events("A", 1)), rx.never()).pipe(
        order_book(
            integrity=True,
            resync=broken,
            max_resyncs=2,
            backoff=Backoff(initial=1.0, jitter="none"),
            scheduler=scheduler,
        )
    ).subscribe(out)
    scheduler.advance_by(10.0)
    assert isinstance(out.error, IntegrityError) and "socket closed" in str(out.error)
    assert out.kinds().count("resync") == 2


@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"depth": 0}, "depth"),
        ({"depth": 1.5}, "depth"),
        ({"max_depth": -1}, "max_depth"),
        ({"max_resyncs": 0}, "max_resyncs"),
        ({"resync_timeout": 0}, "resync_timeout"),
        ({"max_buffer": 0}, "max_buffer"),
        ({"resync": 5}, "resync"),
        ({"backoff": 1.0}, "backoff"),
        ({"integrity": "yes"}, "integrity"),
    ],
)
def test_invalid_arguments(kw: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        order_book(**kw)
    assert info.value.name == name


def test_source_error_and_completion_pass_through() -> None:
    out = run([snap(bids=[(1, 1)], asks=[(2, 1)])])
    assert out.completed
    errs = Collector()
    rx.throw(RuntimeError("boom")).pipe(order_book(integrity=True)).subscribe(errs)
    assert isinstance(errs.error, RuntimeError)


# --- books only by default (issue 18 item 10) -------------------------------------------------------


def test_default_stream_is_books_only_so_a_plain_book_callback_is_safe() -> None:
    scheduler = TestScheduler()
    subject: Subject[Any] = Subject()
    bids: list[Any] = []
    errors: list[Exception] = []
    subject.pipe(order_book(resync=lambda s: None, scheduler=scheduler)).subscribe(
        lambda book: bids.append(book.best_bid), errors.append
    )
    for ev in [*gap_events("A", 1), StreamReset(V, "A", 3.0, 3.0, channel="book", reason="reconnect")]:
        subject.on_next(ev)
    scheduler.advance_by(15.0)  # a resync attempt and its stale timer fire meanwhile
    subject.on_next(snap(bids=[(5, 1)], asks=[(6, 1)], sequence=50))
    assert errors == []
    assert bids[0] == (1.0, 1.0) and bids[-1] == (5.0, 1.0)


def test_default_stream_shows_every_integrity_problem_on_the_book_itself() -> None:
    events = [*gap_events("A", 1), snap(bids=[(5, 1)], asks=[(6, 1)], sequence=50)]
    books_only = run(events[:], integrity=False)
    with_integrity = run(events[:])
    assert all(isinstance(v, OrderBook) for v in books_only.values)
    # the same books in the same order, the problem visible as synced=False then True again
    assert [(b.synced, b.best_bid) for b in books_only.values] == [(b.synced, b.best_bid) for b in with_integrity.books]
    assert [b.synced for b in books_only.values] == [True, False, True]
    assert with_integrity.kinds() == ["synced", "gap", "synced"]


def test_default_stream_still_ends_with_integrity_error_when_resync_gives_up() -> None:
    scheduler = TestScheduler()
    out = Collector()
    subject: Subject[Any] = Subject()
    subject.pipe(order_book(resync=lambda s: None, max_resyncs=1, scheduler=scheduler)).subscribe(out)
    for ev in gap_events("A", 1):
        subject.on_next(ev)
    scheduler.advance_by(100.0)
    assert isinstance(out.error, IntegrityError)
    assert all(isinstance(v, OrderBook) for v in out.values)
