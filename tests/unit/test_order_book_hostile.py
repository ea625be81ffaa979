"""ops.order_book against hostile input (issue 16): whole order-level messages only, malformed
events, insane numbers and frozen sequenced books, with events built by hand."""

from __future__ import annotations

import math
from typing import Any

import reactivex as rx
from reactivex import Subject
from reactivex.testing import TestScheduler

from rxfeeds.books.book import OrderBook
from rxfeeds.books.sync import MAX_NUMBER, SymbolBook
from rxfeeds.events import BookDelta, BookOrder, BookSnapshot, IntegrityEvent, Level, StreamReset
from rxfeeds.ops.order_book import order_book
from tests.helpers import Collector
from tests.support.books import delta, lv, snap

V = "venue"


def order(oid: str, side: str, price: float, size: float, symbol: str = "M", **kw: Any) -> BookOrder:
    return BookOrder(V, symbol, 1.0, 1.0, order_id=oid, side=side, price=price, size=size, **kw)  # type: ignore[arg-type]


def frame(*orders: BookOrder) -> list[BookOrder]:
    """The orders of one venue message, as a codec marks them: only the last ends the frame."""
    out = []
    for i, o in enumerate(orders):
        out.append(
            BookOrder(
                o.venue,
                o.symbol,
                o.time,
                o.recv_time,
                order_id=o.order_id,
                side=o.side,
                price=o.price,
                size=o.size,
                removed=o.removed,
                snapshot=o.snapshot,
                frame_end=i == len(orders) - 1,
            )
        )
    return out


def image(n: int = 5, symbol: str = "M") -> list[BookOrder]:
    bids = [order(f"b{i}", "buy", 100.0 - i, 1.0 + i, symbol, snapshot=True) for i in range(n)]
    asks = [order(f"a{i}", "sell", 101.0 + i, 2.0 + i, symbol, snapshot=True) for i in range(n)]
    return frame(*bids, *asks)


class Run:
    """order_book over a Subject with a TestScheduler and a recording resync hook."""

    def __init__(self, **kw: Any) -> None:
        self.scheduler = TestScheduler()
        self.subject: Subject[Any] = Subject()
        self.asked: list[str] = []
        self.out = Collector()
        self.subject.pipe(
            order_book(resync=self.asked.append, scheduler=self.scheduler, integrity=True, **kw)
        ).subscribe(self.out)

    def send(self, *events: Any) -> None:
        for ev in events:
            self.subject.on_next(ev)
        self.scheduler.advance_by(0.001)


def all_numbers_sane(books: list[OrderBook]) -> bool:
    return all(
        math.isfinite(p) and math.isfinite(s) and 0 < p < MAX_NUMBER and 0 < s < MAX_NUMBER
        for b in books
        for side in b.levels()
        for p, s, *_ in side
    )


# --- defect 3: order-level books are published per whole message ---------------------------------


def test_an_image_message_gives_one_synced_book_of_full_depth() -> None:
    r = Run()
    r.send(*image(25))
    books = r.out.books
    assert len(books) == 1 and books[0].synced
    assert len(books[0].bids) == 25 and len(books[0].asks) == 25
    assert r.out.kinds() == ["synced"]


def test_a_multi_order_message_is_published_once_after_its_last_order() -> None:
    r = Run()
    r.send(*image(3))
    # one message: a bid replaced at a new price, an ask removed, a new ask; transiently crossed
    r.send(
        *frame(
            order("a9", "sell", 99.5, 1.0),  # crosses b0 until b0 moves away in the same message
            order("b0", "buy", 99.0, 0.0, removed=True),
            order("a0", "sell", 101.0, 0.0, removed=True),
            order("b0", "buy", 98.5, 5.0),
        )
    )
    books = r.out.books
    assert len(books) == 2, "one book per message, none half-applied"
    last = books[-1]
    assert last.synced and last.best_ask == (99.5, 1.0) and (98.5, 5.0) in last.bids
    assert r.out.kinds() == ["synced"] and r.asked == []  # the transient cross was never a book


def test_updates_before_the_first_image_are_dropped_not_published() -> None:
    r = Run()
    r.send(*frame(order("x", "buy", 99.0, 1.0), order("y", "sell", 101.0, 1.0)))
    assert r.out.books == []
    r.send(*image(2))
    assert len(r.out.books) == 1 and r.out.books[0].bids == ((100.0, 1.0), (99.0, 2.0))


