"""Health reports: the numbers a dashboard or an alert needs, as an Observable.

``client.health()`` is built on :func:`health_stream`: every ``interval`` seconds it reads the
transports' counters (:class:`~rxfeeds.transport.stats.StatsSnapshot`) and emits a
:class:`Health` with, per connection, the state, connects and reconnects, frames in and out,
frame and callback errors, the frame rate and the age of the last frame, the reconnect
back-off position (``attempt``, ``retry_delay``) and the delivery lag (``delivery_lag``,
``max_delivery_lag``: how old, since its local receive, the data being delivered to the
callbacks is; it grows when callbacks are slower than the feed); per subscription the message
count and rate, last-message age, resyncs, resets, refusals and observers; and the drop
counters of any ``latest()`` / ``buffer_bounded()`` operators handed in as ``buffers``.

Rates come from the difference between two successive snapshots of the same connection
(``None`` in the first report, and after a connection's counters restart).

``str(health)`` is a plain-text dashboard (one line per connection, one indented line per
subscription); ``health.line()`` is a one-line summary; in a ``rich`` console or Jupyter the
report renders as a table.

Example:
    >>> from rxfeeds.events import ConnectionState
    >>> from rxfeeds.transport.stats import TransportStats
    >>> stats = TransportStats("kraken", "wss://ws.kraken.com")
    >>> stats.state = ConnectionState.OPEN
    >>> tracker = HealthTracker()
    >>> _ = tracker.report([stats.snapshot(now=100.0)])
    >>> stats.frames_in += 50
    >>> stats.route(("trade", "XBT/USD")).messages += 20
    >>> stats.route(("trade", "XBT/USD")).last_recv = 101.5
    >>> h = tracker.report([stats.snapshot(now=102.0)])
    >>> h.connections[0].frame_rate, h.connections[0].subscriptions[0].rate
    (25.0, 10.0)
    >>> h.ok
    True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import reactivex as rx
from reactivex import Observable, abc
from reactivex import operators as rx_ops

from .codec import Key
from .errors import InvalidArgument
from .events import ConnectionState
from .timing import timer_scheduler
from .transport.stats import RouteSnapshot, StatsSnapshot

__all__ = [
    "Health",
    "ConnectionHealth",
    "SubscriptionHealth",
    "HealthTracker",
    "health_stream",
    "SupportsStats",
]

_TROUBLED = (ConnectionState.RECONNECTING, ConnectionState.FAILED)


class SupportsStats(Protocol):
    """Anything with ``stats()`` returning an object with a ``dropped`` count (``latest()``,
    ``buffer_bounded()``)."""

    def stats(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class SubscriptionHealth:
    """One subscription (routing key) of a connection.

    ``rate`` is messages per second since the previous report (``None`` in the first);
    ``age`` is seconds since its last message (``None`` before the first).
    """

    key: Key
    messages: int
    rate: float | None
    age: float | None
    resyncs: int
    resets: int
    observers: int
    refusals: int = 0

    def __str__(self) -> str:
        channel, symbol = self.key
        name = f"{channel} {symbol}".strip()
        return (
            f"{name}  {_rate(self.rate)} msg/s  last {_age(self.age)}  "
            f"msgs {self.messages}  resyncs {self.resyncs}  resets {self.resets}  observers {self.observers}"
        )


@dataclass(frozen=True, slots=True)
class ConnectionHealth:
    """One connection (transport).

    ``frame_rate`` is received frames per second since the previous report; ``age`` is seconds
    since the last received frame (``None`` before the first).

    ``attempt`` is the reconnect back-off position (consecutive failed attempts; it resets once
    a new connection has delivered data for every subscription, or ran ``reset_after``
    seconds) and ``retry_delay`` the wait before the next attempt while reconnecting.

    ``delivery_lag`` is the age (seconds since its local receive) of the data being delivered
    to the callbacks now, or of the last delivered batch; ``max_delivery_lag`` the worst so
    far.  Callbacks slower than the feed make it grow: the data they see is that old even on
    an open connection.
    """

    venue: str
    url: str
    state: ConnectionState
    connects: int
    reconnects: int
    frames_in: int
    frames_out: int
    frame_errors: int
    callback_errors: int
    frame_rate: float | None
    age: float | None
    subscriptions: tuple[SubscriptionHealth, ...] = ()
    attempt: int = 0
    retry_delay: float | None = None
    delivery_lag: float = 0.0
    max_delivery_lag: float = 0.0

    @property
    def ok(self) -> bool:
        """Not reconnecting and not failed."""
        return self.state not in _TROUBLED

    def __str__(self) -> str:
        return (
            f"{self.venue} {self.url}  {self.state.value}  {_rate(self.frame_rate)} frames/s  "
            f"last {_age(self.age)}  lag {self.delivery_lag:.1f}s (max {self.max_delivery_lag:.1f}s)  "
            f"connects {self.connects}  reconnects {self.reconnects}{_retry(self.attempt, self.retry_delay)}  "
            f"frame errors {self.frame_errors}  callback errors {self.callback_errors}"
        )


@dataclass(frozen=True, slots=True)
class Health:
    """A health report at ``time`` (epoch seconds).

    ``drops`` maps the names given in ``buffers`` to the values their ``latest()`` /
    ``buffer_bounded()`` operators have dropped so far.

    Example:
        >>> print(Health(0.0, ()).line())
        ok: 0 connections, 0 subscriptions, 0 reconnects, 0 errors, 0 dropped
    """

    time: float
    connections: tuple[ConnectionHealth, ...]
    drops: Mapping[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every connection is open, idle or closed (none reconnecting or failed)."""
        return all(c.ok for c in self.connections)

    @property
    def reconnects(self) -> int:
        """Reconnects summed over connections."""
        return sum(c.reconnects for c in self.connections)

    @property
    def errors(self) -> int:
        """Frame and callback errors summed over connections."""
        return sum(c.frame_errors + c.callback_errors for c in self.connections)

    @property
    def subscriptions(self) -> tuple[SubscriptionHealth, ...]:
        """Every connection's subscriptions."""
        return tuple(s for c in self.connections for s in c.subscriptions)

    def line(self) -> str:
        """One-line summary for a status bar or a log."""
        troubled = [f"{c.venue} {c.state.value}" for c in self.connections if not c.ok]
        status = "ok" if not troubled else "DEGRADED (" + ", ".join(troubled) + ")"
        return (
            f"{status}: {len(self.connections)} connections, {len(self.subscriptions)} subscriptions, "
            f"{self.reconnects} reconnects, {self.errors} errors, {sum(self.drops.values())} dropped"
        )

    def __str__(self) -> str:
        lines = [self.line()]
        for conn in self.connections:
            lines.append(f"  {conn}")
            lines.extend(f"    {sub}" for sub in conn.subscriptions)
        lines.extend(f"  dropped by {name}: {count}" for name, count in self.drops.items())
        return "\n".join(lines)

    def __rich__(self) -> Any:
        """A ``rich`` table (used by rich consoles and Jupyter)."""
        from rich.table import Table

        table = Table(title=self.line(), title_justify="left")
        for column in ("connection / subscription", "state", "rate /s", "last", "count", "issues"):
            table.add_column(column)
        for c in self.connections:
            issues = (
                f"reconnects {c.reconnects}{_retry(c.attempt, c.retry_delay)}, "
                f"errors {c.frame_errors + c.callback_errors}, lag {c.delivery_lag:.1f}s"
            )
            style = None if c.ok else "bold red"
            table.add_row(
                f"{c.venue} {c.url}",
                c.state.value,
                _rate(c.frame_rate),
                _age(c.age),
                str(c.frames_in),
                issues,
                style=style,
            )
            for s in c.subscriptions:
                channel, symbol = s.key
                table.add_row(
                    f"  {channel} {symbol}",
                    "",
                    _rate(s.rate),
                    _age(s.age),
                    str(s.messages),
                    f"resyncs {s.resyncs}, resets {s.resets}",
                )
        for name, count in self.drops.items():
            table.add_row(f"dropped by {name}", "", "", "", str(count), "")
        return table


