"""Binance spot simulator (:class:`BinanceSpotSim`).

One venue, one package; each module holds one concern:

* ``_base``: symbols, stream names and book state every part shares (venue-private);
* ``feed``: the market-data streams (depth diffs, trades, klines, tickers);
* ``rest``: the REST endpoints (depth snapshot, exchange info, ping, time);
* ``ws``: the websocket protocol (:class:`BinanceSpotSim`: connections, requests, subscriptions).

``rxfeeds.sim.binance_spot:BinanceSpotSim`` (the name the venue spec uses) stays valid.

Example:
    >>> from rxfeeds.sim.binance_spot import BinanceSpotSim
    >>> BinanceSpotSim.venue, BinanceSpotSim.path
    ('binance-spot', '/stream')
"""

from __future__ import annotations

from ._base import _SYMBOL as _SYMBOL  # the symbol rule, read by tests/unit/test_symbol_patterns.py
from ._base import SPOT_INTERVALS
from .feed import kline_payload
from .ws import BinanceSpotSim

__all__ = ["SPOT_INTERVALS", "BinanceSpotSim", "kline_payload"]
