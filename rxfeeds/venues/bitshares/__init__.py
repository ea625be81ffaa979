"""BitShares (graphene) node notifications: codec, events and the :class:`BitShares` client.

Example::

    import rxfeeds
    bts = rxfeeds.BitShares(["wss://node-a", "wss://node-b"])
    bts.blocks().subscribe(lambda b: print(b.block_num))
"""

from __future__ import annotations

from .codec import (
    AccountUpdate,
    BitSharesCodec,
    BitSharesRPCError,
    BlockApplied,
    CallOrderUpdate,
    ObjectUpdate,
    OrderFill,
    PendingTransaction,
)

__all__ = [
    "AccountUpdate",
    "BitSharesCodec",
    "BitSharesRPCError",
    "BlockApplied",
    "CallOrderUpdate",
    "ObjectUpdate",
    "OrderFill",
    "PendingTransaction",
]
