"""``latest``: conflate for slow subscribers; they always get the newest value.

The producer (usually the socket thread) only stores the value and returns; a drain running on
``scheduler`` hands the subscriber the newest value each time it is ready for one.  Values that
were overtaken before delivery are skipped and counted (``stats().dropped``).  Ideal for books
and tickers, where only the current state matters.

Marble sketch (a subscriber that is busy while ``b c d`` arrive)::

    source:    -a-b-c-d-------e--|
    latest():  -a--------d----e--|     b and c were overtaken

Use it on values that each stand for the whole state (books from ``order_book``, tickers,
health reports), never on deltas or trades you must not lose: skipped deltas corrupt a book
and skipped ``StreamReset`` markers hide a gap.  For those, use ``buffer_bounded``.

``on_completed`` and errors are delivered after the newest pending value.  At most one value
is held per subscription, however slow the subscriber is.

Delivery thread: the given ``scheduler``; by default each subscription gets its own daemon
thread (``rxfeeds-delivery``), which ends with the subscription however it ends: completion,
error, dispose (also from inside the callback) or a raising callback.
``latest()`` is ``buffer_bounded(1, "drop_oldest")``.

Example:
    >>> import reactivex as rx
    >>> from reactivex.scheduler import ImmediateScheduler
    >>> got = []
    >>> _ = rx.of(1, 2, 3).pipe(latest(ImmediateScheduler())).subscribe(got.append)
    >>> got
    [1, 2, 3]
"""

from __future__ import annotations

from reactivex import abc

from ._bounded import BoundedDelivery, DeliveryStats

__all__ = ["latest", "DeliveryStats"]


def latest(scheduler: abc.SchedulerBase | None = None) -> BoundedDelivery:
    """Conflate: deliver on ``scheduler`` only the newest value (see the module docstring).

    Args:
        scheduler: where values are delivered; default: a dedicated
            delivery thread per subscription, ended with it.

    Returns:
        The operator; its ``stats()`` gives :class:`DeliveryStats` (``dropped`` counts values
        overtaken before delivery).

    Example::

        conflate = ops.latest()
        client.book("XBT/USD").pipe(ops.order_book(depth=10), conflate).subscribe(redraw)
        print(conflate.stats().dropped, "books skipped")
    """
    return BoundedDelivery(1, "drop_oldest", scheduler)
