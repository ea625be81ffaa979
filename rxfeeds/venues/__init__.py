"""Venue tables: command-line names to client and codec classes.

Each venue lives in its own folder (``rxfeeds/venues/<venue>/`` with ``spec.py``, ``codec.py``
and ``client.py``).  The tables here are derived from the venue specs
(:mod:`rxfeeds.venues.registry`, which also loads third-party venues from the ``rxfeeds.venues``
entry-point group); classes are imported lazily so a broken or heavy venue never slows down the
others.

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

#: command-line venue name -> "module:Class" of its client (derived from the specs)
VENUES: dict[str, str] = {}

#: command-line venue name -> "module:Class" of its sans-I/O codec (replay tools decode with it)
CODECS: dict[str, str] = {}


def _derive() -> None:
    # rebuilt in place, so modules that imported the dicts see registrations made later
    from .registry import specs

    VENUES.clear()
    CODECS.clear()
    for venue in specs().values():
        for name in (venue.name, *venue.aliases):
            VENUES[name] = venue.client
            CODECS[name] = venue.codec


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


def _install() -> None:
    from . import registry

    registry.on_change(_derive)
    _derive()


_install()
