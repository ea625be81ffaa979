"""Binance DEX (Binance Chain, shut down in December 2024): codec and the ``BinanceDex`` client.

Example:
    >>> from rxfeeds.venues.binance_dex import BinanceDexCodec
    >>> BinanceDexCodec().venue
    'binance-dex'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import BinanceDex
    from .codec import BinanceDexCodec, BlockHeight, DexAccount, DexOrderUpdate, DexTransfer

__all__ = ["BinanceDex", "BinanceDexCodec", "BlockHeight", "DexAccount", "DexOrderUpdate", "DexTransfer"]

# imported on first use: the venue registry reads this package's spec.py without loading the client
_LAZY = {
    "BinanceDex": "client",
    "BinanceDexCodec": "codec",
    "BlockHeight": "codec",
    "DexAccount": "codec",
    "DexOrderUpdate": "codec",
    "DexTransfer": "codec",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rxfeeds.venues.binance_dex' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