def _retry(attempt: int, delay: float | None) -> str:
    if not attempt:
        return ""
    return f"  attempt {attempt}" + (f" (retry in {delay:.1f}s)" if delay is not None else "")


def _rate(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.1f}"


def _age(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}s ago"


class HealthTracker:
    """Turns successive snapshot lists into :class:`Health` reports (keeps the previous one for rates).

    Connections are matched between reports by their position, venue and url.
    """

    def __init__(self, buffers: Mapping[str, SupportsStats] | None = None) -> None:
        self._buffers = dict(buffers or {})
        self._previous: dict[tuple[int, str, str], StatsSnapshot] = {}

    def report(self, snapshots: Sequence[StatsSnapshot]) -> Health:
        """The report for these snapshots (taken now)."""
        previous, current = self._previous, {}
        connections = []
        for index, snap in enumerate(snapshots):
            ident = (index, snap.venue, snap.url)
            current[ident] = snap
            connections.append(_connection_health(snap, previous.get(ident)))
        self._previous = current
        moment = max((s.time for s in snapshots), default=0.0) or time.time()
        drops = {name: int(getattr(b.stats(), "dropped", 0)) for name, b in self._buffers.items()}
        return Health(moment, tuple(connections), drops)


def _per_second(now: int, before: int | None, dt: float) -> float | None:
    if before is None or dt <= 0 or now < before:
        return None
    return (now - before) / dt


