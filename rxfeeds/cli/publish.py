"""``rxfeeds publish``: publish a venue channel's events to a message bus (NATS JetStream).

Run one publisher process per venue; any number of consumers read the events back with
``rxfeeds watch --bus``, ``rxfeeds replay --bus`` or :meth:`rxfeeds.bus.Bus.source`.  Subjects
are ``<prefix>.<venue>.<symbol>.<CHANNEL>``.  Counters go to stderr once a second; the exit
summary says how many events the broker acknowledged.

Example::

    rxfeeds publish kraken book XBT/USD ETH/USD --bus nats://127.0.0.1:4222
    rxfeeds publish hitbtc trades ETHBTC --bus nats://broker:4222 --url ws://127.0.0.1:8765 --duration 60
    rxfeeds publish kraken book XBT/USD --bus nats://127.0.0.1:4222 --raw   # and the wire frames
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import click

from ._channels import VenueChoice, channels_epilog, check_channel, make_client, open_channel

__all__ = ["command"]


@click.command("publish", epilog=channels_epilog())
@click.argument("venue", type=VenueChoice())
@click.argument("channel")
@click.argument("symbols", nargs=-1, required=True)
@click.option("--bus", "bus_url", required=True, help="Broker URL, e.g. nats://127.0.0.1:4222.")
@click.option("--url", help="Websocket URL (default: the venue's production endpoint).")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Stop after S seconds.")
@click.option("--stream", default="RXFEEDS", show_default=True, help="JetStream stream name.")
@click.option("--prefix", default="rxfeeds", show_default=True, help="Subject prefix.")
@click.option(
    "--overflow",
    type=click.Choice(["drop_oldest", "drop_newest", "error", "block"]),
    default="drop_oldest",
    show_default=True,
    help="What to do when the broker is slower than the feed.",
)
@click.option(
    "--raw",
    is_flag=True,
    help="Also publish the raw frames (stream <stream>_RAW, prefix <prefix>-raw), to re-decode history later.",
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the broker at start.",
)
def command(
    venue: str,
    channel: str,
    symbols: tuple[str, ...],
    bus_url: str,
    url: str | None,
    duration: float | None,
    stream: str,
    prefix: str,
    overflow: str,
    raw: bool,
    connect_timeout: float,
) -> None:
    """Publish CHANNEL of SYMBOL(s) on VENUE to the bus until Ctrl-C (or --duration)."""
    from ..bus import connect
    from ..errors import RxfeedsError
    from ..ops import publish

    check_channel(venue, channel)  # before the bus or a client exists: a trading call never gets one
    try:
        bus = connect(bus_url, stream=stream, prefix=prefix, connect_timeout=connect_timeout)
    except RxfeedsError as exc:
        click.echo(f"publish failed: {exc}", err=True)
        sys.exit(1)
    client = make_client(venue, url)
    raw_bus: Any = None
    tap: Any = None
    if raw:
        from ..bus import RawFrames

        try:
            raw_bus = connect(bus_url, stream=f"{stream}_RAW", prefix=f"{prefix}-raw", connect_timeout=connect_timeout)
        except RxfeedsError as exc:
            click.echo(f"publish failed: {exc}", err=True)
            bus.close()
            sys.exit(1)
        tap = RawFrames(raw_bus, venue).attach(client)
    op = publish(bus, channel=channel, overflow=overflow)
    failure: list[BaseException] = []
    done = threading.Event()

    def on_error(exc: Exception) -> None:
        failure.append(exc)
        done.set()

    subscription = open_channel(client, channel, symbols).pipe(op).subscribe(on_error=on_error, on_completed=done.set)
    started = time.monotonic()
    try:
        while not done.wait(1.0):
            s = op.stats()
            click.echo(
                f"{venue} {channel}: {s.published} events published in {s.messages} messages, "
                f"{s.pending} pending, {s.dropped} dropped",
                err=True,
            )
            if duration is not None and time.monotonic() - started >= duration:
                break
    except KeyboardInterrupt:
        pass
    finally:
        subscription.dispose()  # flushes: everything received is acknowledged (or counted dropped)
        client.close()
        bus.close()
        if tap is not None:
            tap.close()
            raw_bus.close()
    s = op.stats()
    click.echo(f"published {s.published} events ({s.messages} messages, {s.dropped} dropped) to {bus_url}", err=True)
    if failure:
        click.echo(f"publish failed: {failure[0]}", err=True)
        sys.exit(1)
