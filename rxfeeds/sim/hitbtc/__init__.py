"""HitBTC simulators: socket API v2 (:class:`HitBTCSim`) and v3 (:class:`HitBTCV3Sim`).

One venue, one package; each module holds one concern:

* ``_base``: settings, symbols and JSON-RPC helpers every part shares (venue-private);
* ``feed``: the public market feed (book, trades, candles, ticker; trades history);
* ``account``: the simulated accounts (login, orders, reports, balances);
* ``v2``: the v2 protocol (:class:`HitBTCSim`: requests mapped onto the feed and the account);
* ``v3``: the v3 protocol and REST (:class:`HitBTCV3Sim`, built on the v2 simulator).

``rxfeeds.sim.hitbtc:HitBTCSim`` and ``rxfeeds.sim.hitbtc_v3:HitBTCV3Sim`` (the names the venue
specs use) stay valid.

Example:
    >>> from rxfeeds.sim.hitbtc import HitBTCSim, HitBTCV3Sim
    >>> HitBTCSim.api_version, HitBTCV3Sim.api_version
    (2, 3)
"""

from __future__ import annotations

from ._base import _CURRENCY as _CURRENCY  # the symbol rules, read by tests/unit/test_symbol_patterns.py
from ._base import _SYMBOL as _SYMBOL
from ._base import QUOTE_CURRENCIES, RpcError, period_interval
from .v2 import HitBTCSim
from .v3 import HitBTCV3Sim

__all__ = ["QUOTE_CURRENCIES", "HitBTCSim", "HitBTCV3Sim", "RpcError", "period_interval"]
