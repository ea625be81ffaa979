"""``order_book``: correct, immutable order books from a venue's book events.

Marble sketch (S = snapshot, d = delta, x = delta after a gap, R = StreamReset;
B = OrderBook synced, u = OrderBook unsynced, ! = IntegrityEvent)::

    source:  --S--d--d--x-----------S--d--R-----S--d--|
                       order_book()
    output:  --!B-B--B--!u-!-------!B--B--!u----!B-B--|
                        gap  resync synced  reset synced

Input: ``BookSnapshot``, ``BookDelta``, ``BookOrder`` (order-level books) and ``StreamReset``
events of one or more ``(venue, symbol)`` books.  Every other event is dropped, so the output
is exactly ``OrderBook`` values, or ``OrderBook | IntegrityEvent`` with ``integrity=True``
(``share()`` the source to see trades as well).

Books only by default, so ``subscribe(lambda book: print(book.best_bid))`` is safe.  Every
integrity problem still shows on the book itself: the book emitted after a gap, checksum
failure, crossed book or reset has ``synced=False``, and the next ``synced=True`` book means
the problem is over.  Pass ``integrity=True`` to also get the :class:`~rxfeeds.events.IntegrityEvent`
values (why it broke, each resync attempt, ``stale``, ``failed``) in the same stream, in order.

Output with ``integrity=True``, per input message (the default keeps only the books):

* an :class:`~rxfeeds.books.book.OrderBook` after every message that leaves the book synced
  (for order-level books: after the last order of each venue message, ``BookOrder.frame_end``,
  once a whole image was applied; never half-applied).  Values are immutable: a book you
  hold never changes (it holds its own tuple of the levels it shows, see
  :mod:`rxfeeds.books.side`), so keeping one is safe; with a view ``depth`` emitting one copies
  only those levels, so deep books stay cheap.
* :class:`~rxfeeds.events.IntegrityEvent` values next to the books they concern: ``synced``
  (a snapshot made the book valid), ``gap`` / ``checksum`` / ``crossed`` / ``invalid``
  (integrity failure, followed by the last good book marked ``synced=False``; ``invalid``: an
  event with a NaN, infinite, negative or absurd number or a wrong field type, which never
  reaches a book nor ends the stream), ``reset`` (a ``StreamReset``: the
  book is unsynced until the next snapshot; no resync is asked, the transport already
  resubscribed), ``resync`` (a fresh snapshot was requested, ``detail`` says which attempt),
  ``stale`` (no snapshot within ``resync_timeout`` of a resync, or of the first update while
  the book waits for its snapshot), ``failed`` (given up).

The sync rules per venue family (Kraken checksum, HitBTC / Binance sequence, order-level,
plain) are chosen from the data; see :mod:`rxfeeds.books.sync`.

Resync
------
An integrity failure asks for a fresh snapshot of **that symbol only**, through the source's
resync hook (:func:`rxfeeds.feed.resync_of`: a venue client's book ``Feed`` resubscribes the
channel or refetches the REST snapshot) or the ``resync=`` argument.  Without a hook the book
just stays unsynced until a snapshot arrives.  The first attempt is made at once, the next ones
after ``backoff`` delays on ``scheduler``; an attempt fails when the book is not synced
again within ``resync_timeout`` seconds or breaks again before one clean update.  After
``max_resyncs`` consecutive failures the operator emits a ``failed`` IntegrityEvent and then
errors with :class:`~rxfeeds.errors.IntegrityError`.  An Observable can only fail as a whole, so
the error ends the stream for every symbol it carries: pipe each symbol's feed through its own
``order_book()`` (``client.book(symbol)`` per symbol) to keep the others alive.

Example:
    >>> import reactivex as rx
    >>> from rxfeeds.events import BookDelta, BookSnapshot
    >>> events = [
    ...     BookSnapshot("demo", "X", 1.0, 1.0, bids=((99.0, 1.0, "", ""),), asks=((101.0, 1.0, "", ""),)),
    ...     BookDelta("demo", "X", 2.0, 2.0, bids=((100.0, 3.0, "", ""),), asks=()),
    ... ]
    >>> out = []
    >>> _ = rx.from_iterable(events).pipe(order_book(depth=10)).subscribe(out.append)
    >>> [type(v).__name__ for v in out]
    ['OrderBook', 'OrderBook']
    >>> out[-1].best_bid, out[-1].spread, out[-1].synced
    ((100.0, 3.0), 1.0, True)
    >>> out = []
    >>> _ = rx.from_iterable(events).pipe(order_book(depth=10, integrity=True)).subscribe(out.append)
    >>> [type(v).__name__ for v in out]
    ['IntegrityEvent', 'OrderBook', 'OrderBook']
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal, overload

from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable

from ..books.book import OrderBook
from ..books.sync import SymbolBook
from ..errors import IntegrityError, InvalidArgument
from ..events import BookDelta, BookOrder, BookSnapshot, IntegrityEvent, IntegrityKind, StreamReset
from ..feed import resync_of
from ..timing import Backoff, timer_scheduler

__all__ = ["OrderBook", "order_book"]

BookOutput = OrderBook | IntegrityEvent

_DEFAULT_BACKOFF = Backoff(initial=0.5, max_delay=30.0)


@overload
def order_book(
    depth: int | None = None,
    *,
    max_depth: int | None = None,
    resync: Callable[[str], object] | None = None,
    backoff: Backoff | None = None,
    max_resyncs: int = 5,
    resync_timeout: float = 10.0,
    max_buffer: int = 10_000,
    scheduler: abc.SchedulerBase | None = None,
    integrity: Literal[False] = False,
) -> Callable[[Observable[Any]], Observable[OrderBook]]: ...


@overload
def order_book(
    depth: int | None = None,
    *,
    max_depth: int | None = None,
    resync: Callable[[str], object] | None = None,
    backoff: Backoff | None = None,
    max_resyncs: int = 5,
    resync_timeout: float = 10.0,
    max_buffer: int = 10_000,
    scheduler: abc.SchedulerBase | None = None,
    integrity: Literal[True],
) -> Callable[[Observable[Any]], Observable[BookOutput]]: ...


@overload
def order_book(
    depth: int | None = None,
    *,
    max_depth: int | None = None,
    resync: Callable[[str], object] | None = None,
    backoff: Backoff | None = None,
    max_resyncs: int = 5,
    resync_timeout: float = 10.0,
    max_buffer: int = 10_000,
    scheduler: abc.SchedulerBase | None = None,
    integrity: bool,
) -> Callable[[Observable[Any]], Observable[BookOutput]]: ...


def order_book(
    depth: int | None = None,
    *,
    max_depth: int | None = None,
    resync: Callable[[str], object] | None = None,
    backoff: Backoff | None = None,
    max_resyncs: int = 5,
    resync_timeout: float = 10.0,
    max_buffer: int = 10_000,
    scheduler: abc.SchedulerBase | None = None,
    integrity: bool = False,
) -> Callable[[Observable[Any]], Observable[Any]]:
    """Build order books from book events (see the module docstring).

    Args:
        depth: levels per side that emitted books hold (``bids``/``asks``, ``levels()``,
            ``copy()``, ``bid_count``); None: every level kept.  Only these levels are copied
            into each emitted book, so a small depth keeps deep books cheap.  Checksum books
            (Kraken) are also truncated to it when the codec does not tell the subscribed depth.
        max_depth: levels per side kept for venues that send full books (memory bound; levels
            pushed beyond it and back are missing until the venue updates them). None keeps all.
        resync: ``resync(symbol)`` asks the venue for a fresh snapshot; default: the source
            Feed's hook.
        backoff: delays between consecutive resync attempts (first attempt immediate).
        max_resyncs: consecutive failed resyncs before giving up with ``IntegrityError``.
        resync_timeout: seconds a resync may take before it counts as failed.
        max_buffer: deltas buffered per symbol while waiting for a snapshot.
        scheduler: scheduler for resync timers, chosen by :func:`rxfeeds.timing.timer_scheduler`
            (tests pass a ``TestScheduler``).
        integrity: also emit the ``IntegrityEvent`` values in the stream (default: books only;
            ``book.synced`` tells whether each book is valid).

    Example:
        >>> op = order_book(depth=10)
        >>> callable(op)
        True
        >>> order_book(depth=0)
        Traceback (most recent call last):
        ...
        rxfeeds.errors.InvalidArgument: depth=0: must be a positive number of levels or None
    """
    _check_levels("depth", depth)
    _check_levels("max_depth", max_depth)
    if isinstance(max_resyncs, bool) or not isinstance(max_resyncs, int) or max_resyncs < 1:
        raise InvalidArgument("max_resyncs", max_resyncs, "must be an int >= 1")
    if isinstance(resync_timeout, bool) or not isinstance(resync_timeout, int | float) or resync_timeout <= 0:
        raise InvalidArgument("resync_timeout", resync_timeout, "must be a positive number of seconds")
    if isinstance(max_buffer, bool) or not isinstance(max_buffer, int) or max_buffer < 1:
        raise InvalidArgument("max_buffer", max_buffer, "must be an int >= 1")
    if resync is not None and not callable(resync):
        raise InvalidArgument("resync", resync, "must be callable as resync(symbol)")
    if backoff is not None and not isinstance(backoff, Backoff):
        raise InvalidArgument("backoff", backoff, "must be an rxfeeds.transport.backoff.Backoff")
    if not isinstance(integrity, bool):
        raise InvalidArgument("integrity", integrity, "must be True or False")
    policy = backoff if backoff is not None else _DEFAULT_BACKOFF

    def _order_book(source: Observable[Any]) -> Observable[BookOutput]:
        hook: Callable[[str], object] | None = resync if resync is not None else resync_of(source)

        def subscribe(
            observer: abc.ObserverBase[BookOutput], subscribe_scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            run = _Run(
                observer if integrity else _BooksOnly(observer),
                observer,
                hook,
                timer_scheduler(scheduler, subscribe_scheduler),
                depth=depth,
                max_depth=max_depth,
                backoff=policy,
                max_resyncs=max_resyncs,
                resync_timeout=float(resync_timeout),
                max_buffer=max_buffer,
            )
            subscription = source.subscribe(run.on_next, run.on_error, run.on_completed, scheduler=subscribe_scheduler)
            run.source_subscription = subscription
            return CompositeDisposable(subscription, Disposable(run.dispose))

        return Observable(subscribe)

    return _order_book


class _BooksOnly(abc.ObserverBase[BookOutput]):
    """Observer passing only the ``OrderBook`` values on (the default ``integrity=False``)."""

    __slots__ = ("target",)

    def __init__(self, target: abc.ObserverBase[BookOutput]) -> None:
        self.target = target

    def on_next(self, value: BookOutput) -> None:
        if type(value) is OrderBook:
            self.target.on_next(value)

    def on_error(self, error: Exception) -> None:
        self.target.on_error(error)

    def on_completed(self) -> None:
        self.target.on_completed()


def _check_levels(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InvalidArgument(name, value, "must be a positive number of levels or None")


class _Run:
    """State of one subscription: the books, the resync timers, the lock serializing both."""

    def __init__(
        self,
        observer: abc.ObserverBase[BookOutput],
        target: abc.ObserverBase[BookOutput],
        hook: Callable[[str], object] | None,
        scheduler: abc.SchedulerBase,
        *,
        depth: int | None,
        max_depth: int | None,
        backoff: Backoff,
        max_resyncs: int,
        resync_timeout: float,
        max_buffer: int,
    ) -> None:
        self.observer = observer
        # books go straight to the subscriber (``observer`` may be the integrity filter)
        self.emit_book = target.on_next
        self.hook = hook
        self.scheduler = scheduler
        self.depth = depth
        self.max_depth = max_depth
        self.backoff = backoff
        self.max_resyncs = max_resyncs
        self.resync_timeout = resync_timeout
        self.max_buffer = max_buffer
        self.books: dict[tuple[str, str], SymbolBook] = {}
        self.by_symbol: dict[str, SymbolBook] = {}
        self.timers: dict[tuple[str, str], abc.DisposableBase] = {}
        # socket thread and timer thread both emit: one reentrant lock keeps emissions serial
        self.lock = threading.RLock()
        self.done = False
        self.source_subscription: abc.DisposableBase | None = None

    def book(self, venue: str, symbol: str) -> SymbolBook:
        """The book of ``(venue, symbol)``, made on first use."""
        sb = self.books.get((venue, symbol))
        if sb is None:
            if type(venue) is not str or type(symbol) is not str:
                raise TypeError(f"venue and symbol must be strings, got {venue!r} and {symbol!r}"[:200])
            sb = self.books[(venue, symbol)] = SymbolBook(venue, symbol, self.depth, self.max_depth, self.max_buffer)
        # the symbol index holds the latest book seen per symbol; venue clashes fall back here
        self.by_symbol[symbol] = sb
        return sb

    # --- source callbacks -----------------------------------------------------------------------

    def on_next(self, ev: Any) -> None:
        with self.lock:
            if self.done:
                return
            kind = type(ev)
            # A malformed event (wrong field types) must not end the stream with a raw Python
            # error: it is an integrity failure of its book (try costs nothing when nothing raises).
            if kind is BookDelta:
                # hot path: books are found by symbol first (a tuple key costs a tuple per event)
                try:
                    sb = self.by_symbol.get(ev.symbol)
                    if sb is None or sb.venue != ev.venue:
                        sb = self.book(ev.venue, ev.symbol)
                    value = sb.on_delta(ev)
                except Exception as error:
                    self._bad_event(ev, error)
                    return
                if value is not None and not sb.notes and not sb.needs_resync and not self.timers:
                    self.emit_book(value)
                    return
            elif kind is BookSnapshot or kind is BookOrder:
                try:
                    sb = self.book(ev.venue, ev.symbol)
                    value = sb.on_snapshot(ev) if kind is BookSnapshot else sb.on_order(ev)
                except Exception as error:
                    self._bad_event(ev, error)
                    return
            elif kind is StreamReset:
                self._reset(ev)
                return
            else:
                return
            if sb.notes:
                self._flush(sb)
            if value is not None:
                self.emit_book(value)
            if sb.needs_resync:
                sb.needs_resync = False
                self._failure(sb)
            elif sb.synced:
                if self.timers:
                    timer = self.timers.pop((sb.venue, sb.symbol), None)
                    if timer is not None:
                        timer.dispose()
            elif self.hook is not None and (sb.venue, sb.symbol) not in self.timers:
                # updates flow but the book waits for a snapshot (first one, or after a reset):
                # when none comes (a failed REST fetch, a lost reply) ask again
                self._expect_snapshot(sb)

    def on_error(self, error: Exception) -> None:
        with self.lock:
            if self.done:
                return
            self.dispose()
            self.observer.on_error(error)

    def on_completed(self) -> None:
        with self.lock:
            if self.done:
                return
            self.dispose()
            self.observer.on_completed()

    def dispose(self) -> None:
        with self.lock:
            self.done = True
            timers, self.timers = self.timers, {}
        for timer in timers.values():
            timer.dispose()

    # --- integrity --------------------------------------------------------------------------------

    def _reset(self, ev: StreamReset) -> None:
        try:
            if ev.symbol:
                # a symbol with no book state yet has nothing to forget
                found = self.books.get((ev.venue, ev.symbol))
                targets = [found] if found is not None else []
            else:  # a connection-wide reset concerns every book of that venue
                targets = [sb for sb in self.books.values() if sb.venue == ev.venue]
        except Exception as error:  # an unhashable symbol
            self._bad_event(ev, error)
            return
        for sb in targets:
            value = sb.on_reset(ev)
            self._flush(sb)
            if value is not None:
                self.observer.on_next(value)

    def _flush(self, sb: SymbolBook) -> None:
        notes = sb.notes
        sb.notes = []
        for note in notes:
            self.observer.on_next(note)

    def _bad_event(self, ev: BookSnapshot | BookDelta | BookOrder | StreamReset, error: Exception) -> None:
        """``ev`` could not be applied: an ``invalid`` integrity failure of its book, then a resync.

        An event whose symbol names no book (not a string) may belong to any book of its venue
        in this stream: each of them is resynced; the other venues' books go on.
        """
        try:
            found = self.books.get((ev.venue, ev.symbol))
        except TypeError:
            found = None
        targets = [found] if found is not None else [sb for sb in self.books.values() if sb.venue == ev.venue]
        if not targets:
            now = self.scheduler.now.timestamp()
            venue = ev.venue if type(ev.venue) is str else ""
            text = f"{type(ev).__name__} could not be applied: {type(error).__name__}: {error}"[:300]
            self.observer.on_next(IntegrityEvent(venue, "", now, now, kind="invalid", detail=text))
            return
        for sb in targets:
            value = sb.invalid(ev, error)
            self._flush(sb)
            if value is not None:
                self.observer.on_next(value)
            if sb.needs_resync:
                sb.needs_resync = False
                self._failure(sb)

    def _expect_snapshot(self, sb: SymbolBook) -> None:
        attempt = sb.resync_attempts

        def due() -> None:
            with self.lock:
                if self.done or sb.synced or sb.resync_attempts != attempt:
                    return
                self.timers.pop((sb.venue, sb.symbol), None)
                sb.last_problem = f"no snapshot within {self.resync_timeout:g} s of the first update"
                self._note(sb, "stale", sb.last_problem)
                self._failure(sb)

        self._set_timer(sb, self.resync_timeout, due)

    def _note(self, sb: SymbolBook, kind: IntegrityKind, detail: str) -> None:
        now = self.scheduler.now.timestamp()
        self.observer.on_next(IntegrityEvent(sb.venue, sb.symbol, now, now, kind=kind, detail=detail))

    def _failure(self, sb: SymbolBook) -> None:
        """An integrity failure of ``sb``: schedule the next resync attempt or give up."""
        if self.hook is None:
            return
        sb.resync_attempts += 1
        attempt = sb.resync_attempts
        if attempt > self.max_resyncs:
            self._give_up(sb)
            return
        delay = 0.0 if attempt == 1 else self.backoff.delay(attempt - 1)
        self._set_timer(sb, delay, lambda: self._resync(sb, attempt))

    def _set_timer(self, sb: SymbolBook, delay: float, action: Callable[[], None]) -> None:
        key = (sb.venue, sb.symbol)
        old = self.timers.pop(key, None)
        if old is not None:
            old.dispose()

        def fire(_scheduler: abc.SchedulerBase, _state: Any) -> None:
            action()

        self.timers[key] = self.scheduler.schedule_relative(delay, fire)

    def _resync(self, sb: SymbolBook, attempt: int) -> None:
        with self.lock:
            if self.done or sb.resync_attempts != attempt:
                return
            if sb.synced:  # a snapshot arrived meanwhile (reconnect, unsolicited re-snapshot)
                return
            self._note(sb, "resync", f"attempt {attempt} of {self.max_resyncs} ({sb.last_problem})")
            self._set_timer(sb, self.resync_timeout, lambda: self._timed_out(sb, attempt))
        hook = self.hook
        assert hook is not None
        try:
            # outside the lock: the hook may take the transport's lock while its socket thread,
            # holding that lock, waits for ours to deliver a frame
            hook(sb.symbol)
        except Exception as error:
            with self.lock:
                if self.done or sb.resync_attempts != attempt:
                    return
                sb.last_problem = f"resync({sb.symbol!r}) raised {type(error).__name__}: {error}"
                self._failure(sb)

    def _timed_out(self, sb: SymbolBook, attempt: int) -> None:
        with self.lock:
            if self.done or sb.synced or sb.resync_attempts != attempt:
                return
            sb.last_problem = f"no snapshot within {self.resync_timeout:g} s of resync attempt {attempt}"
            self._note(sb, "stale", sb.last_problem)
            self._failure(sb)

    def _give_up(self, sb: SymbolBook) -> None:
        message = (
            f"{sb.venue} {sb.symbol}: order book lost sync and {self.max_resyncs} resync attempts "
            f"did not restore it (last problem: {sb.last_problem})"
        )
        self._note(sb, "failed", message)
        subscription = self.source_subscription
        self.dispose()
        if subscription is not None:
            subscription.dispose()
        self.observer.on_error(IntegrityError(message))
