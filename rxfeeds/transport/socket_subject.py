"""The socket subject: one websocket per venue endpoint, shared by every subscription.

:class:`SocketSubject` is a :class:`~rxfeeds.transport.multiplexer.Multiplexer` whose
connection runs in a daemon thread (the *socket thread*): websocket-client's public
``WebSocket`` makes the connection (TCP or TLS, the HTTP upgrade) and sends frames; the socket
thread reads the socket itself through the sans-I/O :class:`~rxfeeds.transport.frames.FrameReader`.

* Lazy: the socket opens when the first subscriber (or request) arrives and closes when the
  last one leaves.
* Reconnects with :class:`~rxfeeds.transport.backoff.Backoff` (capped exponential, jittered,
  reset after a stable connection), optionally rotating over several URLs; after
  ``max_attempts`` failures the state becomes ``FAILED`` and every subscriber gets
  :class:`~rxfeeds.errors.ConnectionFailed`.
* After a reconnect: ``codec.reset()``, the codec's session frames, a
  :class:`~rxfeeds.events.StreamReset` into every active stream, and every subscription re-sent.
* Liveness: websocket pings (``ping_interval``, sent by the socket thread: no ping thread),
  an optional venue application ping (``app_ping_interval`` with ``codec.ping_frame()``), and
  a stale-data timer (``stale_timeout``): no frame for that long forces a reconnect.  Silence is measured from
  the later of the last receive and the end of the last delivery, so time spent in slow
  callbacks (while frames wait in the kernel buffer) never counts as venue silence.
* Back-off visibility and reset: ``stats()`` (and ``client.health()``) show the current
  attempt (0 while connected) and the delay before the next one.  The attempt counter resets
  when a connection has run ``backoff.reset_after`` seconds, *or* as soon as it delivered data
  for every active subscription (a successful resync), so a flapping link keeps recovering in
  about ``backoff.initial`` instead of climbing to ``max_delay``.  ``max_attempts`` therefore
  counts connections in a row that never served every subscription; a venue that drops each
  connection right after its first data (rate limiting) is retried every ``initial`` or so:
  give such a venue a larger ``initial``.
* Delivery lag: ``stats().delivery_lag`` is the age of the data being delivered (receive time
  to end of delivery, or to now while a delivery is in progress); ``max_delivery_lag`` the
  worst so far.  Time frames spent in the kernel before they were read is not seen; compare
  the events' exchange ``time`` for end-to-end latency.
* The socket thread survives anything a callback raises (``sys.exit()`` included: that
  observer is detached).  If it cannot go on (a broken reconnect policy), the state becomes
  ``FAILED`` and every subscriber gets :class:`~rxfeeds.errors.ConnectionFailed`.

Marble sketch of one key while the connection drops::

    socket   --a--b--X                (drop)   --S--c--d-->
    key      --a--b-----------R-----------------S--c--d-->     R = StreamReset("reconnect")

Receive path: one ``bytearray`` per connection, filled in place by ``recv_into`` (no
allocation per read; one read of up to 256 KiB serves many frames), whole text frames fed
straight out of it; control frames are answered here (ping → pong, close → close) and
fragments joined by :class:`~rxfeeds.transport.frames.Reassembler`.  All frames of one read
share one receive timestamp.  On a plain socket (Linux) the read itself waits, under a kernel
receive timeout: one system call per wake-up.

Callbacks run on the socket thread.  Use ``observe_on`` to move work elsewhere.

Example::

    from rxfeeds.transport import SocketSubject
    from rxfeeds.venues.kraken.codec import KrakenCodec

    sock = SocketSubject("wss://ws.kraken.com", KrakenCodec())
    d = sock.multiplex(("trade", "XBT/USD")).subscribe(print)
    ...
    d.dispose()   # last subscriber: unsubscribe frame, then the socket closes
"""

from __future__ import annotations

import math
import random
import select
import selectors
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

import websocket

