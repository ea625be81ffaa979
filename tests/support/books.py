"""Order-book helpers: events built by hand (``snap``, ``delta``, ``lv``) and truth comparisons."""

from __future__ import annotations

from typing import Any

from rxfeeds.events import BookDelta, BookSnapshot, Level
from tests.helpers import Collector

V = "venue"


def lv(price: float, size: float) -> Level:
    return (float(price), float(size), f"{price:.2f}", f"{size:.4f}")


def snap(symbol: str = "A", bids: Any = (), asks: Any = (), **kw: Any) -> BookSnapshot:
    return BookSnapshot(V, symbol, 1.0, 1.0, bids=tuple(lv(*b) for b in bids), asks=tuple(lv(*a) for a in asks), **kw)


def delta(symbol: str = "A", bids: Any = (), asks: Any = (), **kw: Any) -> BookDelta:
    return BookDelta(V, symbol, 2.0, 2.0, bids=tuple(lv(*b) for b in bids), asks=tuple(lv(*a) for a in asks), **kw)


def equals_truth(books: Collector, symbol: str, truth: Any) -> bool:
    book = books.book(symbol)
    return book is not None and book.synced and book.copy() == truth_dicts(truth)


def truth_dicts(truth: Any) -> tuple[dict[float, float], dict[float, float]]:
    return {lv[0]: lv[1] for lv in truth.bids}, {lv[0]: lv[1] for lv in truth.asks}