def _connection_health(snap: StatsSnapshot, prev: StatsSnapshot | None) -> ConnectionHealth:
    # a counter that went down means the transport was rebuilt: no rate this time
    restarted = prev is not None and snap.frames_in < prev.frames_in
    usable = None if restarted else prev
    dt = snap.time - usable.time if usable is not None else 0.0
    subs = []
    for key, route in snap.routes.items():
        # a route new since the previous report started from zero within the interval
        before: int | None = None
        if usable is not None:
            earlier: RouteSnapshot | None = usable.routes.get(key)
            before = earlier.messages if earlier is not None else 0
        subs.append(
            SubscriptionHealth(
                key,
                route.messages,
                _per_second(route.messages, before, dt),
                route.age,
                route.resyncs,
                route.resets,
                route.observers,
                route.refusals,
            )
        )
    return ConnectionHealth(
        snap.venue,
        snap.url,
        snap.state,
        snap.connects,
        snap.reconnects,
        snap.frames_in,
        snap.frames_out,
        snap.frame_errors,
        snap.callback_errors,
        _per_second(snap.frames_in, usable.frames_in if usable else None, dt),
        (snap.time - snap.last_recv) if snap.last_recv else None,
        tuple(subs),
        snap.attempt,
        snap.next_delay,
        snap.delivery_lag,
        snap.max_delivery_lag,
    )


def health_stream(
    snapshots: Callable[[], Sequence[StatsSnapshot]],
    *,
    interval: float = 1.0,
    scheduler: abc.SchedulerBase | None = None,
    buffers: Mapping[str, SupportsStats] | None = None,
) -> Observable[Health]:
    """A cold Observable of :class:`Health`: one report at once, then one every ``interval`` s.

    Args:
        snapshots: returns the current snapshot of every transport (``[t.stats() for t in ...]``).
        interval: seconds between reports (> 0).
        scheduler: timer scheduler (default: the subscription's, else ``TimeoutScheduler``).
        buffers: name -> ``latest()`` / ``buffer_bounded()`` operator whose drops to report.

    Raises:
        InvalidArgument: ``interval`` not a positive number.

    Example::

        client.health().subscribe(lambda h: print(h.line()))
        # in a service: alert when a connection is down
        client.health(interval=5).pipe(ops.filter(lambda h: not h.ok)).subscribe(page_someone)
    """
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not interval > 0:
        raise InvalidArgument("interval", interval, "must be a positive number of seconds")

    def subscribe(observer: abc.ObserverBase[Health], scheduler_: abc.SchedulerBase | None = None) -> Any:
        # not rx.defer: it hands factories the ImmediateScheduler, on which a periodic timer blocks
        timers = timer_scheduler(scheduler, scheduler_)
        tracker = HealthTracker(buffers)
        ticks: Observable[int] = rx.timer(0.0, float(interval), scheduler=timers)
        return ticks.pipe(rx_ops.map(lambda _: tracker.report(snapshots()))).subscribe(observer, scheduler=scheduler_)

    return Observable(subscribe)
