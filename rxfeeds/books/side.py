"""One side of a price-level book, kept sorted best-first in immutable chunks.

Why chunks
----------
The order-book operator emits a new book value after (almost) every message, and a value a
subscriber holds must never change.  Copying a 1,000-level dict per frame is far too slow, and
capturing only the top N eagerly loses the full book.  :class:`BookSide` therefore stores its
levels as a list of *leaves*: immutable tuples of at most :data:`LEAF_MAX` entries, sorted
best-first (asks ascending, bids descending).  A change rebuilds only the one leaf it touches
(tens of pointers); publishing the side (:meth:`BookSide.freeze`) copies only the list of leaf
references (a few dozen pointers for 1,000 levels) and is cached until the next change.  Old
published values keep their leaves, so they stay valid for ever: a persistent structure with
path copying, two levels deep.

Each entry is ``(price, size, price_text, size_text, segment)``; ``segment`` is the entry's
precomputed Kraken checksum fragment (``None`` when not computed: checksums off, or a snapshot
level not yet near the top), so a checksum is one ``"".join`` over the top 10 entries of each
side.

Example:
    >>> side = BookSide(descending=True)
    >>> for p in (99.0, 101.0, 100.0):
    ...     side.set(p, 1.0, "", "", None)
    >>> [e[0] for e in side.top(2)]
    [101.0, 100.0]
    >>> frozen = side.freeze()
    >>> side.remove(101.0)
    True
    >>> [e[0] for leaf in frozen for e in leaf]  # the published value did not change
    [101.0, 100.0, 99.0]
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice, repeat
from operator import itemgetter, lt, neg
from typing import Final, TypeAlias

from ..events import Level

__all__ = ["TOP", "LEAF_MAX", "MAX_NUMBER", "BadLevel", "Entry", "Leaves", "BookSide", "iter_entries", "top_entries"]

#: One level: ``(price, size, price_text, size_text, checksum_segment or None)``.
Entry: TypeAlias = tuple[float, float, str, str, str | None]
#: A published side: immutable tuple of immutable leaves, best level first.
Leaves: TypeAlias = tuple[tuple[Entry, ...], ...]

_PRICE = itemgetter(0)
_SIZE = itemgetter(1)
_PRICE_TEXT = itemgetter(2)
_SIZE_TEXT = itemgetter(3)

#: Leaves are split when they grow beyond this many entries.
LEAF_MAX = 32
_LEAF_HALF = LEAF_MAX // 2
_LEAF_MERGE = LEAF_MAX // 4
#: Levels whose changes set :attr:`BookSide.top_dirty` (the Kraken checksum depth).
TOP = 10
#: Prices and sizes must be finite, above 0 and below this: anything else is corrupt data.
MAX_NUMBER: Final = 1e18
_INF = float("inf")


class BadLevel(ValueError):
    """A snapshot level with a NaN, infinite, negative, zero-price or absurd number (:meth:`BookSide.load`)."""


def level_problem(price: object, size: object) -> str:
    """Why a level is rejected, for messages."""
    return f"price {price!r} size {size!r} is not a finite number in (0, {MAX_NUMBER:g})"


def iter_entries(leaves: Leaves) -> Iterator[Entry]:
    """All entries of published leaves, best first."""
    for leaf in leaves:
        yield from leaf


def top_entries(leaves: Leaves, n: int) -> tuple[Entry, ...]:
    """The best ``n`` entries of published leaves (fewer when the side is thinner)."""
    if not leaves:
        return ()
    first = leaves[0]
    if len(first) >= n:
        return first[:n]
    out: list[Entry] = []
    for leaf in leaves:
        out.extend(leaf[: n - len(out)])
        if len(out) >= n:
            break
    return tuple(out)


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

    __slots__ = ("_frozen", "_keys", "_last", "_leaves", "count", "descending", "top_dirty")

    def __init__(self, descending: bool) -> None:
        self.descending = descending
        self._leaves: list[tuple[Entry, ...]] = []
        self._keys: list[tuple[float, ...]] = []  # sort keys of each leaf, parallel to _leaves
        self._last: list[float] = []  # last (worst) key of each leaf, for bisecting leaves
        self._frozen: Leaves | None = ()
        #: Number of levels on this side.
        self.count = 0
        #: Set when a change may have touched the best :data:`TOP` levels; the owner clears it.
        self.top_dirty = True

    def clear(self) -> None:
        """Remove every level."""
        self._leaves = []
        self._keys = []
        self._last = []
        self._frozen = ()
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
        entries: list[Entry] = list(zip(prices, sizes, map(_PRICE_TEXT, levels), map(_SIZE_TEXT, levels), repeat(None)))
        if not ordered:  # unsorted or duplicated prices
            by_price = {e[0]: e for e in entries}
            entries = sorted(by_price.values(), key=_PRICE, reverse=self.descending)
            keys = [-e[0] for e in entries] if self.descending else [e[0] for e in entries]
        n = len(entries)
        step = _LEAF_HALF
        self._leaves = [tuple(entries[i : i + step]) for i in range(0, n, step)]
        self._keys = [tuple(keys[i : i + step]) for i in range(0, n, step)]
        self._last = [k[-1] for k in self._keys]
        self._frozen = None
        self.count = n
        self.top_dirty = True

    def set(self, price: float, size: float, price_text: str, size_text: str, segment: str | None) -> None:
        """Insert or replace the level at ``price``."""
        key = -price if self.descending else price
        entry = (price, size, price_text, size_text, segment)
        leaves = self._leaves
        self._frozen = None
        if not leaves:
            leaves.append((entry,))
            self._keys.append((key,))
            self._last.append(key)
            self.count = 1
            self.top_dirty = True
            return
        last = self._last
        # most changes hit the first leaf (the top of the book): one comparison finds it
        i = 0 if key <= last[0] else bisect_left(last, key)
        if i == len(leaves):
            i -= 1
        keys = self._keys[i]
        leaf = leaves[i]
        j = bisect_left(keys, key)
        if (i == 0 and j < TOP) or len(leaves[0]) < TOP:
            self.top_dirty = True
        if j < len(keys) and keys[j] == key:
            # concatenation beats star-unpacking for these short tuples (measured)
            leaves[i] = leaf[:j] + (entry,) + leaf[j + 1 :]  # noqa: RUF005
            return
        leaf = leaf[:j] + (entry,) + leaf[j:]  # noqa: RUF005
        keys = keys[:j] + (key,) + keys[j:]  # noqa: RUF005
        self.count += 1
        if len(leaf) > LEAF_MAX:
            leaves[i : i + 1] = [leaf[:_LEAF_HALF], leaf[_LEAF_HALF:]]
            self._keys[i : i + 1] = [keys[:_LEAF_HALF], keys[_LEAF_HALF:]]
            last[i : i + 1] = [keys[_LEAF_HALF - 1], keys[-1]]
        else:
            leaves[i] = leaf
            self._keys[i] = keys
            last[i] = keys[-1]

    def apply(self, levels: Iterable[Level], segments: bool) -> Level | None:
        """Apply one message's levels of this side: size 0 removes, any other size sets.

        The levels of a delta in one call, with the common cases (replace in a leaf, insert
        into a leaf with room) inlined: a call and the attribute look-ups per level cost more
        than the change itself.  ``segments``: compute each level's Kraken checksum fragment
        (:func:`rxfeeds.books.checksum.checksum_segment` of both texts, inlined here).

        Returns the first level that must never reach the book (a NaN, infinite, negative or
        absurd number; the levels before it were applied), else None.

        Example:
            >>> side = BookSide(descending=False)
            >>> side.apply([(2.0, 1.0, "2.0", "1"), (1.0, 3.0, "1.0", "3"), (2.0, 0.0, "2.0", "0")], True)
            >>> side.best(), side.count
            ((1.0, 3.0, '1.0', '3', '103'), 1)
            >>> side.apply([(1.5, float("nan"), "1.5", "nan")], False)
            (1.5, nan, '1.5', 'nan')
        """
        descending = self.descending
        leaves = self._leaves
        keys_of = self._keys
        last = self._last
        for level in levels:
            p, s, pt, st = level
            if s == 0:
                self.remove(p)
                continue
            if not (p > 0.0 and s > 0.0 and p < MAX_NUMBER and s < MAX_NUMBER):  # False for NaN too
                return level
            segment = pt.replace(".", "").lstrip("0") + st.replace(".", "").lstrip("0") if segments else None
            if not last:
                self.set(p, s, pt, st, segment)
                continue
            key = -p if descending else p
            i = 0 if key <= last[0] else bisect_left(last, key)
            if i == len(last):
                i -= 1
            keys = keys_of[i]
            j = bisect_left(keys, key)
            leaf = leaves[i]
            if j < len(keys) and keys[j] == key:
                self._frozen = None
                if (i == 0 and j < TOP) or len(leaves[0]) < TOP:
                    self.top_dirty = True
                leaves[i] = leaf[:j] + ((p, s, pt, st, segment),) + leaf[j + 1 :]  # noqa: RUF005
            elif len(leaf) < LEAF_MAX:
                self._frozen = None
                if (i == 0 and j < TOP) or len(leaves[0]) < TOP:
                    self.top_dirty = True
                leaves[i] = leaf[:j] + ((p, s, pt, st, segment),) + leaf[j:]  # noqa: RUF005
                keys = keys[:j] + (key,) + keys[j:]  # noqa: RUF005
                keys_of[i] = keys
                last[i] = keys[-1]
                self.count += 1
            else:  # the leaf splits
                self.set(p, s, pt, st, segment)
        return None

    def remove(self, price: float) -> bool:
        """Remove the level at ``price``; False when there was none (that is fine)."""
        key = -price if self.descending else price
        last = self._last
        if not last:
            return False
        i = 0 if key <= last[0] else bisect_left(last, key)
        if i == len(last):
            return False
        keys = self._keys[i]
        j = bisect_left(keys, key)
        if j == len(keys) or keys[j] != key:
            return False
        if (i == 0 and j < TOP) or len(self._leaves[0]) <= TOP:
            self.top_dirty = True
        self._frozen = None
        self.count -= 1
        leaf = self._leaves[i]
        if len(leaf) == 1:
            del self._leaves[i], self._keys[i], last[i]
            return True
        leaf = leaf[:j] + leaf[j + 1 :]
        keys = keys[:j] + keys[j + 1 :]
        if len(leaf) < _LEAF_MERGE and i + 1 < len(last) and len(leaf) + len(self._leaves[i + 1]) <= LEAF_MAX:
            self._leaves[i : i + 2] = [leaf + self._leaves[i + 1]]
            self._keys[i : i + 2] = [keys + self._keys[i + 1]]
            del last[i]
        else:
            self._leaves[i] = leaf
            self._keys[i] = keys
            last[i] = keys[-1]
        return True

    def truncate(self, depth: int) -> bool:
        """Keep only the best ``depth`` levels; True when something was dropped."""
        excess = self.count - depth
        if excess <= 0:
            return False
        self._frozen = None
        self.count = depth
        if depth <= TOP:
            self.top_dirty = True
        leaves, keys, last = self._leaves, self._keys, self._last
        while excess > 0:
            n = len(leaves[-1])
            if n <= excess:
                leaves.pop()
                keys.pop()
                last.pop()
                excess -= n
            else:
                leaves[-1] = leaves[-1][: n - excess]
                keys[-1] = keys[-1][: n - excess]
                last[-1] = keys[-1][-1]
                excess = 0
        return True

    def fill_segments(self, n: int, segment: Callable[[str, str], str]) -> None:
        """Compute the missing checksum fragments of the best ``n`` levels, in place.

        Example:
            >>> side = BookSide(descending=False)
            >>> side.set(1.5, 2.0, "1.5", "2.0", None)
            >>> side.fill_segments(10, lambda price, size: price + "/" + size)
            >>> side.best()
            (1.5, 2.0, '1.5', '2.0', '1.5/2.0')
        """
        leaves = self._leaves
        left = n
        for i, leaf in enumerate(leaves):
            if left <= 0:
                break
            head = leaf[:left]
            if any(e[4] is None for e in head):
                filled = tuple([e if e[4] is not None else (*e[:4], segment(e[2], e[3])) for e in head])
                leaves[i] = filled + leaf[left:]
                self._frozen = None
            left -= len(leaf)

    def best(self) -> Entry | None:
        """The best entry, or None when the side is empty."""
        return self._leaves[0][0] if self._leaves else None

    def top(self, n: int) -> tuple[Entry, ...]:
        """The best ``n`` entries."""
        leaves = self._leaves
        if leaves and len(leaves[0]) >= n:
            return leaves[0][:n]
        return top_entries(tuple(leaves), n)

    def freeze(self) -> Leaves:
        """The current state as an immutable value (cached until the next change)."""
        frozen = self._frozen
        if frozen is None:
            frozen = self._frozen = tuple(self._leaves)
        return frozen

    def get(self, price: float) -> Entry | None:
        """The entry at ``price``, or None."""
        key = -price if self.descending else price
        i = bisect_left(self._last, key)
        if i == len(self._last):
            return None
        keys = self._keys[i]
        j = bisect_left(keys, key)
        if j < len(keys) and keys[j] == key:
            return self._leaves[i][j]
        return None

    def __len__(self) -> int:
        return self.count
