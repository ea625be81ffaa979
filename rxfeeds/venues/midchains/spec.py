"""Midchains' venue spec (``midchains``): a format known from documentation only.

Example:
    >>> SPECS[0].status
    'documentation-only'
"""

from __future__ import annotations

from typing import Any

from ..spec import Channel, VenueSpec
from ..symbols import SymbolNotation

__all__ = ["SPECS", "for_simulator"]


def for_simulator(sim: Any, **options: Any) -> Any:
    """A :class:`Midchains` client on a running ``MidchainsSim``."""
    from .client import Midchains

    return Midchains(sim.url, **options)


SPECS = (
    VenueSpec(
        name="midchains",
        symbol_notation=SymbolNotation("{base}{quote}"),
        pair_example="BTC/USD",
        title="Midchains",
        client="rxfeeds.venues.midchains.client:Midchains",
        codec="rxfeeds.venues.midchains.codec:MidchainsCodec",
        simulator="rxfeeds.sim.midchains:MidchainsSim",
        sim_client="rxfeeds.venues.midchains.spec:for_simulator",
        status="documentation-only",
        notes="simulation (login: `pip install 'rxfeeds[midchains]'`)",
        export="Midchains",
        channels=(
            Channel("book", ("BookOrder",), book="order-level"),
            Channel("trades", ("Trade",)),
        ),
        symbol_example="BTCUSD",
        requests=("challenge", "login", "logout", "query_order"),
        trading=("add_order", "cancel_order"),
        hosts=(("midchains.com", ""),),
        docs="venues/midchains.md",
        unsubscribes=False,  # the documentation has no unsubscribe message
    ),
)
