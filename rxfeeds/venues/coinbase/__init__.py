"""Coinbase Advanced Trade market data: the sans-I/O codec and the :class:`Coinbase` client.

Example:
    >>> from rxfeeds.venues.coinbase import CoinbaseCodec
    >>> CoinbaseCodec().venue
    'coinbase'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import Coinbase
    from .codec import CoinbaseCodec

__all__ = ["Coinbase", "CoinbaseCodec"]

# imported on first use: the venue registry reads this package's spec.py without loading the client
_LAZY = {"Coinbase": "client", "CoinbaseCodec": "codec"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rxfeeds.venues.coinbase' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