def test_back_to_back_images_replace_rather_than_merge() -> None:
    r = Run()
    r.send(*image(3))
    r.send(*frame(order("n1", "buy", 50.0, 1.0, snapshot=True), order("n2", "sell", 60.0, 1.0, snapshot=True)))
    assert r.out.books[-1].bids == ((50.0, 1.0),) and r.out.books[-1].asks == ((60.0, 1.0),)


def test_after_a_crossed_failure_only_a_new_image_resyncs_an_order_book() -> None:
    r = Run()
    r.send(*image(2))
    r.send(order("z", "sell", 90.0, 1.0))  # crossed at a message end
    assert r.out.kinds() == ["synced", "crossed", "resync"] and r.asked == ["M"]
    r.send(order("q", "buy", 10.0, 1.0))  # not an image: the book stays unsynced
    assert not r.out.books[-1].synced
    r.send(StreamReset(V, "M", 2.0, 2.0, channel="book", reason="resync"), *image(2))
    assert r.out.books[-1].synced and r.out.books[-1].best_ask == (101.0, 2.0)


# --- defect 4: a malformed event is an integrity failure of its book, not a Python error ------------


def test_price_text_that_is_not_a_string_resyncs_that_book_only() -> None:
    r = Run()
    r.send(snap("A", bids=[(1, 1)], asks=[(2, 1)]), snap("B", bids=[(5, 1)], asks=[(6, 1)]))
    # Kraken v1 style: a checksummed delta whose price came as a JSON number (no wire text)
    bad = BookDelta(V, "A", 2.0, 2.0, bids=((1.5, 1.0, 1.5, "1.0"),), asks=(), checksum=123)  # type: ignore[arg-type]
    r.send(bad)
    assert r.out.error is None
    invalid = [v for v in r.out.values if isinstance(v, IntegrityEvent) and v.kind == "invalid"]
    assert len(invalid) == 1 and invalid[0].symbol == "A" and "AttributeError" in invalid[0].detail
    assert r.asked == ["A"] and r.out.books[-1].symbol == "A" and not r.out.books[-1].synced
    r.send(delta("B", bids=[(5, 2)]))  # the other book goes on
    assert r.out.books[-1].symbol == "B" and r.out.books[-1].synced
    r.send(snap("A", bids=[(1, 3)], asks=[(2, 1)]))  # the resync's snapshot restores A
    assert r.out.books[-1].symbol == "A" and r.out.books[-1].synced
    assert r.out.kinds("A") == ["synced", "invalid", "resync", "synced"]


def test_unhashable_symbol_resyncs_the_venues_books_and_the_stream_goes_on() -> None:
    r = Run()
    r.send(snap("BTCUSDT", bids=[(1, 1)], asks=[(2, 1)], sequence=5))
    bad = BookDelta(V, ["BTCUSDT"], 2.0, 2.0, bids=(lv(1, 2),), asks=(), sequence=6, first_sequence=6)  # type: ignore[arg-type]
    r.send(bad)
    assert r.out.error is None
    assert r.out.kinds("BTCUSDT") == ["synced", "invalid", "resync"] and r.asked == ["BTCUSDT"]
    r.send(snap("BTCUSDT", bids=[(1, 4)], asks=[(2, 1)], sequence=9))
    assert r.out.books[-1].synced and r.out.books[-1].bids == ((1.0, 4.0),)


def test_unattributable_bad_event_is_still_visible() -> None:
    out = Collector()
    bad = BookSnapshot(V, {"s": 1}, 1.0, 1.0, bids=(), asks=())  # type: ignore[arg-type]
    rx.from_iterable([bad, snap("A", bids=[(1, 1)], asks=[(2, 1)])]).pipe(order_book(integrity=True)).subscribe(out)
    assert out.error is None and out.kinds() == ["invalid", "synced"]
    assert out.books[-1].synced


def test_snapshot_with_text_prices_is_invalid() -> None:
    r = Run()
    bad = BookSnapshot(V, "A", 1.0, 1.0, bids=(("1", "1", "1", "1"),), asks=())  # type: ignore[arg-type]
    r.send(bad)
    assert r.out.error is None and r.out.kinds() == ["invalid", "resync"] and r.asked == ["A"]


