"""Kraken spot websocket: API v1 (:class:`Kraken`) and API v2 (:class:`KrakenV2`).

Codecs (``codec``, ``codec_v2``) are pure; clients are imported lazily.

Example::

    from rxfeeds.venues.kraken import Kraken
    with Kraken() as kraken:
        kraken.trades(["XBT/USD", "ETH/USD"]).subscribe(print)
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Kraken", "KrakenV2", "KrakenCodec", "KrakenV2Codec", "KrakenToken", "get_websockets_token"]

_LAZY = {
    "Kraken": "client",
    "KrakenV2": "client_v2",
    "KrakenCodec": "codec",
    "KrakenV2Codec": "codec_v2",
    "get_websockets_token": "auth",
    "KrakenToken": "auth",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rxfeeds.venues.kraken' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
