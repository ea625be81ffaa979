"""``buffer_bounded``: hand values to a slow subscriber on another thread through a bounded queue.

The producer (usually the socket thread) only appends to a queue of at most ``n`` values and
returns; a drain running on ``scheduler`` delivers them.  When the queue is full the
``overflow`` policy decides what happens, and every discarded value is counted:

* ``"drop_oldest"`` (default): the oldest queued value is discarded to make room;
* ``"drop_newest"``: the arriving value is discarded;
* ``"error"``: the source is unsubscribed and the subscriber gets :class:`BufferOverflow`
  after the values already queued.

Marble sketch (``n=2``, a subscriber that is busy while ``b c d`` arrive)::

    source:                     -a-b-c-d-------|
    buffer_bounded(2):          -a--------c-d--|     drop_oldest: b dropped
    buffer_bounded(2, "drop_newest"):
                                -a--------b-c--|     d dropped
    buffer_bounded(2, "error"): -a--------b-c#       # = BufferOverflow

``on_completed`` and source errors are delivered after the last queued value.  Memory stays
bounded by ``n`` values per subscription however slow the subscriber is.

Delivery thread: the given ``scheduler``; by default each subscription gets its own daemon
thread (``rxfeeds-delivery``), ended when the subscription ends, also when it ends on that
thread (completion, error, dispose from inside the callback).  A subscriber callback that
raises ends that subscription (the error is logged) without killing the delivery thread.

Example:
    >>> import reactivex as rx
    >>> from reactivex.scheduler import ImmediateScheduler
    >>> op = buffer_bounded(100, scheduler=ImmediateScheduler())
    >>> got = []
    >>> _ = rx.of(1, 2, 3).pipe(op).subscribe(got.append)
    >>> got, op.stats().delivered, op.stats().dropped
    ([1, 2, 3], 3, 0)
"""

from __future__ import annotations

from reactivex import abc

from ..errors import InvalidArgument
from ._bounded import OVERFLOWS, BoundedDelivery, BufferOverflow, DeliveryStats, Overflow

__all__ = ["buffer_bounded", "BoundedDelivery", "DeliveryStats", "BufferOverflow", "Overflow"]


def buffer_bounded(
    n: int, overflow: Overflow = "drop_oldest", *, scheduler: abc.SchedulerBase | None = None
) -> BoundedDelivery:
    """Deliver on another thread through a queue of at most ``n`` values (see the module docstring).

    Args:
        n: queue capacity (>= 1).
        overflow: ``"drop_oldest"``, ``"drop_newest"`` or ``"error"``.
        scheduler: where values are delivered; default: a dedicated
            delivery thread per subscription, ended with it.

    Returns:
        The operator; its ``stats()`` gives :class:`DeliveryStats` (received, delivered,
        dropped, pending, max_pending).

    Raises:
        InvalidArgument: ``n`` not a positive integer or an unknown ``overflow`` policy.

    Example::

        books = client.book("XBT/USD").pipe(ops.order_book(), buffer := ops.buffer_bounded(1000))
        books.subscribe(slow_writer)
        print(buffer.stats().dropped)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidArgument("n", n, "buffer size must be a positive integer")
    if overflow not in OVERFLOWS:
        raise InvalidArgument("overflow", overflow, f"must be one of {', '.join(OVERFLOWS)}")
    return BoundedDelivery(n, overflow, scheduler)