from ..codec import Codec
from ..errors import ConnectionFailed, FrameError, InvalidArgument
from ..events import ConnectionState
from ..timing import Backoff, check_backoff
from .frames import BINARY, CLOSE, PING, TEXT, FrameReader, Reassembler, close_args
from .multiplexer import Multiplexer
from .redact import redact_url

__all__ = ["SocketSubject", "check_socket_options", "SOCKET_OPTIONS"]

#: keyword options :class:`SocketSubject` accepts (venue clients pass them through)
SOCKET_OPTIONS = frozenset(
    {
        "venue",
        "backoff",
        "ping_interval",
        "ping_timeout",
        "app_ping_interval",
        "stale_timeout",
        "header",
        "sslopt",
        "min_send_interval",
        "seed",
        "resubscribe_backoff",
    }
)


def _seconds(name: str, value: Any, *, optional: bool = False, zero: bool = False) -> None:
    if value is None and optional:
        return
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not zero):
        need = "a finite number of seconds " + (">= 0" if zero else "> 0") + (" or None" if optional else "")
        raise InvalidArgument(name, value, f"must be {need}")


def check_url(name: str, url: Any) -> list[str]:
    """``url`` (one URL or a non-empty list) as a list of ``ws://``/``wss://`` URLs with a host;
    :class:`~rxfeeds.errors.InvalidArgument` naming ``name`` otherwise.

    Example:
        >>> check_url("url", "wss://ws.kraken.com")
        ['wss://ws.kraken.com']
    """
    urls = [url] if isinstance(url, str) else list(url) if isinstance(url, (list, tuple)) else None
    if not urls:
        raise InvalidArgument(name, url, "give a ws:// or wss:// URL (or a non-empty list of them)")
    for u in urls:
        if not isinstance(u, str):
            raise InvalidArgument(name, u, "must be a ws:// or wss:// URL string", secret=True)
        try:
            parsed = urlparse(u)
            host = parsed.hostname
            _ = parsed.port  # raises for a port out of range ("wss://h:99999")
        except ValueError:
            host = None
            parsed = None
        if parsed is None or parsed.scheme not in ("ws", "wss") or not host:
            raise InvalidArgument(name, redact_url(u), "must be a ws:// or wss:// URL with a host")
    return urls


def check_socket_options(options: Mapping[str, Any], *, unknown: bool = True) -> None:
    """Validate :class:`SocketSubject` keyword options at once (venue clients call it in their
    constructors, so a bad option fails there, naming itself, not at the first subscription).

    ``unknown=True`` also rejects names the socket subject does not take.

    Example:
        >>> check_socket_options({"ping_interval": 5, "ping_timeout": 2})
        >>> check_socket_options({"ping_interval": float("nan")})
        Traceback (most recent call last):
        ...
        rxfeeds.errors.InvalidArgument: ping_interval=nan: must be a finite number of seconds > 0 or None
    """
    if unknown:
        for name, value in options.items():
            if name not in SOCKET_OPTIONS:
                raise InvalidArgument(
                    name, value, f"unknown option (known: {', '.join(sorted(SOCKET_OPTIONS))})", secret=True
                )
    get = options.get
    for name in ("ping_interval", "app_ping_interval", "stale_timeout"):
        _seconds(name, get(name), optional=True)
    ping_timeout = get("ping_timeout")
    if ping_timeout is not None:  # None: the default, fitted to ping_interval
        _seconds("ping_timeout", ping_timeout)
    ping_interval = get("ping_interval", 20.0)
    if ping_interval is not None and ping_timeout is not None and ping_timeout >= ping_interval:
        raise InvalidArgument("ping_timeout", ping_timeout, "must be positive and below ping_interval")
    _seconds("min_send_interval", get("min_send_interval", 0.0), zero=True)
    for name in ("backoff", "resubscribe_backoff"):
        if get(name) is not None:
            check_backoff(name, options[name])
    header = get("header")
    if header is not None and (isinstance(header, str) or not all(isinstance(h, str) for h in _iter(header))):
        raise InvalidArgument("header", header, 'must be a list of "Name: value" strings', secret=True)
    sslopt = get("sslopt")
    if sslopt is not None and not isinstance(sslopt, dict):
        raise InvalidArgument("sslopt", sslopt, "must be a dict of websocket-client TLS options", secret=True)
    seed = get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InvalidArgument("seed", seed, "must be an int or None")
    venue = get("venue")
    if venue is not None and not isinstance(venue, str):
        raise InvalidArgument("venue", venue, "must be a string")


