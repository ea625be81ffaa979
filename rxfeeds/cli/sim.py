"""``rxfeeds sim VENUE``: serve one simulated venue on 127.0.0.1 until interrupted.

VENUE is a command-line venue name (``rxfeeds sim kraken``) or, for your own simulator,
``module:Class`` naming a :class:`~rxfeeds.sim.server.SimServer` subclass.  The first lines
printed are the websocket and REST URLs, so scripts can read them.

Exit codes: 0 after Ctrl-C / SIGTERM / ``--duration``; 1 when the simulator cannot run
(not written yet, port in use); 2 for an unknown venue.

Fault options inject :mod:`rxfeeds.sim.faults` at a fixed period, each announced on its own
line (``fault: ...``), so a client can be watched healing: ``--drop-every S`` (close every
connection), ``--stall-every S`` with ``--stall-for S`` (stop sending), ``--garbage-every S``
(a frame that is not the venue's protocol), ``--skip-sequence-every S`` (a sequence gap in
every book), ``--bad-checksum-every S`` (a wrong checksum in every book: Kraken, Kraken v2, OKX;
refused for a venue whose books carry no checksum, where it would silently do nothing).

Example::

    $ rxfeeds sim kraken --port 8765 --seed 7
    kraken simulator: ws://127.0.0.1:8765/
    REST: http://127.0.0.1:40117
    seed 7, tick 0.1 s; Ctrl-C to stop
    $ rxfeeds sim binance-spot --drop-every 30 --skip-sequence-every 10
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


def _check_faults(venue: str, bad_checksum_every: float | None) -> None:
    """A usage error (exit 2) for a fault the venue's books cannot show."""
    from ..venues.registry import specs

    if bad_checksum_every is None or ":" in venue:
        return
    registered = specs()
    own = registered.get(venue) or next((v for v in registered.values() if venue in v.aliases), None)
    if own is None or any(c.book == "checksum" for c in own.channels):
        return
    with_checksums = ", ".join(v.name for v in registered.values() if any(c.book == "checksum" for c in v.channels))
    rule = next((c.book for c in own.channels if c.book), "no book")
    raise click.UsageError(
        f"--bad-checksum-every: {venue} books carry no checksum (their sync rule: {rule}); "
        f"use --skip-sequence-every, or a venue with checksums: {with_checksums}"
    )


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


#: fault option -> what it does to a running server (returns the line announcing it)
GARBAGE = "rxfeeds-sim: this frame is not the venue's protocol {"


def _drop(server: Any, stall_for: float) -> str:
    return f"fault: dropped {server.faults.close_all(1001, 'rxfeeds sim --drop-every')} connection(s)"


def _stall(server: Any, stall_for: float) -> str:
    server.faults.stall(stall_for)
    return f"fault: stalled for {stall_for:g} s"


def _garbage(server: Any, stall_for: float) -> str:
    return f"fault: sent a garbage frame to {server.faults.send_malformed(GARBAGE)} connection(s)"


def _skip_sequence(server: Any, stall_for: float) -> str:
    symbols = sorted(server.markets)
    for symbol in symbols:
        server.faults.skip_sequence(symbol)
    return f"fault: sequence skip armed for {', '.join(symbols) or 'no market yet'}"


def _bad_checksum(server: Any, stall_for: float) -> str:
    symbols = sorted(server.markets)
    for symbol in symbols:
        server.faults.corrupt_checksum(symbol)
    return f"fault: bad checksum armed for {', '.join(symbols) or 'no market yet'}"


FAULTS = {
    "drop_every": _drop,
    "stall_every": _stall,
    "garbage_every": _garbage,
    "skip_sequence_every": _skip_sequence,
    "bad_checksum_every": _bad_checksum,
}


class _FaultClock:
    """Which faults are due: each runs every ``period`` seconds, the first after one period."""

    def __init__(self, periods: dict[str, float | None], now: float) -> None:
        self.due = {name: now + p for name, p in periods.items() if p is not None}
        self.periods = {name: p for name, p in periods.items() if p is not None}

    def take_due(self, now: float) -> list[str]:
        names = [name for name, t in self.due.items() if t <= now]
        for name in names:
            self.due[name] = now + self.periods[name]
        return names

    def next_due(self) -> float | None:
        return min(self.due.values(), default=None)


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


_PERIOD = click.FloatRange(min=0.05)


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
@click.option("--drop-every", type=_PERIOD, help="Close every connection every S seconds.")
@click.option("--stall-every", type=_PERIOD, help="Stop sending every S seconds (for --stall-for).")
@click.option("--stall-for", type=_PERIOD, default=2.0, show_default=True, help="Length of each stall, seconds.")
@click.option("--garbage-every", type=_PERIOD, help="Send a frame that is not the protocol every S seconds.")
@click.option("--skip-sequence-every", type=_PERIOD, help="Skip a sequence number in every book every S seconds.")
@click.option("--bad-checksum-every", type=_PERIOD, help="Send a wrong checksum in every book every S seconds.")
def command(
    venue: str,
    port: int,
    seed: int,
    tick_interval: float,
    symbols: tuple[str, ...],
    duration: float | None,
    drop_every: float | None = None,
    stall_every: float | None = None,
    stall_for: float = 2.0,
    garbage_every: float | None = None,
    skip_sequence_every: float | None = None,
    bad_checksum_every: float | None = None,
) -> None:
    """Serve a simulated VENUE on 127.0.0.1 until interrupted (Ctrl-C).

    VENUE is a venue name (kraken, hitbtc, binance-spot, ...) or module:Class.
    """
    cls = resolve_simulator(venue)
    _check_faults(venue, bad_checksum_every)
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
        periods = {
            "drop_every": drop_every,
            "stall_every": stall_every,
            "garbage_every": garbage_every,
            "skip_sequence_every": skip_sequence_every,
            "bad_checksum_every": bad_checksum_every,
        }
        faults = _FaultClock(periods, time.monotonic())
        for name, period in faults.periods.items():
            click.echo(f"fault {name.replace('_', '-')} {period:g} s")
        deadline = None if duration is None else time.monotonic() + duration
        while deadline is None or time.monotonic() < deadline:
            now = time.monotonic()
            for name in faults.take_due(now):
                click.echo(FAULTS[name](server, stall_for))
            wake = [t for t in (deadline, faults.next_due()) if t is not None]
            time.sleep(min([0.5, *(max(0.0, t - time.monotonic()) for t in wake)]))
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)
        if server is not None:
            server.stop()
    click.echo("stopped")
