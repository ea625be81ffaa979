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

import click

from ..capture.recorder import Recorder
from ..venues import VENUES
from ._channels import make_client, open_channel

__all__ = ["command"]


@click.command("record")
@click.argument("venue", type=click.Choice(list(VENUES)))
@click.argument("channel")
@click.argument("symbols", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True), help="Capture file.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Stop after S seconds.")
@click.option("--url", help="Websocket URL (default: the venue's production endpoint).")
def command(
    venue: str, channel: str, symbols: tuple[str, ...], output: str, duration: float | None, url: str | None
) -> None:
    """Record CHANNEL of SYMBOL(s) on VENUE to a capture file until Ctrl-C (or --duration)."""
    client = make_client(venue, url)
    events = 0
    failure: list[BaseException] = []
    done = threading.Event()

    def on_next(_: object) -> None:
        nonlocal events
        events += 1

    def on_error(exc: Exception) -> None:
        failure.append(exc)
        done.set()

    observable = open_channel(client, channel, symbols)
    recorder = Recorder(output, venue=venue).attach(client)
    started = time.monotonic()
    subscription = observable.subscribe(on_next, on_error, done.set)
    show = sys.stderr.isatty()
    try:
        if show:
            from rich.live import Live
            from rich.text import Text

            with Live(refresh_per_second=4, transient=True) as live:
                while not done.wait(0.25):
                    elapsed = time.monotonic() - started
                    live.update(
                        Text(
                            f"recording {venue} {channel}: {recorder.records} records, {events} events, {elapsed:.0f} s"
                        )
                    )
                    if duration is not None and elapsed >= duration:
                        break
        else:
            done.wait(duration)
    except KeyboardInterrupt:
        pass
    finally:
        subscription.dispose()
        client.close()
        recorder.close()
    click.echo(f"recorded {recorder.records} records ({events} events) to {output}", err=True)
    if failure:
        click.echo(f"record failed: {failure[0]}", err=True)
        sys.exit(1)
