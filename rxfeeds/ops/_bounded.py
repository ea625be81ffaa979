"""The bounded-delivery engine behind ``ops.buffer_bounded`` and ``ops.latest``.

Private: it lives apart from the operator modules so that importing one operator never
binds another operator's module name on the ``rxfeeds.ops`` package.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import Disposable, SingleAssignmentDisposable
from reactivex.internal.exceptions import DisposedException

from ..errors import BufferOverflow

__all__ = ["BoundedDelivery", "DeliveryStats", "BufferOverflow", "Overflow", "OVERFLOWS"]

_T = TypeVar("_T")

Overflow = Literal["drop_oldest", "drop_newest", "error"]
OVERFLOWS = ("drop_oldest", "drop_newest", "error")

log = logging.getLogger("rxfeeds.ops")


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    """Counters of one :class:`BoundedDelivery` operator, summed over its subscriptions.

    Attributes:
        received: values that arrived from the source.
        delivered: values handed to subscribers.
        dropped: values discarded by the overflow policy (for ``latest()``: values replaced by
            a newer one before delivery).
        pending: values queued right now.
        max_pending: the largest queue length seen (never above the capacity).
        subscriptions: subscriptions currently active.
    """

    received: int = 0
    delivered: int = 0
    dropped: int = 0
    pending: int = 0
    max_pending: int = 0
    subscriptions: int = 0


class _Counters:
    __slots__ = ("delivered", "dropped", "max_pending", "queue", "received")

    def __init__(self, queue: deque[Any]) -> None:
        self.received = 0
        self.delivered = 0
        self.dropped = 0
        self.max_pending = 0
        self.queue = queue


class _DeliveryThread:
    """The default delivery thread of one subscription: runs ``work`` when kicked, ends on ``close``.

    Not reactivex's ``EventLoopScheduler``: its ``dispose()`` called from its own thread (or
    while it runs an action) is never seen, and the thread then waits forever.  A subscription
    often ends on its delivery thread (completion, error, a raising or disposing callback), so
    here the "closed" flag is checked under the same lock as the wait: no wake-up is lost.
    The thread starts with the first kick and is never joined (``close`` may run on it).
    """

    __slots__ = ("_cond", "_kicked", "_closed", "_started", "_work", "_crashed")

    def __init__(self, work: Callable[[], None], crashed: Callable[[], None]) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._kicked = False
        self._closed = False
        self._started = False
        self._work = work
        self._crashed = crashed

    def kick(self) -> bool:
        """Ask for one more run of ``work``; False once closed."""
        with self._cond:
            if self._closed:
                return False
            self._kicked = True
            if not self._started:
                self._started = True
                threading.Thread(target=self._run, name="rxfeeds-delivery", daemon=True).start()
            else:
                self._cond.notify()
            return True

    def close(self) -> None:
        """End the thread once its current run returns (from any thread, its own included)."""
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _run(self) -> None:
        cond = self._cond
        while True:
            with cond:
                while not (self._kicked or self._closed):
                    cond.wait()
                if self._closed:
                    return
                self._kicked = False
            try:
                self._work()
            except BaseException:  # sys.exit() in a callback: end the subscription, not silently stall it
                log.exception("subscriber callback raised; ending its subscription")
                self._crashed()
                return


class BoundedDelivery:
    """The operator made by :func:`buffer_bounded` (and ``latest``): call it on a source.

    ``stats()`` reads its counters at any time, from any thread.
    """

    def __init__(self, capacity: int, overflow: Overflow, scheduler: abc.SchedulerBase | None) -> None:
        self.capacity = capacity
        self.overflow = overflow
        self.scheduler = scheduler
        self._lock = threading.Lock()
        self._live: set[_Counters] = set()
        self._done = _Counters(deque())

    def stats(self) -> DeliveryStats:
        """Counters summed over every subscription this operator has had."""
        with self._lock:
            parts = [self._done, *self._live]
            return DeliveryStats(
                received=sum(p.received for p in parts),
                delivered=sum(p.delivered for p in parts),
                dropped=sum(p.dropped for p in parts),
                pending=sum(len(p.queue) for p in self._live),
                max_pending=max(p.max_pending for p in parts),
                subscriptions=len(self._live),
            )

    def _retire(self, counters: _Counters) -> None:
        with self._lock:
            if counters in self._live:
                self._live.discard(counters)
                done = self._done
                done.received += counters.received
                done.delivered += counters.delivered
                done.dropped += counters.dropped
                done.max_pending = max(done.max_pending, counters.max_pending)

    def __call__(self, source: Observable[_T]) -> Observable[_T]:
        def subscribe(observer: abc.ObserverBase[_T], scheduler_: abc.SchedulerBase | None = None) -> Disposable:
            run = _Run(self, observer)
            with self._lock:
                self._live.add(run.counters)
            run.upstream.disposable = source.subscribe(
                run.on_next, run.on_error, run.on_completed, scheduler=scheduler_
            )
            return Disposable(run.dispose)

        return Observable(subscribe)


class _Run:
    """One subscription: the queue, its lock and the drain."""

    def __init__(self, owner: BoundedDelivery, observer: abc.ObserverBase[Any]) -> None:
        self.owner = owner
        self.observer = observer
        self.capacity = owner.capacity
        self.overflow = owner.overflow
        self.delivery: abc.SchedulerBase | None = owner.scheduler
        self.own_thread = _DeliveryThread(self._drain_now, self.dispose) if owner.scheduler is None else None
        self.queue: deque[Any] = deque()
        self.counters = _Counters(self.queue)
        self.lock = threading.Lock()
        self.upstream = SingleAssignmentDisposable()
        self.terminal: Exception | bool | None = None  # True = completed, Exception = error
        self.draining = False
        self.stopped = False  # no more values accepted
        self.disposed = False  # nothing more delivered

    def _claim_drain(self) -> bool:
        """With ``lock`` held: whether the caller must schedule a drain (outside the lock)."""
        if self.draining:
            return False
        self.draining = True
        return True

    def on_next(self, value: Any) -> None:
        overflowed = False
        with self.lock:
            if self.stopped:
                return
            counters = self.counters
            counters.received += 1
            queue = self.queue
            if len(queue) >= self.capacity:
                counters.dropped += 1
                if self.overflow == "drop_oldest":
                    queue.popleft()
                elif self.overflow == "drop_newest":
                    return
                else:
                    self.stopped = overflowed = True
                    self.terminal = BufferOverflow(self.capacity)
            if not overflowed:
                queue.append(value)
                if len(queue) > counters.max_pending:
                    counters.max_pending = len(queue)
            start = self._claim_drain()
        if overflowed:
            self.upstream.dispose()
        if start:
            self._schedule_drain()

    def _stop(self, terminal: Exception | bool) -> None:
        with self.lock:
            if self.stopped:
                return
            self.stopped = True
            self.terminal = terminal
            start = self._claim_drain()
        if start:
            self._schedule_drain()

    def on_error(self, error: Exception) -> None:
        self._stop(error)

    def on_completed(self) -> None:
        self._stop(True)

    def _schedule_drain(self) -> None:
        if self.own_thread is not None:
            scheduled = self.own_thread.kick()
        else:
            assert self.delivery is not None
            try:
                self.delivery.schedule(self._drain)
                scheduled = True
            except DisposedException:
                scheduled = False
        if not scheduled:
            # the subscription ended (and its own thread with it) while this value arrived
            with self.lock:
                self.draining = False

    def _drain(self, _: abc.SchedulerBase, __: Any = None) -> None:
        self._drain_now()

    def _drain_now(self) -> None:
        observer, queue, lock = self.observer, self.queue, self.lock
        while True:
            with lock:
                if self.disposed:
                    self.draining = False
                    return
                if queue:
                    value = queue.popleft()
                    self.counters.delivered += 1
                    terminal: Exception | bool | None = None
                elif self.terminal is not None:
                    terminal = self.terminal
                    self.disposed = True
                else:
                    self.draining = False
                    return
            try:
                if terminal is None:
                    observer.on_next(value)
                    continue
                if isinstance(terminal, Exception):
                    observer.on_error(terminal)
                else:
                    observer.on_completed()
            except Exception:
                log.exception("subscriber callback raised; ending its subscription")
                self.dispose()
                return
            self._finish()
            return

    def _finish(self) -> None:
        self.owner._retire(self.counters)
        if self.own_thread is not None:
            self.own_thread.close()  # safe on the delivery thread itself: it ends after this drain

    def dispose(self) -> None:
        with self.lock:
            self.stopped = True
            self.disposed = True
            self.queue.clear()
        self.upstream.dispose()
        self._finish()
