"""Bybit v5 public market data: codec and the :class:`Bybit` / :class:`BybitLinear` clients.

Example:
    >>> from rxfeeds.venues.bybit import BybitCodec
    >>> BybitCodec().venue
    'bybit'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import Bybit, BybitLinear
    from .codec import BybitCodec, BybitLinearCodec

__all__ = ["Bybit", "BybitCodec", "BybitLinear", "BybitLinearCodec"]

# imported on first use: the venue registry reads this package's spec.py without loading the client
_LAZY = {"Bybit": "client", "BybitLinear": "client", "BybitCodec": "codec", "BybitLinearCodec": "codec"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rxfeeds.venues.bybit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
