"""An order-level book model over the price-level :class:`~rxfeeds.sim.market.SyntheticMarket`.

Venues that publish individual orders (Midchains, BitShares) need each price level split into
resting orders with ids; :class:`OrderLevels` derives those from the market's level changes.

Example:
    >>> from rxfeeds.sim.market import SyntheticMarket
    >>> import itertools
    >>> ids = itertools.count(1)
    >>> book = OrderLevels.from_market(SyntheticMarket("A/B", seed=1), lambda: next(ids))
    >>> first = next(book.orders())
    >>> first.side, first.order_id
    ('bid', 1)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from ..market import LevelChange, SyntheticMarket

__all__ = ["OrderLevels", "SimOrder"]


@dataclass(slots=True)
class SimOrder:
    """One resting order of the simulated order-level book (``price`` in ticks, ``units`` of size)."""

    order_id: int
    side: Literal["bid", "ask"]
    price: int
    units: int


class OrderLevels:
    """An order-level view of an L2 :class:`SyntheticMarket`: each level is a list of orders.

    :meth:`apply` turns one :class:`~rxfeeds.sim.market.LevelChange` into the order changes
    that produce it: growth adds a new order, shrinking reduces or removes the newest orders.

    Example:
        >>> ids = iter(range(1, 100))
        >>> book = OrderLevels(lambda: next(ids))
        >>> [(o.order_id, o.units) for o in book.apply(LevelChange("bid", 100, 5))]
        [(1, 5)]
        >>> [(o.order_id, o.units) for o in book.apply(LevelChange("bid", 100, 8))]
        [(2, 3)]
        >>> [(o.order_id, o.units) for o in book.apply(LevelChange("bid", 100, 4))]
        [(2, 0), (1, 4)]
    """

    def __init__(self, new_id: Callable[[], int]) -> None:
        self._new_id = new_id
        self.levels: dict[tuple[str, int], list[SimOrder]] = {}

    @classmethod
    def from_market(cls, market: SyntheticMarket, new_id: Callable[[], int]) -> OrderLevels:
        """Orders for the market's current book (one order per level)."""
        book = cls(new_id)
        for side, levels in (("bid", market.bids()), ("ask", market.asks())):
            for price, units in levels:
                book.apply(LevelChange(side, price, units))  # type: ignore[arg-type]
        return book

    def apply(self, change: LevelChange) -> list[SimOrder]:
        """Apply one level change; returns the changed orders (``units == 0`` = removed)."""
        orders = self.levels.setdefault((change.side, change.price), [])
        total = sum(o.units for o in orders)
        changed: list[SimOrder] = []
        if change.size > total:
            order = SimOrder(self._new_id(), change.side, change.price, change.size - total)
            orders.append(order)
            changed.append(order)
        else:
            cut = total - change.size
            while cut > 0 and orders:
                last = orders[-1]
                if last.units > cut:
                    last.units -= cut
                    cut = 0
                else:
                    cut -= last.units
                    last.units = 0
                    orders.pop()
                changed.append(SimOrder(last.order_id, last.side, last.price, last.units))
        if not orders:
            del self.levels[(change.side, change.price)]
        return changed

    def orders(self) -> Iterator[SimOrder]:
        """Every resting order, bids best first then asks best first."""
        for side, reverse in (("bid", True), ("ask", False)):
            for key in sorted((k for k in self.levels if k[0] == side), key=lambda k: k[1], reverse=reverse):
                yield from self.levels[key]

    def level_units(self, side: str, price: int) -> int:
        """Total units resting at one level."""
        return sum(o.units for o in self.levels.get((side, price), ()))
