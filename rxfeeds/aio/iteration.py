"""The asyncio door: ``async for``, ``await first/collect`` and awaitable requests over rxfeeds Observables.

rxfeeds Observables deliver on their socket thread.  An asyncio program must not touch its
event loop from that thread, and reactivex's own ``await observable`` does exactly that: it
resolves a future from the socket thread without waking the loop, so the ``await`` returns
only when something else happens to wake it (seconds later, or never).  Everything here hands
values to the loop with ``loop.call_soon_threadsafe``: the loop wakes at once, nothing polls.

* ``async for value in iterate(observable, buffer=..., overflow=...)``: a bounded buffer
  between the socket thread and your loop, with an explicit policy for a slow consumer
  (``"latest"``, ``"drop"``, ``"error"``, ``"block"``) and counters (:meth:`Iteration.stats`);
  errors are raised at the ``async for``; ``break``, cancellation, an exception in the loop
  body or the end of the task unsubscribe.
* ``await first(observable, timeout=...)``, ``await last(...)`` and
  ``await collect(observable, n=..., duration=...)``.
* Requests (order entry, RPC calls, pings) of every client are :class:`AwaitableObservable`:
  ``await kraken.ping()`` works, and is still an Observable.
* ``async with rxfeeds.Kraken() as kraken:`` closes every socket on exit.

They work on any running loop (the standard one, uvloop, a Jupyter kernel's loop with
top-level ``await``), in several loops on several threads at once: each call binds to the loop
running it.

Example::

    import asyncio, rxfeeds
    from rxfeeds import aio, ops

    async def main():
        async with rxfeeds.Kraken() as kraken:
            print(await kraken.ping())
            books = kraken.book("XBT/USD", depth=10).pipe(ops.order_book())
            async for book in aio.iterate(books, buffer=1, overflow="latest"):
                print(book.best_bid, book.best_ask)

    asyncio.run(main())
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import deque
from collections.abc import Callable, Generator
from typing import Any, Generic, Literal, Self, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import SingleAssignmentDisposable

from ..errors import BufferOverflow, InvalidArgument, RxfeedsError
from ..ops.buffer_bounded import DeliveryStats

__all__ = [
    "iterate",
    "Iteration",
    "first",
    "last",
    "collect",
    "awaitable",
    "AwaitableObservable",
    "Overflow",
    "OVERFLOWS",
    "BufferOverflow",
    "DeliveryStats",
    "AwaitTimeout",
    "EmptyStream",
]

_T = TypeVar("_T")

Overflow = Literal["latest", "drop", "error", "block"]
OVERFLOWS: tuple[str, ...] = ("latest", "drop", "error", "block")


class AwaitTimeout(RxfeedsError, TimeoutError):
    """No value (or no completion) within the ``timeout`` given to :func:`first` / :func:`last`."""

    def __init__(self, what: str, timeout: float) -> None:
        self.timeout = timeout
        super().__init__(f"{what} within {timeout} s")


class EmptyStream(RxfeedsError, LookupError):
    """The Observable completed without any value where one was awaited."""


# ---------------------------------------------------------------------------- validation


def _positive_number(name: str, value: Any, optional: bool = True) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise InvalidArgument(name, value, "must be a positive number of seconds" + (" or None" if optional else ""))
    return float(value)


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(name, value, "must be a positive integer")
    return value


def _observable(value: Any) -> Observable[Any]:
    if not isinstance(value, Observable):
        raise InvalidArgument("observable", type(value).__name__, "must be a reactivex Observable")
    return value


def _post(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> bool:
    """Run ``fn(*args)`` on ``loop`` soon, from any thread; False when the loop is closed."""
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # the loop is closed: nobody is waiting any more
        return False
    return True


def _resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


# ---------------------------------------------------------------------------- async for


class _Bridge:
    """The producer-side half of one :class:`Iteration`: queue, counters, wake-ups.

    The source's observer holds this object, never the :class:`Iteration`, so dropping the
    ``Iteration`` (``break``, an exception, the task ending) lets its finalizer dispose the
    subscription while the source still references the bridge.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int, overflow: str, block_timeout: float) -> None:
        self.loop = loop
        self.loop_thread = threading.get_ident()
        self.capacity = capacity
        self.overflow = overflow
        self.block_timeout = block_timeout
        self.lock = threading.Lock()
        self.room = threading.Condition(self.lock)  # "block": the producer waits here for room
        self.queue: deque[Any] = deque()
        self.waiter: asyncio.Future[None] | None = None  # set by the consumer when the queue ran dry
        self.terminal: BaseException | bool | None = None  # True = completed
        self.stopped = False  # no more values accepted
        self.upstream = SingleAssignmentDisposable()
        self.received = 0
        self.delivered = 0
        self.dropped = 0
        self.max_pending = 0

    # -- producer side (the source's thread) ------------------------------------------------

    def on_next(self, value: Any) -> None:
        overflowed = False
        with self.lock:
            if self.stopped:
                return
            self.received += 1
            queue = self.queue
            if len(queue) >= self.capacity:
                policy = self.overflow
                if policy == "block" and threading.get_ident() != self.loop_thread:
                    # Lossless: stall this producer (and with it the socket) until the consumer
                    # makes room, for at most block_timeout; then give up like "error".
                    self.room.wait_for(lambda: self.stopped or len(queue) < self.capacity, self.block_timeout)
                    if self.stopped:
                        return
                if len(queue) >= self.capacity:
                    if policy == "latest":
                        queue.popleft()
                        self.dropped += 1
                    elif policy == "drop":
                        self.dropped += 1
                        return
                    else:  # "error", or "block" that timed out or would deadlock its own loop
                        self.dropped += 1
                        self.stopped = overflowed = True
                        self.terminal = BufferOverflow(self.capacity)
            if not overflowed:
                queue.append(value)
                if len(queue) > self.max_pending:
                    self.max_pending = len(queue)
            waiter, self.waiter = self.waiter, None
        if waiter is not None:
            _post(self.loop, _resolve, waiter, None)
        if overflowed:
            self.upstream.dispose()

    def _stop(self, terminal: BaseException | bool) -> None:
        with self.lock:
            if self.stopped:
                return
            self.stopped = True
            self.terminal = terminal
            waiter, self.waiter = self.waiter, None
        if waiter is not None:
            _post(self.loop, _resolve, waiter, None)

    def on_error(self, error: Exception) -> None:
        self._stop(error)

    def on_completed(self) -> None:
        self._stop(True)

    # -- consumer side (the loop) -------------------------------------------------------------

    def dispose(self) -> None:
        """Stop accepting values, wake a blocked producer, unsubscribe (any thread, idempotent)."""
        with self.lock:
            self.stopped = True
            if self.terminal is None:
                self.terminal = True
            self.queue.clear()
            self.room.notify_all()
            waiter, self.waiter = self.waiter, None
        if waiter is not None:  # a waiting consumer wakes to the end (thread-safe, whoever disposes)
            _post(self.loop, _resolve, waiter, None)
        self.upstream.dispose()

    def stats(self, active: bool) -> DeliveryStats:
        with self.lock:
            return DeliveryStats(
                received=self.received,
                delivered=self.delivered,
                dropped=self.dropped,
                pending=len(self.queue),
                max_pending=self.max_pending,
                subscriptions=1 if active else 0,
            )


