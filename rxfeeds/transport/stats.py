"""Counters a transport keeps, read by ``client.health()`` and dashboards.

The socket thread updates plain attributes (no locks on the hot path); readers take a
:meth:`TransportStats.snapshot`, an immutable copy.

Example:
    >>> s = TransportStats("kraken", "wss://ws.kraken.com")
    >>> s.route(("trade", "XBT/USD")).messages += 3
    >>> s.snapshot(now=10.0).routes[("trade", "XBT/USD")].messages
    3
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..codec import Key
from ..events import ConnectionState

__all__ = ["RouteStats", "RouteSnapshot", "TransportStats", "StatsSnapshot"]


class RouteStats:
    """Mutable per-subscription counters (owned by the transport)."""

    __slots__ = ("messages", "last_recv", "resyncs", "resets", "observers", "refusals")

    def __init__(self) -> None:
        self.messages = 0
        self.last_recv = 0.0
        self.resyncs = 0
        self.resets = 0
        self.observers = 0
        #: refusals of a subscription that had worked (each one retried with back-off)
        self.refusals = 0


@dataclass(frozen=True, slots=True)
class RouteSnapshot:
    """Immutable copy of one subscription's counters; ``age`` is seconds since its last message.

    ``refusals`` counts refusals of a subscription that had worked before (each retried with
    back-off before its observers see an error).
    """

    messages: int
    last_recv: float
    age: float | None
    resyncs: int
    resets: int
    observers: int
    refusals: int = 0


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """Immutable copy of a transport's counters at ``time``.

    Reconnect back-off: ``attempt`` is the number of consecutive failed connection attempts
    (0 once a connection is healthy again) and ``next_delay`` the back-off before the next one
    (``None`` unless reconnecting).

    Delivery lag (seconds, local receive time to delivery into the observers): ``delivery_lag``
    is the age of the frames being delivered now, or of the last delivered batch when idle;
    ``max_delivery_lag`` the largest seen.  A growing lag means callbacks are slower than the
    feed (the data they see is that old); ``0.0`` before anything was delivered and for
    transports (replay) that do not measure it.
    """

    venue: str
    url: str
    state: ConnectionState
    time: float
    connects: int
    reconnects: int
    frames_in: int
    frames_out: int
    frame_errors: int
    callback_errors: int
    last_recv: float
    routes: dict[Key, RouteSnapshot] = field(default_factory=dict)
    attempt: int = 0
    next_delay: float | None = None
    delivery_lag: float = 0.0
    max_delivery_lag: float = 0.0


class TransportStats:
    """Mutable counters of one transport (see the module docstring)."""

    def __init__(self, venue: str, url: str) -> None:
        self.venue = venue
        self.url = url
        self.state = ConnectionState.IDLE
        self.connects = 0
        self.reconnects = 0
        self.frames_in = 0
        self.frames_out = 0
        self.frame_errors = 0
        self.callback_errors = 0
        self.last_recv = 0.0
        self.routes: dict[Key, RouteStats] = {}
        self.attempt = 0
        self.next_delay: float | None = None
        #: receive time of the batch being delivered (0.0 when the socket thread is idle)
        self.delivering_since = 0.0
        self.delivery_lag = 0.0
        self.max_delivery_lag = 0.0

    def route(self, key: Key) -> RouteStats:
        """The counters for ``key``, created on first use."""
        stats = self.routes.get(key)
        if stats is None:
            stats = self.routes[key] = RouteStats()
        return stats

    def snapshot(self, now: float) -> StatsSnapshot:
        """An immutable copy taken at ``now`` (epoch seconds)."""
        routes = {
            key: RouteSnapshot(
                r.messages,
                r.last_recv,
                (now - r.last_recv) if r.last_recv else None,
                r.resyncs,
                r.resets,
                r.observers,
                r.refusals,
            )
            for key, r in list(self.routes.items())
        }
        busy = self.delivering_since
        lag = max(self.delivery_lag, now - busy) if busy else self.delivery_lag
        return StatsSnapshot(
            self.venue,
            self.url,
            self.state,
            now,
            self.connects,
            self.reconnects,
            self.frames_in,
            self.frames_out,
            self.frame_errors,
            self.callback_errors,
            self.last_recv,
            routes,
            attempt=self.attempt,
            next_delay=self.next_delay,
            delivery_lag=lag,
            max_delivery_lag=max(self.max_delivery_lag, lag),
        )