def test_bad_order_skips_the_rest_of_its_message() -> None:
    r = Run()
    first = image(2)
    broken = BookOrder(
        V,
        "M",
        1.0,
        1.0,
        order_id=["x"],  # type: ignore[arg-type]
        side="buy",
        price=99.5,
        size=1.0,
        snapshot=True,
        frame_end=False,
    )
    r.send(*first[:1], broken, *first[1:])
    # the image was not whole: nothing synced is published from it
    assert r.out.error is None and not any(b.synced for b in r.out.books)
    assert r.out.kinds()[0] == "invalid" and "synced" not in r.out.kinds()
    r.send(*image(2))
    assert r.out.books[-1].synced and len(r.out.books[-1].bids) == 2


def test_symbol_book_never_leaks_a_python_error_through_the_operator_for_resets() -> None:
    out = Collector()
    events = [snap("A", bids=[(1, 1)], asks=[(2, 1)]), StreamReset(V, ["A"], 1.0, 1.0, channel="book", reason="x")]  # type: ignore[arg-type]
    rx.from_iterable(events).pipe(order_book(integrity=True)).subscribe(out)
    assert out.error is None and out.kinds() == ["synced", "invalid"]


# --- defect 10: no NaN, infinite, negative or absurd number reaches a book --------------------------


def bad_numbers() -> list[tuple[float, float]]:
    nan, inf = float("nan"), float("inf")
    return [
        (nan, 1.0),
        (1.5, nan),
        (inf, 1.0),
        (1.5, inf),
        (1.5, -1.0),
        (-1.5, 1.0),
        (0.0, 1.0),
        (1e20, 1.0),
        (1.5, 1e19),
    ]


def test_insane_delta_levels_never_reach_a_book() -> None:
    for price, size in bad_numbers():
        for side in ("bids", "asks"):
            r = Run()
            r.send(snap("A", bids=[(1, 1)], asks=[(2, 1)]))
            level = (price, size, "x", "y")
            r.send(BookDelta(V, "A", 2.0, 2.0, **{"bids": (), "asks": (), side: (level,)}))
            assert r.out.kinds() == ["synced", "invalid", "resync"], (price, size, side)
            assert all_numbers_sane(r.out.books) and not r.out.books[-1].synced
            # a later clean delta is not applied on top of the unsynced book
            r.send(delta("A", asks=[(1.75, 1)]))
            assert not r.out.books[-1].synced and all_numbers_sane(r.out.books)


def test_nan_ask_is_rejected_so_it_can_never_become_a_stuck_best_ask() -> None:
    r = Run()
    r.send(snap("A", bids=[(1, 1)], asks=[(2, 1)]))
    r.send(BookDelta(V, "A", 2.0, 2.0, bids=(), asks=((float("nan"), 1.0, "nan", "1"),)))
    assert all_numbers_sane(r.out.books) and r.out.kinds() == ["synced", "invalid", "resync"]
    r.send(snap("A", bids=[(1, 1)], asks=[(2, 1)]))
    r.send(delta("A", asks=[(1.5, 1)]))
    assert r.out.books[-1].synced and r.out.books[-1].best_ask == (1.5, 1.0)


def test_insane_snapshot_and_buffered_levels_are_invalid() -> None:
    for price, size in bad_numbers():
        levels: tuple[Level, ...] = ((price, size, "x", "y"),)
        sb = SymbolBook(V, "A")
        assert sb.on_snapshot(BookSnapshot(V, "A", 1.0, 1.0, bids=levels, asks=())) is None
        assert [n.kind for n in sb.notes] == ["invalid"] and not sb.synced and sb.needs_resync
    # a buffered delta replayed by the snapshot is checked as well
    sb = SymbolBook(V, "A")
    sb.on_delta(
        BookDelta(V, "A", 1.0, 1.0, bids=((float("inf"), 1.0, "", ""),), asks=(), sequence=11, first_sequence=11)
    )
    book = sb.on_snapshot(snap("A", bids=[(1, 1)], asks=[(2, 1)], sequence=10))
    assert [n.kind for n in sb.notes] == ["invalid"] and (book is None or not book.synced)


def test_insane_orders_are_invalid() -> None:
    for price, size in bad_numbers():
        if size == 0.0:
            continue
        r = Run()
        r.send(*image(2))
        r.send(order("n", "sell", price, size))
        assert r.out.kinds() == ["synced", "invalid", "resync"], (price, size)
        assert all_numbers_sane(r.out.books)


