"""``BinanceSpot``: Binance spot market streams as Observables, books synced from REST snapshots.

All streams share one websocket to the combined endpoint (``wss://stream.binance.com:9443/stream``)
and are multiplexed with ``SUBSCRIBE`` / ``UNSUBSCRIBE`` frames, one per stream (so each stream
is acknowledged or refused on its own).  Binance drops a connection that sends more than 5
messages a second, so frames are spaced by ``min_send_interval`` (0.25 s by default: at most 4 a
second, also while re-subscribing after a reconnect); subscribing n streams at once therefore
takes about n/4 seconds.  ``BinanceSpotCodec.subscribe_many_frame`` batches several streams into
one frame for callers that manage their own frames.

Book sync (``book()``), the documented procedure: subscribe the diff stream, wait for its first
diff (so the stream is live before the snapshot is taken), fetch ``GET /api/v3/depth`` in a
worker thread, refetch while the snapshot is older than that first diff
(``lastUpdateId + 1 < U``), then deliver the snapshot into the stream with the transport's
``inject``.  The order-book operator buffers diffs until the snapshot and applies the bridge
rule (``U <= lastUpdateId + 1 <= u``, then ``U == previous u + 1``).  ``feed.resync(symbol)``
fetches a fresh snapshot for that symbol only, and a reconnect (``StreamReset``) does it again
after the first new diff.

Example::

    from rxfeeds import BinanceSpot, ops

    spot = BinanceSpot()
    spot.book("BTCUSDT").pipe(ops.order_book(depth=10)).subscribe(print)
    spot.klines(["BTCUSDT", "ETHBTC"], "1m").subscribe(print)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Final

import reactivex as rx
from reactivex import Observable, abc
from reactivex import operators as rx_ops
from reactivex.disposable import Disposable

from ...aio import awaitable
from ...codec import Key
from ...errors import InvalidArgument, RequestError, RxfeedsError
from ...events import BookDelta, BookSnapshot, Event, StreamReset
from ...feed import Feed
from ...intervals import IntervalLike, parse_interval
from ...transport import Transport
from ..base import VenueClient, check_http_url, check_seconds, check_url
from ..symbols import check_symbol, check_symbols, common_symbols
from .codec import KLINE_INTERVALS, BinanceSpotCodec
from .rest import DepthClient

__all__ = ["BinanceSpot"]

_SPEEDS: Final = {"100ms": "depth@100ms", "1000ms": "depth", "1s": "depth"}
#: snapshot attempts per sync before giving up until the next resync
_SNAPSHOT_ATTEMPTS: Final = 5


class BinanceSpot(VenueClient):
    """Binance spot client (see the module docstring).

    Args:
        url: combined-stream websocket URL (or a list to fail over across); a simulator's ``url``.
        rest_url: REST base URL for depth snapshots; a simulator's ``http_url``.
        snapshot_limit: ``limit`` of the REST snapshots ``book()`` fetches (1..5000).
        min_send_interval: seconds between two frames sent (Binance allows 5 per second).
        rest_rate: sustained REST snapshot requests per second.
        **options: :class:`~rxfeeds.venues.base.VenueClient` / socket options.

    Example:
        >>> spot = BinanceSpot(url="ws://127.0.0.1:9/stream", rest_url="http://127.0.0.1:9")
        >>> try:
        ...     spot.klines("BTCUSDT", "7m")
        ... except ValueError as e:
        ...     print(e.name, "|", str(e)[:46])
        interval | interval='7m': Binance spot klines take one of
    """

    venue: ClassVar[str] = "binance-spot"
    DEFAULT_URL: ClassVar[str] = "wss://stream.binance.com:9443/stream"
    DEFAULT_REST_URL: ClassVar[str] = "https://api.binance.com"

    def __init__(
        self,
        url: str | Sequence[str] | None = None,
        *,
        rest_url: str = DEFAULT_REST_URL,
        snapshot_limit: int = 1000,
        min_send_interval: float = 0.25,
        rest_rate: float = 2.0,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if isinstance(snapshot_limit, bool) or not isinstance(snapshot_limit, int) or not 1 <= snapshot_limit <= 5000:
            raise InvalidArgument("snapshot_limit", snapshot_limit, "must be an int between 1 and 5000")
        if min_send_interval != 0:
            check_seconds("min_send_interval", min_send_interval)
        check_seconds("rest_rate", rest_rate)
        check_http_url("rest_url", rest_url)
        if url is not None:
            check_url("url", url)
        self.url: str | Sequence[str] = url or self.DEFAULT_URL
        self.rest = DepthClient(rest_url, rate=rest_rate, http_get=self.http_get, venue=self.venue)
        self.snapshot_limit = snapshot_limit
        self._min_send_interval = min_send_interval

    # ------------------------------------------------------------------ plumbing

    def _socket(self) -> Transport:
        return self._transport("public", self.url, BinanceSpotCodec, min_send_interval=self._min_send_interval)

    def _streams(self, channel: str, symbols: str | Iterable[str]) -> Observable[Event]:
        keys = [(channel, s) for s in check_symbols(self.venue, symbols)]
        transport = self._socket()
        streams = [transport.multiplex(k) for k in keys]
        return streams[0] if len(streams) == 1 else rx.merge(*streams)

    @staticmethod
    def _depth_channel(speed: str | int) -> str:
        channel = _SPEEDS.get(f"{speed}ms" if isinstance(speed, int) and not isinstance(speed, bool) else str(speed))
        if channel is None:
            raise InvalidArgument("speed", speed, "must be '100ms' or '1000ms'")
        return channel

    # ------------------------------------------------------------------ streams

    @common_symbols
    def depth(self, symbols: str | Iterable[str], speed: str | int = "100ms") -> Observable[Event]:
        """Diff-depth stream: :class:`~rxfeeds.events.BookDelta` with ``first_sequence=U``, ``sequence=u``.

        Also carries :class:`~rxfeeds.events.StreamReset` after reconnects (and snapshots that a
        ``book()`` on the same stream injected).  Use :meth:`book` for a stream that syncs.

        Example::

            spot.depth(["BTCUSDT", "ETHBTC"], speed="1000ms").subscribe(print)
        """
        return self._streams(self._depth_channel(speed), symbols)

    @common_symbols
    def book(
        self, symbols: str | Iterable[str], speed: str | int = "100ms", *, limit: int | None = None
    ) -> Feed[Event]:
        """Diffs plus REST snapshots, ready for ``ops.order_book`` (see the module docstring).

        ``limit`` is the snapshot depth (default ``snapshot_limit``).  The Feed's ``resync(symbol)``
        refetches that symbol's snapshot.

        Example::

            spot.book("BTCUSDT").pipe(ops.order_book(depth=20)).subscribe(print)
        """
        channel = self._depth_channel(speed)
        keys = [(channel, s) for s in check_symbols(self.venue, symbols)]
        if limit is None:
            limit = self.snapshot_limit
        elif isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 5000:
            raise InvalidArgument("limit", limit, "must be an int between 1 and 5000")
        transport = self._socket()
        sessions: set[_BookSession] = set()
        lock = threading.Lock()
        snapshot_limit = limit

        def subscribe(observer: abc.ObserverBase[Event], scheduler: abc.SchedulerBase | None = None) -> Any:
            session = _BookSession(self, transport, keys, snapshot_limit)
            with lock:
                sessions.add(session)
            inner = rx.merge(
                *[transport.multiplex(k).pipe(rx_ops.do_action(on_next=session.watcher(k))) for k in keys]
            ).subscribe(observer, scheduler=scheduler)

            def dispose() -> None:
                session.disposed = True
                with lock:
                    sessions.discard(session)
                inner.dispose()

            return Disposable(dispose)

        def resync(symbol: str) -> None:
            with lock:
                active = list(sessions)
            for session in active:
                session.resync(symbol)

        return Feed(subscribe, resync=resync)

    @common_symbols
    def trades(self, symbols: str | Iterable[str]) -> Observable[Event]:
        """Raw trades (``<symbol>@trade``) as :class:`~rxfeeds.events.Trade`; ``side`` is the taker's.

        Example::

            spot.trades("BTCUSDT").subscribe(lambda t: print(t.price, t.size, t.side))
        """
        return self._streams("trade", symbols)

    @common_symbols
    def agg_trades(self, symbols: str | Iterable[str]) -> Observable[Event]:
        """Aggregate trades (``<symbol>@aggTrade``) as :class:`~rxfeeds.events.Trade` (id = aggregate id).

        Example::

            spot.agg_trades(["BTCUSDT", "ETHBTC"]).subscribe(print)
        """
        return self._streams("aggTrade", symbols)

    @common_symbols
    def klines(self, symbols: str | Iterable[str], interval: IntervalLike = "1m") -> Observable[Event]:
        """The venue's candles (``<symbol>@kline_<interval>``) as :class:`~rxfeeds.events.Kline`.

        Updates of the running bar have ``closed=False``; the last one of a bar ``closed=True``.
        ``interval`` is any spelling :func:`rxfeeds.intervals.parse_interval` reads that Binance
        offers (``"1m"``, ``"1h"``, ``"M5"``, ``60`` minutes...).

        Example::

            spot.klines("BTCUSDT", "1m").pipe(ops.filter(lambda k: k.closed)).subscribe(print)
        """
        name = parse_interval(interval, "interval").name
        if name not in KLINE_INTERVALS:
            raise InvalidArgument("interval", interval, f"Binance spot klines take one of {', '.join(KLINE_INTERVALS)}")
        return self._streams(f"kline_{name}", symbols)

    @common_symbols
    def book_ticker(self, symbols: str | Iterable[str]) -> Observable[Event]:
        """Best bid/ask updates (``<symbol>@bookTicker``) as :class:`~rxfeeds.events.Quote`.

        Example::

            spot.book_ticker("BTCUSDT").subscribe(lambda q: print(q.bid, q.ask))
        """
        return self._streams("bookTicker", symbols)

    # ------------------------------------------------------------------ requests

    def list_subscriptions(self, timeout: float = 10.0) -> Observable[Any]:
        """Single value: the stream names this connection is subscribed to (``LIST_SUBSCRIPTIONS``).

        Example::

            spot.list_subscriptions().subscribe(print)   # ['btcusdt@trade']
        """
        transport = self._socket()

        def subscribe(observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None = None) -> Any:
            codec = transport.codec
            if not isinstance(codec, BinanceSpotCodec):
                observer.on_error(RequestError(self.venue, "list_subscriptions needs a live Binance spot connection"))
                return Disposable()
            frame, request_id = codec.request_frame("LIST_SUBSCRIPTIONS")
            return transport.request(frame, request_id, timeout).subscribe(observer, scheduler=scheduler)

        return awaitable(rx.create(subscribe))

    def snapshot(self, symbol: str, limit: int | None = None) -> BookSnapshot:
        """Fetch a REST depth snapshot now (blocking), ``sequence=lastUpdateId``.

        Example::

            snap = spot.snapshot("BTCUSDT", limit=100)
            print(snap.sequence, snap.bids[0])
        """
        name = check_symbol(self.venue, symbol)
        return self.rest.depth(name, self.snapshot_limit if limit is None else limit)


class _BookSession:
    """Snapshot bookkeeping of one subscription to a ``book()`` Feed.

    State per key: ``wait`` (fetch after the next diff), ``fetching``, ``synced``, ``failed``
    (a resync or a stream reset starts over).
    """

    def __init__(self, client: BinanceSpot, transport: Transport, keys: list[Key], limit: int) -> None:
        self.client = client
        self.transport = transport
        self.limit = limit
        self.state: dict[Key, str] = {k: "wait" for k in keys}
        self.lock = threading.Lock()
        self.disposed = False

    def watcher(self, key: Key) -> Any:
        def on_next(event: Event) -> None:
            if type(event) is BookDelta:
                with self.lock:
                    if self.state[key] != "wait":
                        return
                    self.state[key] = "fetching"
                self._fetch(key, event.first_sequence)
            elif type(event) is StreamReset:
                with self.lock:
                    if self.state[key] != "fetching":
                        self.state[key] = "wait"  # a new stream: snapshot after its first diff

        return on_next

    def resync(self, symbol: str) -> None:
        for key in self.state:
            if key[1] != symbol.upper():
                continue
            with self.lock:
                if self.state[key] == "fetching":
                    continue
                self.state[key] = "fetching"
            self._fetch(key, None)

    def _fetch(self, key: Key, first_update: int | None) -> None:
        thread = threading.Thread(
            target=self._run, args=(key, first_update), name=f"rxfeeds-binance-spot-snapshot-{key[1]}", daemon=True
        )
        thread.start()

    def _run(self, key: Key, first_update: int | None) -> None:
        symbol = key[1]
        outcome = "failed"
        failure: Exception | None = None
        try:
            for attempt in range(_SNAPSHOT_ATTEMPTS):
                if self.disposed:
                    return
                try:
                    snapshot = self.client.rest.depth(symbol, self.limit)
                except Exception as exc:
                    # a transient REST failure is retried here after a short pause,
                    # rather than waiting for the book's resync timeout
                    failure = (
                        exc
                        if isinstance(exc, RxfeedsError)
                        else RequestError(self.client.venue, f"{symbol} snapshot failed: {exc!r}")
                    )
                    self.client._errors.on_next(failure)  # visible at once, even when a retry succeeds
                    time.sleep(min(2.0, 0.1 * 2**attempt))  # this fetch's own thread
                    continue
                if self.disposed:
                    return
                if first_update is not None and snapshot.sequence is not None and snapshot.sequence + 1 < first_update:
                    continue  # older than the first diff we hold: the bridge would be missing
                self.transport.inject(key, snapshot)
                outcome = "synced"
                return
            if failure is None:  # the failures themselves were reported as they happened
                self.client._errors.on_next(
                    RequestError(
                        self.client.venue,
                        f"{symbol}: no snapshot reached the diff stream in {_SNAPSHOT_ATTEMPTS} tries",
                    )
                )
        finally:
            with self.lock:
                if self.state[key] == "fetching":
                    self.state[key] = outcome
