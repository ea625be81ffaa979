"""Resolve ``VENUE CHANNEL SYMBOL...`` command-line arguments into a client Observable."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import click
import reactivex

from ..errors import InvalidArgument
from ..venues import client_class
from ..venues.base import VenueClient

__all__ = ["make_client", "channel_names", "open_channel"]

_NOT_CHANNELS = {"close", "health", "add_tap", "http_get", "connections", "state", "errors", "notices"}


def make_client(venue: str, url: str | None) -> Any:
    """The venue's client, pointed at ``url`` when given."""
    cls = client_class(venue)
    return cls(url=url) if url else cls()


def channel_names(client: Any) -> list[str]:
    """Public methods of the client's class that take symbols (the subscribable channels)."""
    names = []
    for name, member in inspect.getmembers(type(client), inspect.isfunction):
        if name.startswith("_") or name in _NOT_CHANNELS or hasattr(VenueClient, name):
            continue
        params = list(inspect.signature(member).parameters.values())[1:]
        if params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
            names.append(name)
    return sorted(names)


def open_channel(client: Any, channel: str, symbols: Sequence[str]) -> reactivex.Observable[Any]:
    """``client.<channel>(symbols)``: one call with the list, or one call per symbol merged.

    Raises:
        click.BadParameter: unknown channel (the message lists the client's channels).
    """
    if channel not in channel_names(client):
        choices = ", ".join(channel_names(client))
        raise click.BadParameter(
            f"{channel!r} is not a channel of {type(client).__name__}; choose one of {choices}",
            param_hint="CHANNEL",
        )
    method = getattr(client, channel)
    if len(symbols) == 1:
        result: reactivex.Observable[Any] = method(symbols[0])
        return result
    try:
        result = method(list(symbols))
        return result
    except (TypeError, InvalidArgument):
        return reactivex.merge(*[method(s) for s in symbols])
