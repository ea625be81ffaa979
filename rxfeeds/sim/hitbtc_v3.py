"""HitBTC socket API v3 simulator: :class:`~rxfeeds.sim.hitbtc.v3.HitBTCV3Sim`.

The code lives in the HitBTC simulator package (``rxfeeds.sim.hitbtc.v3``); this module keeps the
name the venue spec and existing code import (``rxfeeds.sim.hitbtc_v3:HitBTCV3Sim``).

Example:
    >>> from rxfeeds.sim.hitbtc_v3 import HitBTCV3Sim
    >>> HitBTCV3Sim.__module__
    'rxfeeds.sim.hitbtc.v3'
"""

from __future__ import annotations

from .hitbtc.v3 import HitBTCV3Sim

__all__ = ["HitBTCV3Sim"]
