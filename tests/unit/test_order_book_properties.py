"""Property tests: random venue histories against the venue's own truth.

A simulated venue keeps a *truth* book and changes it at random.  It tells the client through
deltas the way real venues do (full-depth numbered diffs like HitBTC/Binance, or Kraken-style
diffs of its top-``depth`` view with a CRC32 of the top 10), and the harness corrupts the stream
at random: dropped deltas (gaps), duplicated old deltas (stale), fresh snapshots.  Whatever
happens, every book the operator emits as synced must equal the venue's truth, and after a
gap no synced book may appear until a snapshot arrives.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reactivex import Subject

from rxfeeds.books.book import OrderBook
from rxfeeds.books.checksum import kraken_checksum
from rxfeeds.books.side import BadLevel, BookSide
from rxfeeds.events import BookDelta, BookSnapshot, IntegrityEvent, Level
from rxfeeds.ops.order_book import order_book

BID_PRICES = [round(1.0 + 0.5 * i, 1) for i in range(40)]  # 1.0 .. 20.5
ASK_PRICES = [round(30.0 + 0.5 * i, 1) for i in range(40)]  # never crossing the bids

change = st.tuples(
    st.booleans(),  # bid side?
    st.integers(0, 39),  # price index
    st.one_of(st.just(0), st.integers(1, 5000)),  # new size in hundredths (0 removes)
    st.sampled_from(["deliver"] * 8 + ["drop", "duplicate", "snapshot"]),
)


def level(price: float, size: float) -> Level:
    return (price, size, f"{price:.1f}", f"{size:.2f}")


class Venue:
    """The truth book plus the history of its views."""

    def __init__(self, depth: int | None) -> None:
        self.depth = depth
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.seq = 0

    def view(self) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        bids = sorted(self.bids.items(), reverse=True)
        asks = sorted(self.asks.items())
        if self.depth is not None:
            bids, asks = bids[: self.depth], asks[: self.depth]
        return bids, asks

    def checksum(self) -> int:
        bids, asks = self.view()
        return kraken_checksum([(f"{p:.1f}", f"{s:.2f}") for p, s in asks], [(f"{p:.1f}", f"{s:.2f}") for p, s in bids])

    def apply(self, is_bid: bool, index: int, size_cents: int) -> tuple[list[Level], list[Level]] | None:
        """Change the truth; returns the (bids, asks) diff of the view, None if nothing changed."""
        before = self.view()
        side = self.bids if is_bid else self.asks
        price = (BID_PRICES if is_bid else ASK_PRICES)[index]
        size = size_cents / 100
        if side.get(price, 0.0) == size:
            return None
        if size == 0:
            del side[price]
        else:
            side[price] = size
        after = self.view()
        self.seq += 1
        diffs: list[list[Level]] = []
        for old, new, truth in ((before[0], after[0], self.bids), (before[1], after[1], self.asks)):
            old_d, new_d = dict(old), dict(new)
            out = [level(p, s) for p, s in new if old_d.get(p) != s]
            # a level that left the view because it was deleted is sent as 0; one merely pushed
            # out of the view by a better level is not sent (the client truncates, like Kraken)
            out += [level(p, 0.0) for p in old_d if p not in new_d and p not in truth]
            diffs.append(out)
        return diffs[0], diffs[1]

    def snapshot(self, venue_depth: int | None, with_sequence: bool) -> BookSnapshot:
        bids, asks = self.view()
        return BookSnapshot(
            "sim",
            "X",
            float(self.seq),
            float(self.seq),
            bids=tuple(level(p, s) for p, s in bids),
            asks=tuple(level(p, s) for p, s in asks),
            sequence=self.seq if with_sequence else None,
            depth=venue_depth,
        )


def feed(actions: list[tuple[bool, int, int, str]], depth: int | None, mode: str) -> None:
    venue = Venue(depth)
    for i in range(12):  # an initial book so the first snapshot is not empty
        venue.apply(True, i * 3, 100 + i)
        venue.apply(False, i * 3, 200 + i)
    subject: Subject[Any] = Subject()
    out: list[Any] = []
    subject.pipe(order_book(integrity=True)).subscribe(out.append)
    sequenced = mode == "sequence"
    history: dict[int, tuple[Any, Any]] = {venue.seq: venue.view()}
    sent: list[BookDelta] = []
    gap_pending = False  # a delta was dropped and the client has not had a snapshot since
    dropped = False  # same, for checksum books (where the client may not be able to tell)

    def check_emitted(start: int) -> None:
        for value in out[start:]:
            if isinstance(value, OrderBook) and value.synced:
                assert not gap_pending, "synced book emitted from data spanning a gap"
                truth = history[value.sequence or 0] if sequenced else venue.view()
                bids, asks = value.copy()
                if sequenced or not dropped:
                    assert (sorted(bids.items(), reverse=True), sorted(asks.items())) == truth
                else:  # the checksum covers the top 10: that much must always be right
                    assert sorted(bids.items(), reverse=True)[:10] == truth[0][:10]
                    assert sorted(asks.items())[:10] == truth[1][:10]

    subject.on_next(venue.snapshot(depth, sequenced))
    check_emitted(0)
    assert isinstance(out[-1], OrderBook) and out[-1].synced
    for is_bid, index, size, how in actions:
        start = len(out)
        if how == "snapshot":
            subject.on_next(venue.snapshot(depth, sequenced))
            gap_pending = dropped = False
            check_emitted(start)
            assert isinstance(out[-1], OrderBook) and out[-1].synced
            continue
        diff = venue.apply(is_bid, index, size)
        if diff is None:
            continue
        history[venue.seq] = venue.view()
        delta = BookDelta(
            "sim",
            "X",
            float(venue.seq),
            float(venue.seq),
            bids=tuple(diff[0]),
            asks=tuple(diff[1]),
            sequence=venue.seq if sequenced else None,
            first_sequence=venue.seq if sequenced else None,
            checksum=None if sequenced else venue.checksum(),
        )
        if how == "drop":
            if sequenced:
                gap_pending = True
            dropped = True
            continue
        sent.append(delta)
        subject.on_next(delta)
        if how == "duplicate" and sequenced and len(sent) > 1:
            subject.on_next(sent[-2])  # stale: must be ignored
        check_emitted(start)
        if not sequenced:
            # a dropped change that the checksum can see must be caught now; one it cannot see
            # (outside the top 10) leaves the book synced but the top 10 right (checked above)
            kinds = [v.kind for v in out[start:] if isinstance(v, IntegrityEvent)]
            assert kinds in ([], ["checksum"]) if dropped else kinds == []
        if not dropped:  # nothing lost since the last snapshot: the update gave a synced book
            assert isinstance(out[-1], OrderBook) and out[-1].synced


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(change, max_size=120))
def test_numbered_full_depth_books_follow_the_truth(actions: list[tuple[bool, int, int, str]]) -> None:
    feed(actions, None, "sequence")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(change, max_size=120), st.integers(3, 14))
def test_checksummed_depth_limited_books_follow_the_truth(
    actions: list[tuple[bool, int, int, str]], depth: int
) -> None:
    feed(actions, depth, "checksum")


# --- the book side against a dict -------------------------------------------------------------------

side_ops = st.lists(
    st.tuples(st.sampled_from(["set", "remove", "truncate", "freeze"]), st.integers(0, 300), st.integers(1, 9)),
    max_size=400,
)


@settings(max_examples=200, deadline=None)
@given(side_ops, st.booleans())
def test_book_side_matches_a_sorted_dict(ops: list[tuple[str, int, int]], descending: bool) -> None:
    side = BookSide(descending=descending)
    model: dict[float, float] = {}
    frozen: list[tuple[Any, list[tuple[float, float]]]] = []

    def ordered() -> list[tuple[float, float]]:
        return sorted(model.items(), reverse=descending)

    for op, price_index, value in ops:
        price = price_index * 0.25
        if op == "set":
            side.set(price, float(value), "", "", None)
            model[price] = float(value)
        elif op == "remove":
            assert side.remove(price) == (price in model)
            model.pop(price, None)
        elif op == "truncate":
            keep = value * 20
            side.truncate(keep)
            for p, _ in ordered()[keep:]:
                del model[p]
        else:
            frozen.append((side.freeze(), ordered()))
            frozen.append((side.freeze(value), ordered()[:value]))  # a view depth: the best levels only
        assert side.count == len(model)
    assert [(e[0], e[1]) for e in side.freeze()] == ordered()
    assert [(e[0], e[1]) for e in side.top(7)] == ordered()[:7]
    best = side.best()
    assert (best[0] if best else None) == (ordered()[0][0] if model else None)
    for levels, expected in frozen:  # published states never changed afterwards
        assert [(e[0], e[1]) for e in levels] == expected


snapshot_levels = st.lists(st.tuples(st.integers(1, 60), st.integers(0, 5)), max_size=120)  # prices > 0


@settings(max_examples=200, deadline=None)
@given(snapshot_levels, st.booleans(), st.booleans())
def test_book_side_load_matches_a_dict(raw: list[tuple[int, int]], descending: bool, presorted: bool) -> None:
    # snapshots in any order, with duplicate prices and zero sizes: zeros skipped, the later duplicate wins
    if presorted:
        raw = sorted(raw, reverse=descending)
    levels = [(p * 0.5, float(s), f"{p * 0.5}", f"{s}") for p, s in raw]
    side = BookSide(descending=descending)
    side.load(levels)
    model = {p: (s, pt, st_) for p, s, pt, st_ in levels if s != 0}
    expected = [(p, *model[p]) for p in sorted(model, reverse=descending)]
    assert list(side.freeze()) == expected
    assert side.count == len(expected)
    side.track_segments(True)  # fragments start unknown
    assert side.top_segments(len(expected)) == [None] * len(expected)
    side.set(100.0, 1.0, "100", "1", None)  # the loaded keys still route later changes
    assert side.get(100.0) is not None and side.count == len(expected) + 1


insane_numbers = st.sampled_from([float("nan"), float("inf"), -float("inf"), -1.0, 0.0, 1e18, 1e300])


@settings(max_examples=200, deadline=None)
@given(snapshot_levels, insane_numbers, st.booleans(), st.booleans(), st.integers(0, 200))
def test_book_side_load_rejects_insane_numbers_and_keeps_the_side(
    raw: list[tuple[int, int]], bad: float, as_price: bool, descending: bool, where: int
) -> None:
    # any NaN, infinite, non-positive price or negative / absurd size anywhere in a snapshot
    levels = [(p * 0.5, float(s), f"{p * 0.5}", f"{s}") for p, s in sorted(raw, reverse=descending)]
    if not as_price and bad == 0.0:
        bad = -0.5  # a zero size is a level to skip, not an insane one
    level = (bad, 1.0, "x", "1") if as_price else (10.0, bad, "10", "x")
    levels.insert(where % (len(levels) + 1), level)
    side = BookSide(descending=descending)
    side.load([(1.0, 1.0, "1", "1")])
    before = side.freeze()
    with pytest.raises(BadLevel):
        side.load(levels)
    assert side.freeze() is before and side.count == 1


@pytest.mark.parametrize("tracked", [False, True])
def test_book_side_bookkeeping_survives_a_malformed_level(tracked: bool) -> None:
    # a level that raises half-way through a message: what was applied before it is counted,
    # marks the checksum top dirty and reaches the next publication
    side = BookSide(descending=False)
    side.track_segments(tracked)
    side.load([(5.0, 1.0, "5", "1")])
    published = side.freeze(3)
    side.top_dirty = False
    with pytest.raises(ValueError):
        side.apply([(4.0, 2.0, "4", "2"), ("not a level",)])  # type: ignore[list-item]
    assert side.count == 2 and side.top_dirty
    assert [e[0] for e in side.freeze(3)] == [4.0, 5.0]
    assert [e[0] for e in published] == [5.0]
    if tracked:
        assert side.top_segments(3) == ["42", None]
