"""BitShares node simulator (:class:`BitSharesSim`).

One venue, one package; each module holds one concern:

* ``_base``: the object store, assets and accounts every part shares (venue-private);
* ``markets``: the order-level markets (books, call orders, fills);
* ``blocks``: one block per tick (pending transaction, object and block notices);
* ``api``: the node's JSON-RPC APIs (:class:`BitSharesSim`: login, database, broadcast, history).

``rxfeeds.sim.bitshares:BitSharesSim`` (the name the venue spec uses) stays valid.

Example:
    >>> from rxfeeds.sim.bitshares import CHAIN_ID, BitSharesSim
    >>> BitSharesSim.venue, len(CHAIN_ID)
    ('bitshares', 64)
"""

from __future__ import annotations

from ._base import CHAIN_ID, RpcFailure
from .api import BitSharesSim

__all__ = ["CHAIN_ID", "BitSharesSim", "RpcFailure"]
