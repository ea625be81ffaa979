"""BitShares protocol numbers shared by the codec modules (and usable by a simulator).

The callback ids are whatever the client passes where the node expects a callback; the codec
picks one per slot, like python-bitshares (``on_tx`` = 0, ``on_object`` = 1, ``on_block`` = 2),
and one per market from :data:`FIRST_MARKET_CALLBACK` up.

Example:
    >>> (LOGIN_API, DATABASE_API, BLOCK_CALLBACK)
    (1, 0, 2)
"""

from __future__ import annotations

__all__ = [
    "BLOCK_CALLBACK",
    "DATABASE_API",
    "FIRST_MARKET_CALLBACK",
    "LOGIN_API",
    "OBJECT_CALLBACK",
    "SNAPSHOT_LIMIT",
    "TX_CALLBACK",
    "USER_IDS",
    "VENUE",
]

VENUE = "bitshares"
TX_CALLBACK = 0
OBJECT_CALLBACK = 1
BLOCK_CALLBACK = 2
FIRST_MARKET_CALLBACK = 4
LOGIN_API = 1
#: first id of user calls and keep-alives (session and subscription calls count from 1 per connection)
USER_IDS = 1_000_000
DATABASE_API = 0
#: ``get_limit_orders`` node limit (``api_limit_get_limit_orders``): the market's first image.
SNAPSHOT_LIMIT = 300
