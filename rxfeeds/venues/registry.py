"""The one venue registry, built from the venue specs.

Built-in venues are found by folder: every package ``rxfeeds/venues/<venue>/`` with a ``spec.py``
defining ``SPECS`` (a tuple of :class:`~rxfeeds.venues.spec.VenueSpec`).  Third-party packages add
venues with no edit to rxfeeds through the entry-point group ``rxfeeds.venues``; each entry point
names a ``VenueSpec`` or an iterable of them::

    # the third party's pyproject.toml
    [project.entry-points."rxfeeds.venues"]
    myvenue = "myvenue.spec:SPEC"

:func:`register` adds one in-process (tests, notebooks).  Every other table (``VENUES``,
``CODECS``, ``SIMULATORS``, the top-level exports, CLI choices) is derived from :func:`specs`.

Example:
    >>> from rxfeeds.venues.registry import spec
    >>> spec("kraken").client
    'rxfeeds.venues.kraken.client:Kraken'
    >>> spec("kraken").channel("ohlc").name
    'klines'
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import pkgutil
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from ..errors import InvalidArgument
from ..events import set_instrument_resolver
from .spec import VenueSpec

__all__ = ["ENTRY_POINT_GROUP", "load_entry_points", "register", "resolve", "spec", "specs", "unregister"]

ENTRY_POINT_GROUP = "rxfeeds.venues"

_log = logging.getLogger(__name__)

#: name -> spec (primary names only), in registration order
_SPECS: dict[str, VenueSpec] = {}
#: every command-line name (primary and aliases) -> primary name
_NAMES: dict[str, str] = {}
_listeners: list[Any] = []


def _builtin_specs() -> list[VenueSpec]:
    found: list[VenueSpec] = []
    here = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda i: i.name):
        if not info.ispkg or not (here / info.name / "spec.py").is_file():
            continue
        module = importlib.import_module(f"{__package__}.{info.name}.spec")
        found.extend(module.SPECS)
    return found


def register(venue: VenueSpec, *, replace: bool = False) -> VenueSpec:
    """Add ``venue`` to the registry (derived tables follow); returns it.

    Raises:
        ValueError: one of its names is taken (unless ``replace``).

    Example:
        >>> from rxfeeds.venues.spec import Channel, VenueSpec
        >>> toy = VenueSpec("toy-doc", "m:C", "m:Codec", None, "retired", (Channel("trades", ("Trade",)),), "AB")
        >>> register(toy).name in specs()
        True
        >>> unregister("toy-doc")
    """
    if not isinstance(venue, VenueSpec):
        raise TypeError(f"register() takes a VenueSpec, not {type(venue).__name__}")
    names = (venue.name, *venue.aliases)
    taken = [n for n in names if n in _NAMES and _NAMES[n] != venue.name]
    if (taken or venue.name in _SPECS) and not replace:
        raise ValueError(f"venue name(s) already registered: {', '.join(taken or [venue.name])}")
    if venue.name in _SPECS:
        unregister(venue.name)
    _SPECS[venue.name] = venue
    for n in names:
        _NAMES[n] = venue.name
    for listener in _listeners:
        listener()
    return venue


def unregister(name: str) -> None:
    """Remove the venue ``name`` (and its aliases) from the registry; no error when absent."""
    venue = _SPECS.pop(name, None)
    if venue is None:
        return
    for n in (venue.name, *venue.aliases):
        _NAMES.pop(n, None)
    for listener in _listeners:
        listener()


def on_change(listener: Any) -> None:
    """Call ``listener()`` after every registration change (derived tables rebuild themselves)."""
    _listeners.append(listener)


def _as_specs(value: Any) -> Iterable[VenueSpec]:
    if isinstance(value, VenueSpec):
        return [value]
    return list(value)


def load_entry_points(group: str = ENTRY_POINT_GROUP) -> list[str]:
    """Register the venues of every installed package's ``group`` entry points; returns their names.

    An entry point that fails to load (or names no ``VenueSpec``) is logged and skipped: a broken
    plug-in never breaks the built-in venues.
    """
    added: list[str] = []
    for ep in entry_points(group=group):
        try:
            for venue in _as_specs(ep.load()):
                if venue.name in _SPECS and _SPECS[venue.name] == venue:
                    continue
                register(venue)
                added.append(venue.name)
        except Exception as exc:  # a third party's bug must not stop rxfeeds from starting
            _log.warning("rxfeeds: venue entry point %s = %s skipped: %s", ep.name, ep.value, exc)
    return added


def specs() -> dict[str, VenueSpec]:
    """Every registered venue by primary name (a copy)."""
    return dict(_SPECS)


def resolve(name: str) -> str:
    """The primary name of the command-line venue name ``name`` (InvalidArgument when unknown)."""
    try:
        return _NAMES[name]
    except KeyError:
        raise InvalidArgument("venue", name, f"unknown venue; choose one of {', '.join(_SPECS)}") from None


def spec(name: str) -> VenueSpec:
    """The spec of the command-line venue name ``name`` (InvalidArgument when unknown)."""
    return _SPECS[resolve(name)]


def _instrument(venue: str, symbol: str) -> str | None:
    # installed into rxfeeds.events (Event.instrument): the venue's declared notation, read backwards
    name = _NAMES.get(venue)
    if name is None:
        return None
    try:
        return _SPECS[name].symbol_notation.from_venue(symbol)
    except Exception:  # a third party's notation must never break an event's attribute access
        return None


def _reinstall_resolver() -> None:
    set_instrument_resolver(_instrument)  # also clears the instruments resolved before the change


on_change(_reinstall_resolver)
_reinstall_resolver()

for _builtin in _builtin_specs():
    register(_builtin)
load_entry_points()
