"""Venue simulators: real websocket servers on 127.0.0.1 speaking each venue's protocol.

Example:
    >>> from rxfeeds.sim import SIMULATORS
    >>> sorted(SIMULATORS)[:2]
    ['binance-dex', 'binance-spot']
"""

from __future__ import annotations

from typing import Any

from ..venues import lookup

__all__ = ["SIMULATORS", "simulator_class"]

#: command-line venue name -> "module:Class" (derived from the venue specs; rebuilt in place)
SIMULATORS: dict[str, str] = {}


def _derive() -> None:
    from ..venues.registry import specs

    SIMULATORS.clear()
    for venue in specs().values():
        if venue.simulator is not None:
            for name in (venue.name, *venue.aliases):
                SIMULATORS[name] = venue.simulator


def _install() -> None:
    from ..venues import registry

    registry.on_change(_derive)
    _derive()


_install()


def simulator_class(venue: str) -> Any:
    """The simulator class for a command-line venue name (InvalidArgument when unknown)."""
    return lookup(SIMULATORS, venue)
