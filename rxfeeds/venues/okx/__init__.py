"""OKX v5 public websocket (:class:`OKX`): books, trades, tickers, candles of every instrument type.

The codec is pure; the client is imported lazily.  Importing the package registers OKX's book
checksum with the order book (:mod:`rxfeeds.venues.okx.checksum`).

Example::

    from rxfeeds.venues.okx import OKX
    with OKX() as okx:
        okx.trades(["BTC-USDT", "BTC-USDT-SWAP"]).subscribe(print)
"""

from __future__ import annotations

import importlib
from typing import Any

from . import checksum as _checksum  # registers the scheme

__all__ = ["OKX", "OKXCodec"]

_LAZY = {"OKX": "client", "OKXCodec": "codec"}
assert _checksum


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rxfeeds.venues.okx' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
