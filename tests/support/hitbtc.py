"""HitBTC truth for the tests: an independent book rebuild from wire texts, and the simulator's book."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rxfeeds.events import BookDelta, BookSnapshot
from rxfeeds.sim.hitbtc import HitBTCSim


def rebuild(events: list[Any]) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal], int]:
    """An independent book rebuild from wire texts; checks sequence contiguity on the way."""
    bids: dict[Decimal, Decimal] = {}
    asks: dict[Decimal, Decimal] = {}
    last = -1
    for e in events:
        if isinstance(e, BookSnapshot):
            bids = {Decimal(p): Decimal(s) for _, _, p, s in e.bids}
            asks = {Decimal(p): Decimal(s) for _, _, p, s in e.asks}
            assert e.sequence is not None
            assert last == -1 or e.sequence >= last
            last = e.sequence
        elif isinstance(e, BookDelta):
            assert e.sequence == last + 1, f"gap: {last} -> {e.sequence}"
            last = e.sequence
            for book, levels in ((bids, e.bids), (asks, e.asks)):
                for _, _, p, s in levels:
                    if Decimal(s) == 0:
                        book.pop(Decimal(p), None)
                    else:
                        book[Decimal(p)] = Decimal(s)
    return bids, asks, last


def truth_books(sim: HitBTCSim, symbol: str) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
    t = sim.truth(symbol)
    return {Decimal(p): Decimal(s) for _, _, p, s in t.bids}, {Decimal(p): Decimal(s) for _, _, p, s in t.asks}
