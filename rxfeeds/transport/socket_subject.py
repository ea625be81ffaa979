"""The socket subject: one websocket per venue endpoint, shared by every subscription.

:class:`SocketSubject` is a :class:`~rxfeeds.transport.multiplexer.Multiplexer` driven by a
``websocket-client`` ``WebSocketApp`` running in a daemon thread (the *socket thread*).

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

Fast receive path: one ``bytearray`` per connection, filled in place by ``recv_into`` (no
allocation per read; one read of up to 256 KiB serves many frames), text frames parsed
straight out of it; anything unusual (control frames, fragments) is handed to
websocket-client's own reader, which draws from the same buffer.  All frames of one read
share one receive timestamp.

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


#: Receive buffer size.  One ``bytearray`` of this size is allocated per connection and every
#: ``recv_into`` fills it in place: no allocation per read (a 256 KiB ``recv`` allocated a
#: fresh block through glibc's mmap path, three extra system calls per wake-up).  Large reads
#: matter in bursts: each read releases the GIL, and a busy process may not give it back at
#: once.  Frames larger than this grow the buffer while they are read; it shrinks back once
#: they are delivered.
_BUF_SIZE = 262144
#: Compact (move a partial frame to the front) when less room than this is left at the end.
_MIN_ROOM = 4096


class _Connection:
    """One run of the reconnect loop: its own thread, stop flag and wake-up event."""

    __slots__ = ("app", "thread", "stopping", "wake", "opened_at", "opened_wall", "reason", "open")

    def __init__(self) -> None:
        self.app: websocket.WebSocketApp | None = None
        self.thread: threading.Thread | None = None
        self.stopping = False
        self.wake = threading.Event()
        self.opened_at: float | None = None
        self.opened_wall = 0.0
        self.reason = ""
        self.open = False

    def stop(self) -> None:
        self.stopping = True
        self.open = False
        self.wake.set()
        app = self.app
        if app is not None:
            app.keep_running = False
            sock = app.sock
            if sock is not None and sock.sock is not None:
                try:
                    sock.sock.shutdown(2)
                except OSError:
                    pass


class _FastDispatcher:
    """websocket-client dispatcher that reads frames out of one reused receive buffer.

    It implements the small interface ``WebSocketApp.run_forever(dispatcher=...)`` expects
    (``read``, ``timeout``, ``signal``, ``abort``, ``buffwrite``).
    """

    def __init__(self, subject: SocketSubject, conn: _Connection) -> None:
        self.subject = subject
        self.conn = conn
        self._buf = bytearray(_BUF_SIZE)
        self._view = memoryview(self._buf)
        #: unread bytes are ``_buf[_start:_end]``
        self._start = 0
        self._end = 0
        self._raw: Any = None
        #: opcode of the fragmented message being handed to websocket-client (it reports the
        #: reassembled message with the continuation opcode)
        self.fragment_opcode = 1

    # -- interface used by WebSocketApp
    def signal(self, sig: int, handler: Any) -> None:
        """Signals belong to the main thread; nothing to do here."""

    def abort(self) -> None:
        self.conn.stop()

    def timeout(self, seconds: float, callback: Any, *args: Any) -> None:
        """The ping-timeout check is replaced by the stale-data timer in ``read``."""

    def buffwrite(self, sock: Any, data: Any, send: Any, disconnect_handler: Any) -> None:
        send(sock, data)

    def close_socket(self) -> None:
        """Close the raw socket: websocket-client skips it after answering a server close."""
        raw, self._raw = self._raw, None
        if raw is not None:
            try:
                raw.close()
            except OSError:
                pass
        self._start = self._end = 0

    # -- buffer management
    def _buffered_recv(self, bufsize: int) -> bytes:
        """websocket-client's reader draws from here: buffered bytes first, then the socket."""
        start = self._start
        avail = self._end - start
        if avail > 0:
            take = avail if avail < bufsize else bufsize
            self._start = start + take
            return self._view[start : start + take].tobytes()
        data: bytes = websocket.recv(self._raw, bufsize)
        return data

    def _make_room(self, need: int) -> None:
        """Move the unread bytes to the front, growing the buffer when ``need`` bytes (a whole
        frame, or what is buffered plus room to read) would not fit; shrink a grown buffer back
        when it is empty."""
        start, end = self._start, self._end
        size = len(self._buf)
        if need > size or (start == end and size > _BUF_SIZE):
            grown = bytearray(max(_BUF_SIZE, 1 << (need - 1).bit_length()))
            grown[: end - start] = self._view[start:end]
            self._buf = grown
            self._view = memoryview(grown)
        elif start:
            self._buf[: end - start] = bytes(self._view[start:end])
        self._start = 0
        self._end = end - start

    # -- the receive loop
    def read(self, sock: Any, read_callback: Any, check_callback: Any = None) -> None:
        subject = self.subject
        conn = self.conn
        app = conn.app
        if app is None or app.sock is None or app.sock.sock is None:
            return
        ws = app.sock
        raw: Any = ws.sock
        self._raw = raw
        ws.frame_buffer.recv = self._buffered_recv
        feed = subject.feed  # bound once: no wrapper call per frame
        binary = subject._binary_frame
        pending = getattr(raw, "pending", None)
        recv_into = raw.recv_into
        poll, close_poller = _poller(raw)
        stats = subject._stats
        stale = subject._stale_timeout
        app_ping = subject._app_ping_interval
        ping_frame = subject.codec.ping_frame
        monotonic = time.monotonic
        wall = time.time
        now = monotonic()
        last_data = now
        next_ping = now + app_ping if app_ping else float("inf")
        # websocket pings are sent from here too: no ping thread per connection; a pong counts
        # as data for the stale timer, which replaces websocket-client's pong timeout.
        ws_ping = subject._ping_interval
        next_ws_ping = now + ws_ping if ws_ping else float("inf")
        next_timer = next_ping if next_ping < next_ws_ping else next_ws_ping
        t_recv = wall()
        m_recv = now
        try:
            while app.keep_running and not conn.stopping:
                buf = self._buf
                view = self._view
                pos = start = self._start
                n = self._end
                need = 0  # size of the incomplete frame at ``pos``, when known
                fallback = False
                if n - pos >= 2:
                    stats.delivering_since = t_recv
                while n - pos >= 2:
                    b0 = buf[pos]
                    b1 = buf[pos + 1]
                    if b1 & 0x80 or b0 & 0x70:
                        fallback = True  # masked or extension bits: let the library judge
                        break
                    length = b1
                    head = 2
                    if length == 126:
                        if n - pos < 4:
                            break
                        length = (buf[pos + 2] << 8) | buf[pos + 3]
                        head = 4
                    elif length == 127:
                        if n - pos < 10:
                            break
                        length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                        head = 10
                    opcode = b0 & 0x0F
                    if not (b0 & 0x80) or opcode > 2 or opcode == 0:
                        fallback = True  # control frame or fragment
                        if opcode in (1, 2):
                            self.fragment_opcode = opcode
                        break
                    end = pos + head + length
                    if end > n:
                        need = head + length
                        break
                    payload = view[pos + head : end].tobytes()
                    pos = end
                    self._start = pos
                    if opcode == 1:
                        feed(payload, t_recv)
                    else:
                        binary(payload, t_recv)
                    if conn.stopping:
                        return
                if pos != start:
                    stats.delivering_since = 0.0
                    # Frames were delivered: venue silence counts from the end of delivery,
                    # not from the receive (slow callbacks are not a stale venue).
                    now = last_data = monotonic()
                    lag = now - m_recv
                    stats.delivery_lag = lag
                    if lag > stats.max_delivery_lag:
                        stats.max_delivery_lag = lag
                else:
                    now = monotonic()
                if fallback:
                    # websocket-client reads the next frame (answers pings, joins fragments)
                    # from our buffer first, then from the socket.
                    if not read_callback():
                        return
                    last_data = monotonic()
                    continue
                # Need more bytes.
                end = self._end
                if self._start == end:
                    self._start = self._end = end = 0  # empty: start over at the front, no copy
                    if len(buf) > _BUF_SIZE:
                        self._make_room(0)
                elif need > len(buf) - self._start or len(buf) - end < _MIN_ROOM:
                    self._make_room(max(need, end - self._start + _MIN_ROOM))
                    end = self._end
                # Timers: a few comparisons per wake-up, no thread, no timer object.
                if now >= next_timer:
                    if now >= next_ping:
                        frame = ping_frame()
                        if frame is not None:
                            subject._write_quiet(frame)
                        next_ping = now + (app_ping or 0.0)
                    if now >= next_ws_ping:
                        subject._ws_ping(ws)
                        next_ws_ping = now + (ws_ping or 0.0)
                    next_timer = next_ping if next_ping < next_ws_ping else next_ws_ping
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
                ms = 500.0 if wait >= 0.5 else 1000.0 * wait if wait > 0.0 else 0.0
                if not (pending and pending()) and not poll(ms):
                    continue
                # One system call fills the reused buffer; no slice object when it is empty.
                got = recv_into(self._view if not end else self._view[end:])
                if not got:
                    conn.reason = "connection closed by peer"
                    read_callback()  # let websocket-client tear down and report the close
                    return
                t_recv = wall()
                last_data = m_recv = monotonic()
                self._end = end + got
        finally:
            stats.delivering_since = 0.0
            close_poller()


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
        app = self._conn.app if self._conn is not None else None
        if app is None or app.sock is None:
            raise ConnectionError(f"{self.venue}: not connected")
        if self._min_send_interval:
            with self._send_lock:
                wait = self._next_send - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                self._next_send = time.monotonic() + self._min_send_interval
                app.send(frame)
        else:
            app.send(frame)
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
            if conn.app is not None:
                self._close_app(conn.app)
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
            was_reconnect = reconnect

            def on_open(app: Any, _conn: _Connection = conn, _reconnect: bool = was_reconnect) -> None:
                if _conn.stopping:
                    return
                _conn.opened_at = time.monotonic()
                _conn.opened_wall = time.time()
                self._stats.attempt = 0  # no attempt in progress while connected
                self._stats.connects += 1
                if _reconnect:
                    self._stats.reconnects += 1
                self._publish_state(ConnectionState.OPEN)

                def mark_open() -> None:
                    _conn.open = True

                self._on_connected(_reconnect, mark_open)

            def on_close(app: Any, code: Any, msg: Any, _conn: _Connection = conn) -> None:
                if code is not None and not _conn.reason:
                    _conn.reason = f"closed by server (code {code}{': ' + str(msg) if msg else ''})"

            def on_error(app: Any, error: Exception, _conn: _Connection = conn) -> None:
                if not _conn.reason:
                    _conn.reason = f"{type(error).__name__}: {error}"

            dispatcher = _FastDispatcher(self, conn)

            def on_data(app: Any, data: bytes, opcode: int, fin: Any, _d: _FastDispatcher = dispatcher) -> None:
                # Only frames the fast path handed back to websocket-client arrive here
                # (fragmented messages, reassembled).
                if opcode == websocket.ABNF.OPCODE_CONT:
                    opcode = _d.fragment_opcode
                if opcode == websocket.ABNF.OPCODE_TEXT:
                    self.feed(data, time.time())
                elif opcode == websocket.ABNF.OPCODE_BINARY:
                    self._binary_frame(data, time.time())

            app = websocket.WebSocketApp(
                url, header=self._header, on_open=on_open, on_close=on_close, on_error=on_error, on_data=on_data
            )
            conn.app = app
            try:
                app.run_forever(
                    sslopt=self._sslopt,
                    ping_interval=0,  # the read loop sends websocket pings (no ping thread)
                    skip_utf8_validation=True,  # orjson validates UTF-8 while parsing
                    dispatcher=dispatcher,
                )
            except BaseException as exc:  # run_forever re-raises SystemExit & co. from callbacks
                conn.reason = conn.reason or f"{type(exc).__name__}: {exc}"
                self._log.warning("run", "%s: connection ended by %r; reconnecting", self.venue, exc)
            finally:
                conn.open = False
                self._close_app(app)
                dispatcher.close_socket()
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

    @staticmethod
    def _close_app(app: Any) -> None:
        app.keep_running = False
        sock = app.sock
        if sock is not None:
            try:
                # A short close handshake: a stalled peer must not delay the reconnect by the
                # library's default 3 s wait for its close reply.
                sock.close(timeout=0.2)
            except Exception:
                pass
            try:
                sock.shutdown()
            except Exception:
                pass

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
        if conn is not None and conn.app is not None:
            conn.reason = reason
            sock = conn.app.sock
            if sock is not None and sock.sock is not None:
                try:
                    sock.sock.shutdown(2)
                except OSError:
                    pass
