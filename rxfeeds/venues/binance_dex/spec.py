"""Binance DEX's venue spec (``binance-dex``, shut down in December 2024).

Example:
    >>> SPECS[0].status
    'retired'
"""

from __future__ import annotations

from typing import Any

from ..spec import Channel, VenueSpec
from ..symbols import SymbolNotation

#: a DEX market: tokens with an optional ``-XXX`` suffix joined by ``_`` (``BNB_BTCB-1DE``)
MARKET_PATTERN = r"[A-Z0-9.]{2,14}(-[0-9A-Z]{3,4})?_[A-Z0-9.]{2,14}(-[0-9A-Z]{3,4})?"

__all__ = ["SPECS", "for_simulator"]


def for_simulator(sim: Any, **options: Any) -> Any:
    """A :class:`BinanceDex` client on a running ``BinanceDexSim``."""
    from .client import BinanceDex

    return BinanceDex(url=sim.url, **options)


SPECS = (
    VenueSpec(
        name="binance-dex",
        symbol_notation=SymbolNotation("{base}_{quote}", pattern=MARKET_PATTERN),
        pair_example="BNB/BTCB-1DE",
        title="Binance DEX",
        client="rxfeeds.venues.binance_dex.client:BinanceDex",
        codec="rxfeeds.venues.binance_dex.codec:BinanceDexCodec",
        simulator="rxfeeds.sim.binance_dex:BinanceDexSim",
        sim_client="rxfeeds.venues.binance_dex.spec:for_simulator",
        status="retired",
        notes="shut down in 2024; simulation and replay",
        export="BinanceDex",
        channels=(
            Channel("book", ("BookSnapshot",), book="full-images", aliases=("market_depth",)),
            Channel("market_diff", ("BookDelta",)),
            Channel("trades", ("Trade",)),
            Channel("ticker", ("Ticker",)),
            Channel("mini_ticker", ("Ticker",)),
            Channel("klines", ("Kline",)),
        ),
        symbol_example="BNB_BTCB-1DE",
        requests=("all_tickers", "all_mini_tickers", "block_height"),
        trading=("account",),
        hosts=(("dex.binance.org", ""), ("testnet-dex.binance.org", "")),
        docs="venues/binance-dex.md",
    ),
)
