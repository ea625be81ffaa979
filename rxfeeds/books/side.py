"""One side of a price-level book: two parallel sorted lists, published as immutable tuples.

Why plain lists
---------------
The order-book operator emits a new book value after (almost) every message, and a value a
subscriber holds must never change.  :class:`BookSide` keeps its levels in two mutable
lists sorted best-first (asks ascending, bids descending): the sort keys and the entries.
A change is one ``bisect`` and one list store, insert or delete (a C ``memmove``, cheap even
for thousands of levels).  Publishing (:meth:`BookSide.freeze`) copies the levels a book
shows into a tuple: the best ``depth`` when the book has a view depth (a few dozen pointers),
all of them otherwise (about 1.5 us per 1,000 levels).  The copy is cached and reused until a
change reaches one of the copied positions, so a change deep in the book leaves a depth-limited
publication as it was.  Published tuples are never mutated: values stay valid for ever.

An earlier design kept persistent tuple leaves and copied a leaf on every change; the per-level
Python work of that path copying cost more than the copy at publication (measured in
``benchmarks/books.py``).

Each entry is the event's own level tuple ``(price, size, price_text, size_text)``: nothing is
copied per level.  Kraken checksum fragments live in a third parallel list, kept only while the
owner tracks them (:meth:`BookSide.track_segments`; ``None`` for a fragment not computed yet, a
snapshot level not yet near the top), so a checksum is one ``"".join`` over the top 10 fragments
of each side.

Example:
    >>> side = BookSide(descending=True)
    >>> for p in (99.0, 101.0, 100.0):
    ...     side.set(p, 1.0, "", "", None)
    >>> [e[0] for e in side.top(2)]
    [101.0, 100.0]
    >>> frozen = side.freeze()
    >>> side.remove(101.0)
    True
    >>> [e[0] for e in frozen]  # the published value did not change
    [101.0, 100.0, 99.0]
    >>> [e[0] for e in side.freeze(1)]  # only the best level
    [100.0]
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from operator import itemgetter, lt, neg
from typing import Final, TypeAlias

from ..events import Level

__all__ = ["TOP", "MAX_NUMBER", "BadLevel", "Entry", "BookSide"]

#: One level: ``(price, size, price_text, size_text)`` (the event's tuple).
Entry: TypeAlias = Level

_PRICE = itemgetter(0)
_SIZE = itemgetter(1)
_PRICE_TEXT = itemgetter(2)
_SIZE_TEXT = itemgetter(3)
_FOUR = frozenset({4})
_TUPLE = frozenset({tuple})

#: Levels whose changes set :attr:`BookSide.top_dirty` (the Kraken checksum depth).
TOP = 10
#: Prices and sizes must be finite, above 0 and below this: anything else is corrupt data.
MAX_NUMBER: Final = 1e18
_INF = float("inf")
_CLEAN: Final = 1 << 62  # "no change since the last publication" (an index no book reaches)


class BadLevel(ValueError):
    """A snapshot level with a NaN, infinite, negative, zero-price or absurd number (:meth:`BookSide.load`)."""


def level_problem(price: object, size: object) -> str:
    """Why a level is rejected, for messages."""
    return f"price {price!r} size {size!r} is not a finite number in (0, {MAX_NUMBER:g})"


def _first_bad(levels: Sequence[Level]) -> str:
    for p, s, *_ in levels:
        if not (0.0 < p < MAX_NUMBER and 0.0 < s < MAX_NUMBER):
            return level_problem(p, s)
    return f"the sizes add up to {sum(lv[1] for lv in levels)!r}, not below {MAX_NUMBER:g}"


class BookSide:
    """A mutable book side whose published states are immutable (see the module docstring).

    Sort keys are the price for asks and ``-price`` for bids, so both sides are stored
    ascending by key, which is best-first.

    Args:
        descending: ``True`` for bids (best = highest price), ``False`` for asks.
    """

    __slots__ = ("_entries", "_frozen", "_frozen_n", "_keys", "_segs", "_touched", "count", "descending", "top_dirty")

    def __init__(self, descending: bool) -> None:
        self.descending = descending
        self._keys: list[float] = []  # sort keys, ascending (best first)
        self._entries: list[Entry] = []  # parallel to _keys
        self._segs: list[str | None] | None = None  # checksum fragments, parallel (None: not tracked)
        self._frozen: tuple[Entry, ...] = ()  # the last publication
        self._frozen_n = -1  # its depth (-1: none made yet, _CLEAN: every level)
        self._touched = 0  # lowest position changed since that publication (_CLEAN: none)
        #: Number of levels on this side.
        self.count = 0
        #: Set when a change may have touched the best :data:`TOP` levels; the owner clears it.
        self.top_dirty = True

    def clear(self) -> None:
        """Remove every level."""
        self._keys = []
        self._entries = []
        if self._segs is not None:
            self._segs = []
        self._touched = 0
        self.count = 0
        self.top_dirty = True

    def load(self, levels: Sequence[Level]) -> None:
        """Replace the side with snapshot ``levels`` ``(price, size, price_text, size_text)``.

        Zero sizes are skipped and later duplicates of a price win; checksum fragments start
        unknown (None).  Venues send snapshots sorted best-first, which is checked and then
        taken as is: the whole load runs in C loops (zip/map) unless a sort is needed.

        Every other price and size must be finite and in ``(0, MAX_NUMBER)`` (the sizes of a
        side add up to less than ``MAX_NUMBER``), else :class:`BadLevel` is raised and the side
        is left as it was: a NaN could never be found or removed again.

        Example:
            >>> side = BookSide(descending=True)
            >>> side.load([(99.0, 1.0, "99", "1"), (101.0, 2.0, "101", "2"), (100.0, 0.0, "100", "0")])
            >>> [e[0] for e in side.top(5)], side.count
            ([101.0, 99.0], 2)
            >>> side.load([(99.0, float("nan"), "99", "nan")])
            Traceback (most recent call last):
            ...
            rxfeeds.books.side.BadLevel: price 99.0 size nan is not a finite number in (0, 1e+18)
        """
        prices = list(map(_PRICE, levels))
        sizes = list(map(_SIZE, levels))
        # one scan finds zeros to skip and negative sizes (NaN fails every comparison and
        # poisons the sum below; sorted prices, which cannot hold a NaN, need only their ends)
        smallest = min(sizes) if sizes else 1.0
        if not smallest > 0.0:
            levels = [level for level in levels if level[1] != 0]
            prices = list(map(_PRICE, levels))
            sizes = list(map(_SIZE, levels))
            smallest = min(sizes) if sizes else 1.0
        keys = list(map(neg, prices)) if self.descending else prices
        ordered = all(map(lt, keys, islice(keys, 1, None)))
        if prices:
            if ordered:
                low, high = (prices[-1], prices[0]) if self.descending else (prices[0], prices[-1])
                prices_ok = low > 0.0 and high < MAX_NUMBER
            else:
                prices_ok = min(prices) > 0.0 and max(prices) < MAX_NUMBER and sum(prices) < _INF
            if not (prices_ok and smallest > 0.0 and sum(sizes) < MAX_NUMBER):
                raise BadLevel(_first_bad(levels))
        entries: list[Entry] = list(levels)
        if set(map(len, entries)) - _FOUR or set(map(type, entries)) - _TUPLE:
            # not all 4-tuples (hand-made lists, longer tuples): own copies; short ones raise
            entries = list(zip(prices, sizes, map(_PRICE_TEXT, levels), map(_SIZE_TEXT, levels), strict=True))
        if not ordered:  # unsorted or duplicated prices
            by_price = {e[0]: e for e in entries}
            entries = sorted(by_price.values(), key=_PRICE, reverse=self.descending)
            keys = [-e[0] for e in entries] if self.descending else [e[0] for e in entries]
        self._keys = keys
        self._entries = entries
        if self._segs is not None:
            self._segs = [None] * len(entries)
        self._touched = 0
        self.count = len(entries)
        self.top_dirty = True

    def set(self, price: float, size: float, price_text: str, size_text: str, segment: str | None) -> None:
        """Insert or replace the level at ``price``."""
        key = -price if self.descending else price
        keys = self._keys
        i = bisect_left(keys, key)
        entry = (price, size, price_text, size_text)
        segs = self._segs
        if i < len(keys) and keys[i] == key:
            self._entries[i] = entry
            if segs is not None:
                segs[i] = segment
        else:
            keys.insert(i, key)
            self._entries.insert(i, entry)
            if segs is not None:
                segs.insert(i, segment)
            self.count += 1
        if i < self._touched:
            self._touched = i
        if i < TOP:
            self.top_dirty = True

    def apply(self, levels: Iterable[Level]) -> Level | None:
        """Apply one message's levels of this side: size 0 removes, any other size sets.

        The levels of a delta in one call, with every change inlined: a call and the attribute
        look-ups per level cost more than the change itself.  While fragments are tracked
        (:meth:`track_segments`) each level's Kraken checksum fragment is computed
        (:func:`rxfeeds.books.checksum.checksum_segment` of both texts, inlined here).

        Returns the first level that must never reach the book (a NaN, infinite, negative or
        absurd number; the levels before it were applied), else None.

        Example:
            >>> side = BookSide(descending=False)
            >>> side.track_segments(True)
            >>> side.apply([(2.0, 1.0, "2.0", "1"), (1.0, 3.0, "1.0", "3"), (2.0, 0.0, "2.0", "0")])
            >>> side.best(), side.top_segments(1), side.count
            ((1.0, 3.0, '1.0', '3'), ['103'], 1)
            >>> side.apply([(1.5, float("nan"), "1.5", "nan")])
            (1.5, nan, '1.5', 'nan')
        """
        descending = self.descending
        keys = self._keys
        entries = self._entries
        segs = self._segs
        low = _CLEAN  # lowest position changed
        bad: Level | None = None
        try:  # the bookkeeping runs even when a malformed level raises half-way
            for level in levels:
                p, s, pt, st = level  # also checks the shape
                key = -p if descending else p
                i = bisect_left(keys, key)
                found = i < len(keys) and keys[i] == key
                if s == 0:
                    if found:
                        del keys[i]
                        del entries[i]
                        if segs is not None:
                            del segs[i]
                        if i < low:
                            low = i
                    continue
                if not (p > 0.0 and s > 0.0 and p < MAX_NUMBER and s < MAX_NUMBER):  # False for NaN too
                    bad = level
                    break
                if type(level) is not tuple:  # a hand-made list: the book keeps its own immutable copy
                    level = (p, s, pt, st)
                if found:
                    entries[i] = level
                    if segs is not None:
                        segs[i] = pt.replace(".", "").lstrip("0") + st.replace(".", "").lstrip("0")
                else:
                    keys.insert(i, key)
                    entries.insert(i, level)
                    if segs is not None:
                        segs.insert(i, pt.replace(".", "").lstrip("0") + st.replace(".", "").lstrip("0"))
                if i < low:
                    low = i
        finally:
            self.count = len(keys)
            if low < self._touched:
                self._touched = low
            if low < TOP:
                self.top_dirty = True
        return bad

    def remove(self, price: float) -> bool:
        """Remove the level at ``price``; False when there was none (that is fine)."""
        key = -price if self.descending else price
        keys = self._keys
        i = bisect_left(keys, key)
        if i == len(keys) or keys[i] != key:
            return False
        del keys[i]
        del self._entries[i]
        if self._segs is not None:
            del self._segs[i]
        self.count -= 1
        if i < self._touched:
            self._touched = i
        if i < TOP:
            self.top_dirty = True
        return True

    def truncate(self, depth: int) -> bool:
        """Keep only the best ``depth`` levels; True when something was dropped."""
        if self.count <= depth:
            return False
        del self._keys[depth:]
        del self._entries[depth:]
        if self._segs is not None:
            del self._segs[depth:]
        self.count = depth
        if depth < self._touched:
            self._touched = depth
        if depth < TOP:
            self.top_dirty = True
        return True

    def track_segments(self, on: bool) -> None:
        """Keep (or stop keeping) a checksum fragment per level; levels held now start unknown."""
        if not on:
            self._segs = None
        elif self._segs is None:
            self._segs = [None] * len(self._entries)

    def top_segments(self, n: int) -> list[str | None]:
        """The checksum fragments of the best ``n`` levels (None: not computed yet)."""
        segs = self._segs
        return segs[:n] if segs is not None else [None] * min(n, self.count)

    def fill_segments(self, n: int, segment: Callable[[str, str], str]) -> None:
        """Compute the missing checksum fragments of the best ``n`` levels (tracking them).

        Example:
            >>> side = BookSide(descending=False)
            >>> side.set(1.5, 2.0, "1.5", "2.0", None)
            >>> side.fill_segments(10, lambda price, size: price + "/" + size)
            >>> side.top_segments(10)
            ['1.5/2.0']
        """
        self.track_segments(True)
        segs = self._segs
        assert segs is not None
        for i, e in enumerate(self._entries[:n]):
            if segs[i] is None:
                segs[i] = segment(e[2], e[3])

    def best(self) -> Entry | None:
        """The best entry, or None when the side is empty."""
        entries = self._entries
        return entries[0] if entries else None

    def top(self, n: int) -> list[Entry]:
        """The best ``n`` entries (a fresh list)."""
        return self._entries[:n]

    def freeze(self, n: int | None = None) -> tuple[Entry, ...]:
        """The best ``n`` levels (every level when None) as an immutable value.

        The tuple is cached and returned again until a change reaches one of its positions.

        Example:
            >>> side = BookSide(descending=False)
            >>> side.set(1.0, 1.0, "1", "1", None)
            >>> side.set(3.0, 1.0, "3", "1", None)
            >>> top = side.freeze(1)
            >>> side.set(2.0, 1.0, "2", "1", None)  # below the published level
            >>> side.freeze(1) is top, side.freeze() == tuple(side.top(3))
            (True, True)
        """
        want = _CLEAN if n is None else n
        if self._frozen_n == want and self._touched >= want:
            return self._frozen
        entries = self._entries
        frozen = tuple(entries) if n is None else tuple(entries[:n])
        self._frozen = frozen
        self._frozen_n = want
        self._touched = _CLEAN
        return frozen

    def get(self, price: float) -> Entry | None:
        """The entry at ``price``, or None."""
        key = -price if self.descending else price
        keys = self._keys
        i = bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:
            return self._entries[i]
        return None

    def __len__(self) -> int:
        return self.count
