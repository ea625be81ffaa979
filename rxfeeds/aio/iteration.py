"""``async for`` over an Observable: a bounded buffer between the source's thread and the loop.

The source's observer is a :class:`_Bridge` (queue, counters, overflow policy, wake-ups); the
loop reads it through an :class:`Iteration`, which :func:`iterate` returns.

Example:
    >>> OVERFLOWS
    ('latest', 'drop', 'error', 'block')
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import deque
from typing import Any, Generic, Literal, Self, TypeVar

from reactivex import Observable
from reactivex.disposable import SingleAssignmentDisposable

from ..errors import BufferOverflow, InvalidArgument
from ..ops.buffer_bounded import DeliveryStats
from ._checks import observable as _observable
from ._checks import positive_int, positive_number
from ._handoff import post, resolve

__all__ = ["OVERFLOWS", "Iteration", "Overflow", "iterate"]

_T = TypeVar("_T")

Overflow = Literal["latest", "drop", "error", "block"]
OVERFLOWS: tuple[str, ...] = ("latest", "drop", "error", "block")


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
            post(self.loop, resolve, waiter, None)
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
            post(self.loop, resolve, waiter, None)

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
            post(self.loop, resolve, waiter, None)
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
    capacity = positive_int("buffer", buffer)
    if overflow not in OVERFLOWS:
        raise InvalidArgument("overflow", overflow, f"must be one of {', '.join(OVERFLOWS)}")
    wait = positive_number("block_timeout", block_timeout, optional=False)
    assert wait is not None
    return Iteration(source, capacity, overflow, wait)
