"""``rxfeeds replay``: run captures through the venue codec and operators, print a summary.

Every received frame of the captures (several files are merged by timestamp, so a REST snapshot
file and its stream file go together) is decoded with the venue's codec; with ``--book`` the
book events go through ``ops.order_book`` and with ``--klines`` the trades through
``ops.klines``.  A historical scheduler follows the recorded timestamps, so the book operator's
timers run in capture time; klines close when a later trade arrives (captures carry history such
as trade snapshots, which a clock-driven close would call late).

``--json`` prints one object: ``frames``, ``events`` (count per event type), ``book_updates``,
``checksum_ok``, ``checksum_failed``, ``gaps``, ``resyncs``, ``klines``, ``errors``,
``elapsed_s`` (plus ``problems``: unreadable capture lines with file and line number, e.g. a
``nan`` timestamp or a truncated gzip tail; ``records``: records read; ``clock_steps_back`` and
``clock_max_step_back_s``: how often the recording clock stepped back, and by how much at most;
the replay clock then holds still instead of going back, for ``clock_held_records`` records).

``--venue`` may be left out: the venue is read from the capture (the header ``rxfeeds record``
writes, or the production URL the frames came from).  A ``--venue`` the capture contradicts is
a usage error (exit 2) naming the venue to use.

Exit status 1 when nothing could be read from the files and something was unreadable, or when
frames were read but not one decoded as the venue's protocol (a wrong ``--venue``).

Example::

    rxfeeds replay ../shared/captures/kraken-book-1000.dev.capture --venue kraken --book --json
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import orjson
import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from ..capture.records import CaptureProblem, ClockRepair, merge_captures, merge_timed
from ..capture.replay import CaptureClock, ReplayTransport
from ..events import BookDelta, BookSnapshot, Event, IntegrityEvent, Kline
from ..venues import VENUES, codec_class
from ._channels import VenueChoice

__all__ = ["capture_venue", "command", "replay_summary"]


def _hosts() -> list[tuple[str, str, str]]:
    """Production ``(host, path prefix, venue)`` from the venue specs, longest prefix first (the
    path tells API versions on one host apart)."""
    from ..venues.registry import specs

    found = [(host, prefix, v.name) for v in specs().values() for host, prefix in v.hosts]
    return sorted(found, key=lambda h: -len(h[1]))


def capture_venue(path: str | Path) -> tuple[str | None, str]:
    """``(venue, evidence)`` of a capture: its ``rxfeeds record`` header, else its first URL.

    ``(None, evidence)`` when neither tells (a plain capture of a simulator on 127.0.0.1, or of a
    venue rxfeeds does not speak); ``evidence`` then names the host, if any.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.capture"
        >>> _ = p.write_text('wss://ws.kraken.com <-> 1.0\\n2.5: {"event":"heartbeat"}\\n')
        >>> capture_venue(p)
        ('kraken', 'frames from wss://ws.kraken.com')
    """
    from urllib.parse import urlsplit

    from ..capture.records import _DAMAGED, _open_text, read_capture

    try:
        with _open_text(Path(path)) as f:
            first = next((line for line in f if line.strip()), "")
        header = orjson.loads(first) if first.lstrip().startswith("{") else None
    except (*_DAMAGED, ValueError):  # unreadable or not JSON: no header
        header = None
    if isinstance(header, dict) and "rxfeeds_capture" in header and header.get("venue") in VENUES:
        return str(header["venue"]), "its header"
    try:
        url = next((r.url for r in read_capture(path, []) if r.url), "")
    except _DAMAGED:
        url = ""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    for suffix, prefix, venue in _hosts():
        if (host == suffix or host.endswith("." + suffix)) and parts.path.startswith(prefix):
            return venue, f"frames from {parts.scheme}://{host}{parts.path.rstrip('/')}"
    return None, f"frames from {parts.scheme}://{host}" if host else ""


def _choose_venue(files: list[str], venue: str | None) -> str:
    """The venue to replay ``files`` with; a one-line usage error when it cannot be right."""
    from ._channels import cli_error

    found = {f: capture_venue(f) for f in files}
    if venue is not None:
        for f, (seen, evidence) in found.items():
            if seen is not None and seen != venue:
                raise cli_error(
                    f"--venue {venue}: {f} was recorded from {seen} ({evidence}); use --venue {seen} or leave it out",
                    2,
                )
        return venue
    venues = {seen for seen, _ in found.values() if seen is not None}
    if len(venues) == 1:
        return venues.pop()
    if venues:
        raise cli_error(f"the files come from different venues ({', '.join(sorted(venues))}); replay them apart", 2)
    hints = [evidence for _, evidence in found.values() if evidence and "127.0.0.1" not in evidence]
    why = f" ({hints[0]}, not a venue rxfeeds speaks)" if hints else ""
    raise cli_error(
        f"cannot tell which venue {files[0]} was recorded from{why}; pass --venue (one of {', '.join(VENUES)})", 2
    )


def replay_summary(
    files: list[str],
    venue: str,
    *,
    book: bool = False,
    depth: int | None = None,
    klines: str | None = None,
    klines_out: Any = None,
    progress: Any = None,
) -> dict[str, Any]:
    """Replay ``files`` and return the summary dictionary described in the module docstring."""
    from ..ops import klines as klines_op
    from ..ops import order_book

    started = time.perf_counter()
    problems: list[CaptureProblem] = []
    repair = ClockRepair()
    timed = list(merge_timed(files, problems, repair))
    codec_factory = codec_class(venue)
    # moved per record with a float store; its datetime clock only advances when a timer is due
    scheduler = CaptureClock(timed[0][0] if timed else 0.0)
    counts: dict[type, int] = {}  # per event type, named at the end
    stats = Counter[str]()
    frame_errors: list[str] = []
    synced_symbols: set[str] = set()
    book_in = _Inlet() if book else None
    klines_in = _Inlet() if klines else None
    # per-event bookkeeping in closure cells (a dict or Counter update per event cost more):
    # [checksummed updates, checksum verified, book updates, synced books]
    tally = [0, 0, 0, 0]
    pending_checksum = False  # the event being applied carries a checksum not yet confirmed

    send_book: Callable[[Event], None] | None = None  # set once the operators are subscribed
    send_klines: Callable[[Event], None] | None = None

    def on_event(e: Event) -> None:
        # one observer per event instead of a Subject fanning out to a counter, a do_action
        # and the operators: counting, checksum bookkeeping and delivery in one call
        nonlocal pending_checksum
        kind = type(e)
        counts[kind] = counts.get(kind, 0) + 1
        if send_book is not None:
            if (kind is BookDelta or kind is BookSnapshot) and e.checksum is not None:  # type: ignore[attr-defined]
                pending_checksum = True
                tally[0] += 1
            else:
                pending_checksum = False
            send_book(e)
        if send_klines is not None:
            send_klines(e)

    transports: dict[str, ReplayTransport] = {}

    def transport_for(url: str) -> ReplayTransport:
        t = transports.get(url)
        if t is None:
            t = transports[url] = ReplayTransport(url, codec_factory(), venue=venue)
            t.all_events().subscribe(on_event)
            t.errors.subscribe(lambda e: frame_errors.append(str(e)))
        return t

    if book_in is not None:

        def count_book(v: Any) -> None:
            nonlocal pending_checksum
            if type(v) is IntegrityEvent:
                stats[f"integrity_{v.kind}"] += 1
                if v.kind == "checksum":
                    stats["checksum_failed"] += 1
                return
            tally[2] += 1
            if v.synced:
                tally[3] += 1
                synced_symbols.add(v.symbol)
                if pending_checksum:
                    pending_checksum = False
                    tally[1] += 1

        book_in.observable.pipe(order_book(depth=depth, scheduler=scheduler, integrity=True)).subscribe(
            count_book, on_error=lambda e: frame_errors.append(f"order_book: {e}")
        )

    if klines:
        out = open(klines_out, "w") if klines_out else None  # noqa: SIM115 - closed below

        def on_kline(k: Kline) -> None:
            if not k.closed:
                return
            stats["klines"] += 1
            if out is not None:
                row = {
                    "venue": k.venue,
                    "symbol": k.symbol,
                    "interval": k.interval,
                    "open_time": k.open_time,
                    "open": k.open,
                    "high": k.high,
                    "low": k.low,
                    "close": k.close,
                    "volume": k.volume,
                    "trades": k.trades,
                }
                out.write(orjson.dumps(row).decode() + "\n")

        # grace=None: bars close on later trades only.  Captures carry history (trade snapshots)
        # that a clock-driven close would call late and drop.
        assert klines_in is not None
        klines_in.observable.pipe(klines_op(klines, grace=None)).subscribe(
            on_kline, on_error=lambda e: frame_errors.append(f"klines: {e}")
        )

    send_book = book_in.sender() if book_in is not None else None
    send_klines = klines_in.sender() if klines_in is not None else None
    frames = 0
    move = scheduler.move
    for t, record in timed:  # t never decreases (a clock stepping back holds the replay clock)
        move(t)
        if record.kind == "in":
            frames += 1
            transport = transports.get(record.url) or transport_for(record.url)
            transport.feed(record.data, record.t)
        elif record.kind == "open":
            transport_for(record.url).open()
        elif record.kind == "http":
            for transport in list(transports.values()) or [transport_for(record.url)]:
                transport.feed_http(record.url, record.data, record.t)
        if progress is not None:
            progress()
    for inlet in (book_in, klines_in):
        if inlet is not None:
            inlet.complete()
    if klines and out is not None:
        out.close()

    return {
        "venue": venue,
        "files": [str(Path(f)) for f in files],
        "records": len(timed),
        "frames": frames,
        "events": dict(sorted((k.__name__, n) for k, n in counts.items())),
        "book_updates": tally[2],
        "synced_books": tally[3],
        "synced_symbols": sorted(synced_symbols) if book else [],
        "checksummed_updates": tally[0],
        "checksum_ok": tally[1],
        "checksum_failed": stats["checksum_failed"],
        "gaps": stats["integrity_gap"],
        "crossed": stats["integrity_crossed"],
        "resyncs": stats["integrity_resync"],
        "klines": stats["klines"],
        "clock_steps_back": repair.steps_back,
        "clock_max_step_back_s": round(repair.max_step_back, 6),
        "clock_held_records": repair.held,
        "errors": len(frame_errors) + len(problems),
        "problems": [str(p) for p in problems[:50]],
        "frame_errors": frame_errors[:50],
        "elapsed_s": round(time.perf_counter() - started, 3),
    }


class _Inlet:
    """An Observable fed by direct calls: the replay loop is its only producer, on one thread,
    so the per-event lock and observer-list copy of a ``Subject`` buy nothing here."""

    def __init__(self) -> None:
        self._observers: list[abc.ObserverBase[Event]] = []
        self.observable: Observable[Event] = reactivex.create(self._subscribe)

    def _subscribe(self, observer: abc.ObserverBase[Event], _scheduler: abc.SchedulerBase | None = None) -> Disposable:
        self._observers.append(observer)
        return Disposable(lambda: self._observers.remove(observer))

    def send(self, event: Event) -> None:
        for observer in self._observers:
            observer.on_next(event)

    def sender(self) -> Callable[[Event], None]:
        """What to call per event: the only observer's ``on_next`` itself when there is one."""
        if len(self._observers) == 1:
            return self._observers[0].on_next
        return self.send

    def complete(self) -> None:
        for observer in list(self._observers):
            observer.on_completed()


