"""Binance spot simulator (:class:`BinanceSpotSim`).

One venue, one package; each module holds one concern:

* ``ws``: the websocket streams and requests (:class:`BinanceSpotSim`).

``rxfeeds.sim.binance_spot:BinanceSpotSim`` (the name the venue spec uses) stays valid.

Example:
    >>> from rxfeeds.sim.binance_spot import BinanceSpotSim
    >>> BinanceSpotSim.venue, BinanceSpotSim.path
    ('binance-spot', '/stream')
"""

from __future__ import annotations

from .ws import _SYMBOL as _SYMBOL  # the symbol rule, read by tests/unit/test_symbol_patterns.py
from .ws import SPOT_INTERVALS, BinanceSpotSim, kline_payload

__all__ = ["SPOT_INTERVALS", "BinanceSpotSim", "kline_payload"]
