"""Resolve ``VENUE CHANNEL SYMBOL...`` command-line arguments into a client Observable."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import click
import reactivex

from ..venues import VENUES, client_class
from ..venues.registry import spec, specs

__all__ = [
    "CONNECT_TIMEOUT",
    "VenueChoice",
    "channel_names",
    "channels_epilog",
    "check_channel",
    "cli_error",
    "connection_options",
    "make_client",
    "open_channel",
]


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


class VenueChoice(click.ParamType[str]):
    """A command-line venue name, checked against the registry when the command runs (so venues
    registered by entry points or in-process appear too)."""

    name = "venue"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        names = list(VENUES)
        if value not in names:
            self.fail(f"{value!r} is not a venue; choose one of {', '.join(names)}", param, ctx)
        return str(value)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        # the names are listed by the error and the help's epilog; a metavar listing all twelve
        # made every mistake's message repeat them ("Invalid value for '[binance-dex|...]'")
        return "VENUE"


def channels_epilog() -> str:
    """Help text listing every registered venue's channels (from the specs), for ``--help``."""
    lines = ["\b", "Channels by venue (rxfeeds venues shows more):"]
    lines += [f"  {name:<13} {' '.join(v.channel_names())}" for name, v in specs().items()]
    return "\n".join(lines)


def _venue_of(client: Any, venue: str | None) -> str:
    return venue if venue is not None else str(getattr(client, "venue", ""))


def channel_names(client: Any, venue: str | None = None, *, aliases: bool = False) -> list[str]:
    """The declared streaming channels of the client's venue (its spec's channel map).

    Requests and trading calls are never channels, whatever their signature.
    """
    return spec(_venue_of(client, venue)).channel_names(aliases=aliases)


def check_channel(venue: str, channel: str) -> None:
    """A one-line usage error (exit 2) unless ``channel`` is a declared channel of ``venue``."""
    declared = spec(venue)
    try:
        declared.channel(channel)
    except KeyError:
        choices = ", ".join(c.name + (f" (or {', '.join(c.aliases)})" if c.aliases else "") for c in declared.channels)
        kind = "a trading call" if channel in declared.trading else "a request" if channel in declared.requests else ""
        why = f" ({kind}, never opened from the command line)" if kind else ""
        raise cli_error(f"CHANNEL {channel!r} is not a channel of {venue}{why}; choose one of {choices}", 2) from None


def open_channel(
    client: Any, channel: str, symbols: Sequence[str], venue: str | None = None
) -> reactivex.Observable[Any]:
    """``client.<channel>(symbols)``: one call, with the symbol or the list of them.

    ``channel`` must be declared in the venue's channel map (``venue`` defaults to the client's).

    Raises:
        click.ClickException: unknown channel (exit 2; the message lists the venue's channels).
    """
    check_channel(_venue_of(client, venue), channel)
    # every declared channel takes one symbol or a list (rxfeeds.venues.symbols.one_or_many)
    result: reactivex.Observable[Any] = getattr(client, channel)(symbols[0] if len(symbols) == 1 else list(symbols))
    return result
