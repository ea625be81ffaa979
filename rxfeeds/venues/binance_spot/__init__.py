"""Binance spot: combined-stream codec, REST depth client and the :class:`BinanceSpot` client.

Example:
    >>> from rxfeeds.venues.binance_spot import BinanceSpotCodec
    >>> BinanceSpotCodec().venue
    'binance-spot'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import BinanceSpot
    from .codec import BinanceSpotCodec, decode_depth_snapshot
    from .rest import DepthClient

__all__ = ["BinanceSpot", "BinanceSpotCodec", "DepthClient", "decode_depth_snapshot"]

# imported on first use: the venue registry reads this package's spec.py without loading the client
_LAZY = {
    "BinanceSpot": "client",
    "BinanceSpotCodec": "codec",
    "decode_depth_snapshot": "codec",
    "DepthClient": "rest",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rxfeeds.venues.binance_spot' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
