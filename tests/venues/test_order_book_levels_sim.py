"""Order-level books (Midchains, BitShares) over real sockets: every synced book the operator emits
is a book the venue really had (issue 16, defect 3).

The simulators run without automatic ticks; the test steps the market and records the
simulator's truth (the book it has sent) after the image and after every step.  One step is one
venue message, so the truths are exactly the books that existed at message boundaries.  A
synced book that is not one of them was half-applied (or built from a partial image).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from reactivex import Observable

from rxfeeds import ops
from rxfeeds.books.book import OrderBook
from rxfeeds.events import IntegrityEvent
from rxfeeds.sim.bitshares import BitSharesSim
from rxfeeds.sim.midchains import MidchainsSim
from rxfeeds.sim.server import BookTruth, SimServer
from rxfeeds.venues.bitshares.client import BitShares
from rxfeeds.venues.midchains.client import Midchains
from tests.helpers import FAST, wait_until
from tests.helpers import Collector as Sink

Shape = tuple[tuple[tuple[float, float], ...], tuple[tuple[float, float], ...]]


def shape_of_book(book: OrderBook) -> Shape:
    return tuple((p, round(s, 6)) for p, s in book.bids), tuple((p, round(s, 6)) for p, s in book.asks)


def shape_of_truth(truth: BookTruth) -> Shape:
    return tuple((lv[0], round(lv[1], 6)) for lv in truth.bids), tuple((lv[0], round(lv[1], 6)) for lv in truth.asks)


class Campaign:
    """Steps a simulator, records its truth at every message boundary, checks the emitted books."""

    def __init__(self, sim: SimServer, key: str, feed: Observable[Any]) -> None:
        self.sim = sim
        self.key = key
        self.sink = Sink()
        self.truths: set[Shape] = set()
        self.subscription = feed.pipe(ops.order_book(integrity=True)).subscribe(self.sink.on_next, self.sink.on_error)

    def truth(self) -> Shape:
        return shape_of_truth(self.sim.truth(self.key))

    def kinds_since(self, start: int) -> list[str]:
        return [x.kind for x in self.sink.snapshot()[start:] if isinstance(x, IntegrityEvent)]

    def first_synced_after(self, start: int) -> OrderBook | None:
        items = self.sink.snapshot()[start:]
        return next((x for x in items if isinstance(x, OrderBook) and x.synced), None)

    def expect_whole_image(self, start: int) -> None:
        """The first synced book after item ``start`` is the venue's whole book (full depth)."""
        wait_until(lambda: self.first_synced_after(start) is not None, timeout=20)
        first = self.first_synced_after(start)
        assert first is not None
        truth = self.truth()  # no step since the image: the truth is the image
        self.truths.add(truth)
        assert len(truth[0]) >= 10 and len(truth[1]) >= 10  # a deep book, not one order
        assert shape_of_book(first) == truth, "the first synced book must be the whole image"

    def steps(self, n: int) -> None:
        for _ in range(n):
            self.sim.step(1)
            self.truths.add(self.truth())
        final = self.truth()

        def caught_up() -> bool:
            books = self.sink.synced_books()
            return bool(books) and shape_of_book(books[-1]) == final

        wait_until(caught_up, timeout=20)

    def check_every_synced_book(self) -> int:
        books = self.sink.synced_books()
        bad = [b for b in books if shape_of_book(b) not in self.truths]
        assert not bad, f"{len(bad)} of {len(books)} synced books never existed at the venue, e.g. {bad[0]!r}"
        assert self.sink.error is None
        return len(books)


@pytest.fixture
def midchains() -> Iterator[MidchainsSim]:
    with MidchainsSim(seed=5, tick_interval=None) as sim:
        yield sim
        assert sim.hook_errors == []


@pytest.fixture
def bitshares() -> Iterator[BitSharesSim]:
    with BitSharesSim(seed=5, tick_interval=None) as sim:
        yield sim
        assert sim.hook_errors == []


def run_campaign(campaign: Campaign, faults: list[Callable[[], object]]) -> None:
    campaign.expect_whole_image(0)
    campaign.steps(40)
    for fault in faults:
        start = len(campaign.sink.snapshot())
        fault()
        wait_until(lambda at=start: "reset" in campaign.kinds_since(at))
        campaign.expect_whole_image(start)
        campaign.steps(25)
    checked = campaign.check_every_synced_book()
    assert checked >= 40 + 25 * len(faults)
    assert campaign.sink.kinds().count("synced") == 1 + len(faults)
    assert not {"crossed", "invalid", "gap", "failed"} & set(campaign.sink.kinds())


def test_midchains_books_are_whole_after_subscribe_and_reconnects(midchains: MidchainsSim) -> None:
    client = Midchains(midchains.url, backoff=FAST)
    try:
        campaign = Campaign(midchains, "BTCUSD", client.book("BTCUSD"))
        run_campaign(campaign, [midchains.faults.close_all, midchains.faults.reset_all])
        campaign.subscription.dispose()
    finally:
        client.close()


def test_midchains_wildcard_books_are_whole(midchains: MidchainsSim) -> None:
    client = Midchains(midchains.url, backoff=FAST)
    try:
        warm = client.book("ETHUSD").subscribe(lambda _: None)  # the "*" image covers known securities
        wait_until(lambda: midchains.truth("ETHUSD").bids != ())
        sink = Sink()
        sub = client.book("*").pipe(ops.order_book(integrity=True)).subscribe(sink.on_next, sink.on_error)
        wait_until(lambda: any(b.symbol == "ETHUSD" for b in sink.synced_books()))
        truths = {shape_of_truth(midchains.truth("ETHUSD"))}
        for _ in range(30):
            midchains.step(1)
            truths.add(shape_of_truth(midchains.truth("ETHUSD")))
        final = shape_of_truth(midchains.truth("ETHUSD"))
        wait_until(lambda: shape_of_book([b for b in sink.synced_books() if b.symbol == "ETHUSD"][-1]) == final)
        books = [b for b in sink.synced_books() if b.symbol == "ETHUSD"]
        assert all(shape_of_book(b) in truths for b in books) and len(books) >= 30
        sub.dispose()
        warm.dispose()
    finally:
        client.close()


def test_bitshares_books_are_whole_after_subscribe_and_reconnects(bitshares: BitSharesSim) -> None:
    client = BitShares(bitshares.url, backoff=FAST)
    try:
        campaign = Campaign(bitshares, "BTS:USD", client.market("BTS", "USD"))
        run_campaign(campaign, [bitshares.faults.close_all, bitshares.faults.reset_all])
        campaign.subscription.dispose()
    finally:
        client.close()
