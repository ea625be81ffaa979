"""Kraken WebSocket API v2 simulator: :class:`~rxfeeds.sim.kraken.v2.KrakenV2Sim`.

The code lives in the Kraken simulator package (``rxfeeds.sim.kraken.v2``); this module keeps the
name the venue spec and existing code import (``rxfeeds.sim.kraken_v2:KrakenV2Sim``).

Example:
    >>> from rxfeeds.sim.kraken_v2 import KrakenV2Sim
    >>> KrakenV2Sim.__module__
    'rxfeeds.sim.kraken.v2'
"""

from __future__ import annotations

from .kraken.v2 import KrakenV2Sim

__all__ = ["KrakenV2Sim"]
