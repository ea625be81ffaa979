"""Order-book building blocks: the immutable :class:`OrderBook` value, book sides, sync strategies
and the Kraken checksum.

* :mod:`rxfeeds.books.book` - :class:`OrderBook`, the value ``ops.order_book`` emits;
* :mod:`rxfeeds.books.side` - :class:`BookSide`, a sorted side kept in two mutable lists and
  published as immutable tuples (the levels a book shows), so a published book never changes;
* :mod:`rxfeeds.books.sync` - :class:`SymbolBook`, one symbol's book and its sync rules (Kraken
  checksum, HitBTC/Binance sequences, order-level aggregation, plain snapshot + delta);
* :mod:`rxfeeds.books.checksum` - Kraken's CRC32 from wire texts (also used by simulators).

The pipeable operator lives in :mod:`rxfeeds.ops.order_book`.

Example:
    >>> from rxfeeds.events import BookSnapshot
    >>> sb = SymbolBook("demo", "X")
    >>> sb.on_snapshot(BookSnapshot("demo", "X", 1.0, 1.0, bids=((9.0, 1.0, "", ""),), asks=())).best_bid
    (9.0, 1.0)
"""

from __future__ import annotations

from .book import OrderBook
from .checksum import checksum_segment, checksum_text, kraken_checksum, kraken_v2_text
from .side import BookSide
from .sync import SymbolBook

__all__ = [
    "BookSide",
    "OrderBook",
    "SymbolBook",
    "checksum_segment",
    "checksum_text",
    "kraken_checksum",
    "kraken_v2_text",
]
