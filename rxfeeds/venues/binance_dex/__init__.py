"""Binance DEX (Binance Chain, shut down in December 2024): codec and the ``BinanceDex`` client.

Example:
    >>> from rxfeeds.venues.binance_dex import BinanceDexCodec
    >>> BinanceDexCodec().venue
    'binance-dex'
"""

from __future__ import annotations

from .client import BinanceDex
from .codec import BinanceDexCodec, BlockHeight, DexAccount, DexOrderUpdate, DexTransfer

__all__ = ["BinanceDex", "BinanceDexCodec", "BlockHeight", "DexAccount", "DexOrderUpdate", "DexTransfer"]
