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

import ipaddress
import logging
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Self
from urllib.parse import urlparse

from reactivex import Observable, abc
from reactivex.subject import Subject

from ..codec import Codec
from ..errors import InvalidArgument, RequestError
from ..events import ConnectionStatus
from ..feed import Feed
from ..timing import check_backoff
from ..transport import Backoff, FrameTap, SocketSubject, Transport, TransportFactory
from ..transport.multiplexer import IsolatingSubject
from ..transport.redact import redact_url
from ..transport.socket_subject import check_socket_options, check_url

__all__ = [
    "VenueClient",
    "HttpGet",
    "urllib_get",
    "is_loopback_host",
    "check_secure_url",
    "check_url",
    "check_seconds",
    "check_http_url",
    "as_list",
    "feed",
]

log = logging.getLogger("rxfeeds.venues")

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


def is_loopback_host(host: str | None) -> bool:
    """Whether ``host`` is this machine (``localhost``, 127.0.0.0/8, ``::1``).

    Example:
        >>> is_loopback_host("127.0.0.2"), is_loopback_host("::1"), is_loopback_host("example.com")
        (True, True, False)
    """
    if not host:
        return False
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_secure_url(name: str, url: str, allow_insecure: bool = False) -> None:
    """Refuse to send credentials over ``url`` unless it is encrypted (``wss://``, ``https://``)
    or stays on this machine (a loopback host).

    ``allow_insecure=True`` lets plain ``ws://``/``http://`` through with a logged warning
    (a test network, a TLS-terminating proxy on the path).

    Raises:
        InvalidArgument: naming ``name``, before any credential is sent.

    Example:
        >>> check_secure_url("url", "wss://api.example.com/ws")
        >>> check_secure_url("url", "ws://127.0.0.1:8000")
        >>> try:
        ...     check_secure_url("url", "ws://api.example.com/ws")
        ... except InvalidArgument as e:
        ...     print(e.name)
        url
    """
    try:
        parsed = urlparse(url)
        scheme, host = parsed.scheme.lower(), parsed.hostname
    except (ValueError, AttributeError, TypeError):
        raise InvalidArgument(name, url, "not a URL", secret=True) from None
    if scheme in ("wss", "https") or is_loopback_host(host):
        return
    if allow_insecure:
        log.warning("credentials will be sent unencrypted to %s://%s (allow_insecure=True)", scheme, host)
        return
    raise InvalidArgument(
        name,
        redact_url(url),
        "credentials would travel unencrypted over plain ws:// or http:// to a host that is not this "
        "machine; use wss:// (https://) or pass allow_insecure=True",
    )


def check_seconds(name: str, value: Any, *, optional: bool = False) -> float | None:
    """``value`` as a positive, finite number of seconds, else InvalidArgument naming ``name``.

    Example:
        >>> check_seconds("request_timeout", 5)
        5.0
    """
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InvalidArgument(name, value, "must be a positive, finite number of seconds")
    return float(value)


def check_http_url(name: str, url: Any) -> str:
    """``url`` if it is an ``http://``/``https://`` URL with a host, else InvalidArgument naming ``name``.

    Example:
        >>> check_http_url("rest_url", "https://api.example.com")
        'https://api.example.com'
    """
    if isinstance(url, str):
        try:
            parsed = urlparse(url)
            if parsed.scheme in ("http", "https") and parsed.hostname:
                return url
        except ValueError:
            pass
    raise InvalidArgument(name, url, "must be an http:// or https:// URL with a host")


def as_list(name: str, value: Any) -> list[Any]:
    """One item (a string) or a list/tuple/set of them, as a list; anything else (a number,
    ``None``, a dict) is :class:`~rxfeeds.errors.InvalidArgument` naming ``name``.

    Example:
        >>> as_list("symbols", "BTCUSDT"), as_list("symbols", ("A", "B"))
        (['BTCUSDT'], ['A', 'B'])
    """
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    raise InvalidArgument(name, value, "give one string or a list of strings")


def feed(source: Observable[Any], resync: Callable[[str], None]) -> Feed[Any]:
    """``source`` as a :class:`~rxfeeds.feed.Feed` whose ``resync(symbol)`` calls ``resync``.

    The one way a client wraps a book channel for ``ops.order_book`` (which calls
    ``resync(symbol)`` on a gap or checksum mismatch).

    Example:
        >>> import reactivex
        >>> asked = []
        >>> book = feed(reactivex.of(1, 2), asked.append)
        >>> book.resync("XBT/USD")
        True
        >>> book.pipe().run(), asked
        (2, ['XBT/USD'])
    """

    def subscribe(observer: Any, scheduler: Any = None) -> Any:
        return source.subscribe(observer, scheduler=scheduler)

    return Feed(subscribe, resync)


class VenueClient:
    """Shared machinery of venue clients (see the module docstring).

    Args:
        transport_factory: builds a transport from ``(url, codec, **options)``; default
            :class:`~rxfeeds.transport.SocketSubject`.
        backoff: reconnect policy for every connection of this client.
        allow_insecure: let credentials (logins, tokens, API keys) travel over plain ``ws://`` /
            ``http://`` to a host that is not this machine.  Off by default: such a client
            raises :class:`~rxfeeds.errors.InvalidArgument` before sending any credential.
        **socket_options: passed to every transport (``ping_interval``, ``stale_timeout``,
            ``sslopt``...).

    Options are checked here, at construction (:class:`~rxfeeds.errors.InvalidArgument`
    naming the option), not at the first subscription.  Status streams (``state``,
    ``errors``, ``notices``) isolate their observers: one that raises is logged and skipped.
    """

    venue: ClassVar[str] = ""

    def __init__(
        self,
        *,
        transport_factory: TransportFactory | None = None,
        backoff: Backoff | None = None,
        http_get: HttpGet | None = None,
        allow_insecure: bool = False,
        **socket_options: Any,
    ) -> None:
        if transport_factory is not None and not callable(transport_factory):
            raise InvalidArgument("transport_factory", transport_factory, "must be callable (url, codec, **options)")
        if http_get is not None and not callable(http_get):
            raise InvalidArgument("http_get", http_get, "must be callable (url, timeout) -> bytes")
        if not isinstance(allow_insecure, bool):
            raise InvalidArgument("allow_insecure", allow_insecure, "must be True or False")
        if backoff is not None:
            check_backoff("backoff", backoff)
        # Unknown names only matter to the default transport; replay factories take their own.
        check_socket_options(socket_options, unknown=transport_factory is None)
        self._allow_insecure = allow_insecure
        self._transport_factory: Any = transport_factory or SocketSubject
        self._backoff = backoff
        self._socket_options = socket_options
        self._transports: dict[str, Transport] = {}
        self._transports_lock = threading.Lock()
        # Isolating subjects: a raising observer of client.state must not break the forwarding
        # (nor make the next client.book() raise when a new connection replays its state).
        self._state: Subject[ConnectionStatus] = IsolatingSubject()
        self._errors: Subject[Exception] = IsolatingSubject()
        self._notices: Subject[Any] = IsolatingSubject()
        self._taps: tuple[FrameTap, ...] = ()
        self._http = http_get or urllib_get

    # ------------------------------------------------------------------ connections

    def _require_secure(self, name: str, url: str | Sequence[str]) -> None:
        """Refuse (InvalidArgument naming ``name``) to send credentials over plain ws:// or
        http:// to a non-loopback host, unless the client was made with ``allow_insecure=True``."""
        for u in [url] if isinstance(url, str) else url:
            check_secure_url(name, u, self._allow_insecure)

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
