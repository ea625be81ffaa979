"""Binance spot: combined-stream codec, REST depth client and the :class:`BinanceSpot` client.

Example:
    >>> from rxfeeds.venues.binance_spot import BinanceSpotCodec
    >>> BinanceSpotCodec().venue
    'binance-spot'
"""

from __future__ import annotations

from .client import BinanceSpot
from .codec import BinanceSpotCodec, decode_depth_snapshot
from .rest import DepthClient

__all__ = ["BinanceSpot", "BinanceSpotCodec", "DepthClient", "decode_depth_snapshot"]
