"""``rxfeeds record``: record a venue channel's frames (in and out) to a capture file.

The capture is rxfeeds JSON lines (gzip with a ``.gz`` name), replayable with
``rxfeeds replay`` and :func:`rxfeeds.replay`.

Example::

    rxfeeds record kraken trades XBT/USD ETH/USD -o trades.jsonl.gz --duration 60
    rxfeeds record kraken book XBT/USD -o book.jsonl --url ws://127.0.0.1:8765
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import click

from ..capture.recorder import Recorder
from ._channels import (
    CONNECT_TIMEOUT,
    VenueChoice,
    channels_epilog,
    check_channel,
    cli_error,
    connection_options,
    make_client,
    open_channel,
)
from ._connection import ConnectionView

__all__ = ["command"]


@click.command("record", epilog=channels_epilog())
@click.argument("venue", type=VenueChoice())
@click.argument("channel")
@click.argument("symbols", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True), help="Capture file.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Stop after S seconds.")
@click.option("--url", help="Websocket URL (default: the venue's production endpoint).")
@connection_options
def command(
    venue: str,
    channel: str,
    symbols: tuple[str, ...],
    output: str,
    duration: float | None,
    url: str | None,
    rest_url: str | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> None:
    """Record CHANNEL of SYMBOL(s) on VENUE to a capture file until Ctrl-C (or --duration)."""
    folder = Path(output).expanduser().resolve().parent
    if not folder.is_dir():
        raise cli_error(f"-o {output}: the folder {folder} does not exist; create it or choose another path", 2)
    check_channel(venue, channel)  # before any client exists: a trading call never gets one
    client = make_client(venue, url, rest_url=rest_url)
    events = 0
    failure: list[str] = []
    done = threading.Event()

    def on_next(_: object) -> None:
        nonlocal events
        events += 1

    def on_error(exc: Exception) -> None:
        failure.append(str(exc))
        done.set()

    observable = open_channel(client, channel, symbols)
    try:
        recorder = Recorder(output, venue=venue).attach(client)
    except OSError as exc:
        client.close()
        raise cli_error(f"-o {output}: cannot write it ({exc.strerror or exc}); choose another path") from None
    connection = ConnectionView(client)
    started = time.monotonic()
    subscription = observable.subscribe(on_next, on_error, done.set)
    show = sys.stderr.isatty()

    def stop_now() -> bool:
        elapsed = time.monotonic() - started
        problem = connection.never_connected(elapsed, connect_timeout)
        if problem is None:
            problem = connection.wrong_protocol(venue, elapsed, connect_timeout, events)
        if problem is not None:
            failure.append(problem)
            return True
        return duration is not None and elapsed >= duration

    try:
        if show:
            from rich.live import Live
            from rich.text import Text

            with Live(refresh_per_second=4, transient=True) as live:
                while not done.wait(0.25):
                    elapsed = time.monotonic() - started
                    live.update(
                        Text(
                            f"recording {venue} {channel}: {recorder.records} records, {events} events,"
                            f" {elapsed:.0f} s  [{connection.line()}]"
                        )
                    )
                    if stop_now():
                        break
        else:
            while not done.wait(0.25):
                if stop_now():
                    break
    except KeyboardInterrupt:
        pass
    finally:
        subscription.dispose()
        connection.dispose()
        client.close()
        recorder.close()
    click.echo(f"recorded {recorder.records} records ({events} events) to {output}", err=True)
    if failure:
        raise cli_error(f"record failed: {failure[0]}")
