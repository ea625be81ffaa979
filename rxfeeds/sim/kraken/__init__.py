"""Kraken simulators: WebSocket API v1 (:class:`KrakenSim`) and v2 (:class:`KrakenV2Sim`).

One venue, one package; each module holds one concern:

* ``_base``: the state and helpers every part shares (venue-private);
* ``book``: the public book feed (sent views, update frames, CRC32 checksums);
* ``account``: the simulated account (orders, fills, cancel-all timer, private pushes);
* ``rest``: the REST endpoints (assets, pairs, websocket token);
* ``v1``: the v1 protocol (:class:`KrakenSim`: messages, subscriptions, wire formats, order entry);
* ``v2_frames``: the v2 data frames (book, trade, ticker, ohlc, private pushes);
* ``v2``: the v2 protocol (:class:`KrakenV2Sim`, built on the v1 simulator and the v2 frames).

``rxfeeds.sim.kraken:KrakenSim`` and ``rxfeeds.sim.kraken_v2:KrakenV2Sim`` (the names the venue
specs use) stay valid.

Example:
    >>> from rxfeeds.sim.kraken import KrakenSim, KrakenV2Sim
    >>> KrakenSim.version, KrakenV2Sim.venue
    ('1.9.2', 'kraken-v2')
"""

from __future__ import annotations

from ._base import DEFAULT_API_KEY, DEFAULT_API_SECRET, PAIR_RE, TOKEN_PATH, AccountOrder, BookView
from .rest import sign_request
from .v1 import KrakenSim
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
