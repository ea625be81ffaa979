"""Kraken's CRC32 order-book checksum (WebSocket v1 and v2), computed from level wire texts.

The checksum covers the 10 lowest asks (ascending price) followed by the 10 highest bids
(descending price) of the book *after* a whole message was applied and the book was truncated
to the subscribed depth.  Each level contributes its price text then its size text, each with
the decimal point removed and leading zeros stripped; the concatenation of all segments is fed
to the standard IEEE CRC-32 (``zlib.crc32``), unsigned.

* v1 sends prices and sizes as fixed-precision strings: use the strings **exactly as received**
  (re-formatting through ``float`` breaks every checksum).
* v2 sends JSON numbers at full precision: parse them as :class:`~decimal.Decimal` and render
  them with :func:`kraken_v2_text` (plain notation, never an exponent) before checksumming.

:data:`crc32` is ISA-L's CRC-32 (the ``isal`` package, installed by the ``fast`` extra) when it
is importable, else ``zlib.crc32``: the same function, but about four times faster on the
~360-byte checksum texts, where it is a large share of the order book's per-update cost.

Example:
    >>> asks = [("0.000022900", "13355.87450757")]
    >>> bids = [("0.000022800", "1.00000000")]
    >>> checksum_segment("0.000022900") + checksum_segment("13355.87450757")
    '229001335587450757'
    >>> kraken_checksum(asks, bids) == zlib.crc32(b"229001335587450757" + b"22800100000000")
    True
    >>> kraken_v2_text(Decimal("1E+2")), kraken_v2_text(Decimal("0.00001000"))
    ('100', '0.00001000')
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any

__all__ = [
    "CHECKSUM_DEPTH",
    "CRC32_IMPLEMENTATION",
    "ChecksumScheme",
    "checksum_scheme",
    "checksum_segment",
    "checksum_text",
    "crc32",
    "kraken_checksum",
    "kraken_v2_text",
    "register_checksum",
]

crc32: Callable[..., int]
try:
    from isal.isal_zlib import crc32 as crc32  # the `fast` extra

    #: Which CRC-32 implementation :data:`crc32` is (``"isal"`` or ``"zlib"``), for benchmarks.
    CRC32_IMPLEMENTATION = "isal"
except ImportError:  # pragma: no cover - depends on the environment
    crc32 = zlib.crc32
    CRC32_IMPLEMENTATION = "zlib"

#: Levels per side covered by the checksum.
CHECKSUM_DEPTH = 10


def checksum_segment(text: str) -> str:
    """One number's contribution: the wire text without ``.`` and without leading zeros.

    Example:
        >>> checksum_segment("2192.68000"), checksum_segment("0.00012")
        ('219268000', '12')
    """
    return text.replace(".", "").lstrip("0")


def checksum_text(asks: Iterable[tuple[str, str]], bids: Iterable[tuple[str, str]]) -> str:
    """The string Kraken checksums: top-10 asks then top-10 bids, each ``price`` then ``size``.

    ``asks`` must be in ascending price order and ``bids`` in descending order (best first);
    only the first :data:`CHECKSUM_DEPTH` of each are used.

    Example:
        >>> checksum_text([("101.50", "2.0")], [("100.00", "0.50")])
        '10150201000050'
    """
    parts: list[str] = []
    for price, size in islice(asks, CHECKSUM_DEPTH):
        parts.append(price.replace(".", "").lstrip("0"))
        parts.append(size.replace(".", "").lstrip("0"))
    for price, size in islice(bids, CHECKSUM_DEPTH):
        parts.append(price.replace(".", "").lstrip("0"))
        parts.append(size.replace(".", "").lstrip("0"))
    return "".join(parts)


def kraken_checksum(asks: Iterable[tuple[str, str]], bids: Iterable[tuple[str, str]]) -> int:
    """Kraken's CRC32 book checksum (unsigned 32-bit) over level texts.

    Args:
        asks: ``(price_text, size_text)`` pairs, lowest price first (at least the top 10).
        bids: ``(price_text, size_text)`` pairs, highest price first (at least the top 10).

    Example:
        >>> kraken_checksum([("2192.68000", "3.00000000")], [("2185.09000", "4.51158730")]) == \\
        ...     zlib.crc32(b"219268000300000000218509000451158730")
        True
    """
    return crc32(checksum_text(asks, bids).encode("ascii")) & 0xFFFFFFFF


def kraken_v2_text(value: Decimal | int | float | str) -> str:
    """Render a Kraken v2 price or quantity the way its checksum needs: exact, no exponent.

    Pass the :class:`~decimal.Decimal` parsed from the JSON number (``orjson`` cannot do that:
    use ``json.loads(text, parse_float=Decimal)`` or keep the number's source text).  A ``float``
    is rendered from its shortest round-trip repr, which equals the JSON text whenever that text
    had no superfluous trailing zeros; a ``str`` is taken as a number literal.

    Example:
        >>> kraken_v2_text(Decimal("45283.5")), kraken_v2_text(Decimal("2.5E-7")), kraken_v2_text(0.0001)
        ('45283.5', '0.00000025', '0.0001')
        >>> kraken_v2_text(12)
        '12'
    """
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool):
        raise TypeError("a bool is not a price or quantity")
    elif isinstance(value, int):
        return str(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        number = Decimal(value)
    return format(number, "f")


@dataclass(frozen=True)
class ChecksumScheme:
    """A venue's own book checksum, for venues whose checksum is not Kraken's.

    Attributes:
        depth: levels per side the checksum covers.
        compute: ``compute(bids, asks)`` -> the unsigned 32-bit checksum; ``bids`` and ``asks``
            are the top ``depth`` book entries of each side, best first, each
            ``(price, size, price_text, size_text, ...)`` (the wire texts are at index 2 and 3).
    """

    depth: int
    compute: Callable[[Sequence[Any], Sequence[Any]], int]


_SCHEMES: dict[str, ChecksumScheme] = {}
_venues_loaded = False


def register_checksum(venue: str, scheme: ChecksumScheme) -> None:
    """Verify the ``checksum`` of ``venue``'s book events with ``scheme`` instead of Kraken's.

    A venue folder registers its scheme when it is imported (the venue registry imports every
    venue's spec); books created afterwards for that venue use it.

    Example:
        >>> register_checksum("toy-sum", ChecksumScheme(1, lambda bids, asks: len(bids) + len(asks)))
        >>> checksum_scheme("toy-sum").compute([(1.0, 1.0, "1", "1")], [])
        1
        >>> checksum_scheme("kraken") is None
        True
    """
    _SCHEMES[venue] = scheme


def checksum_scheme(venue: str) -> ChecksumScheme | None:
    """The scheme registered for ``venue``, or None (Kraken's checksum).

    The first lookup of a venue with no scheme loads the venue registry (by name, once), so a
    book fed events from elsewhere (a message bus, a file) verifies them as the venue's own
    codec would, even in a process that never imported that venue.
    """
    global _venues_loaded
    scheme = _SCHEMES.get(venue)
    if scheme is None and not _venues_loaded:
        _venues_loaded = True
        import importlib

        importlib.import_module("rxfeeds.venues.registry")  # registers the venues' schemes
        scheme = _SCHEMES.get(venue)
    return scheme
