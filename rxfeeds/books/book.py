"""``OrderBook``: the immutable book value the ``order_book`` operator emits.

A value holds immutable copies of the levels it shows (published
:class:`~rxfeeds.books.side.BookSide` states, see :mod:`rxfeeds.books.side`): the best ``depth``
levels per side when the operator has a ``depth``, every level kept otherwise.  It never changes
afterwards, however many updates the operator applies later.  Views are computed on first use
and cached:

* ``bids`` / ``asks``: the levels within ``depth`` as ``(price, size)`` tuples, best first;
* ``top(n)``: the best ``n`` of each side, cheap for small ``n`` whatever the book's size;
* ``best_bid`` / ``best_ask`` / ``mid`` / ``spread``;
* ``levels()``: every level the value holds, with the wire texts; ``copy()``: plain dicts you
  may mutate.

``synced`` is False for a value emitted when continuity broke (it then carries the last good
content, for display); a synced value is never built from data spanning a gap.

Example:
    >>> from rxfeeds.books.side import BookSide
    >>> bids, asks = BookSide(descending=True), BookSide(descending=False)
    >>> bids.set(99.0, 1.0, "99.0", "1.0", None)
    >>> asks.set(101.0, 2.0, "101.0", "2.0", None)
    >>> b = OrderBook("kraken", "XBT/USD", 1.0, 1.0, bids.freeze(), asks.freeze(), synced=True)
    >>> b.best_bid, b.best_ask, b.mid, b.spread
    ((99.0, 1.0), (101.0, 2.0), 100.0, 2.0)
    >>> b
    OrderBook(kraken XBT/USD synced bid 1.0@99.0 ask 2.0@101.0 levels 1/1)
"""

from __future__ import annotations

from typing import Any

from ..events import Level

__all__ = ["OrderBook", "PriceSize"]

PriceSize = tuple[float, float]


def _pairs(entries: Any) -> tuple[PriceSize, ...]:
    return tuple([(e[0], e[1]) for e in entries])


