"""``SimServer``: the websocket server every venue simulator subclasses (hooks, ticks, truth, faults)."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Coroutine, Hashable, Iterable, Sequence
from typing import Any, ClassVar, TypeVar

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ...errors import InvalidArgument
from ..faults import Faults
from ..kit.truth import BookTruth, SentBook, TruthHistory, TruthRecord
from ..market import SyntheticMarket
from .connection import SimConnection
from .frames import encode_frame
from .http import HttpListener, HttpReply, HttpRequest, HttpResponse, split_target, websocket_port_response
from .loop import LoopThread
from .streaming import stream_frames

__all__ = ["HOST", "SimServer"]

log = logging.getLogger("rxfeeds.sim")

T = TypeVar("T")

HOST = "127.0.0.1"
_MAX_HOOK_ERRORS = 1000


class SimServer(LoopThread):
    """Base class of the venue simulators (see :mod:`rxfeeds.sim.server` for the hooks).

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
        self._ws_server: Server | None = None
        self._http_server: HttpListener | None = None
        self._tick_task: asyncio.Task[None] | None = None
        self._connection_event = threading.Condition()
        #: truth records kept per key by :meth:`record_truth`; 0 (the default) keeps none
        self.truth_history_size = 0
        self._truth_history = TruthHistory()

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

    @property
    def newest_connection_id(self) -> int:
        """The id of the most recent open connection (0 when none); any thread."""
        return self.call(lambda: max(self._connections, default=0))

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

    # -- addresses -------------------------------------------------------------------------

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

    def __repr__(self) -> str:
        state = f"url={self.url!r}" if self.running else "stopped"
        return f"{type(self).__name__}({state}, seed={self.seed}, connections={len(self._connections)})"

    # -- lifecycle (loop thread) -----------------------------------------------------------

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
            self._http_server = HttpListener(
                self.host,
                self._requested_http_port,
                self._http_reply,
                asyncio.get_running_loop(),
                max_body=self.max_frame_size,
                thread_name=f"rxfeeds-sim-{self.venue}",
            )
        except BaseException:
            self._ws_server.close()
            await self._ws_server.wait_closed()
            raise
        self._http_port = self._http_server.port
        for symbol in self.symbols:
            self.market(symbol)
        if self.tick_interval is not None:
            self._tick_task = asyncio.get_running_loop().create_task(self._tick_loop(self.tick_interval))

    def _before_shutdown(self) -> None:
        # The HTTP listener's threads wait on this loop: close them while it still runs.
        if self._http_server is not None:
            self._http_server.close(timeout=min(1.0, self.stop_timeout / 4))

    def _abandon(self) -> None:
        for conn in list(self._connections.values()):
            conn.ws.transport.abort()

    async def _shutdown(self) -> None:
        if self._tick_task is not None:
            self._tick_task.cancel()
        if self._stall_timer is not None:
            self._stall_timer.cancel()
        self._stalled = False
        for conn in list(self._connections.values()):
            conn.drop_held()
            conn.resume()
        if self._ws_server is not None:
            self._ws_server.close(close_connections=True)
            closed = asyncio.ensure_future(self._ws_server.wait_closed())
            # Clients that never answer the close frame (or never close TCP) are dropped.
            done, _ = await asyncio.wait([closed], timeout=min(self.close_timeout, 1.0))
            if not done:
                for conn in list(self._connections.values()):
                    conn.ws.transport.abort()
                await asyncio.wait([closed], timeout=1.0)
        for task in list(self._tasks):
            task.cancel()

    # -- websocket side --------------------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        conn = SimConnection(self, ws, next(self._ids))
        self._connections[conn.id] = conn
        with self._connection_event:
            self._connection_event.notify_all()
        if self._stalled:
            conn.pause()
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
        path, query = split_target(request.path)
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        reply = await self._http_reply(HttpRequest("GET", path, query, headers, b"", request.path))
        return websocket_port_response(reply)

    async def _http_reply(self, req: HttpRequest) -> HttpReply:
        result = await self._hook(self.handle_http, req)
        if result is None:
            return 404, {"Content-Type": "text/plain"}, b"not found\n"
        status, headers, body = result
        data = body.encode() if isinstance(body, str) else bytes(body)
        return int(status), dict(headers), data

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
            self.run_coroutine(run(), 30)
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
        if self.truth_history_size > 0:
            self._truth_history.record(key, marker, self.sent_books.get(key), size=self.truth_history_size)

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
        return self._truth_history.get(key)

    # -- fault-injection interface (any thread; see rxfeeds.sim.faults.FaultTarget) --------

    @property
    def stalled(self) -> bool:
        """True while a stall is in effect (frames are held, nothing is read)."""
        return self._stalled

    def close_connections(self, code: int, reason: str) -> int:
        """Start the close handshake on every open connection; returns how many."""

        def run() -> int:
            conns = [c for c in self._connections.values() if c.is_open]
            for c in conns:
                c.close_now(code, reason)
            return len(conns)

        return self.call(run)

    def reset_connections(self) -> int:
        """TCP-reset every connection; returns how many."""

        def run() -> int:
            conns = [c for c in self._connections.values() if not c.closed]
            for c in conns:
                c.abort_now()
            return len(conns)

        return self.call(run)

    def stall_connections(self, seconds: float | None) -> None:
        """Stop reading and writing on every connection (new ones too); resume after ``seconds`` if given."""

        def run() -> None:
            if self._stall_timer is not None:
                self._stall_timer.cancel()
                self._stall_timer = None
            self._stalled = True
            for c in self._connections.values():
                c.pause()
            if seconds is not None:
                self._stall_timer = self.loop.call_later(seconds, self._resume_now)

        self.call(run)

    def resume_connections(self) -> None:
        """End a stall: read again and write the held frames in order."""
        self.call(self._resume_now)

    def _resume_now(self) -> None:
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None
        self._stalled = False
        for c in list(self._connections.values()):
            c.resume()

    def send_frame_to_all(self, payload: str | bytes, binary: bool) -> int:
        """Write ``payload`` as one frame to every open connection, as it is; returns how many."""
        frame = encode_frame(payload, binary=binary)

        def run() -> int:
            conns = [c for c in self._connections.values() if c.is_open]
            for c in conns:
                c.write(frame, 1)
            return len(conns)

        return self.call(run)

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

        return min(self.run_coroutine(run(), timeout), default=0)

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
        return await stream_frames(conn, frames, repeat, end_frame, chunk_bytes=chunk_bytes)
