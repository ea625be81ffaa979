"""Venue registry: command-line names to client classes.

Each venue lives in its own folder (``rxfeeds/venues/<venue>/`` with ``codec.py`` and
``client.py``); this table is the only place that names them all, and it imports lazily so a
broken or heavy venue never slows down the others.

Example:
    >>> from rxfeeds.venues import VENUES
    >>> "kraken" in VENUES
    True
"""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import InvalidArgument

__all__ = ["VENUES", "CODECS", "client_class", "codec_class", "load", "lookup"]

#: command-line venue name -> "module:Class"
VENUES: dict[str, str] = {
    "kraken": "rxfeeds.venues.kraken.client:Kraken",
    "kraken-v2": "rxfeeds.venues.kraken.client_v2:KrakenV2",
    "hitbtc": "rxfeeds.venues.hitbtc.client:HitBTC",
    "hitbtc-v3": "rxfeeds.venues.hitbtc.client_v3:HitBTCV3",
    "binance-dex": "rxfeeds.venues.binance_dex.client:BinanceDex",
    "binance-spot": "rxfeeds.venues.binance_spot.client:BinanceSpot",
    "bitshares": "rxfeeds.venues.bitshares.client:BitShares",
    "midchains": "rxfeeds.venues.midchains.client:Midchains",
}


#: command-line venue name -> "module:Class" of its sans-I/O codec (replay tools decode with it)
CODECS: dict[str, str] = {
    "kraken": "rxfeeds.venues.kraken.codec:KrakenCodec",
    "kraken-v2": "rxfeeds.venues.kraken.codec_v2:KrakenV2Codec",
    "hitbtc": "rxfeeds.venues.hitbtc.codec:HitBTCCodec",
    "hitbtc-v3": "rxfeeds.venues.hitbtc.codec_v3:HitBTCV3Codec",
    "binance-dex": "rxfeeds.venues.binance_dex.codec:BinanceDexCodec",
    "binance-spot": "rxfeeds.venues.binance_spot.codec:BinanceSpotCodec",
    "bitshares": "rxfeeds.venues.bitshares.codec:BitSharesCodec",
    "midchains": "rxfeeds.venues.midchains.codec:MidchainsCodec",
}


def load(spec: str) -> Any:
    """Import ``"module:attr"`` and return the attribute."""
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def lookup(table: dict[str, str], venue: str) -> Any:
    """Import the entry of ``table`` for the command-line venue name ``venue``.

    Raises:
        InvalidArgument: for an unknown venue name.
    """
    try:
        spec = table[venue]
    except KeyError:
        raise InvalidArgument("venue", venue, f"unknown venue; choose one of {', '.join(table)}") from None
    return load(spec)


def client_class(venue: str) -> Any:
    """The client class for a command-line venue name (InvalidArgument when unknown)."""
    return lookup(VENUES, venue)


def codec_class(venue: str) -> Any:
    """The codec class for a command-line venue name (InvalidArgument when unknown)."""
    return lookup(CODECS, venue)
