"""Every integrity fault the Coinbase simulator injects shows as an integrity event in every book of
the connection, and is followed by a synced book equal to what the simulator sent."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from rxfeeds import ops
from rxfeeds.events import IntegrityEvent
from rxfeeds.sim.coinbase import CoinbaseSim
from rxfeeds.venues.coinbase.client import Coinbase
from tests.helpers import wait_until

pytestmark = pytest.mark.timeout(240)

PRODUCTS = ("BTC-USD", "ETH-USD")
#: an l2_data message that cannot be decoded: its content is lost like a dropped message's
UNREADABLE = (
    '{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":"x","events":[{"type":"update",'
    '"product_id":"BTC-USD","updates":[{"side":"bid","price_level":"NaN","new_quantity":"1"}]}]}'
)


class Books:
    """``order_book(integrity=True)`` output of both products, with the position of each event."""

    def __init__(self) -> None:
        self.out: list[Any] = []
        self.errors: list[Exception] = []
        self.lock = threading.Lock()

    def on_next(self, value: Any) -> None:
        with self.lock:
            self.out.append(value)

    def mark(self) -> int:
        with self.lock:
            return len(self.out)

    def kinds_since(self, start: int, symbol: str) -> list[str]:
        with self.lock:
            return [v.kind for v in self.out[start:] if type(v) is IntegrityEvent and v.symbol == symbol]

    def latest(self, symbol: str) -> Any:
        with self.lock:
            return next((v for v in reversed(self.out) if type(v) is not IntegrityEvent and v.symbol == symbol), None)


def _healed(kinds: list[str], broke: tuple[str, ...]) -> bool:
    """A failure of one of the ``broke`` kinds, then ``synced`` after it."""
    first = next((i for i, k in enumerate(kinds) if k in broke), None)
    return first is not None and "synced" in kinds[first + 1 :]


def _equal_to_truth(books: Books, sim: CoinbaseSim, symbol: str) -> bool:
    book = books.latest(symbol)
    if book is None or not book.synced:
        return False
    truth = sim.truth(symbol)
    mine = [[(p, s) for p, s, *_ in side] for side in (book.bids, book.asks)]
    sent = [[(p, s) for p, s, *_ in side] for side in (truth.bids, truth.asks)]
    return mine == sent and len(mine[0]) > 10


@pytest.fixture
def running() -> Iterator[tuple[CoinbaseSim, Coinbase, Books]]:
    with CoinbaseSim(seed=11, tick_interval=0.05, heartbeat_interval=0.2, symbols=list(PRODUCTS)) as sim:
        client = Coinbase(url=sim.url)
        books = Books()
        sub = (
            client.book(list(PRODUCTS))
            .pipe(ops.order_book(integrity=True))
            .subscribe(books.on_next, books.errors.append)
        )
        try:
            yield sim, client, books
        finally:
            sub.dispose()
            client.close()
        assert sim.hook_errors == []


FAULTS: list[tuple[str, Callable[[CoinbaseSim], object], tuple[str, ...]]] = [
    ("a lost l2_data message (sequence_num gap)", lambda sim: sim.faults.skip_sequence("BTC-USD"), ("gap",)),
    ("a lost heartbeat", lambda sim: sim.miss_heartbeats(1), ("gap",)),
    ("an unreadable l2_data message", lambda sim: sim.faults.send_malformed(UNREADABLE), ("gap",)),
    ("a dropped connection", lambda sim: sim.faults.close_all(1012, "fault test"), ("reset",)),
    ("a reset connection", lambda sim: sim.faults.reset_all(), ("reset",)),
]


def test_every_injected_fault_is_seen_by_every_book_and_healed_to_the_truth(
    running: tuple[CoinbaseSim, Coinbase, Books],
) -> None:
    sim, client, books = running
    seen_errors: list[Exception] = []
    client.errors.subscribe(seen_errors.append)
    wait_until(lambda: all(_equal_to_truth(books, sim, p) or books.latest(p) for p in PRODUCTS), timeout=60)
    for name, inject, broke in FAULTS:
        start = books.mark()
        inject(sim)
        for product in PRODUCTS:  # a lost message of the connection concerns every book on it
            wait_until(
                lambda p=product, s=start, b=broke: books.errors or _healed(books.kinds_since(s, p), b), timeout=60
            )
        assert not books.errors, f"{name}: {books.errors[0]!r}"
        sim.freeze()  # no more updates: the books must settle on exactly what was sent
        try:
            wait_until(lambda: all(_equal_to_truth(books, sim, p) for p in PRODUCTS), timeout=60)
        finally:
            sim.unfreeze()
    assert sim.faults.counts["skip_sequence"] == 1 and sim.faults.counts["missed_heartbeat"] == 1
    assert any("could not" in str(e) or "sequence_num" in str(e) for e in seen_errors)  # the unreadable frame


def test_a_lost_message_is_announced_on_the_notices_stream(running: tuple[CoinbaseSim, Coinbase, Books]) -> None:
    sim, client, books = running
    notices: list[Any] = []
    client.notices.subscribe(notices.append)
    wait_until(lambda: all(books.latest(p) is not None for p in PRODUCTS), timeout=60)
    sim.faults.skip_sequence("ETH-USD")
    wait_until(lambda: any(type(n) is IntegrityEvent and n.kind == "gap" for n in notices), timeout=60)
    (gap,) = [n for n in notices if type(n) is IntegrityEvent]
    assert gap.venue == "coinbase" and "1 message(s) lost" in gap.detail
