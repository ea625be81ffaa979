"""Coinbase Advanced Trade market data's venue spec (``coinbase``).

Example:
    >>> SPECS[0].book_channel.book, SPECS[0].symbol_notation.to_venue("BTC/USD")
    ('sequence', 'BTC-USD')
"""

from __future__ import annotations

from typing import Any

from ..spec import Channel, VenueSpec
from ..symbols import SymbolNotation

__all__ = ["PRODUCT_PATTERN", "SPECS", "for_simulator"]

#: Coinbase product ids: ``BASE-QUOTE`` (``BTC-USD``, ``ETH-USDC``, ``1INCH-USD``)
PRODUCT_PATTERN = r"[A-Z0-9]{1,20}-[A-Z0-9]{1,20}"


def for_simulator(sim: Any, **options: Any) -> Any:
    """A :class:`Coinbase` client on a running ``CoinbaseSim``."""
    from .client import Coinbase

    return Coinbase(url=sim.url, **options)


SPECS = (
    VenueSpec(
        name="coinbase",
        symbol_notation=SymbolNotation("{base}-{quote}", pattern=PRODUCT_PATTERN),
        pair_example="BTC/USD",
        title="Coinbase Advanced Trade",
        client="rxfeeds.venues.coinbase.client:Coinbase",
        codec="rxfeeds.venues.coinbase.codec:CoinbaseCodec",
        simulator="rxfeeds.sim.coinbase:CoinbaseSim",
        sim_client="rxfeeds.venues.coinbase.spec:for_simulator",
        status="live",
        notes="market data; sequence_num per connection, heartbeats",
        export="Coinbase",
        channels=(
            Channel("book", ("BookSnapshot", "BookDelta"), book="sequence", aliases=("level2",)),
            Channel("trades", ("Trade",), aliases=("market_trades",)),
            Channel("ticker", ("Ticker",)),
            Channel("klines", ("Kline",), aliases=("candles",)),
        ),
        symbol_example="BTC-USD",
        hosts=(("advanced-trade-ws.coinbase.com", ""),),
        docs="venues/coinbase.md",
    ),
)