class OrderBook:
    """An immutable order book (see the module docstring).

    All public attributes are read-only properties; the levels are shared, immutable tuples.
    """

    __slots__ = (
        "_ask_levels",
        "_asks",
        "_bid_levels",
        "_bids",
        "_checksum",
        "_depth",
        "_recv_time",
        "_sequence",
        "_symbol",
        "_synced",
        "_time",
        "_venue",
    )

    def __init__(
        self,
        venue: str,
        symbol: str,
        time: float,
        recv_time: float,
        bid_levels: tuple[Level, ...],
        ask_levels: tuple[Level, ...],
        synced: bool = True,
        sequence: int | None = None,
        checksum: int | None = None,
        depth: int | None = None,
    ) -> None:
        # Plain slot stores keep construction cheap; the public names are read-only properties.
        self._venue = venue
        self._symbol = symbol
        self._time = time
        self._recv_time = recv_time
        self._bid_levels = bid_levels
        self._ask_levels = ask_levels
        self._synced = synced
        self._sequence = sequence
        self._checksum = checksum
        self._depth = depth
        self._bids: tuple[PriceSize, ...] | None = None
        self._asks: tuple[PriceSize, ...] | None = None

    @property
    def venue(self) -> str:
        """Venue name."""
        return self._venue

    @property
    def symbol(self) -> str:
        """Instrument in the venue's spelling."""
        return self._symbol

    @property
    def time(self) -> float:
        """Exchange time of the last message applied (epoch seconds)."""
        return self._time

    @property
    def recv_time(self) -> float:
        """Local receive time of the last message applied."""
        return self._recv_time

    @property
    def synced(self) -> bool:
        """Whether the content is known to be complete and continuous."""
        return self._synced

    @property
    def sequence(self) -> int | None:
        """The venue's last applied update id, when it numbers updates."""
        return self._sequence

    @property
    def checksum(self) -> int | None:
        """The last verified venue checksum, when it sends them."""
        return self._checksum

    @property
    def depth(self) -> int | None:
        """Levels per side this value holds at most (None: every level the book kept)."""
        return self._depth

    # --- views ------------------------------------------------------------------------------------

    @property
    def bids(self) -> tuple[PriceSize, ...]:
        """Bids within ``depth`` as ``(price, size)``, highest price first."""
        bids: tuple[PriceSize, ...] | None = self._bids
        if bids is None:
            bids = self._bids = self._side(self._bid_levels)
        return bids

    @property
    def asks(self) -> tuple[PriceSize, ...]:
        """Asks within ``depth`` as ``(price, size)``, lowest price first."""
        asks: tuple[PriceSize, ...] | None = self._asks
        if asks is None:
            asks = self._asks = self._side(self._ask_levels)
        return asks

    def _side(self, levels: tuple[Level, ...]) -> tuple[PriceSize, ...]:
        return _pairs(levels if self._depth is None else levels[: self._depth])

    def top(self, n: int = 10) -> tuple[tuple[PriceSize, ...], tuple[PriceSize, ...]]:
        """``(bids, asks)``: the best ``n`` levels of each side, as ``(price, size)``.

        Example:
            >>> OrderBook("v", "S", 0.0, 0.0, (), ()).top(5)
            ((), ())
        """
        if self.depth is not None:
            n = min(n, self.depth)
        return _pairs(self._bid_levels[:n]), _pairs(self._ask_levels[:n])

    @property
    def best_bid(self) -> PriceSize | None:
        """``(price, size)`` of the highest bid, or None."""
        levels = self._bid_levels
        return (levels[0][0], levels[0][1]) if levels else None

    @property
    def best_ask(self) -> PriceSize | None:
        """``(price, size)`` of the lowest ask, or None."""
        levels = self._ask_levels
        return (levels[0][0], levels[0][1]) if levels else None

    @property
    def mid(self) -> float | None:
        """Mid price, or None when a side is empty."""
        bids, asks = self._bid_levels, self._ask_levels
        if not bids or not asks:
            return None
        mid: float = (bids[0][0] + asks[0][0]) / 2
        return mid

    @property
    def spread(self) -> float | None:
        """Best ask minus best bid, or None when a side is empty."""
        bids, asks = self._bid_levels, self._ask_levels
        if not bids or not asks:
            return None
        spread: float = asks[0][0] - bids[0][0]
        return spread

    @property
    def bid_count(self) -> int:
        """Number of bid levels this value holds (at most ``depth``)."""
        return len(self._bid_levels)

    @property
    def ask_count(self) -> int:
        """Number of ask levels this value holds (at most ``depth``)."""
        return len(self._ask_levels)

    def levels(self) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        """``(bids, asks)``: every level this value holds, best first, as ``(price, size, price_text, size_text)``.

        These are the book's own immutable tuples (no copy); ``top(n)`` gives the usual views.
        """
        return self._bid_levels, self._ask_levels

    def copy(self) -> tuple[dict[float, float], dict[float, float]]:
        """``(bids, asks)`` as fresh ``{price: size}`` dicts (best first), yours to mutate."""
        return (
            {e[0]: e[1] for e in self._bid_levels},
            {e[0]: e[1] for e in self._ask_levels},
        )

    def with_synced(self, synced: bool) -> OrderBook:
        """The same content with another ``synced`` flag (shares all levels)."""
        return OrderBook(
            self.venue,
            self.symbol,
            self.time,
            self.recv_time,
            self._bid_levels,
            self._ask_levels,
            synced,
            self.sequence,
            self.checksum,
            self.depth,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OrderBook):
            return NotImplemented
        return (
            self.venue == other.venue
            and self.symbol == other.symbol
            and self.synced == other.synced
            and self.bids == other.bids
            and self.asks == other.asks
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        state = "synced" if self.synced else "UNSYNCED"
        bid, ask = self.best_bid, self.best_ask
        b = f"{bid[1]}@{bid[0]}" if bid else "-"
        a = f"{ask[1]}@{ask[0]}" if ask else "-"
        seq = f" seq {self.sequence}" if self.sequence is not None else ""
        return (
            f"OrderBook({self.venue} {self.symbol} {state} bid {b} ask {a} "
            f"levels {self.bid_count}/{self.ask_count}{seq})"
        )

    def _repr_html_(self) -> str:
        """Jupyter view: the top levels as an HTML table (see :func:`rxfeeds.books.html.book_html`)."""
        from .html import book_html  # lazy: scripts never render HTML

        return book_html(self)
