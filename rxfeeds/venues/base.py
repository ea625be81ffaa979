"""Base class of every venue client: named connections, health, merged status streams.

A client owns one transport per *connection name* (``"public"``, ``"trading"``, or any name a
user passes, like kraky's ``connection_name``), created lazily on first use and shared by every
Observable that uses that name.  In live use the transport is a
:class:`~rxfeeds.transport.SocketSubject`; ``rxfeeds.replay`` passes a ``transport_factory``
that builds replay transports instead, so the same client methods work on captures.

Threading: Observables returned by clients deliver on the socket thread of their connection.

Example::

    class Echo(VenueClient):
        venue = "echo"

        def __init__(self, url="wss://echo.example", **kw):
            super().__init__(**kw)
            self.url = url

        def ticks(self, symbol):
            t = self._transport("public", self.url, EchoCodec)
            return t.multiplex(("tick", symbol))
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Self

from reactivex import Observable, abc
from reactivex.subject import Subject

from ..codec import Codec
from ..errors import RequestError
from ..events import ConnectionStatus
from ..transport import Backoff, FrameTap, SocketSubject, Transport, TransportFactory

__all__ = ["VenueClient", "HttpGet", "urllib_get"]

#: ``(url, timeout) -> body``: how clients fetch REST resources (replay substitutes recorded ones).
HttpGet = Callable[[str, float], bytes]


def urllib_get(url: str, timeout: float) -> bytes:
    """GET ``url`` with the standard library (TLS certificates verified); the body as bytes.

    HTTP errors still return the body when there is one (venues put their error text there).
    """
    request = urllib.request.Request(url, headers={"User-Agent": "rxfeeds", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        body = exc.read()
        if body:
            return body
        raise RequestError("http", f"GET {url.split('?')[0]} failed: HTTP {exc.code}", exc.code) from None


class VenueClient:
    """Shared machinery of venue clients (see the module docstring).

    Args:
        transport_factory: builds a transport from ``(url, codec, **options)``; default
            :class:`~rxfeeds.transport.SocketSubject`.
        backoff: reconnect policy for every connection of this client.
        **socket_options: passed to every transport (``ping_interval``, ``stale_timeout``,
            ``sslopt``...).
    """

    venue: ClassVar[str] = ""

    def __init__(
        self,
        *,
        transport_factory: TransportFactory | None = None,
        backoff: Backoff | None = None,
        http_get: HttpGet | None = None,
        **socket_options: Any,
    ) -> None:
        self._transport_factory: Any = transport_factory or SocketSubject
        self._backoff = backoff
        self._socket_options = socket_options
        self._transports: dict[str, Transport] = {}
        self._transports_lock = threading.Lock()
        self._state: Subject[ConnectionStatus] = Subject()
        self._errors: Subject[Exception] = Subject()
        self._notices: Subject[Any] = Subject()
        self._taps: tuple[FrameTap, ...] = ()
        self._http = http_get or urllib_get

    # ------------------------------------------------------------------ connections

    def _transport(
        self,
        name: str,
        url: str | Sequence[str],
        codec_factory: Callable[[], Codec],
        **options: Any,
    ) -> Transport:
        """The transport called ``name``, created on first use with ``codec_factory()``."""
        with self._transports_lock:
            existing = self._transports.get(name)
            if existing is not None:
                return existing
            merged = {**self._socket_options, **options}
            if self._backoff is not None:
                merged.setdefault("backoff", self._backoff)
            transport: Transport = self._transport_factory(url, codec_factory(), venue=self.venue, **merged)
            assert transport is not None
            self._transports[name] = transport
            for tap in self._taps:
                transport.add_tap(tap)
        # Forward each connection's streams into the client-wide ones.
        transport.state.subscribe(self._state.on_next)
        transport.errors.subscribe(self._errors.on_next)
        transport.notices.subscribe(self._notices.on_next)
        return transport

    @property
    def connections(self) -> Mapping[str, Transport]:
        """The connections opened so far, by name."""
        with self._transports_lock:
            return dict(self._transports)

    def add_tap(self, tap: FrameTap) -> Callable[[], None]:
        """Observe the raw traffic of every connection, present and future (recording).

        Returns a function that removes the tap.  See :class:`rxfeeds.capture.Recorder`.
        """
        with self._transports_lock:
            self._taps = (*self._taps, tap)
            removers = [t.add_tap(tap) for t in self._transports.values()]

        def remove() -> None:
            with self._transports_lock:
                self._taps = tuple(t for t in self._taps if t is not tap)
                transports = list(self._transports.values())
            for r in removers:
                if callable(r):
                    r()
            for t in transports:  # connections opened after the tap was added
                remover = getattr(t, "remove_tap", None)
                if remover is not None:
                    remover(tap)

        return remove

    def http_get(self, url: str, timeout: float = 10.0) -> bytes:
        """GET a REST resource of this venue (snapshots); recorded by attached taps.

        Example::

            body = client.http_get("https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000")
        """
        requested = time.time()  # the reply is recorded with its request time (see Recorder.http)
        body = self._http(url, timeout)
        for tap in self._taps:
            tap.http(url, body, requested)
        return body

    # ------------------------------------------------------------------ status

    @property
    def state(self) -> Observable[ConnectionStatus]:
        """Connection states of every connection of this client (hot)."""
        return self._state

    @property
    def errors(self) -> Observable[Exception]:
        """Malformed frames and failed callbacks of every connection (hot, never ends)."""
        return self._errors

    @property
    def notices(self) -> Observable[Any]:
        """Venue-wide news (system status...) of every connection (hot)."""
        return self._notices

    def health(
        self,
        interval: float = 1.0,
        *,
        scheduler: abc.SchedulerBase | None = None,
        buffers: Mapping[str, Any] | None = None,
    ) -> Observable[Any]:
        """Health reports every ``interval`` seconds (see :mod:`rxfeeds.health`).

        Example::

            client.health(5).subscribe(lambda h: print(h.line()))
        """
        from ..health import health_stream

        return health_stream(
            lambda: [t.stats() for t in self.connections.values()],
            interval=interval,
            scheduler=scheduler,
            buffers=buffers,
        )

    # ------------------------------------------------------------------ life cycle

    def close(self) -> None:
        """Complete every subscriber and close every connection."""
        for transport in self.connections.values():
            transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        """``async with client:`` closes every connection on exit, off the loop (closing joins
        the socket threads, which must not stall the event loop)."""
        from ..aio import run_blocking

        await run_blocking(self.close)

    def __repr__(self) -> str:
        # Never show credentials: only the class, venue and connection names.
        return f"{type(self).__name__}(venue={self.venue!r}, connections={sorted(self.connections)})"
