"""The base of every venue simulator: a real websocket server on 127.0.0.1 in a daemon thread.

Writing a venue simulator
-------------------------
Subclass :class:`SimServer`, set ``venue`` (and ``path`` if the venue serves one), and
override the hooks you need.  Hooks are plain methods (``async def`` also works) called **on
the server's event-loop thread**, one at a time, so venue state needs no locks; never block in
them.  Exceptions in hooks are logged and kept in ``server.hook_errors`` (tests assert it
stays empty); they never kill the server or the connection.

===============================  =========================================================
hook                             when
===============================  =========================================================
``on_connect(conn)``             after the websocket handshake (``conn.path``/``conn.query``
                                 hold the request URL, e.g. Binance ``/stream?streams=..``)
``on_message(conn, message)``    each client message (``str`` for text, ``bytes`` for binary)
``on_oversize(conn, message)``   a message over ``max_message_size`` (default: close 1009);
                                 override to send the venue's error reply instead
``on_disconnect(conn)``          the connection is gone (any reason)
``on_tick(now)``                 every ``tick_interval`` s; default steps every market in
                                 ``self.markets`` and calls ``on_step`` for each
``on_step(symbol, market, st)``  one market stepped: push updates to subscribers
``handle_http(request)``         an HTTP request (REST endpoints); return
                                 ``(status, headers, body)`` (see :func:`json_response`) or
                                 ``None`` for 404
``market_options(symbol)``       keyword arguments for that symbol's ``SyntheticMarket``
===============================  =========================================================

Tools for hooks: ``conn.send(text)``, ``conn.send_raw(frame_bytes)``, ``conn.close(code,
reason)``, ``conn.abort()``, ``conn.subscriptions`` / ``conn.state`` (free-form dicts);
``self.market(symbol)`` (lazily created, seeded from ``(seed, symbol)``);
``self.sent_book(key)`` — the :class:`SentBook` the venue keeps as *what it has sent* for a
book (``key`` is usually the symbol; use e.g. ``(symbol, depth)`` when it varies); tests read
it with ``server.truth(key)``; ``self.faults`` (consult ``take_skip_sequence``,
``take_corrupt_checksum``, ``should_reject``: see :mod:`rxfeeds.sim.faults`);
``self.spawn(coro)`` for background tasks (cancelled on stop); ``self.loop``;
``self.record_truth(key, marker)`` right after sending a book frame (the chaos harness reads
``truth_history(key)`` to check books at the sequence or time ``marker``; off unless
``truth_history_size`` > 0).

From other threads (tests): ``start()``/``stop()``/``with``, ``url``, ``http_url``,
``faults.*``, ``truth(key)``, ``step(n)`` (run ticks now), ``freeze()``/``unfreeze()`` (pause
the automatic ticks), ``call(fn, *args)`` (run anything on the loop and get its result),
``connection_count``, ``wait_for_connections(n)``.  ``tick_interval=None`` disables automatic
ticks entirely (deterministic tests drive the market with ``step()``).

``stop()`` sends every client a close frame (1001 going away), drops the ones that do not
finish the close within ``min(close_timeout, 1)`` s, stops the loop and joins its thread.
(websocket-client answers a server close but keeps its socket open until ``ws.shutdown()``;
tests that wait for the server to see a disconnect should call it.)

HTTP
----
REST endpoints go through ``handle_http``.  They are served on two ports: the websocket port
answers **GET** requests that are not websocket upgrades (the ``websockets`` handshake hook
cannot read request bodies), and a small HTTP/1.1 listener at ``http_url`` (another
loopback port, same loop) answers every method **with bodies** (e.g. Kraken's POST
``/0/private/GetWebSocketsToken``).  Prefer ``http_url`` as a client's REST base.

Sending
-------
``conn.send`` encodes the websocket frame itself (FIN, opcode, length, unmasked payload) and
writes it straight to the socket transport: synchronous, ordered, fast, and callable from any
thread.  Per-message compression is off.  ``conn.send_raw`` writes bytes that are already
websocket frames (see :func:`encode_frame`).

Throughput
----------
``server.blast(frames, repeat)`` writes pre-encoded frames to every connection in ~1 MiB
chunks with flow control.  :class:`BlastServer` does it per connection: when a client sends
its first message (or connects, ``start_on="connect"``) it streams ``repeat`` copies of
``frames`` then ``end_frame``::

    with BlastServer(['{"a":1}'], repeat=1_000_000, end_frame='{"end":true}') as srv:
        ws = websocket.create_connection(srv.url); ws.send("go")
        # ... receive 1_000_000 frames, then the end frame

Example:
    >>> import websocket
    >>> class Echo(SimServer):
    ...     venue = "echo"
    ...     def on_message(self, conn, message):
    ...         conn.send(message)
    >>> with Echo() as srv:
    ...     ws = websocket.create_connection(srv.url)
    ...     _ = ws.send("hi")
    ...     print(ws.recv())
    ...     ws.close()
    hi
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import http
import inspect
import itertools
import logging
import socket
import struct
import threading
import time
import traceback
import zlib
from collections import deque
from collections.abc import Callable, Coroutine, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self, TypeAlias, TypeVar
from urllib.parse import parse_qsl, urlsplit

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from ..errors import InvalidArgument
from ..events import Level
from .faults import Faults
from .market import SyntheticMarket

__all__ = [
    "BlastServer",
    "BookTruth",
    "HttpRequest",
    "HttpResponse",
    "SentBook",
    "SimConnection",
    "SimServer",
    "TruthRecord",
    "encode_frame",
    "json_response",
]

log = logging.getLogger("rxfeeds.sim")

T = TypeVar("T")

#: ``(status, headers, body)`` returned by ``handle_http``
HttpResponse: TypeAlias = tuple[int, Mapping[str, str], bytes | str]

HOST = "127.0.0.1"
_MAX_HOOK_ERRORS = 1000
_BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def encode_frame(payload: str | bytes, *, binary: bool = False) -> bytes:
    """One unmasked, unfragmented server->client websocket frame (text unless ``binary``).

    Example:
        >>> encode_frame("hi")
        b'\\x81\\x02hi'
        >>> len(encode_frame(b"x" * 200, binary=True))  # 2 + 2 length bytes + 200
        204
    """
    data = payload.encode() if isinstance(payload, str) else bytes(payload)
    first = 0x82 if binary else 0x81
    n = len(data)
    if n < 126:
        return bytes((first, n)) + data
    if n < 65536:
        return struct.pack("!BBH", first, 126, n) + data
    return struct.pack("!BBQ", first, 127, n) + data


def json_response(obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> HttpResponse:
    """An ``handle_http`` result with a JSON body.

    Example:
        >>> json_response({"lastUpdateId": 1})[0]
        200
    """
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return status, h, orjson.dumps(obj)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """An HTTP request given to ``handle_http``; header names are lower case."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    target: str = ""

    def form(self) -> dict[str, str]:
        """The body parsed as ``application/x-www-form-urlencoded``."""
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> Any:
        """The body parsed as JSON (raises ``orjson.JSONDecodeError``)."""
        return orjson.loads(self.body)