class Iteration(Generic[_T]):
    """What :func:`iterate` returns: an async iterator (and async context manager) over one subscription.

    The subscription starts at the first ``async for`` step (or ``async with``), on the loop
    running it, and ends at completion, error, :meth:`aclose`, ``async with`` exit, or when
    the object is dropped (``break``, an exception in the loop body, the task ending).
    Cancelling a task while it waits in the ``async for`` ends the subscription too.
    """

    def __init__(self, source: Observable[_T], capacity: int, overflow: str, block_timeout: float) -> None:
        self._source = source
        self._capacity = capacity
        self._overflow = overflow
        self._block_timeout = block_timeout
        self._bridge: _Bridge | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._closed = False

    @property
    def capacity(self) -> int:
        """The buffer size."""
        return self._capacity

    @property
    def overflow(self) -> str:
        """The overflow policy."""
        return self._overflow

    def stats(self) -> DeliveryStats:
        """Counters: received, delivered, dropped (by the policy), pending, max_pending (<= buffer)."""
        bridge = self._bridge
        if bridge is None:
            return DeliveryStats()
        return bridge.stats(active=not self._closed)

    def _start(self) -> _Bridge:
        loop = asyncio.get_running_loop()
        bridge = self._bridge
        if bridge is not None:
            if bridge.loop is not loop:
                raise InvalidArgument("loop", loop, "this iteration belongs to another event loop")
            return bridge
        if self._closed:
            raise InvalidArgument("iteration", self, "already closed")
        bridge = self._bridge = _Bridge(loop, self._capacity, self._overflow, self._block_timeout)
        # Dropping this object unsubscribes (break, exception in the body, task end).
        self._finalizer = weakref.finalize(self, bridge.dispose)
        bridge.upstream.disposable = self._source.subscribe(bridge.on_next, bridge.on_error, bridge.on_completed)
        return bridge

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> _T:
        if self._closed and self._bridge is None:  # closed before it started
            raise StopAsyncIteration
        bridge = self._start()
        lock = bridge.lock
        while True:
            with lock:
                queue = bridge.queue
                if queue:
                    value = queue.popleft()
                    bridge.delivered += 1
                    if bridge.overflow == "block":
                        bridge.room.notify()
                    return value  # type: ignore[no-any-return]
                terminal = bridge.terminal
                if terminal is None:
                    waiter: asyncio.Future[None] = bridge.loop.create_future()
                    bridge.waiter = waiter
            if terminal is not None:
                self._finish()
                if terminal is True:
                    raise StopAsyncIteration
                assert isinstance(terminal, BaseException)
                raise terminal
            try:
                await waiter
            except asyncio.CancelledError:
                # the task was cancelled (or a timeout fired) while waiting: end the subscription
                self._finish()
                raise

    def _finish(self) -> None:
        self._closed = True
        if self._finalizer is not None:
            self._finalizer()  # runs bridge.dispose once

    async def aclose(self) -> None:
        """Unsubscribe now; values still queued are discarded."""
        self._closed = True
        if self._finalizer is not None:
            self._finalizer()

    async def __aenter__(self) -> Self:
        self._start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        s = self.stats()
        state = "closed" if self._closed else ("open" if self._bridge is not None else "not started")
        return (
            f"Iteration({state}, buffer={self._capacity}, overflow={self._overflow!r}, "
            f"received={s.received}, delivered={s.delivered}, dropped={s.dropped}, pending={s.pending})"
        )


