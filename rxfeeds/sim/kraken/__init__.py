"""Kraken simulators: WebSocket API v1 (:class:`KrakenSim`) and v2 (:class:`KrakenV2Sim`).

One venue, one package; each module holds one concern:

* ``v1``: the v1 protocol (:class:`KrakenSim`);
* ``v2``: the v2 protocol (:class:`KrakenV2Sim`, built on the v1 simulator).

``rxfeeds.sim.kraken:KrakenSim`` and ``rxfeeds.sim.kraken_v2:KrakenV2Sim`` (the names the venue
specs use) stay valid.

Example:
    >>> from rxfeeds.sim.kraken import KrakenSim, KrakenV2Sim
    >>> KrakenSim.version, KrakenV2Sim.venue
    ('1.9.2', 'kraken-v2')
"""

from __future__ import annotations

from .v1 import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    PAIR_RE,
    TOKEN_PATH,
    AccountOrder,
    BookView,
    KrakenSim,
    sign_request,
)
from .v2 import KrakenV2Sim

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "PAIR_RE",
    "TOKEN_PATH",
    "AccountOrder",
    "BookView",
    "KrakenSim",
    "KrakenV2Sim",
    "sign_request",
]