def _split_target(target: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(target)
    return parts.path or "/", dict(parse_qsl(parts.query, keep_blank_values=True))


# -- truth: the book a venue has sent --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookTruth:
    """An immutable copy of a :class:`SentBook`: levels as ``events.Level``, best first."""

    bids: tuple[Level, ...] = ()
    asks: tuple[Level, ...] = ()

    def top(self, depth: int) -> BookTruth:
        """The best ``depth`` levels per side."""
        return BookTruth(self.bids[:depth], self.asks[:depth])


class SentBook:
    """The book a venue simulator has sent for one key, kept by the venue as it emits.

    Levels are keyed by ``float(price_text)`` and keep the exact wire texts.  A size that
    parses to zero removes the level.  Lives on the loop thread; tests read copies through
    :meth:`SimServer.truth`.

    Example:
        >>> b = SentBook()
        >>> b.replace(bids=[("100.0", "1.5")], asks=[("100.5", "2")])
        >>> b.set("bid", "100.2", "0.3"); b.set("ask", "100.5", "0")
        >>> b.snapshot().bids
        ((100.2, 0.3, '100.2', '0.3'), (100.0, 1.5, '100.0', '1.5'))
        >>> b.snapshot().asks
        ()
    """

    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids: dict[float, tuple[str, str]] = {}
        self.asks: dict[float, tuple[str, str]] = {}

    def clear(self) -> None:
        """Forget every level (e.g. before a snapshot)."""
        self.bids.clear()
        self.asks.clear()

    def set(self, side: Literal["bid", "ask", "buy", "sell"], price_text: str, size_text: str) -> None:
        """Record one sent level; ``side`` is ``"bid"``/``"buy"`` or ``"ask"``/``"sell"``."""
        book = self.bids if side in ("bid", "buy") else self.asks
        price = float(price_text)
        if float(size_text) == 0.0:
            book.pop(price, None)
        else:
            book[price] = (price_text, size_text)

    def replace(self, bids: Iterable[tuple[str, str]], asks: Iterable[tuple[str, str]]) -> None:
        """Replace the whole book with a sent snapshot of ``(price_text, size_text)`` pairs."""
        self.clear()
        for p, s in bids:
            self.set("bid", p, s)
        for p, s in asks:
            self.set("ask", p, s)

    def truncate(self, depth: int) -> None:
        """Keep only the best ``depth`` levels per side (venues that trim to a depth)."""
        for book, best_first in ((self.bids, True), (self.asks, False)):
            for price in sorted(book, reverse=best_first)[depth:]:
                del book[price]

    def snapshot(self, depth: int | None = None) -> BookTruth:
        """Sorted immutable copy (bids high->low, asks low->high)."""

        def levels(book: dict[float, tuple[str, str]], reverse: bool) -> tuple[Level, ...]:
            prices = sorted(book, reverse=reverse)[:depth]
            return tuple((p, float(book[p][1]), book[p][0], book[p][1]) for p in prices)

        return BookTruth(levels(self.bids, True), levels(self.asks, False))


@dataclass(frozen=True, slots=True)
class TruthRecord:
    """One entry of a truth history (:meth:`SimServer.record_truth`): the sent book at a frame boundary.

    ``marker`` is what a client's book shows for that state (the venue's sequence number, or
    the exchange time the frame carries) or None where the venue sends neither; ``wall_time``
    is ``time.time()`` when the frame was written (clients on this host receive it later).
    """

    marker: float | None
    wall_time: float
    book: BookTruth


# -- connections -----------------------------------------------------------------------------


class SimConnection:
    """One client connection, handed to the hooks.

    Attributes:
        id: 1, 2, ... per server.
        path: the request path without the query (``"/ws"``).
        target: the full request target (``"/stream?streams=a@depth"``).
        query: the query parameters (last value wins).
        headers: the handshake headers (lower-case names).
        subscriptions: free-form per-connection dict for the venue (e.g. channel id -> key).
        state: free-form per-connection dict for the venue (e.g. ``{"logged_in": True}``).
        frames_out / bytes_out: what was written to this client.
        closed: True once the connection is gone.
    """

    def __init__(self, server: SimServer, ws: ServerConnection, conn_id: int) -> None:
        self.server = server
        self.ws = ws
        self.id = conn_id
        request = ws.request
        self.target = request.path if request is not None else "/"
        self.path, self.query = _split_target(self.target)
        self.headers = {k.lower(): v for k, v in request.headers.raw_items()} if request else {}
        self.subscriptions: dict[Any, Any] = {}
        self.state: dict[str, Any] = {}
        self.frames_out = 0
        self.bytes_out = 0
        self.frames_in = 0
        self.closed = False
        self._held: list[bytes] = []
        self._held_frames = 0

    def __repr__(self) -> str:
        return f"SimConnection(id={self.id}, target={self.target!r}, closed={self.closed})"

    def send(self, message: str | bytes, *, binary: bool = False) -> None:
        """Send one text frame (``bytes`` must be UTF-8 JSON/text) or a binary frame. Any thread."""
        self.server._dispatch(self._write, encode_frame(message, binary=binary), 1)

    def send_raw(self, frames: bytes, count: int = 1) -> None:
        """Write already-encoded websocket frames (``count`` of them, for the counters). Any thread."""
        self.server._dispatch(self._write, bytes(frames), count)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the websocket close handshake. Any thread."""
        self.server._dispatch(self._close, code, reason)

    def abort(self) -> None:
        """TCP reset: ``SO_LINGER`` 0 then close, no close frame. Any thread."""
        self.server._dispatch(self._abort)

    # loop-thread implementations

    @property
    def is_open(self) -> bool:
        """True while frames can be written."""
        return not self.closed and self.ws.state is State.OPEN and not self.ws.transport.is_closing()

    def _write(self, data: bytes, count: int) -> None:
        if not self.is_open:
            return
        if self.server._stalled:
            self._held.append(data)
            self._held_frames += count
            return
        self.ws.transport.write(data)
        self.frames_out += count
        self.bytes_out += len(data)

    def _flush_held(self) -> None:
        held, self._held = self._held, []
        count, self._held_frames = self._held_frames, 0
        if held and self.is_open:
            data = b"".join(held)
            self.ws.transport.write(data)
            self.frames_out += count
            self.bytes_out += len(data)

    def _close(self, code: int, reason: str) -> None:
        if self.closed or self.ws.state is not State.OPEN:
            return
        self._held.clear()
        self.ws.transport.resume_reading()
        self.server.spawn(self.ws.close(code, reason))

    def _abort(self) -> None:
        if self.closed:
            return
        self._held.clear()
        transport = self.ws.transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # already gone
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()


# -- the server ------------------------------------------------------------------------------


class SimServer:
    """Base class of the venue simulators (see the module docstring for the hooks).

    Args:
        host: must be ``"127.0.0.1"`` (simulators bind loopback only).
        port: websocket port; 0 picks a free one.
        seed: seeds every market (per symbol: ``crc32(f"{seed}:{symbol}")``).
        tick_interval: seconds between market steps; ``None`` = only manual :meth:`step`.
        symbols: markets to create up front (others are created when first asked for).
        http_port: port of the HTTP listener; 0 picks a free one.

    Example:
        >>> class Quiet(SimServer):
        ...     venue = "quiet"
        >>> srv = Quiet(seed=1, tick_interval=None, symbols=["A/B"]).start()
        >>> srv.url.startswith("ws://127.0.0.1:")
        True
        >>> srv.step(3); srv.call(lambda: len(srv.market("A/B").trades())) >= 0
        True
        >>> srv.stop()
    """

    venue: ClassVar[str] = "sim"
    #: URL path clients connect to (the server accepts any path; ``conn.path`` tells which)
    path: ClassVar[str] = "/"
    #: messages longer than this go to ``on_oversize`` instead of ``on_message``
    max_message_size: ClassVar[int] = 64 * 1024
    #: hard frame limit: the websockets library closes the connection (1009) above this
    max_frame_size: ClassVar[int] = 1024 * 1024
    #: server-initiated websocket pings (``None`` = never, like most venues)
    ping_interval: ClassVar[float | None] = None
    #: how long a close handshake may take before the socket is dropped
    close_timeout: ClassVar[float] = 2.0

    def __init__(
        self,
        *,
        host: str = HOST,
        port: int = 0,
        seed: int = 0,
        tick_interval: float | None = 0.1,
        symbols: Iterable[str] = (),
        http_port: int = 0,
    ) -> None:
        if host != HOST:
            raise InvalidArgument("host", host, "simulators bind 127.0.0.1 only")
        if not 0 <= port < 65536:
            raise InvalidArgument("port", port, "must be 0..65535")
        if tick_interval is not None and tick_interval <= 0:
            raise InvalidArgument("tick_interval", tick_interval, "must be positive or None")
        if isinstance(symbols, str):
            symbols = [symbols]
        self.host = host
        self.seed = seed
        self.tick_interval = tick_interval
        self.symbols = list(symbols)
        self.faults = Faults(self)
        #: symbol -> market (mutate on the loop thread only)
        self.markets: dict[str, SyntheticMarket] = {}
        #: key -> what the venue has sent (see :class:`SentBook`)
        self.sent_books: dict[Hashable, SentBook] = {}
        #: exceptions raised by hooks, with tracebacks (tests assert this stays empty)
        self.hook_errors: list[str] = []
        #: clock used for ticks and markets (epoch seconds); override for virtual time
        self.clock: Callable[[], float] = time.time
        self._requested_port = port
        self._requested_http_port = http_port
        self._port = 0
        self._http_port = 0
        self._connections: dict[int, SimConnection] = {}
        self._ids = itertools.count(1)
        self._stalled = False
        self._stall_timer: asyncio.TimerHandle | None = None
        self._frozen = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ws_server: Server | None = None
        self._http_server: asyncio.base_events.Server | None = None
        self._http_writers: set[asyncio.StreamWriter] = set()
        self._tick_task: asyncio.Task[None] | None = None
        self._connection_event = threading.Condition()
        #: truth records kept per key by :meth:`record_truth`; 0 (the default) keeps none
        self.truth_history_size = 0
        self._truth_history: dict[Hashable, deque[TruthRecord]] = {}
        self._truth_history_lock = threading.Lock()

    # -- hooks (override) ------------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> Any:
        """A client completed the websocket handshake."""

    def on_message(self, conn: SimConnection, message: str | bytes) -> Any:
        """A client message; reply with ``conn.send``."""

    def on_oversize(self, conn: SimConnection, message: str | bytes) -> Any:
        """A message over ``max_message_size``; default closes with 1009 "message too big"."""
        conn.close(1009, "message too big")

    def on_disconnect(self, conn: SimConnection) -> Any:
        """The connection is gone."""

    def on_tick(self, now: float) -> Any:
        """Every ``tick_interval``: step each market and hand the result to :meth:`on_step`."""
        for symbol, market in list(self.markets.items()):
            self.on_step(symbol, market, market.step(now))

    def on_step(self, symbol: str, market: SyntheticMarket, step: Any) -> Any:
        """One market stepped (``step`` is a :class:`~rxfeeds.sim.market.MarketStep`)."""

    def handle_http(self, request: HttpRequest) -> HttpResponse | Any | None:
        """An HTTP request; return ``(status, headers, body)`` or ``None`` (404)."""
        return None

    def market_options(self, symbol: str) -> dict[str, Any]:
        """Keyword arguments for ``SyntheticMarket`` of ``symbol`` (mid, tick_size, size_decimals...)."""
        return {}

    # -- venue helpers (loop thread) -------------------------------------------------------

    def symbol_seed(self, symbol: str) -> int:
        """The market seed of ``symbol``: stable across runs and processes."""
        return zlib.crc32(f"{self.seed}:{symbol}".encode())

    def market(self, symbol: str) -> SyntheticMarket:
        """The market of ``symbol``, created on first use (thread-safe)."""
        if self._off_loop():
            result: SyntheticMarket = self.call(self.market, symbol)
            return result
        m = self.markets.get(symbol)
        if m is None:
            m = SyntheticMarket(
                symbol, self.symbol_seed(symbol), start_time=self.clock(), **self.market_options(symbol)
            )
            self.markets[symbol] = m
        return m

    def sent_book(self, key: Hashable) -> SentBook:
        """The :class:`SentBook` for ``key`` (created empty on first use); loop thread."""
        book = self.sent_books.get(key)
        if book is None:
            book = self.sent_books[key] = SentBook()
        return book

    @property
    def connections(self) -> list[SimConnection]:
        """Open connections (a copy; safe from any thread)."""
        if self._off_loop():
            conns: list[SimConnection] = self.call(lambda: list(self._connections.values()))
            return conns
        return list(self._connections.values())

    @property
    def connection_count(self) -> int:
        """Number of open connections."""
        return len(self._connections)

    def broadcast(self, message: str | bytes, predicate: Callable[[SimConnection], bool] | None = None) -> int:
        """Send a text frame to every (matching) connection; returns how many."""
        frame = encode_frame(message)
        n = 0
        for conn in list(self._connections.values()):
            if predicate is None or predicate(conn):
                conn.send_raw(frame)
                n += 1
        return n

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run a coroutine on the loop as a task that is cancelled on stop (loop thread)."""
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._record_error(exc)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The server's event loop (exists between start and stop)."""
        if self._loop is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return self._loop

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._thread is not None

    @property
    def port(self) -> int:
        """The websocket port (after start)."""
        return self._port

    @property
    def http_port(self) -> int:
        """The HTTP listener's port (after start)."""
        return self._http_port

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:PORT`` + ``path``."""
        return f"ws://{self.host}:{self._port}{self.path}"

    @property
    def http_url(self) -> str:
        """Base URL of the HTTP listener (GET and POST with bodies), without a trailing slash."""
        return f"http://{self.host}:{self._http_port}"

    def start(self) -> Self:
        """Start serving; returns once listening (raises if the port cannot be bound)."""
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        thread = threading.Thread(target=self._run, args=(ready,), name=f"rxfeeds-sim-{self.venue}", daemon=True)
        self._thread = thread
        thread.start()
        try:
            ready.result(timeout=30)
        except BaseException:
            thread.join(10)
            self._thread = None
            raise
        return self

    def stop(self) -> None:
        """Close every connection and listener, stop the loop and join its thread. Idempotent."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if threading.current_thread() is thread:
            raise RuntimeError("stop() called from the simulator's own thread")
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=15)
        except Exception:
            log.exception("simulator shutdown failed")
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(15)
            self._thread = None

    def __enter__(self) -> Self:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"url={self.url!r}" if self.running else "stopped"
        return f"{type(self).__name__}({state}, seed={self.seed}, connections={len(self._connections)})"

    def _run(self, ready: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            try:
                loop.run_until_complete(self._startup())
            except BaseException as exc:
                ready.set_exception(exc)
                return
            ready.set_result(None)
            loop.run_forever()
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for t in pending:
                    t.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                self._loop = None

    async def _startup(self) -> None:
        self._ws_server = await serve(
            self._handler,
            self.host,
            self._requested_port,
            process_request=self._process_request,
            compression=None,
            max_size=self.max_frame_size,
            ping_interval=self.ping_interval,
            close_timeout=self.close_timeout,
            server_header=None,
        )
        self._port = self._ws_server.sockets[0].getsockname()[1]
        try:
            self._http_server = await asyncio.start_server(self._http_client, self.host, self._requested_http_port)
        except BaseException:
            self._ws_server.close()
            await self._ws_server.wait_closed()
            raise
        self._http_port = self._http_server.sockets[0].getsockname()[1]
        for symbol in self.symbols:
            self.market(symbol)
        if self.tick_interval is not None:
            self._tick_task = asyncio.get_running_loop().create_task(self._tick_loop(self.tick_interval))

    async def _shutdown(self) -> None:
        if self._tick_task is not None:
            self._tick_task.cancel()
        if self._stall_timer is not None:
            self._stall_timer.cancel()
        self._stalled = False
        for conn in list(self._connections.values()):
            conn._held.clear()
            if not conn.ws.transport.is_closing():
                conn.ws.transport.resume_reading()
        if self._http_server is not None:
            self._http_server.close()
            for w in list(self._http_writers):
                w.close()
        if self._ws_server is not None:
            self._ws_server.close(close_connections=True)
            closed = asyncio.ensure_future(self._ws_server.wait_closed())
            # Clients that never answer the close frame (or never close TCP) are dropped.
            done, _ = await asyncio.wait([closed], timeout=min(self.close_timeout, 1.0))
            if not done:
                for conn in list(self._connections.values()):
                    conn.ws.transport.abort()
                await asyncio.wait([closed], timeout=5.0)
        for task in list(self._tasks):
            task.cancel()
        if self._http_server is not None:
            await asyncio.wait([asyncio.ensure_future(self._http_server.wait_closed())], timeout=5.0)

    # -- thread plumbing -------------------------------------------------------------------

    def _off_loop(self) -> bool:
        return self._thread is not None and threading.current_thread() is not self._thread

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 10.0) -> T:
        """Run ``fn(*args)`` on the loop thread and return its result (direct when already there).

        Example (from a test): ``srv.call(lambda: srv.market("XBT/USD").best_bid())``.
        """
        if not self._off_loop():
            return fn(*args)

        async def run() -> T:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def _dispatch(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run on the loop: now when on the loop thread, else queued (fire and forget)."""
        if self._off_loop():
            self.loop.call_soon_threadsafe(fn, *args)
        else:
            fn(*args)

    def _record_error(self, exc: BaseException) -> None:
        text = "".join(traceback.format_exception(exc))
        if len(self.hook_errors) < _MAX_HOOK_ERRORS:  # a bug firing every tick must not eat memory
            self.hook_errors.append(text)
        log.error("%s hook failed:\n%s", type(self).__name__, text)

    async def _hook(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            result = fn(*args)
            if inspect.isawaitable(result):
                result = await result
            return result
        except ConnectionClosed:
            return None
        except Exception as exc:
            self._record_error(exc)
            return None

    # -- websocket side --------------------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        conn = SimConnection(self, ws, next(self._ids))
        self._connections[conn.id] = conn
        with self._connection_event:
            self._connection_event.notify_all()
        if self._stalled:
            ws.transport.pause_reading()
        try:
            await self._hook(self.on_connect, conn)
            async for message in ws:
                conn.frames_in += 1
                if len(message) > self.max_message_size:
                    await self._hook(self.on_oversize, conn, message)
                else:
                    await self._hook(self.on_message, conn, message)
        except ConnectionClosed:
            pass
        finally:
            conn.closed = True
            self._connections.pop(conn.id, None)
            with self._connection_event:
                self._connection_event.notify_all()
            await self._hook(self.on_disconnect, conn)

    def wait_for_connections(self, n: int = 1, timeout: float = 10.0) -> None:
        """Block until at least ``n`` connections are open (AssertionError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self._connection_event:
            while len(self._connections) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{n} connection(s) not open within {timeout} s")
                self._connection_event.wait(left)

    async def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        path, query = _split_target(request.path)
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        req = HttpRequest("GET", path, query, headers, b"", request.path)
        status, resp_headers, body = await self._http_reply(req)
        h = Headers(resp_headers)
        h["Content-Length"] = str(len(body))
        h["Connection"] = "close"
        return Response(status, http.HTTPStatus(status).phrase, h, body)

    async def _http_reply(self, req: HttpRequest) -> tuple[int, dict[str, str], bytes]:
        result = await self._hook(self.handle_http, req)
        if result is None:
            return 404, {"Content-Type": "text/plain"}, b"not found\n"
        status, headers, body = result
        data = body.encode() if isinstance(body, str) else bytes(body)
        return int(status), dict(headers), data

    # -- plain HTTP listener ---------------------------------------------------------------

    async def _http_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._http_writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                try:
                    lines = head.decode("latin-1").split("\r\n")
                    method, target, version = lines[0].split(" ", 2)
                    headers: dict[str, str] = {}
                    for line in lines[1:]:
                        if line:
                            name, _, value = line.partition(":")
                            headers[name.strip().lower()] = value.strip()
                    length = int(headers.get("content-length", "0"))
                    if length < 0 or length > self.max_frame_size:
                        raise ValueError("bad content-length")
                    body = await reader.readexactly(length) if length else b""
                except (ValueError, asyncio.IncompleteReadError):
                    writer.write(_BAD_REQUEST)
                    return
                path, query = _split_target(target)
                status, resp_headers, data = await self._http_reply(
                    HttpRequest(method.upper(), path, query, headers, body, target)
                )
                keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
                out = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}"]
                out += [f"{k}: {v}" for k, v in resp_headers.items() if k.lower() != "content-length"]
                out += [f"Content-Length: {len(data)}", f"Connection: {'keep-alive' if keep else 'close'}"]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + data)
                await writer.drain()
                if not keep:
                    return
        except ConnectionError:
            pass
        finally:
            self._http_writers.discard(writer)
            writer.close()

    # -- ticks -----------------------------------------------------------------------------

    async def _tick_loop(self, interval: float) -> None:
        loop = asyncio.get_running_loop()
        next_time = loop.time()
        while True:
            next_time += interval
            delay = next_time - loop.time()
            if delay < 0:  # fell behind: skip missed ticks rather than burst
                next_time = loop.time()
                delay = 0
            await asyncio.sleep(delay)
            if not self._frozen:
                await self._hook(self.on_tick, self.clock())

    def step(self, n: int = 1) -> None:
        """Run ``n`` ticks now (thread-safe; blocks until done)."""

        async def run() -> None:
            for _ in range(n):
                await self._hook(self.on_tick, self.clock())

        if self._off_loop():
            asyncio.run_coroutine_threadsafe(run(), self.loop).result(30)
        else:
            raise RuntimeError("step() is for other threads; call self.on_tick(now) on the loop")

    def freeze(self) -> None:
        """Pause automatic ticks (the market stands still; manual ``step()`` still works)."""
        self._frozen = True

    def unfreeze(self) -> None:
        """Resume automatic ticks."""
        self._frozen = False

    # -- truth -----------------------------------------------------------------------------

    def truth(self, key: Hashable, depth: int | None = None) -> BookTruth:
        """An immutable copy of the book the venue has sent for ``key`` (empty if none). Any thread."""

        def copy() -> BookTruth:
            book = self.sent_books.get(key)
            return book.snapshot(depth) if book is not None else BookTruth()

        return self.call(copy) if self.running else copy()

    def record_truth(self, key: Hashable, marker: float | None = None) -> None:
        """Venue side (loop thread): remember the sent book of ``key`` as it is now, at a frame boundary.

        Call it after the sent book reflects a frame the clients get (snapshot or update),
        with the ``marker`` the client's book will carry for it (sequence or exchange time).
        Costs nothing unless ``truth_history_size`` > 0 (the chaos harness sets it); at most
        that many records are kept per key.
        """
        size = self.truth_history_size
        if size <= 0:
            return
        book = self.sent_books.get(key)
        record = TruthRecord(marker, time.time(), book.snapshot() if book is not None else BookTruth())
        with self._truth_history_lock:
            history = self._truth_history.get(key)
            if history is None or history.maxlen != size:
                history = self._truth_history[key] = deque(history or (), maxlen=size)
            history.append(record)

    def truth_history(self, key: Hashable) -> list[TruthRecord]:
        """The recorded truth of ``key``, oldest first (a copy; any thread).

        Example:
            >>> class Quiet(SimServer):
            ...     venue = "quiet"
            >>> srv = Quiet(tick_interval=None)
            >>> srv.truth_history_size = 2
            >>> srv.sent_book("A").set("bid", "1.5", "2"); srv.record_truth("A", 7)
            >>> [(r.marker, r.book.bids[0][:2]) for r in srv.truth_history("A")]
            [(7, (1.5, 2.0))]
        """
        with self._truth_history_lock:
            return list(self._truth_history.get(key, ()))

    # -- fault plumbing (loop thread; called through self.faults) ---------------------------

    def _close_all(self, code: int, reason: str) -> int:
        conns = [c for c in self._connections.values() if c.is_open]
        for c in conns:
            c._close(code, reason)
        return len(conns)

    def _reset_all(self) -> int:
        conns = [c for c in self._connections.values() if not c.closed]
        for c in conns:
            c._abort()
        return len(conns)

    def _stall(self, seconds: float | None) -> None:
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None
        self._stalled = True
        for c in self._connections.values():
            if not c.ws.transport.is_closing():
                c.ws.transport.pause_reading()
        if seconds is not None:
            self._stall_timer = self.loop.call_later(seconds, self._resume)

    def _resume(self) -> None:
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None
        self._stalled = False
        for c in list(self._connections.values()):
            if not c.ws.transport.is_closing():
                c.ws.transport.resume_reading()
            c._flush_held()

    def _send_malformed(self, payload: str | bytes, binary: bool) -> int:
        frame = encode_frame(payload, binary=binary)
        conns = [c for c in self._connections.values() if c.is_open]
        for c in conns:
            c._write(frame, 1)
        return len(conns)

    # -- throughput ------------------------------------------------------------------------

    def blast(
        self,
        frames: Sequence[str | bytes],
        repeat: int = 1,
        *,
        end_frame: str | bytes | None = None,
        timeout: float | None = 300.0,
    ) -> int:
        """Write ``repeat`` copies of ``frames`` (then ``end_frame``) to every open connection.

        Blocks until written; returns the number of frames written to each connection.  From
        a hook, use ``self.spawn(self.blast_to(conn, ...))`` instead.
        """
        conns = self.call(lambda: [c for c in self._connections.values() if c.is_open])

        async def run() -> list[int]:
            return list(await asyncio.gather(*(self.blast_to(c, frames, repeat, end_frame) for c in conns)))

        counts = asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)
        return min(counts, default=0)

    async def blast_to(
        self,
        conn: SimConnection,
        frames: Sequence[str | bytes],
        repeat: int = 1,
        end_frame: str | bytes | None = None,
        *,
        chunk_bytes: int = 1 << 20,
    ) -> int:
        """Coroutine (loop thread): stream ``repeat`` copies of ``frames`` to ``conn`` with flow control.

        Returns the number of frames written (less than asked if the connection closed).
        """
        if isinstance(frames, (str, bytes)):
            raise InvalidArgument("frames", frames, "must be a sequence of frames, not one frame")
        if repeat < 0:
            raise InvalidArgument("repeat", repeat, "must be >= 0")
        block = b"".join(encode_frame(f) for f in frames)
        per_block = len(frames)
        written = 0
        if block and repeat:
            copies = max(1, min(repeat, chunk_bytes // len(block)))
            chunk = block * copies
            transport = conn.ws.transport
            transport.set_write_buffer_limits(high=4 * chunk_bytes)
            left = repeat
            while left > 0:
                if not conn.is_open:
                    return written
                n = min(copies, left)
                data = chunk if n == copies else block * n
                conn._write(data, n * per_block)
                written += n * per_block
                left -= n
                await conn.ws.drain()
        if end_frame is not None and conn.is_open:
            conn._write(encode_frame(end_frame), 1)
            written += 1
        return written


class BlastServer(SimServer):
    """A throughput source: streams pre-encoded frames to each client as fast as the socket takes.

    Each connection gets ``repeat`` copies of ``frames`` and then ``end_frame`` (if given),
    starting when the client sends its first message (``start_on="message"``, so its
    subscription is in place) or right after the handshake (``start_on="connect"``).
    ``done`` counts finished connections; ``written[conn_id]`` the frames each got.

    Example:
        >>> import websocket
        >>> with BlastServer(['{"p":1}', '{"p":2}'], repeat=3, end_frame="end") as srv:
        ...     ws = websocket.create_connection(srv.url); _ = ws.send("go")
        ...     got = [ws.recv() for _ in range(7)]; ws.close()
        >>> got[:2], got[-1], len(got)
        (['{"p":1}', '{"p":2}'], 'end', 7)
    """

    venue = "blast"

    def __init__(
        self,
        frames: Sequence[str | bytes],
        repeat: int,
        *,
        end_frame: str | bytes | None = None,
        start_on: Literal["message", "connect"] = "message",
        **options: Any,
    ) -> None:
        options.setdefault("tick_interval", None)
        super().__init__(**options)
        if isinstance(frames, (str, bytes)):
            raise InvalidArgument("frames", frames, "must be a sequence of frames, not one frame")
        if start_on not in ("message", "connect"):
            raise InvalidArgument("start_on", start_on, "must be 'message' or 'connect'")
        self.frames = list(frames)
        self.repeat = repeat
        self.end_frame = end_frame
        self.start_on = start_on
        self.done = 0
        self.written: dict[int, int] = {}

    def _begin(self, conn: SimConnection) -> None:
        if conn.state.get("blasting"):
            return
        conn.state["blasting"] = True
        self.spawn(self._blast(conn))

    async def _blast(self, conn: SimConnection) -> None:
        self.written[conn.id] = await self.blast_to(conn, self.frames, self.repeat, self.end_frame)
        self.done += 1

    def on_connect(self, conn: SimConnection) -> None:
        if self.start_on == "connect":
            self._begin(conn)

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        self._begin(conn)