def iterate(
    observable: Observable[_T],
    *,
    buffer: int = 1000,
    overflow: Overflow = "error",
    block_timeout: float = 1.0,
) -> Iteration[_T]:
    """``async for`` over an Observable: values delivered on the running loop through a bounded buffer.

    Values are queued on the source's thread (at most ``buffer`` of them) and handed to the
    loop with ``loop.call_soon_threadsafe`` (one wake-up per batch, none while the consumer is
    busy).  When the buffer is full, ``overflow`` decides, and every discarded value is
    counted in :meth:`Iteration.stats` (``dropped``):

    * ``"error"`` (default: nothing is lost silently): the source is unsubscribed; the values
      already queued are delivered, then :class:`~rxfeeds.ops.buffer_bounded.BufferOverflow`
      is raised at the ``async for``.
    * ``"latest"``: the oldest queued value is discarded; ``buffer=1`` always gives the newest
      value (like ``ops.latest()``) - for whole-state values: books, tickers, health.
    * ``"drop"``: the arriving value is discarded.
    * ``"block"``: lossless back-pressure: the producer thread waits for room, for at most
      ``block_timeout`` seconds per value, then the iteration ends as with ``"error"``.  The
      producer is usually the socket thread, so this **stalls every stream on that socket**
      while your loop body is slow.  A producer running on the loop's own thread cannot wait
      for the loop (it would deadlock); it gets ``"error"`` at once.

    Never use ``"latest"`` or ``"drop"`` on deltas or anything carrying ``StreamReset``
    markers: a skipped diff corrupts a book.  Memory stays bounded by ``buffer`` values.

    The source's errors are raised at the ``async for`` (after the values queued before
    them); completion ends the loop.  ``break``, an exception in the loop body, cancelling the
    task, or the task ending unsubscribe (the last subscriber of a venue channel sends the
    unsubscribe frame, and an idle socket closes).  For explicit scope, use ``async with``.

    Args:
        observable: any Observable (rxfeeds streams deliver on their socket thread).
        buffer: capacity of the queue (>= 1).
        overflow: ``"error"``, ``"latest"``, ``"drop"`` or ``"block"``.
        block_timeout: the longest wait for room of ``"block"``, in seconds.

    Raises:
        InvalidArgument: a bad ``buffer``, ``overflow`` or ``block_timeout``.

    Example:
        >>> import asyncio, reactivex as rx
        >>> async def main():
        ...     return [x async for x in iterate(rx.of(1, 2, 3))]
        >>> asyncio.run(main())
        [1, 2, 3]

    With a live book (newest only, explicit scope)::

        async with aio.iterate(books, buffer=1, overflow="latest") as it:
            async for book in it:
                print(book.best_bid)
        print(it.stats().dropped)
    """
    source = _observable(observable)
    capacity = _positive_int("buffer", buffer)
    if overflow not in OVERFLOWS:
        raise InvalidArgument("overflow", overflow, f"must be one of {', '.join(OVERFLOWS)}")
    wait = _positive_number("block_timeout", block_timeout, optional=False)
    assert wait is not None
    return Iteration(source, capacity, overflow, wait)


