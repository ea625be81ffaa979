"""BitShares node simulator (:class:`BitSharesSim`).

One venue, one package; each module holds one concern:

* ``api``: the node's JSON-RPC APIs (login, database, network broadcast, history).

``rxfeeds.sim.bitshares:BitSharesSim`` (the name the venue spec uses) stays valid.

Example:
    >>> from rxfeeds.sim.bitshares import CHAIN_ID, BitSharesSim
    >>> BitSharesSim.venue, len(CHAIN_ID)
    ('bitshares', 64)
"""

from __future__ import annotations

from .api import CHAIN_ID, BitSharesSim, RpcFailure

__all__ = ["CHAIN_ID", "BitSharesSim", "RpcFailure"]
