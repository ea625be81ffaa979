"""BitShares' venue spec (``bitshares``): graphene node notifications.

``market(base, quote)`` (the bitshares library's slot) is :meth:`book` with the pair split; it
takes two arguments, so it is documented on the client rather than declared as a channel alias.

Example:
    >>> SPECS[0].book_channel.events
    ('BookOrder', 'OrderFill', 'CallOrderUpdate')
"""

from __future__ import annotations

from typing import Any

from ..spec import Channel, VenueSpec
from ..symbols import SymbolNotation

__all__ = ["SPECS", "for_simulator"]


def for_simulator(sim: Any, **options: Any) -> Any:
    """A :class:`BitShares` client on a running ``BitSharesSim``."""
    from .client import BitShares

    return BitShares(sim.url, **options)


SPECS = (
    VenueSpec(
        name="bitshares",
        symbol_notation=SymbolNotation("{base}:{quote}"),
        pair_example="BTS/USD",
        title="BitShares",
        client="rxfeeds.venues.bitshares.client:BitShares",
        codec="rxfeeds.venues.bitshares.codec:BitSharesCodec",
        simulator="rxfeeds.sim.bitshares:BitSharesSim",
        sim_client="rxfeeds.venues.bitshares.spec:for_simulator",
        status="live",
        notes="node notifications, community chain",
        export="BitShares",
        channels=(
            Channel("book", ("BookOrder", "OrderFill", "CallOrderUpdate"), book="order-level"),
            Channel("trades", ("Trade",)),
        ),
        symbol_example="BTS:USD",
        requests=("call", "login", "objects", "accounts", "blocks", "transactions", "market", "reset_subscriptions"),
        docs="venues/bitshares.md",
    ),
)