# ---------------------------------------------------------------------------- await


class _Gather:
    """One subscription resolving one loop future: first value, last value, or a list."""

    def __init__(self, loop: asyncio.AbstractEventLoop, mode: str, n: int | None = None) -> None:
        self.loop = loop
        self.mode = mode
        self.n = n
        self.future: asyncio.Future[Any] = loop.create_future()
        self.lock = threading.Lock()
        self.done = False
        self.values: list[Any] = []
        self.has_value = False
        self.value: Any = None
        self.upstream = SingleAssignmentDisposable()

    def _settle(self, fn: Callable[[asyncio.Future[Any], Any], None], arg: Any) -> None:
        # Caller holds the lock and has checked ``done``.
        self.done = True
        _post(self.loop, fn, self.future, arg)

    def on_next(self, value: Any) -> None:
        with self.lock:
            if self.done:
                return
            if self.mode == "first":
                self._settle(_resolve, value)
            elif self.mode == "last":
                self.value, self.has_value = value, True
                return
            else:
                self.values.append(value)
                if self.n is None or len(self.values) < self.n:
                    return
                self._settle(_resolve, list(self.values))
        self.upstream.dispose()

    def on_error(self, error: Exception) -> None:
        with self.lock:
            if not self.done:
                self._settle(_fail, error)

    def on_completed(self) -> None:
        with self.lock:
            if self.done:
                return
            if self.mode == "collect":
                self._settle(_resolve, list(self.values))
            elif self.mode == "last" and self.has_value:
                self._settle(_resolve, self.value)
            else:
                self._settle(_fail, EmptyStream(f"the Observable completed without a value ({self.mode})"))

    def expire(self, error: BaseException | None) -> None:
        """On the loop: the time is up (``error``), or ``collect``'s duration ended (None)."""
        with self.lock:
            if self.done:
                return
            self.done = True
            if error is None:
                _resolve(self.future, list(self.values))
            else:
                _fail(self.future, error)

    async def run(self, source: Observable[Any], seconds: float | None, error: BaseException | None) -> Any:
        timer = self.loop.call_later(seconds, self.expire, error) if seconds is not None else None
        try:
            self.upstream.disposable = source.subscribe(self.on_next, self.on_error, self.on_completed)
            return await self.future
        finally:
            # value, error, timeout or cancellation: never leave the subscription behind
            if timer is not None:
                timer.cancel()
            with self.lock:
                self.done = True
            self.upstream.dispose()


async def first(observable: Observable[_T], *, timeout: float | None = None) -> _T:
    """The first value of ``observable``, awaited on the running loop; then unsubscribes.

    Raises:
        AwaitTimeout: nothing within ``timeout`` seconds (also a ``TimeoutError``).
        EmptyStream: the Observable completed without a value.
        Exception: the Observable's own error (e.g. ``RequestError``, ``RequestTimeout``).

    Example:
        >>> import asyncio, reactivex as rx
        >>> asyncio.run(first(rx.of("a", "b")))
        'a'

    Over a live venue::

        pong = await aio.first(kraken.ping(), timeout=5)
    """
    source = _observable(observable)
    seconds = _positive_number("timeout", timeout)
    gather = _Gather(asyncio.get_running_loop(), "first")
    error = AwaitTimeout("no value", seconds) if seconds is not None else None
    result: _T = await gather.run(source, seconds, error)
    return result


async def last(observable: Observable[_T], *, timeout: float | None = None) -> _T:
    """The last value of ``observable`` once it completes (what ``await`` on a request returns).

    Raises:
        AwaitTimeout: not completed within ``timeout`` seconds.
        EmptyStream: completed without a value.

    Example:
        >>> import asyncio, reactivex as rx
        >>> asyncio.run(last(rx.of("a", "b")))
        'b'
    """
    source = _observable(observable)
    seconds = _positive_number("timeout", timeout)
    gather = _Gather(asyncio.get_running_loop(), "last")
    error = AwaitTimeout("not completed", seconds) if seconds is not None else None
    result: _T = await gather.run(source, seconds, error)
    return result


