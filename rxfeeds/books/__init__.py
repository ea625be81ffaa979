"""Order-book building blocks: the immutable :class:`OrderBook` value, book sides, sync
strategies and the Kraken checksum.

The pipeable operator lives in :mod:`rxfeeds.ops.order_book`; this package holds the pieces it
is made of, usable on their own (a simulator computes Kraken checksums with
:func:`~rxfeeds.books.checksum.kraken_checksum`).
"""

from __future__ import annotations

from .checksum import checksum_segment, checksum_text, kraken_checksum, kraken_v2_text

__all__ = ["checksum_segment", "checksum_text", "kraken_checksum", "kraken_v2_text"]
