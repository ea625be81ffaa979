"""The truth model: the book a venue simulator has *sent*, kept as it emits, for tests to compare.

A venue keeps one :class:`SentBook` per book key (usually the symbol) and updates it right
after writing a book frame; :class:`BookTruth` is the immutable copy tests read, and
:class:`TruthHistory` keeps the last few copies per key with the marker (sequence number or
exchange time) a client's book will show for them, for the chaos harness.

Example:
    >>> h = TruthHistory()
    >>> b = SentBook(); b.set("bid", "1.5", "2")
    >>> h.record("A", 7, b, size=2)
    >>> [(r.marker, r.book.bids[0][:2]) for r in h.get("A")]
    [(7, (1.5, 2.0))]
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Literal

from ...events import Level

__all__ = ["BookTruth", "SentBook", "TruthHistory", "TruthRecord"]


@dataclass(frozen=True, slots=True)
class BookTruth:
    """An immutable copy of a :class:`SentBook`: levels as ``events.Level``, best first.

    Example:
        >>> BookTruth(((2.0, 1.0, "2", "1"), (1.0, 1.0, "1", "1"))).top(1).bids
        ((2.0, 1.0, '2', '1'),)
    """

    bids: tuple[Level, ...] = ()
    asks: tuple[Level, ...] = ()

    def top(self, depth: int) -> BookTruth:
        """The best ``depth`` levels per side."""
        return BookTruth(self.bids[:depth], self.asks[:depth])


class SentBook:
    """The book a venue simulator has sent for one key, kept by the venue as it emits.

    Levels are keyed by ``float(price_text)`` and keep the exact wire texts.  A size that
    parses to zero removes the level.  Lives on the loop thread; tests read copies through
    ``SimServer.truth``.

    Example:
        >>> b = SentBook()
        >>> b.replace(bids=[("100.0", "1.5")], asks=[("100.5", "2")])
        >>> b.set("bid", "100.2", "0.3"); b.set("ask", "100.5", "0")
        >>> b.snapshot().bids
        ((100.2, 0.3, '100.2', '0.3'), (100.0, 1.5, '100.0', '1.5'))
        >>> b.snapshot().asks
        ()
    """

    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids: dict[float, tuple[str, str]] = {}
        self.asks: dict[float, tuple[str, str]] = {}

    def clear(self) -> None:
        """Forget every level (e.g. before a snapshot)."""
        self.bids.clear()
        self.asks.clear()

    def set(self, side: Literal["bid", "ask", "buy", "sell"], price_text: str, size_text: str) -> None:
        """Record one sent level; ``side`` is ``"bid"``/``"buy"`` or ``"ask"``/``"sell"``."""
        book = self.bids if side in ("bid", "buy") else self.asks
        price = float(price_text)
        if float(size_text) == 0.0:
            book.pop(price, None)
        else:
            book[price] = (price_text, size_text)

    def replace(self, bids: Iterable[tuple[str, str]], asks: Iterable[tuple[str, str]]) -> None:
        """Replace the whole book with a sent snapshot of ``(price_text, size_text)`` pairs."""
        self.clear()
        for p, s in bids:
            self.set("bid", p, s)
        for p, s in asks:
            self.set("ask", p, s)

    def truncate(self, depth: int) -> None:
        """Keep only the best ``depth`` levels per side (venues that trim to a depth)."""
        for book, best_first in ((self.bids, True), (self.asks, False)):
            for price in sorted(book, reverse=best_first)[depth:]:
                del book[price]

    def snapshot(self, depth: int | None = None) -> BookTruth:
        """Sorted immutable copy (bids high->low, asks low->high)."""

        def levels(book: dict[float, tuple[str, str]], reverse: bool) -> tuple[Level, ...]:
            prices = sorted(book, reverse=reverse)[:depth]
            return tuple((p, float(book[p][1]), book[p][0], book[p][1]) for p in prices)

        return BookTruth(levels(self.bids, True), levels(self.asks, False))


@dataclass(frozen=True, slots=True)
class TruthRecord:
    """One entry of a truth history: the sent book at a frame boundary.

    ``marker`` is what a client's book shows for that state (the venue's sequence number, or
    the exchange time the frame carries) or None where the venue sends neither; ``wall_time``
    is ``time.time()`` when the frame was written (clients on this host receive it later).
    """

    marker: float | None
    wall_time: float
    book: BookTruth


class TruthHistory:
    """The last few :class:`TruthRecord` per key; written on the loop thread, read from any thread.

    Example:
        >>> h = TruthHistory()
        >>> for m in (1, 2, 3):
        ...     h.record("k", m, None, size=2)
        >>> [r.marker for r in h.get("k")], h.get("other")
        ([2, 3], [])
    """

    def __init__(self) -> None:
        self._records: dict[Hashable, deque[TruthRecord]] = {}
        self._lock = threading.Lock()

    def record(self, key: Hashable, marker: float | None, book: SentBook | None, *, size: int) -> None:
        """Append a copy of ``book`` (empty when None) for ``key``, keeping at most ``size`` records."""
        if size <= 0:
            return
        record = TruthRecord(marker, time.time(), book.snapshot() if book is not None else BookTruth())
        with self._lock:
            history = self._records.get(key)
            if history is None or history.maxlen != size:
                history = self._records[key] = deque(history or (), maxlen=size)
            history.append(record)

    def get(self, key: Hashable) -> list[TruthRecord]:
        """The records of ``key``, oldest first (a copy)."""
        with self._lock:
            return list(self._records.get(key, ()))
