"""Binance spot's venue spec (``binance-spot``).

Example:
    >>> SPECS[0].book_channel.book
    'snapshot+rest'
"""

from __future__ import annotations

from typing import Any

from ..spec import Channel, VenueSpec
from ..symbols import SymbolNotation

__all__ = ["SPECS", "for_simulator"]


def for_simulator(sim: Any, **options: Any) -> Any:
    """A :class:`BinanceSpot` client on a running ``BinanceSpotSim`` (websocket and REST)."""
    from .client import BinanceSpot

    options.setdefault("min_send_interval", 0.0)
    return BinanceSpot(url=sim.url, rest_url=sim.http_url, **options)


SPECS = (
    VenueSpec(
        name="binance-spot",
        symbol_notation=SymbolNotation("{base}{quote}", pattern="[A-Z0-9]{2,20}"),
        pair_example="BTC/USDT",
        title="Binance spot",
        client="rxfeeds.venues.binance_spot.client:BinanceSpot",
        codec="rxfeeds.venues.binance_spot.codec:BinanceSpotCodec",
        simulator="rxfeeds.sim.binance_spot:BinanceSpotSim",
        sim_client="rxfeeds.venues.binance_spot.spec:for_simulator",
        status="live",
        notes="depth diffs + REST snapshots",
        export="BinanceSpot",
        channels=(
            Channel("book", ("BookSnapshot", "BookDelta"), book="snapshot+rest", aliases=("depth",)),
            Channel("trades", ("Trade",)),
            Channel("agg_trades", ("Trade",)),
            Channel("klines", ("Kline",)),
            Channel("book_ticker", ("Quote",)),
        ),
        symbol_example="BTCUSDT",
        requests=("snapshot", "list_subscriptions"),
        hosts=(("stream.binance.com", ""), ("api.binance.com", "")),
        docs="venues/binance-spot.md",
    ),
)