def _iter(value: Any) -> Sequence[Any]:
    try:
        return list(value)
    except TypeError:
        return [object()]  # not iterable: fails the caller's check


class _Connection:
    """One run of the reconnect loop: its own thread, stop flag and wake-up event."""

    __slots__ = (
        "ws",
        "thread",
        "stopping",
        "wake",
        "opened_at",
        "opened_wall",
        "reason",
        "open",
        "peer_closed",
        "assembler",
    )

    def __init__(self) -> None:
        self.ws: websocket.WebSocket | None = None
        self.thread: threading.Thread | None = None
        self.stopping = False
        self.wake = threading.Event()
        self.opened_at: float | None = None
        self.opened_wall = 0.0
        self.reason = ""
        self.open = False
        #: the server sent a close frame (answered already: no close handshake of ours)
        self.peer_closed = False
        #: joins fragmented messages (made at the first fragment: rare)
        self.assembler: Reassembler | None = None

    def stop(self) -> None:
        self.stopping = True
        self.open = False
        self.wake.set()
        ws = self.ws
        if ws is not None:
            _shutdown(ws)


def _shutdown(ws: websocket.WebSocket) -> None:
    """Wake the socket thread out of a read (or a handshake) at once, from any thread: shut the
    TCP socket down without closing its descriptor (the socket thread closes it)."""
    raw = ws.sock
    if raw is not None:
        try:
            raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _poller(raw: Any) -> tuple[Callable[[float], Any], Callable[[], None]]:
    """``(poll, close)``: ``poll(ms)`` waits up to ``ms`` milliseconds for ``raw`` to be
    readable (true when it is).  One ``poll()`` system call where available, no selector
    bookkeeping per wake-up."""
    if hasattr(select, "poll"):
        p = select.poll()
        p.register(raw, select.POLLIN)
        return p.poll, _nothing
    sel = selectors.DefaultSelector()  # Windows
    sel.register(raw, selectors.EVENT_READ)
    return (lambda ms: sel.select(ms / 1000.0)), sel.close


def _nothing() -> None:
    pass


#: Receive timeouts a timed read may use: the largest one not past the next timer, so a timer
#: is never late and the timeout changes (one ``setsockopt``) a few times per timer period,
#: not at every wake-up.
_READ_TIMEOUTS = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001)


def _can_time_reads(raw: Any) -> bool:
    """``raw`` is a plain blocking TCP socket whose reads the kernel can time out (Linux's
    ``SO_RCVTIMEO`` with a ``struct timeval``): no ``poll()`` needed before each read."""
    return (
        sys.platform.startswith("linux")
        and type(raw) is socket.socket
        and raw.gettimeout() is None
        and hasattr(socket, "SO_RCVTIMEO")
    )


def _read_timeout(raw: socket.socket, wait: float) -> float:
    """Set the kernel receive timeout for a wait of ``wait`` seconds; returns the timeout set."""
    timeout = _READ_TIMEOUTS[-1]
    for t in _READ_TIMEOUTS:
        if t <= wait:
            timeout = t
            break
    usec = round(timeout * 1e6)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", usec // 1_000_000, usec % 1_000_000))
    return timeout