# --- defect 8: a snapshot far ahead of the stream cannot freeze a book --------------------------------


def seq_delta(seq: int, recv: float, size: float = 1.0) -> BookDelta:
    return BookDelta(V, "A", recv, recv, bids=(lv(1, size),), asks=(), sequence=seq, first_sequence=seq)


def test_snapshot_far_ahead_is_detected_and_resynced() -> None:
    r = Run()
    r.send(snap("A", bids=[(1, 1)], asks=[(2, 1)], sequence=100))
    r.send(seq_delta(101, 1.0))
    r.send(snap("A", bids=[(1, 1)], asks=[(2, 1)], sequence=10**12))  # a corrupt re-snapshot, far ahead
    for i in range(20):
        r.send(seq_delta(102 + i, 1.0 + 0.05 * (i + 1)))
    assert r.out.kinds() == ["synced", "gap", "resync"] and r.asked == ["A"]
    assert not r.out.books[-1].synced
    # the real snapshot is accepted although its sequence is lower than the corrupt one
    r.send(snap("A", bids=[(1, 7)], asks=[(2, 1)], sequence=125), seq_delta(126, 3.0, 8.0))
    assert r.out.books[-1].synced and r.out.books[-1].bids == ((1.0, 8.0),)


def test_first_snapshot_far_ahead_is_detected_too() -> None:
    r = Run()
    r.send(snap("A", bids=[(1, 1)], asks=[(2, 1)], sequence=5_000_000))
    for i in range(15):
        r.send(seq_delta(1000 + i, 1.0 + 0.1 * i))
    assert r.out.kinds() == ["synced", "gap", "resync"]


def test_stale_updates_that_catch_up_with_a_rest_snapshot_are_fine() -> None:
    # the usual race: the REST snapshot is ahead of the stream by a second's worth of updates
    r = Run()
    r.send(snap("A", bids=[(1, 1)], asks=[(2, 1)], sequence=1000))
    t = 1.0
    for seq in range(900, 1001, 5):  # 21 stale updates, 500 updates/s: caught up within 0.2 s
        t += 0.01
        r.send(BookDelta(V, "A", t, t, bids=(lv(1, 2),), asks=(), sequence=seq, first_sequence=seq - 4))
    r.send(BookDelta(V, "A", t, t, bids=(lv(1, 3),), asks=(), sequence=1005, first_sequence=1001))
    assert r.out.kinds() == ["synced"] and r.asked == []
    assert r.out.books[-1].synced and r.out.books[-1].bids == ((1.0, 3.0),)


def test_a_burst_of_stale_updates_without_time_passing_waits() -> None:
    r = Run()
    r.send(snap("A", bids=[(1, 1)], asks=[(2, 1)], sequence=1000))
    for seq in range(100):
        r.send(seq_delta(seq + 1, 5.0))
    assert r.out.kinds() == ["synced"]


# --- defect 13 (book side): a snapshot that never comes is asked for again ----------------------------


def test_updates_without_a_snapshot_ask_for_one_after_resync_timeout() -> None:
    r = Run(resync_timeout=5.0)
    r.send(delta("A", bids=[(1, 2)], sequence=11, first_sequence=9))  # buffered: no snapshot yet
    r.scheduler.advance_by(4.0)
    assert r.asked == [] and r.out.kinds() == []
    r.scheduler.advance_by(1.5)
    assert r.asked == ["A"] and r.out.kinds() == ["stale", "resync"]
    r.send(snap("A", bids=[(1, 1)], asks=[(2, 1)], sequence=10))
    r.scheduler.advance_by(100.0)
    assert r.asked == ["A"] and r.out.kinds() == ["stale", "resync", "synced"]
    assert r.out.books[-1].synced and r.out.books[-1].bids == ((1.0, 2.0),)


def test_a_snapshot_in_time_cancels_the_wait() -> None:
    r = Run(resync_timeout=5.0)
    r.send(delta("A", bids=[(1, 2)], sequence=11, first_sequence=9))
    r.send(snap("A", bids=[(1, 1)], asks=[(2, 1)], sequence=10))
    r.scheduler.advance_by(100.0)
    assert r.asked == [] and r.out.kinds() == ["synced"]
