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

__all__ = ["CONNECT_TIMEOUT", "cli_error", "connection_options", "make_client", "channel_names", "open_channel"]


def cli_error(message: str, exit_code: int = 1) -> click.ClickException:
    """A one-line ``Error: message`` ending the command with ``exit_code``."""
    # a subclass per call: click declares exit_code on the class
    error_type = type("CliError", (click.ClickException,), {"exit_code": exit_code})
    error: click.ClickException = error_type(message)
    return error


#: seconds ``watch`` / ``record`` wait for a first open connection before failing
CONNECT_TIMEOUT = 15.0


def connection_options(command: Any) -> Any:
    """``--rest-url`` and ``--connect-timeout``, shared by ``watch`` and ``record``."""
    command = click.option(
        "--connect-timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=CONNECT_TIMEOUT,
        show_default=True,
        help="Fail (exit 1) when no connection opened within S seconds.",
    )(command)
    return click.option(
        "--rest-url",
        help="REST base URL (binance-spot, hitbtc-v3 snapshots), e.g. the REST address `rxfeeds sim` prints.",
    )(command)


_NOT_CHANNELS = {"close", "health", "add_tap", "http_get", "connections", "state", "errors", "notices"}


def make_client(venue: str, url: str | None, rest_url: str | None = None) -> Any:
    """The venue's client, pointed at ``url`` (and ``rest_url``) when given.

    Raises:
        click.ClickException: ``rest_url`` for a venue whose client has no REST endpoint.
    """
    cls = client_class(venue)
    kwargs: dict[str, Any] = {}
    if url:
        kwargs["url"] = url
    if rest_url:
        if "rest_url" not in inspect.signature(cls).parameters:
            raise cli_error(f"--rest-url: {venue} takes no REST URL (only its websocket --url); drop --rest-url", 2)
        kwargs["rest_url"] = rest_url
    return cls(**kwargs)


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
        click.ClickException: unknown channel (exit 2; the message lists the client's channels).
    """
    if channel not in channel_names(client):
        choices = ", ".join(channel_names(client))
        raise cli_error(f"CHANNEL {channel!r} is not a channel of {type(client).__name__}; choose one of {choices}", 2)
    method = getattr(client, channel)
    if len(symbols) == 1:
        result: reactivex.Observable[Any] = method(symbols[0])
        return result
    try:
        result = method(list(symbols))
        return result
    except (TypeError, InvalidArgument):
        return reactivex.merge(*[method(s) for s in symbols])
