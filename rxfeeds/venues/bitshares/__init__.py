"""BitShares (graphene) node notifications: codec, events and the :class:`BitShares` client.

Example::

    import rxfeeds
    bts = rxfeeds.BitShares(["wss://node-a", "wss://node-b"])
    bts.blocks().subscribe(lambda b: print(b.block_num))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# imported on first use: the venue registry reads this package's spec.py without loading the client
_LAZY = {
    "AccountUpdate": "codec",
    "BitSharesCodec": "codec",
    "BitSharesRPCError": "codec",
    "BlockApplied": "codec",
    "CallOrderUpdate": "codec",
    "ObjectUpdate": "codec",
    "OrderFill": "codec",
    "PendingTransaction": "codec",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rxfeeds.venues.bitshares' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
