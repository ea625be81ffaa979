"""Venue simulators: real websocket servers on 127.0.0.1 speaking each venue's protocol.

Example:
    >>> from rxfeeds.sim import SIMULATORS
    >>> sorted(SIMULATORS)[:2]
    ['binance-dex', 'binance-spot']
"""

from __future__ import annotations

from typing import Any

from ..venues import lookup

__all__ = ["SIMULATORS", "simulator_class"]

#: command-line venue name -> "module:Class"
SIMULATORS: dict[str, str] = {
    "kraken": "rxfeeds.sim.kraken:KrakenSim",
    "kraken-v2": "rxfeeds.sim.kraken_v2:KrakenV2Sim",
    "hitbtc": "rxfeeds.sim.hitbtc:HitBTCSim",
    "hitbtc-v3": "rxfeeds.sim.hitbtc_v3:HitBTCV3Sim",
    "binance-dex": "rxfeeds.sim.binance_dex:BinanceDexSim",
    "binance-spot": "rxfeeds.sim.binance_spot:BinanceSpotSim",
    "bitshares": "rxfeeds.sim.bitshares:BitSharesSim",
    "midchains": "rxfeeds.sim.midchains:MidchainsSim",
}


def simulator_class(venue: str) -> Any:
    """The simulator class for a command-line venue name (InvalidArgument when unknown)."""
    return lookup(SIMULATORS, venue)
