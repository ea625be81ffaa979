"""The driver-agnostic half of the socket subject: routing, ref-counting, requests.

A :class:`Multiplexer` owns the routing table (one entry per subscription key), decodes frames
with the venue codec and delivers events to the observers of each key.  It knows nothing about
sockets: a driver (the websocket :class:`~rxfeeds.transport.SocketSubject`, or a replay driver
reading a capture file) calls :meth:`Multiplexer.feed` with each received frame and implements
four hooks (``_open_if_needed``, ``_close_if_idle``, ``_is_open``, ``_write``).

Threading: ``feed`` runs on the driver's thread (the socket thread) and is the only hot path.
It takes no lock for routing (a dict lookup on a table that is replaced, never mutated in
place, for observers); one re-entrant *delivery lock* serialises every delivery into user
observers, so events injected from another thread (:meth:`inject`) never interleave with
socket events.  Lock order: delivery lock, then the table lock; never the reverse.

Example (a driver-less multiplexer fed by hand)::

    mux = Multiplexer(codec, venue="kraken", url="test://")
    mux.multiplex(("trade", "XBT/USD")).subscribe(print)
    mux.feed(b'[1,[["1.0","2.0","3.0","b","l",""]],"trade","XBT/USD"]', recv_time=3.0)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable
from reactivex.scheduler import TimeoutScheduler
from reactivex.subject import BehaviorSubject, Subject
from reactivex.subject.innersubscription import InnerSubscription as _InnerSubscription

from ..codec import Ack, Codec, Data, Key, Notice, Rejected, Reply
from ..errors import FrameError, InvalidArgument, RequestTimeout, RxfeedsError, SubscriptionError
from ..events import ConnectionState, ConnectionStatus, Event, StreamReset
from ..timing import Backoff, check_backoff
from .redact import redact, redact_url
from .stats import RouteStats, StatsSnapshot, TransportStats

__all__ = ["Multiplexer", "FrameSpec", "FrameTap", "IsolatingSubject", "IsolatingBehaviorSubject", "CallbackAborted"]

log = logging.getLogger("rxfeeds.transport")

#: How a subscription that worked before is retried when the venue refuses it after a
#: reconnect or resync (a venue restarting often refuses for a moment): a few attempts, then
#: the observers get the refusal.
RESUBSCRIBE_BACKOFF = Backoff(initial=0.5, max_delay=8.0, jitter="equal", max_attempts=5)


class CallbackAborted(RxfeedsError):
    """A user callback raised a ``BaseException`` that is not an ``Exception`` (``sys.exit()``...).

    The socket thread does not die of it: the observer is detached like one that raised an
    ordinary exception, and gets this error (the original is its ``__cause__``).
    """


def _aborted(exc: BaseException) -> Exception:
    """``exc`` as an ``Exception`` observers and the errors stream can carry."""
    if isinstance(exc, Exception):
        return exc
    wrapped = CallbackAborted(f"callback raised {type(exc).__name__}: {exc!r}")
    wrapped.__cause__ = exc
    return wrapped


def _reraise_interrupt(exc: BaseException) -> None:
    # A real Ctrl-C lands in the main thread: let it through there; anywhere else (a
    # callback on the socket thread raising it by hand) it is just another failing callback.
    if isinstance(exc, KeyboardInterrupt) and threading.current_thread() is threading.main_thread():
        raise exc


class IsolatingSubject(Subject[Any]):
    """A ``Subject`` whose observers cannot hurt each other or the caller of ``on_next``.

    A raising observer is logged and skipped; the others still get the value, and the
    thread that emits (the socket thread) carries on.

    Example:
        >>> s = IsolatingSubject()
        >>> got = []
        >>> _ = s.subscribe(lambda v: 1 / 0)
        >>> _ = s.subscribe(got.append)
        >>> s.on_next(1); got
        [1]
    """

    def _on_next_core(self, value: Any) -> None:
        with self.lock:
            observers = self.observers.copy()
        for observer in observers:
            _isolated(observer.on_next, value)


class IsolatingBehaviorSubject(BehaviorSubject[Any]):
    """A ``BehaviorSubject`` with the isolation of :class:`IsolatingSubject`, also for the
    current value a new subscriber receives (a raising ``client.state`` observer must not make
    the subscribe call, and so the next ``client.book()``, raise)."""

    def _on_next_core(self, value: Any) -> None:
        with self.lock:
            observers = self.observers.copy()
            self.value = value
        for observer in observers:
            _isolated(observer.on_next, value)

    def _subscribe_core(
        self, observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        with self.lock:
            self.check_disposed()
            if not self.is_stopped:
                self.observers.append(observer)
                value = self.value
                subscription: abc.DisposableBase = _InnerSubscription(self, observer)
            else:
                return super()._subscribe_core(observer, scheduler)
        _isolated(observer.on_next, value)
        return subscription


def _isolated(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except BaseException as exc:
        _reraise_interrupt(exc)
        log.warning("status observer raised %r; ignored", exc)


#: Frames for a subscription: a fixed list, or a zero-argument callable evaluated at each send
#: (so frames can carry fresh request ids or tokens after a reconnect).
FrameSpec = Sequence[str] | Callable[[], Sequence[str]] | None


class FrameTap:
    """Observer of raw traffic (the capture recorder implements it); methods may be no-ops.

    Called on the thread that sends or receives; must be fast and must not raise.
    """

    def connected(self, url: str, t: float) -> None:
        """A connection to ``url`` opened at ``t``."""

    def frame_in(self, url: str, data: bytes | str, t: float) -> None:
        """A text frame received at ``t``."""

    def frame_out(self, url: str, data: str, t: float) -> None:
        """A frame sent at ``t``."""

    def http(self, url: str, body: bytes | str, t: float) -> None:
        """An HTTP response (REST snapshot) the client fetched at ``t``."""


class _Route:
    __slots__ = ("key", "observers", "stats", "subscribe", "unsubscribe", "acked", "confirmed", "refusals", "retry")

    def __init__(self, key: Key, stats: RouteStats, subscribe: FrameSpec, unsubscribe: FrameSpec) -> None:
        self.key = key
        self.observers: tuple[abc.ObserverBase[Any], ...] = ()
        self.stats = stats
        self.subscribe = subscribe
        self.unsubscribe = unsubscribe
        self.acked = False
        #: the venue accepted this subscription at least once (an ack or data)
        self.confirmed = False
        #: refusals in a row since it last worked (retried with RESUBSCRIBE_BACKOFF)
        self.refusals = 0
        self.retry: abc.DisposableBase | None = None


class _RateLimitedLog:
    """Logs each kind of problem at most once per ``period`` seconds, counting the rest.

    At most ``max_kinds`` kinds are remembered (then the table starts afresh), so hostile input
    cannot grow it without bound.
    """

    max_kinds = 256

    def __init__(self, period: float = 60.0) -> None:
        self.period = period
        self._last: dict[Hashable, float] = {}
        self._suppressed: dict[Hashable, int] = {}

    def warning(self, kind: Hashable, msg: str, *args: Any) -> None:
        now = time.monotonic()
        last = self._last.get(kind)
        if last is not None and now - last < self.period:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return
        if last is None and len(self._last) >= self.max_kinds:
            self._last.clear()
            self._suppressed.clear()
        self._last[kind] = now
        suppressed = self._suppressed.pop(kind, 0)
        if suppressed:
            msg += f" ({suppressed} similar suppressed)"
        log.warning(msg, *args)


def _frames(spec: FrameSpec) -> Sequence[str]:
    if spec is None:
        return ()
    if callable(spec):
        return spec()
    return spec


class Multiplexer:
    """Routing table + request correlation shared by live and replay transports.

    Subclasses implement the driver hooks; see the module docstring.
    """

    def __init__(
        self,
        codec: Codec,
        *,
        venue: str | None = None,
        url: str = "",
        request_scheduler: abc.SchedulerBase | None = None,
        resubscribe_backoff: Backoff | None = None,
    ) -> None:
        if resubscribe_backoff is not None:
            check_backoff("resubscribe_backoff", resubscribe_backoff)
        self.codec = codec
        self.venue = venue or codec.venue
        self.url = url
        self._decode = codec.decode
        self._routes: dict[Key, _Route] = {}
        self._pending: dict[Hashable, abc.ObserverBase[Any]] = {}
        self._holds = 0
        self._request_queue: list[tuple[Hashable, str]] = []
        self._lock = threading.RLock()
        self._deliver_lock = threading.RLock()
        self._stats = TransportStats(self.venue, redact_url(url))
        self._taps: tuple[FrameTap, ...] = ()
        self._wildcard: tuple[abc.ObserverBase[Any], ...] = ()
        self._log = _RateLimitedLog()
        self._request_scheduler = request_scheduler or TimeoutScheduler.singleton()
        self._resubscribe_backoff = resubscribe_backoff or RESUBSCRIBE_BACKOFF
        # Status streams isolate their observers: one raising observer neither silences the
        # others nor reaches the socket thread.
        self._status: BehaviorSubject[ConnectionStatus] = IsolatingBehaviorSubject(
            ConnectionStatus(self.venue, redact_url(url), ConnectionState.IDLE, time.time())
        )
        self._errors: Subject[Exception] = IsolatingSubject()
        self._notices: Subject[Any] = IsolatingSubject()

    # ------------------------------------------------------------------ public streams

    @property
    def state(self) -> Observable[ConnectionStatus]:
        """Connection states; a new subscriber first gets the current one."""
        return self._status

    @property
    def errors(self) -> Observable[Exception]:
        """Frame errors and observer failures (never terminates)."""
        return self._errors

    @property
    def notices(self) -> Observable[Any]:
        """Connection-wide venue news (system status...)."""
        return self._notices

    @property
    def current_state(self) -> ConnectionState:
        """The latest connection state."""
        return self._status.value.state

    def stats(self) -> StatsSnapshot:
        """An immutable copy of this transport's counters."""
        return self._stats.snapshot(time.time())

    def add_tap(self, tap: FrameTap) -> Callable[[], None]:
        """Observe raw traffic (recording); returns a function that removes the tap."""
        with self._lock:
            self._taps = (*self._taps, tap)

        return lambda: self.remove_tap(tap)

    def remove_tap(self, tap: FrameTap) -> None:
        """Stop sending traffic to ``tap``."""
        with self._lock:
            self._taps = tuple(t for t in self._taps if t is not tap)

    # ------------------------------------------------------------------ subscriptions

    def multiplex(self, key: Key, subscribe: FrameSpec = None, unsubscribe: FrameSpec = None) -> Observable[Event]:
        """A cold Observable of the events for ``key``, ref-counted over all its observers.

        The first observer sends the subscribe frames (default ``codec.subscribe_frames(key)``),
        the last one to dispose sends the unsubscribe frames (default
        ``codec.unsubscribe_frames(key)``).  Callbacks run on the socket thread.

        Example::

            trades = mux.multiplex(("trade", "XBT/USD"))
            d1 = trades.subscribe(print)     # sends the subscribe frame
            d2 = trades.subscribe(print)     # shares it: nothing sent
            d1.dispose(); d2.dispose()       # the last one sends unsubscribe
        """
        if not isinstance(key, tuple) or len(key) != 2 or not all(isinstance(k, str) for k in key):
            raise InvalidArgument("key", key, "must be a (channel, symbol) tuple of strings")
        sub: FrameSpec = subscribe if subscribe is not None else (lambda: self.codec.subscribe_frames(key))
        unsub: FrameSpec = unsubscribe if unsubscribe is not None else (lambda: self.codec.unsubscribe_frames(key))

        def on_subscribe(observer: abc.ObserverBase[Event], scheduler: abc.SchedulerBase | None = None) -> Disposable:
            self._add(key, observer, sub, unsub)
            return Disposable(lambda: self._remove(key, observer))

        return reactivex.create(on_subscribe)

    def _add(self, key: Key, observer: abc.ObserverBase[Any], sub: FrameSpec, unsub: FrameSpec) -> None:
        with self._lock:
            route = self._routes.get(key)
            first = route is None
            if route is None:
                route = _Route(key, self._stats.route(key), sub, unsub)
                routes = dict(self._routes)
                routes[key] = route
                self._routes = routes
            route.observers = (*route.observers, observer)
            route.stats.observers = len(route.observers)
            if first:
                if self._is_open():
                    self._write_soft(_frames(route.subscribe))
                else:
                    self._open_if_needed()

    def _remove(self, key: Key, observer: abc.ObserverBase[Any], send_unsubscribe: bool = True) -> None:
        with self._lock:
            route = self._routes.get(key)
            if route is None or observer not in route.observers:
                return
            route.observers = tuple(o for o in route.observers if o is not observer)
            route.stats.observers = len(route.observers)
            if route.observers:
                return
            routes = dict(self._routes)
            del routes[key]
            self._routes = routes
            _cancel_retry(route)
            if send_unsubscribe and self._is_open():
                self._write_soft(_frames(route.unsubscribe))
            self._close_if_idle()

    def _idle(self) -> bool:
        return not self._routes and not self._pending and self._holds == 0

    def hold(self) -> Disposable:
        """Keep the connection open while the returned disposable is alive (trading sessions)."""
        with self._lock:
            self._holds += 1
            self._open_if_needed()
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                self._holds -= 1
                self._close_if_idle()

        return Disposable(release)

    def resubscribe(self, key: Key, reason: str = "resync") -> bool:
        """Restart the subscription ``key``: a :class:`StreamReset`, then unsubscribe + subscribe.

        Returns False when nobody is subscribed to ``key``.
        """
        route = self._routes.get(key)
        if route is None:
            return False
        route.stats.resyncs += 1
        self._deliver_reset(route, reason)
        with self._lock:
            if self._routes.get(key) is route and self._is_open():
                _cancel_retry(route)
                self._write_soft(_frames(route.unsubscribe))
                self._write_soft(_frames(route.subscribe))
        return True

    def inject(self, key: Key, event: Event) -> bool:
        """Deliver a locally made event (a REST snapshot...) into the stream of ``key``.

        Safe from any thread: it is serialised with socket deliveries.  Returns False when
        nobody is subscribed to ``key``.
        """
        route = self._routes.get(key)
        if route is None:
            return False
        with self._deliver_lock:
            self._deliver(route, (event,))
        return True

    # ------------------------------------------------------------------ requests

    def send(self, frame: str) -> None:
        """Send a frame now; raises ConnectionError when the connection is not open."""
        with self._lock:
            if not self._is_open():
                raise ConnectionError(f"{self.venue}: connection to {redact_url(self.url)} is not open")
            self._write(frame)

    def request(self, frame: str | Callable[[], str], request_id: Hashable, timeout: float = 10.0) -> Observable[Any]:
        """A cold single-value Observable: send ``frame``, emit the reply's result.

        The reply is matched by ``request_id`` (the codec turns the venue's answer into
        :class:`~rxfeeds.codec.Reply`).  Errors: the venue's error (``RequestError`` family) or
        :class:`~rxfeeds.errors.RequestTimeout` after ``timeout`` seconds.  The request is sent
        once, on subscribe (or when the connection opens); it is never re-sent after a
        reconnect, so order entry cannot be duplicated.
        """
        if timeout <= 0:
            raise InvalidArgument("timeout", timeout, "must be a positive number of seconds")

        def on_subscribe(observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None = None) -> Disposable:
            with self._lock:
                if request_id in self._pending:
                    observer.on_error(InvalidArgument("request_id", request_id, "a request with this id is pending"))
                    return Disposable()
                self._pending[request_id] = observer
                self._outbox_request(request_id, frame)

            def expire(_: Any = None, __: Any = None) -> None:
                with self._lock:
                    obs = self._pending.pop(request_id, None)
                if obs is not None:
                    with self._deliver_lock:
                        _safe(
                            obs.on_error,
                            RequestTimeout(self.venue, f"no reply to request {request_id!r} within {timeout} s"),
                        )
                    with self._lock:
                        self._close_if_idle()

            timer = self._request_scheduler.schedule_relative(timeout, expire)

            def dispose() -> None:
                timer.dispose()
                with self._lock:
                    if self._pending.get(request_id) is observer:
                        del self._pending[request_id]
                        self._close_if_idle()

            return Disposable(dispose)

        return reactivex.create(on_subscribe)

    def _outbox_request(self, request_id: Hashable, frame: str | Callable[[], str]) -> None:
        # Called under the table lock.
        text = frame() if callable(frame) else frame
        if self._is_open():
            self._write(text)
        else:
            self._request_queue.append((request_id, text))
            self._open_if_needed()

    # ------------------------------------------------------------------ receive path

    def feed(self, data: bytes | str, recv_time: float) -> None:
        """Decode one received text frame and deliver what it carries (socket thread)."""
        stats = self._stats
        stats.frames_in += 1
        stats.last_recv = recv_time
        if self._taps:
            try:
                for tap in self._taps:
                    tap.frame_in(self.url, data, recv_time)
            except Exception as exc:  # a recorder bug must not drop the connection
                self._log.warning(("tap", type(exc).__name__), "%s: frame tap raised %r", self.venue, exc)
        try:
            messages = self._decode(data, recv_time)
        except FrameError as exc:
            self._frame_error(exc)
            return
        except Exception as exc:  # a codec bug must not kill the socket thread
            self._frame_error(FrameError(f"{type(exc).__name__}: {exc}", data, self.venue))
            return
        self.dispatch(messages, data)

    def dispatch(self, messages: Sequence[Any], raw: bytes | str | None = None) -> None:
        """Deliver already decoded messages (``feed`` without the decoding).

        Nothing raised here reaches the driver: a message that cannot be routed (a key that is
        not a hashable ``(channel, symbol)`` pair, an odd control message) becomes a
        :class:`~rxfeeds.errors.FrameError` on :attr:`errors` and the next message is
        delivered; ``raw`` (the frame, when known) goes into that error.
        """
        with self._deliver_lock:
            wildcard_seen: set[int] | None = None
            try:
                for msg in messages:
                    try:
                        if type(msg) is Data:
                            route = self._routes.get(msg.key)
                            if route is not None:
                                route.confirmed = True
                                if route.refusals:
                                    route.refusals = 0
                                # ``_deliver``, inlined: this is every frame's path
                                rs = route.stats
                                rs.messages += 1
                                rs.last_recv = self._stats.last_recv
                                for event in msg.events:
                                    for observer in route.observers:
                                        try:
                                            observer.on_next(event)
                                        except BaseException as exc:  # see _deliver
                                            self._observer_failed(route.key, observer, exc)
                            if self._wildcard:
                                if type(messages) is list and len(messages) == 1:
                                    self._deliver_wildcard(msg.events)  # one message: no repeats
                                    continue
                                # One event may be routed to several keys (a REST snapshot
                                # serving every diff speed): the wildcard sees it once.
                                if wildcard_seen is None:
                                    wildcard_seen = set()
                                fresh = [e for e in msg.events if id(e) not in wildcard_seen]
                                wildcard_seen.update(id(e) for e in fresh)
                                self._deliver_wildcard(fresh)
                        else:
                            self._control(msg)
                    except Exception as exc:  # unhashable key, events not a sequence...
                        self._frame_error(self._unroutable(msg, exc, raw))
            except Exception as exc:  # ``messages`` itself is not iterable
                self._frame_error(self._unroutable(messages, exc, raw))

    def _unroutable(self, msg: Any, exc: Exception, raw: bytes | str | None) -> FrameError:
        what = type(msg).__name__
        key = getattr(msg, "key", None)
        detail = f" with key {key!r}"[:120] if key is not None else ""
        return FrameError(f"cannot route {what}{detail} ({type(exc).__name__}: {exc})", raw, self.venue)

    def _deliver(self, route: _Route, events: Sequence[Event]) -> None:
        # Caller holds the delivery lock.
        rs = route.stats
        rs.messages += 1
        rs.last_recv = self._stats.last_recv
        for event in events:
            for observer in route.observers:
                try:
                    observer.on_next(event)
                except BaseException as exc:  # sys.exit() in a callback must not end the thread
                    self._observer_failed(route.key, observer, exc)

    def all_events(self) -> Observable[Event]:
        """Every decoded event, whatever its key, subscribed or not (replay tools, debugging).

        Observing this stream sends nothing to the venue.
        """

        def on_subscribe(observer: abc.ObserverBase[Event], scheduler: abc.SchedulerBase | None = None) -> Disposable:
            with self._lock:
                self._wildcard = (*self._wildcard, observer)

            def dispose() -> None:
                with self._lock:
                    self._wildcard = tuple(o for o in self._wildcard if o is not observer)

            return Disposable(dispose)

        return reactivex.create(on_subscribe)

    def _deliver_wildcard(self, events: Sequence[Event]) -> None:
        for event in events:
            for observer in self._wildcard:
                try:
                    observer.on_next(event)
                except BaseException as exc:
                    _reraise_interrupt(exc)
                    self._stats.callback_errors += 1
                    with self._lock:
                        self._wildcard = tuple(o for o in self._wildcard if o is not observer)
                    _safe(observer.on_error, _aborted(exc))

    def _observer_failed(self, key: Key, observer: abc.ObserverBase[Any], raised: BaseException) -> None:
        # A user callback (or operator) raised: that observer gets on_error and is detached;
        # the socket thread and every other observer carry on.
        _reraise_interrupt(raised)
        exc = _aborted(raised)
        self._stats.callback_errors += 1
        self._log.warning(("callback", key), "%s: observer of %r raised %r; detached", self.venue, key, exc)
        self._remove(key, observer)
        _safe(observer.on_error, exc)
        self._errors.on_next(exc)

    def _control(self, msg: Any) -> None:
        kind = type(msg)
        if kind is Reply:
            with self._lock:
                observer = self._pending.pop(msg.request_id, None)
            if observer is None:
                return
            if msg.error is not None:
                _safe(observer.on_error, msg.error)
            else:
                _safe(observer.on_next, msg.result)
                _safe(observer.on_completed)
            with self._lock:
                self._close_if_idle()
        elif kind is Rejected:
            self._reject(msg.key, msg.error)
        elif kind is Ack:
            route = self._routes.get(msg.key)
            if route is not None:
                route.acked = True
                route.confirmed = True
                route.refusals = 0
        elif kind is Notice:
            self._notices.on_next(msg.event)
        # Heartbeat and Pong only prove liveness, which every frame already does.

    def _reject(self, key: Key, error: Exception) -> None:
        with self._lock:
            route = self._routes.get(key)
            if route is None:
                return
            reason = self._retry_refused(route, error) if route.confirmed else None
            if reason is None:
                _cancel_retry(route)
                routes = dict(self._routes)
                del routes[key]
                self._routes = routes
                route.stats.observers = 0
                self._close_if_idle()
        if reason is not None:
            self._errors.on_next(SubscriptionError(self.venue, key, reason))
            # The stream has lost its continuity (a book must resync): say so now.
            self._deliver_reset(route, reason)
            return
        for observer in route.observers:
            _safe(observer.on_error, error)

    def _retry_refused(self, route: _Route, error: Exception) -> str | None:
        """A subscription that worked before was refused (after a reconnect or resync): the
        venue may be restarting, so subscribe again after a back-off.  Called under the table
        lock; returns the reason to publish, or None once the retries are exhausted (the
        observers then get ``error``)."""
        policy = self._resubscribe_backoff
        attempt = route.refusals + 1
        if policy.gives_up(attempt):
            return None
        route.refusals = attempt
        delay = policy.delay(attempt)
        key = route.key
        most = getattr(policy, "max_attempts", None)
        limit = f"/{most}" if most is not None else ""
        reason = f"refused ({getattr(error, 'message', error)}); retry {attempt}{limit} in {delay:.2f} s"
        self._log.warning(("refused", key), "%s: %r %s", self.venue, key, reason)
        route.stats.refusals += 1

        def again(_: Any = None, __: Any = None) -> None:
            with self._lock:
                route.retry = None
                if self._routes.get(key) is route and self._is_open():
                    self._write_soft(_frames(route.subscribe))

        _cancel_retry(route)
        route.retry = self._request_scheduler.schedule_relative(delay, again)
        return reason

    def _frame_error(self, exc: FrameError) -> None:
        self._stats.frame_errors += 1
        # keyed by type only: reasons carry the offending values, so every hostile frame would be new
        self._log.warning(("frame", type(exc).__name__), "%s", exc)
        self._errors.on_next(exc)

    def _deliver_reset(self, route: _Route, reason: str) -> None:
        now = time.time()
        marker = StreamReset(self.venue, route.key[1], now, now, channel=route.key[0], reason=reason)
        route.stats.resets += 1
        with self._deliver_lock:
            for observer in route.observers:
                try:
                    observer.on_next(marker)
                except BaseException as exc:
                    self._observer_failed(route.key, observer, exc)

    # ------------------------------------------------------------------ driver side

    def _on_connected(self, reconnect: bool, mark_open: Callable[[], None] | None = None) -> None:
        """Driver calls this when a connection opened: session frames, markers, resubscribe.

        ``mark_open`` flips the driver's open flag under the table lock, together with sending
        every subscription: a subscriber arriving meanwhile is then either in the table
        (subscribed here) or sees the connection open (subscribes itself), never both.
        """
        now = time.time()
        for tap in self._taps:
            tap.connected(self.url, now)
        self.codec.reset()
        with self._deliver_lock:
            if reconnect:
                for route in list(self._routes.values()):
                    self._deliver_reset(route, "reconnect")
            with self._lock:
                if mark_open is not None:
                    mark_open()
                self._write_all(self.codec.on_open_frames())
                for route in list(self._routes.values()):
                    route.acked = False
                    _cancel_retry(route)  # subscribed right here: a pending retry would duplicate it
                    self._write_all(_frames(route.subscribe))
                queued, self._request_queue = self._request_queue, []
                for _, text in queued:
                    self._write(text)

    def _fail_all(self, error: Exception) -> None:
        """Terminate every observer with ``error`` (the connection gave up)."""
        self._terminate_all(error, error)

    def _complete_all(self) -> None:
        """Complete every stream; pending requests fail (their reply can no longer come)."""
        self._terminate_all(None, ConnectionError(f"{self.venue}: transport closed before the reply arrived"))

    def _terminate_all(self, stream_error: Exception | None, request_error: Exception) -> None:
        with self._deliver_lock:
            with self._lock:
                routes, self._routes = self._routes, {}
                pending, self._pending = self._pending, {}
                self._request_queue = []
            for route in routes.values():
                route.stats.observers = 0
                _cancel_retry(route)
                for observer in route.observers:
                    if stream_error is None:
                        _safe(observer.on_completed)
                    else:
                        _safe(observer.on_error, stream_error)
            for observer in pending.values():
                _safe(observer.on_error, request_error)

    def _publish_state(
        self, state: ConnectionState, attempt: int = 0, delay: float | None = None, reason: str = ""
    ) -> None:
        self._stats.state = state
        self._stats.next_delay = delay
        status = ConnectionStatus(self.venue, redact_url(self.url), state, time.time(), attempt, delay, reason)
        if state is ConnectionState.RECONNECTING:  # every reconnect, with its reason (issue 18)
            # the venue, not the URL: a URL may carry a token
            log.warning("%s: %s; reconnecting in %.1f s (attempt %d)", self.venue, reason, delay or 0.0, attempt)
        elif state is ConnectionState.FAILED:
            log.error("%s: gave up after %d attempts: %s", self.venue, attempt, reason)
        try:
            self._status.on_next(status)
        except Exception as exc:  # a state observer's bug must not stop the connection
            self._log.warning("state-observer", "%s: state observer raised %r", self.venue, exc)

    def _write_all(self, frames: Sequence[str]) -> None:
        for frame in frames:
            self._write(frame)

    def _write_soft(self, frames: Sequence[str]) -> None:
        """Send, tolerating a connection that is closing under us: the reconnect re-sends
        every active subscription, so a lost subscribe frame is recovered there."""
        try:
            self._write_all(frames)
        except Exception as exc:
            self._log.warning(
                ("send", type(exc).__name__), "%s: send failed (%r); will resend on reconnect", self.venue, exc
            )

    def _tap_out(self, frame: str) -> None:
        self._stats.frames_out += 1
        if self._taps:
            now = time.time()
            text = redact(frame, self.codec.redact)
            for tap in self._taps:
                tap.frame_out(self.url, text, now)

    # Driver hooks -------------------------------------------------------------

    def _is_open(self) -> bool:
        raise NotImplementedError

    def _open_if_needed(self) -> None:
        raise NotImplementedError

    def _close_if_idle(self) -> None:
        raise NotImplementedError

    def _write(self, frame: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Complete every subscriber and stop the driver."""
        self._complete_all()


def _cancel_retry(route: _Route) -> None:
    retry, route.retry = route.retry, None
    if retry is not None:
        retry.dispose()


def _safe(fn: Callable[..., Any], *args: Any) -> None:
    """Call an observer method; swallow (and log) what it raises: nothing escapes to the driver."""
    try:
        fn(*args)
    except BaseException as exc:
        _reraise_interrupt(exc)
        # reactivex's default on_error re-raises: an observer without on_error lands here.
        level = logging.DEBUG if isinstance(exc, RxfeedsError) else logging.WARNING
        log.log(level, "observer callback raised %r", exc)