async def collect(observable: Observable[_T], *, n: int | None = None, duration: float | None = None) -> list[_T]:
    """Values of ``observable`` in a list: the first ``n``, or those within ``duration`` seconds.

    Ends at whichever comes first: ``n`` values, ``duration`` elapsed, or completion (the list
    may then be shorter, or empty).  With neither ``n`` nor ``duration`` it waits for
    completion: only for finite Observables.  The source's error is raised.  Values are
    gathered on the source's thread and cross to the loop once, at the end.

    Example:
        >>> import asyncio, reactivex as rx
        >>> asyncio.run(collect(rx.range(0, 10), n=3))
        [0, 1, 2]

    A few seconds of trades::

        trades = await aio.collect(kraken.trades("XBT/USD"), duration=5)
    """
    source = _observable(observable)
    count = _positive_int("n", n) if n is not None else None
    seconds = _positive_number("duration", duration)
    gather = _Gather(asyncio.get_running_loop(), "collect", count)
    result: list[_T] = await gather.run(source, seconds, None)
    return result


# ---------------------------------------------------------------------------- awaitable requests


class AwaitableObservable(Observable[_T]):
    """An Observable that can also be awaited: ``await obs`` gives its last value (see :func:`last`).

    Unlike reactivex's own ``await``, the value reaches the loop through
    ``call_soon_threadsafe``, so it returns as soon as the reply arrives on the socket
    thread.  ``pipe`` keeps the result awaitable.  Every client's one-shot requests (order
    entry, RPC calls, pings) are built this way; errors are the request's typed errors
    (``RequestError``, ``RequestTimeout``...).

    Example:
        >>> import asyncio, reactivex as rx
        >>> from reactivex import operators as rx_ops
        >>> request = awaitable(rx.of(20)).pipe(rx_ops.map(lambda x: x + 1))
        >>> async def main():
        ...     return await request
        >>> asyncio.run(main())
        21

    Live::

        pong = await kraken.ping()
        status = await kraken.add_order(token, "XBT/USD", "buy", "limit", 0.01, price=20000)
    """

    def __await__(self) -> Generator[Any, None, _T]:
        return last(self).__await__()

    def pipe(self, *operators: Callable[[Any], Any]) -> Any:
        """Like :meth:`Observable.pipe`; an Observable result stays awaitable."""
        result = super().pipe(*operators)
        if isinstance(result, Observable) and not isinstance(result, AwaitableObservable):
            return awaitable(result)
        return result


def awaitable(observable: Observable[_T]) -> AwaitableObservable[_T]:
    """``observable`` as an :class:`AwaitableObservable` (the same subscriptions, plus ``await``).

    Example:
        >>> import asyncio, reactivex as rx
        >>> async def main():
        ...     return await awaitable(rx.of(1, 2))
        >>> asyncio.run(main())
        2
    """
    if isinstance(observable, AwaitableObservable):
        return observable
    source = _observable(observable)

    def subscribe(observer: abc.ObserverBase[_T], scheduler: abc.SchedulerBase | None = None) -> abc.DisposableBase:
        return source.subscribe(observer, scheduler=scheduler)

    return AwaitableObservable(subscribe)


# ---------------------------------------------------------------------------- blocking work


async def run_blocking(fn: Callable[[], _T]) -> _T:
    """Run a blocking ``fn()`` on a short-lived thread of its own and await its result.

    Used by ``VenueClient.__aexit__`` (closing joins socket threads).  A fresh thread rather
    than the loop's default executor, whose idle worker threads would outlive the call.

    Example:
        >>> import asyncio
        >>> asyncio.run(run_blocking(lambda: 6 * 7))
        42
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()

    def work() -> None:
        try:
            result = fn()
        except BaseException as exc:  # handed to the awaiting task
            _post(loop, _fail, future, exc)
        else:
            _post(loop, _resolve, future, result)

    thread = threading.Thread(target=work, name="rxfeeds-aio-blocking", daemon=True)
    thread.start()
    try:
        return await asyncio.shield(future)
    finally:
        if future.done():
            thread.join(1.0)  # it has posted its result: only its last instructions remain
