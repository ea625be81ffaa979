"""HitBTC simulators: socket API v2 (:class:`HitBTCSim`) and v3 (:class:`HitBTCV3Sim`).

One venue, one package; each module holds one concern:

* ``v2``: the v2 protocol (:class:`HitBTCSim`);
* ``v3``: the v3 protocol and REST (:class:`HitBTCV3Sim`, built on the v2 simulator).

``rxfeeds.sim.hitbtc:HitBTCSim`` and ``rxfeeds.sim.hitbtc_v3:HitBTCV3Sim`` (the names the venue
specs use) stay valid.

Example:
    >>> from rxfeeds.sim.hitbtc import HitBTCSim, HitBTCV3Sim
    >>> HitBTCSim.api_version, HitBTCV3Sim.api_version
    (2, 3)
"""

from __future__ import annotations

from .v2 import _CURRENCY as _CURRENCY  # the symbol rules, read by tests/unit/test_symbol_patterns.py
from .v2 import _SYMBOL as _SYMBOL
from .v2 import QUOTE_CURRENCIES, HitBTCSim, RpcError, period_interval
from .v3 import HitBTCV3Sim

__all__ = ["QUOTE_CURRENCIES", "HitBTCSim", "HitBTCV3Sim", "RpcError", "period_interval"]