class SocketSubject(Multiplexer):
    """A shared websocket to one venue endpoint (see the module docstring).

    Args:
        url: ``ws://`` or ``wss://`` URL, or a list of them to fail over across.
        codec: the venue's :class:`~rxfeeds.codec.Codec`.
        venue: name for logs and events (default ``codec.venue``).
        backoff: reconnect policy.
        ping_interval: websocket ping period in seconds (None disables).
        ping_timeout: a pong must arrive within this many seconds (default 10, or half of a
            shorter ping_interval).
        app_ping_interval: period of the venue's application ping (``codec.ping_frame()``).
        stale_timeout: reconnect when no frame arrived for this long (default: ping_interval +
            ping_timeout when pings are on).
        header: extra HTTP headers for the handshake (``"Name: value"`` strings).
        sslopt: websocket-client TLS options; certificates are verified unless you pass
            ``{"cert_reqs": ssl.CERT_NONE}`` yourself.
        min_send_interval: minimum seconds between two sent frames (venue rate limits).
        seed: seed for the jitter random generator (tests).
        resubscribe_backoff: how a subscription that worked before is retried when the venue
            refuses it after a reconnect or resync (default: 5 attempts, 0.5 s to 8 s).

    Every option is checked here (:class:`~rxfeeds.errors.InvalidArgument` naming it).
    """

    def __init__(
        self,
        url: str | Sequence[str],
        codec: Codec,
        *,
        venue: str | None = None,
        backoff: Backoff | None = None,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = None,
        app_ping_interval: float | None = None,
        stale_timeout: float | None = None,
        header: Sequence[str] | None = None,
        sslopt: dict[str, Any] | None = None,
        min_send_interval: float = 0.0,
        seed: int | None = None,
        resubscribe_backoff: Backoff | None = None,
    ) -> None:
        urls = check_url("url", url)
        check_socket_options(
            {
                "venue": venue,
                "backoff": backoff,
                "ping_interval": ping_interval,
                "ping_timeout": ping_timeout,
                "app_ping_interval": app_ping_interval,
                "stale_timeout": stale_timeout,
                "header": header,
                "sslopt": sslopt,
                "min_send_interval": min_send_interval,
                "seed": seed,
                "resubscribe_backoff": resubscribe_backoff,
            }
        )
        super().__init__(codec, venue=venue, url=urls[0], resubscribe_backoff=resubscribe_backoff)
        self.urls: tuple[str, ...] = tuple(urls)
        self.backoff = backoff or Backoff()
        self._ping_interval = ping_interval
        if ping_timeout is None:  # 10 s, or half the ping interval when that is shorter
            ping_timeout = min(10.0, ping_interval / 2) if ping_interval else 10.0
        self._ping_timeout = ping_timeout
        self._app_ping_interval = app_ping_interval
        if stale_timeout is None and ping_interval is not None:
            stale_timeout = ping_interval + ping_timeout
        self._stale_timeout = stale_timeout
        self._header = list(header) if header else None
        self._sslopt = dict(sslopt) if sslopt else None
        self._min_send_interval = min_send_interval
        self._next_send = 0.0
        self._send_lock = threading.Lock()
        self._rng = random.Random(seed)
        self._conn: _Connection | None = None
        self._url_index = 0

    def __repr__(self) -> str:
        return f"SocketSubject(venue={self.venue!r}, url={redact_url(self.url)!r}, state={self.current_state.value!r})"

    # ------------------------------------------------------------------ driver hooks

    def _is_open(self) -> bool:
        conn = self._conn
        return conn is not None and conn.open

    def _open_if_needed(self) -> None:
        conn = self._conn
        if conn is not None and not conn.stopping:
            return
        conn = _Connection()
        self._conn = conn
        thread = threading.Thread(target=self._run, args=(conn,), name=f"rxfeeds-{self.venue}", daemon=True)
        conn.thread = thread
        thread.start()

    def _close_if_idle(self) -> None:
        if self._idle():
            self._stop_connection()

    def _stop_connection(self) -> None:
        conn = self._conn
        if conn is None:
            return
        self._conn = None
        conn.stop()

    def _write(self, frame: str) -> None:
        ws = self._conn.ws if self._conn is not None else None
        if ws is None or ws.sock is None:
            raise ConnectionError(f"{self.venue}: not connected")
        if self._min_send_interval:
            with self._send_lock:
                wait = self._next_send - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                self._next_send = time.monotonic() + self._min_send_interval
                ws.send(frame)
        else:
            ws.send(frame)
        self._tap_out(frame)

    def _ws_ping(self, ws: Any) -> None:
        try:
            ws.ping()
        except Exception as exc:  # a dying connection: the read loop finds out next
            self._log.warning("ping", "%s: websocket ping failed: %r", self.venue, exc)

    def _write_quiet(self, frame: str) -> None:
        try:
            self._write(frame)
        except Exception as exc:
            self._log.warning("ping", "%s: application ping failed: %r", self.venue, exc)

    # ------------------------------------------------------------------ socket thread

    def _binary_frame(self, data: bytes, recv_time: float) -> None:
        if self.codec.accepts_binary:
            self.feed(data, recv_time)
        else:
            self._frame_error(FrameError("unexpected binary frame", data, self.venue))

    def _run(self, conn: _Connection) -> None:
        try:
            self._reconnect_loop(conn)
        except BaseException as exc:
            # Last resort (a broken reconnect policy...): never die silently.
            self._thread_died(conn, exc)

    def _thread_died(self, conn: _Connection, exc: BaseException) -> None:
        reason = f"socket thread stopped: {type(exc).__name__}: {exc}"
        try:
            self._log.warning("thread", "%s: %s", self.venue, reason)
            conn.stopping = True
            conn.open = False
            if conn.ws is not None:
                self._close_ws(conn)
            self._publish_state(ConnectionState.FAILED, 0, None, reason)
            if self._conn is conn:
                self._conn = None
            self._fail_all(ConnectionFailed(f"{self.venue}: {reason}"))
        except BaseException:  # nothing left to tell anyone; do not raise out of the thread
            pass

    def _resynced(self, conn: _Connection) -> bool:
        """The connection delivered data for every active subscription (or, with none, any
        frame): the venue is serving again, so the back-off can start over."""
        since = conn.opened_wall
        if not since:
            return False
        routes = list(self._routes.values())
        if routes:
            return all(r.stats.last_recv >= since for r in routes)
        return self._stats.last_recv >= since

    def _next_delay(self, attempt: int) -> float:
        delay = self.backoff.delay(attempt, self._rng)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay < 86400:
            raise InvalidArgument("backoff", self.backoff, f"delay({attempt}) returned {delay!r}")
        return float(delay)

    def _reconnect_loop(self, conn: _Connection) -> None:
        attempt = 0
        reconnect = False
        while not conn.stopping:
            url = self.urls[self._url_index]
            self.url = url
            self._stats.url = redact_url(url)  # stats and health are shown to people
            self._publish_state(ConnectionState.CONNECTING, attempt)
            conn.opened_at = None
            conn.reason = ""
            conn.peer_closed = False
            conn.assembler = None
            ws = websocket.WebSocket(sslopt=self._sslopt, skip_utf8_validation=True, enable_multithread=True)
            ws.settimeout(websocket.getdefaulttimeout())
            conn.ws = ws
            try:
                try:
                    ws.connect(url, header=self._header)  # type: ignore[no-untyped-call]
                except Exception as exc:  # refused, TLS, handshake: the back-off decides what next
                    conn.reason = conn.reason or f"{type(exc).__name__}: {exc}"
                else:
                    if not conn.stopping:
                        try:
                            self._opened(conn, reconnect)
                        except Exception as exc:  # e.g. a send failed: the read loop finds out
                            conn.reason = conn.reason or f"{type(exc).__name__}: {exc}"
                        self._read(conn, ws)
            except Exception as exc:  # the connection broke (reset, protocol error...)
                conn.reason = conn.reason or f"{type(exc).__name__}: {exc}"
            except BaseException as exc:  # SystemExit & co. from a callback on this thread
                conn.reason = conn.reason or f"{type(exc).__name__}: {exc}"
                self._log.warning("run", "%s: connection ended by %r; reconnecting", self.venue, exc)
            finally:
                conn.open = False
                self._close_ws(conn)
            if conn.stopping:
                break
            opened = conn.opened_at
            # A connection that served every subscription again (a resync) resets the counter,
            # however short it lived: recovery on a flapping link stays at about `initial`.
            # The price: a venue that drops every connection right after its first data is
            # retried at that pace for ever (documented: raise `initial` for such a venue).
            if opened is not None and (time.monotonic() - opened >= self.backoff.reset_after or self._resynced(conn)):
                attempt = 0
            attempt += 1
            self._stats.attempt = attempt
            reconnect = reconnect or opened is not None
            if self.backoff.gives_up(attempt):
                reason = conn.reason or "connection failed"
                self._publish_state(ConnectionState.FAILED, attempt - 1, None, reason)
                if self._conn is conn:
                    self._conn = None
                self._fail_all(ConnectionFailed(f"{self.venue}: gave up after {attempt - 1} attempts: {reason}"))
                return
            delay = self._next_delay(attempt)
            if len(self.urls) > 1:
                self._url_index = (self._url_index + 1) % len(self.urls)
            self._publish_state(ConnectionState.RECONNECTING, attempt, delay, conn.reason or "connection lost")
            conn.wake.wait(delay)
        if self._conn is None:  # a newer connection, if any, reports its own states
            self._publish_state(ConnectionState.CLOSED, 0, None, "closed")

    def _close_ws(self, conn: _Connection) -> None:
        ws = conn.ws
        if ws is None:
            return
        if not conn.peer_closed:
            try:
                # A short close handshake: a stalled peer must not delay the reconnect by the
                # library's default 3 s wait for its close reply.
                ws.close(timeout=0.2)
            except Exception:
                pass
        try:
            ws.shutdown()  # type: ignore[no-untyped-call]
        except Exception:
            pass

    def _opened(self, conn: _Connection, reconnect: bool) -> None:
        """The handshake succeeded: count it, publish OPEN, (re)send the subscriptions."""
        conn.opened_at = time.monotonic()
        conn.opened_wall = time.time()
        self._stats.attempt = 0  # no attempt in progress while connected
        self._stats.connects += 1
        if reconnect:
            self._stats.reconnects += 1
        self._publish_state(ConnectionState.OPEN)

        def mark_open() -> None:
            conn.open = True

        self._on_connected(reconnect, mark_open)

    def _read(self, conn: _Connection, ws: websocket.WebSocket) -> None:
        """The receive loop (socket thread) until the connection ends; ``conn.reason`` says why.

        One reused buffer filled in place by ``recv_into`` (no allocation per read; one read
        serves a burst), whole text frames fed straight from it; control frames and fragments
        take the slow branch.  All frames of one read share one receive timestamp.  Pings
        (websocket and application) and the stale-data timer are checked here at each wake-up:
        no timer thread.

        Waiting: on a plain blocking TCP socket (Linux) the read itself waits, bounded by the
        kernel receive timeout (``SO_RCVTIMEO``, changed only when a timer comes due sooner):
        one system call per wake-up.  Elsewhere (TLS, whose reads retry internally until a
        record is complete; other systems) one ``poll()`` before each read.
        """
        raw: Any = ws.sock
        reader = FrameReader()
        frames = reader.frames
        room = reader.room
        filled = reader.filled
        feed = self.feed  # bound once: no wrapper call per frame
        binary = self._binary_frame
        pending = getattr(raw, "pending", None)  # TLS: decrypted bytes poll() cannot see
        recv_into = raw.recv_into
        poll, close_poller = _poller(raw)
        timed_reads = _can_time_reads(raw)
        read_timeout = math.inf  # the SO_RCVTIMEO in force (inf: not set yet)
        stats = self._stats
        stale = self._stale_timeout
        app_ping = self._app_ping_interval
        ping_frame = self.codec.ping_frame
        monotonic = time.monotonic
        wall = time.time
        now = monotonic()
        last_data = now
        next_ping = now + app_ping if app_ping else math.inf
        # A pong counts as data for the stale timer, which replaces a pong timeout.
        ws_ping = self._ping_interval
        next_ws_ping = now + ws_ping if ws_ping else math.inf
        next_timer = min(next_ping, next_ws_ping)
        t_recv = 0.0
        m_recv = now
        got = 0
        try:
            while not conn.stopping:
                if got:
                    stats.delivering_since = t_recv
                    for head, payload in frames():
                        if head == TEXT:
                            feed(payload, t_recv)
                        elif head == BINARY:
                            binary(payload, t_recv)
                        elif not self._unusual_frame(conn, ws, head, payload, t_recv):
                            return
                        if conn.stopping:
                            return
                    stats.delivering_since = 0.0
                    # Venue silence counts from the end of delivery, not from the receive
                    # (slow callbacks are not a stale venue).
                    now = last_data = monotonic()
                    lag = now - m_recv
                    stats.delivery_lag = lag
                    if lag > stats.max_delivery_lag:
                        stats.max_delivery_lag = lag
                else:
                    now = monotonic()
                # Timers: a few comparisons per wake-up, no thread, no timer object.
                if now >= next_timer:
                    if now >= next_ping:
                        frame = ping_frame()
                        if frame is not None:
                            self._write_quiet(frame)
                        next_ping = now + (app_ping or 0.0)
                    if now >= next_ws_ping:
                        self._ws_ping(ws)
                        next_ws_ping = now + (ws_ping or 0.0)
                    next_timer = min(next_ping, next_ws_ping)
                wait = next_timer - now
                if stale is not None:
                    quiet = last_data + stale - now
                    if quiet < 0 and not (pending and pending()):
                        if poll(0):  # bytes are waiting: not silence
                            last_data = now
                            quiet = stale
                        else:
                            conn.reason = f"stale: no data for {stale:g} s"
                            return
                    if quiet < wait:
                        wait = quiet
                if timed_reads:
                    if wait < read_timeout or read_timeout < 0.5 <= wait:
                        read_timeout = _read_timeout(raw, wait)
                    try:
                        got = recv_into(room())
                    except BlockingIOError:  # the receive timeout: go and see the timers
                        got = 0
                        continue
                else:
                    ms = 500.0 if wait >= 0.5 else 1000.0 * wait if wait > 0.0 else 0.0
                    if not (pending and pending()) and not poll(ms):
                        got = 0
                        continue
                    got = recv_into(room())
                if not got:
                    if not conn.reason:
                        conn.reason = "connection closed by peer"
                    return
                filled(got)
                t_recv = wall()
                last_data = m_recv = monotonic()
        finally:
            stats.delivering_since = 0.0
            close_poller()

    def _unusual_frame(self, conn: _Connection, ws: websocket.WebSocket, head: int, payload: bytes, t: float) -> bool:
        """A control frame or a fragment; False when the connection ends (a close frame)."""
        if head == PING:
            ws.pong(payload)
        elif head == CLOSE:
            code, msg = close_args(payload)
            if not conn.reason:
                detail = f" (code {code}{': ' + msg if msg else ''})" if code is not None else ""
                conn.reason = "closed by server" + detail
            conn.peer_closed = True
            try:
                # Answer the close handshake, echoing the code (RFC 6455, 5.5.1).
                ws.send_close(code if code is not None and 1000 <= code < 5000 else 1000)
            except Exception:
                pass
            return False
        elif head & 0x0F < 8:  # a fragment (pongs need nothing: any read is data to the stale timer)
            assembler = conn.assembler
            if assembler is None:
                assembler = conn.assembler = Reassembler()
            message = assembler.add(head, payload)
            if message is not None:
                opcode, data = message
                if opcode == TEXT & 0x0F:
                    self.feed(data, t)
                else:
                    self._binary_frame(data, t)
        return True

    # ------------------------------------------------------------------ public

    def close(self) -> None:
        """Complete every subscriber, close the socket and stop the socket thread."""
        conn = self._conn
        self._complete_all()
        with self._lock:
            self._stop_connection()
        if conn is not None and conn.thread is not None and conn.thread is not threading.current_thread():
            conn.thread.join(timeout=5.0)

    def reconnect(self, reason: str = "requested") -> None:
        """Drop the current socket now; the reconnect loop opens a new one."""
        conn = self._conn
        if conn is not None and conn.ws is not None:
            conn.reason = reason
            _shutdown(conn.ws)