@click.command("replay")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--venue",
    type=VenueChoice(),
    help="Venue protocol of the captures (default: from the capture's header or URL; `rxfeeds venues` lists them).",
)
@click.option("--book", is_flag=True, help="Rebuild order books (ops.order_book) and check their integrity.")
@click.option("--depth", type=click.IntRange(min=1), default=None, help="Book depth to keep (default: all).")
@click.option("--klines", "klines_interval", default=None, help="Build klines from trades, e.g. 1m.")
@click.option("--klines-out", type=click.Path(dir_okay=False, writable=True), help="Write closed klines as JSON lines.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--bus", "bus_url", help="Replay the history a message bus holds for VENUE instead of FILE(s).")
def command(
    files: tuple[str, ...],
    venue: str | None,
    book: bool,
    depth: int | None,
    klines_interval: str | None,
    klines_out: str | None,
    as_json: bool,
    bus_url: str | None,
) -> None:
    """Replay capture FILE(s) through the pipeline and summarise what they hold."""
    from ..errors import InvalidArgument

    if bus_url or not files:
        _replay_bus(bus_url, files, venue, book, depth, as_json)
        return

    if klines_out and not klines_interval:
        raise click.UsageError("--klines-out needs --klines INTERVAL")
    if klines_interval:
        from ..intervals import parse_interval

        try:
            parse_interval(klines_interval)
        except InvalidArgument as exc:
            raise click.BadParameter(str(exc), param_hint="--klines") from None
    venue = _choose_venue(list(files), venue)
    show_progress = not as_json and sys.stderr.isatty()
    try:
        if show_progress:
            from rich.progress import Progress

            total = sum(1 for _ in merge_captures(list(files)))
            with Progress(transient=True) as bar:
                task = bar.add_task("replaying", total=total)
                summary = replay_summary(
                    list(files),
                    venue,
                    book=book,
                    depth=depth,
                    klines=klines_interval,
                    klines_out=klines_out,
                    progress=lambda: bar.advance(task),
                )
        else:
            summary = replay_summary(
                list(files), venue, book=book, depth=depth, klines=klines_interval, klines_out=klines_out
            )
    except Exception as exc:  # runtime failure: exit code 1 with a readable message
        click.echo(f"replay failed: {exc}", err=True)
        sys.exit(1)
    unreadable = summary["records"] == 0 and bool(summary["problems"])
    undecodable = summary["frames"] > 0 and not summary["events"] and bool(summary["frame_errors"])
    if as_json:
        click.echo(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
        if undecodable:
            click.echo(_undecodable(summary, venue), err=True)
        if unreadable or undecodable:
            sys.exit(1)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"replay of {len(files)} file(s), venue {venue}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key in (
        "records",
        "frames",
        "book_updates",
        "checksum_ok",
        "checksum_failed",
        "gaps",
        "resyncs",
        "klines",
        "clock_steps_back",
        "errors",
    ):
        table.add_row(key, str(summary[key]))
    for name, n in summary["events"].items():
        table.add_row(f"events: {name}", str(n))
    table.add_row("elapsed_s", str(summary["elapsed_s"]))
    Console().print(table)
    for p in summary["problems"]:
        click.echo(f"skipped {p}", err=True)
    if unreadable:
        click.echo("replay failed: nothing could be read from the capture(s)", err=True)
        sys.exit(1)
    if undecodable:
        click.echo(_undecodable(summary, venue), err=True)
        sys.exit(1)


def _undecodable(summary: dict[str, Any], venue: str) -> str:
    first = summary["frame_errors"][0][:120]
    return (
        f"replay failed: none of the {summary['frames']} frames decoded as {venue}"
        f" (first error: {first}); is --venue right?"
    )


def _replay_bus(
    bus_url: str | None, files: tuple[str, ...], venue: str | None, book: bool, depth: int | None, as_json: bool
) -> None:
    """``--bus``: the summary of the broker's history for VENUE (see ``rxfeeds.cli._bus_replay``)."""
    if not bus_url:
        raise click.UsageError("Missing argument 'FILES...' (or --bus URL).")
    if files:
        raise click.UsageError("give capture FILE(s) or --bus, not both")
    if venue is None:
        raise click.UsageError("--bus needs --venue VENUE: the bus holds every venue's history")
    from ._bus_replay import bus_replay_summary

    try:
        summary = bus_replay_summary(bus_url, venue, book=book, depth=depth)
    except Exception as exc:  # runtime failure: exit code 1 with a readable message
        click.echo(f"replay failed: {exc}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
    else:
        for key, value in summary.items():
            click.echo(f"{key}: {value}")
    if summary["problems"]:
        sys.exit(1)
