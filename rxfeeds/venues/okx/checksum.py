"""OKX's order-book checksum: CRC32 over the top 25 bids and asks, interleaved, as wire texts.

The checksum text takes, for ``i`` in 0..24, the ``i``-th best bid then the ``i``-th best ask,
each written ``price:size`` with the strings exactly as received, all joined by ``:``; when one
side has fewer levels, the other side's remaining levels follow alone.  OKX sends the CRC32 of
that text as a **signed** 32-bit integer; the codec turns it into the unsigned value
(``& 0xFFFFFFFF``) that :func:`okx_checksum` returns and the order book compares.

Importing this module registers the scheme for the venue ``okx`` with the order book
(:func:`rxfeeds.books.checksum.register_checksum`).

Example:
    >>> checksum_text([(2.0, 1.0, "2", "1"), (1.5, 3.0, "1.5", "3")], [(3.0, 2.0, "3", "2")])
    '2:1:3:2:1.5:3'
    >>> okx_checksum([(2.0, 1.0, "2", "1")], [(3.0, 2.0, "3", "2")]) == zlib.crc32(b"2:1:3:2")
    True
    >>> signed(okx_checksum([(2.0, 1.0, "2", "1")], [(3.0, 2.0, "3", "2")])) < 2**31
    True
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any, Final

from ...books.checksum import ChecksumScheme, crc32, register_checksum

__all__ = ["OKX_CHECKSUM_DEPTH", "checksum_text", "okx_checksum", "signed"]

#: levels per side covered by the checksum
OKX_CHECKSUM_DEPTH: Final = 25


def checksum_text(bids: Sequence[Any], asks: Sequence[Any]) -> str:
    """The text OKX checksums; ``bids``/``asks`` are levels best first with texts at index 2 and 3."""
    bids, asks = bids[:OKX_CHECKSUM_DEPTH], asks[:OKX_CHECKSUM_DEPTH]
    # one f-string per bid/ask pair: the cheapest way found to build the 25 pairs (runs per update)
    parts = [f"{b[2]}:{b[3]}:{a[2]}:{a[3]}" for b, a in zip(bids, asks, strict=False)]
    n = len(parts)
    if len(bids) != len(asks):
        parts += [f"{e[2]}:{e[3]}" for e in (bids[n:] if len(bids) > n else asks[n:])]
    return ":".join(parts)


def okx_checksum(bids: Sequence[Any], asks: Sequence[Any]) -> int:
    """OKX's CRC32 (unsigned) of the top 25 ``bids`` and ``asks`` (see the module docstring)."""
    return crc32(checksum_text(bids, asks).encode()) & 0xFFFFFFFF


def signed(checksum: int) -> int:
    """The signed 32-bit form OKX sends of an unsigned CRC32.

    Example:
        >>> signed(0xFFFFFFFF), signed(5)
        (-1, 5)
    """
    return checksum - 0x1_0000_0000 if checksum >= 0x8000_0000 else checksum


assert zlib  # the doctest compares with zlib.crc32
register_checksum("okx", ChecksumScheme(OKX_CHECKSUM_DEPTH, okx_checksum))
