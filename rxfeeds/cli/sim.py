"""``rxfeeds sim VENUE``: serve one simulated venue on 127.0.0.1 until interrupted.

VENUE is a command-line venue name (``rxfeeds sim kraken``) or, for your own simulator,
``module:Class`` naming a :class:`~rxfeeds.sim.server.SimServer` subclass.  The first lines
printed are the websocket and REST URLs, so scripts can read them.

Exit codes: 0 after Ctrl-C / SIGTERM / ``--duration``; 1 when the simulator cannot run
(not written yet, port in use); 2 for an unknown venue.

Example::

    $ rxfeeds sim kraken --port 8765 --seed 7
    kraken simulator: ws://127.0.0.1:8765/
    REST: http://127.0.0.1:40117
    seed 7, tick 0.1 s; Ctrl-C to stop
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType
from typing import Any

import click

from ..errors import InvalidArgument
from ..sim import SIMULATORS, simulator_class
from ..venues import load

__all__ = ["command", "resolve_simulator"]


def resolve_simulator(venue: str) -> Any:
    """The simulator class for VENUE, or a click error with the right exit code.

    Raises:
        click.UsageError: unknown venue (exit 2).
        click.ClickException: the venue's simulator does not exist (yet) (exit 1).
    """
    if ":" in venue:
        spec = venue
    else:
        try:
            return simulator_class(venue)
        except InvalidArgument:
            raise click.UsageError(f"unknown venue {venue!r}; choose one of: {', '.join(SIMULATORS)}") from None
        except (ImportError, AttributeError) as exc:
            spec = SIMULATORS[venue]
            module = spec.partition(":")[0]
            if isinstance(exc, ModuleNotFoundError) and exc.name != module:
                raise click.ClickException(f"the {venue} simulator cannot be imported: {exc}") from None
            raise click.ClickException(f"the {venue} simulator is not available yet ({spec} does not exist)") from None
    try:
        return load(spec)
    except (ImportError, AttributeError, ValueError) as exc:
        raise click.ClickException(f"cannot load simulator {spec!r}: {exc}") from None


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


@click.command("sim")
@click.argument("venue")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 = any free port.")
@click.option("--seed", type=int, default=0, show_default=True, help="Market seed (same seed, same market).")
@click.option(
    "--tick-interval",
    type=click.FloatRange(min=0.001),
    default=0.1,
    show_default=True,
    help="Seconds between market steps.",
)
@click.option("--symbol", "symbols", multiple=True, help="Create this market up front (repeatable).")
@click.option("--duration", type=click.FloatRange(min=0), default=None, help="Stop after this many seconds.")
def command(
    venue: str, port: int, seed: int, tick_interval: float, symbols: tuple[str, ...], duration: float | None
) -> None:
    """Serve a simulated VENUE on 127.0.0.1 until interrupted (Ctrl-C).

    VENUE is a venue name (kraken, hitbtc, binance-spot, ...) or module:Class.
    """
    cls = resolve_simulator(venue)
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_stop) if on_main_thread else None
    server: Any = None
    try:
        try:
            server = cls(port=port, seed=seed, tick_interval=tick_interval, symbols=list(symbols))
            server.start()
        except OSError as exc:
            server = None
            raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
        name = getattr(cls, "venue", venue)
        click.echo(f"{name} simulator: {server.url}")
        click.echo(f"REST: {server.http_url}")
        click.echo(f"seed {seed}, tick {tick_interval:g} s; Ctrl-C to stop")
        deadline = None if duration is None else time.monotonic() + duration
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.5 if deadline is None else min(0.5, max(0.0, deadline - time.monotonic())))
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)
        if server is not None:
            server.stop()
    click.echo("stopped")
