"""Binance spot: combined-stream codec, REST depth client and the :class:`BinanceSpot` client.

Example:
    >>> from rxfeeds.venues.binance_spot import BinanceSpotCodec
    >>> BinanceSpotCodec().venue
    'binance-spot'
"""

from __future__ import annotations

from .codec import BinanceSpotCodec, decode_depth_snapshot

__all__ = ["BinanceSpotCodec", "decode_depth_snapshot"]
