"""``publish``: a pass-through that also publishes every event to a message bus.

Marble sketch (``|`` in the bus line = one acknowledged bus message)::

    source:           -a-b-c----d-e-|
    publish(bus):     -a-b-c----d-e-|     (unchanged, same thread)
    bus subject:      ---|abc|----|de|    batches per subject, acknowledged

Events go into a bounded buffer on the caller's thread (the socket thread when piped from a
client) and a worker thread publishes them in batches, waiting for the broker's
acknowledgement of each message (unacknowledged publishing silently loses messages).  When the
broker is slower than the feed the buffer fills and ``overflow`` decides: ``"drop_oldest"``
(default), ``"drop_newest"``, ``"error"`` (the stream fails with ``BufferOverflow``) or
``"block"`` (the feed's thread waits).  Dropped events are counted (``stats().dropped``) and
followed on their subjects by a ``StreamReset`` (``reason`` starting ``"bus:"``) plus a
``resync(symbol)`` request to the source, so consumers' books resync instead of going wrong.

Subjects are ``<prefix>.<venue>.<symbol>.<channel>``.  ``channel`` defaults to one per event
type (``trades``, ``book``, ``quote``, ``ticker``, ``klines``, ``orders``, a venue event's
``kind``); ``StreamReset`` and ``IntegrityEvent`` markers follow the data subjects of their
symbol (of every symbol of the venue when their symbol is ``""``).  Pipe each subscription
through its own ``publish(bus, channel=...)`` to keep markers exactly on their stream.

Completion waits (up to ``flush_timeout`` seconds) until everything is acknowledged, so a
completed publishing stream is in the broker.

Example::

    from rxfeeds.bus import NatsBus

    bus = NatsBus("nats://127.0.0.1:4222")
    op = ops.publish(bus, channel="book")
    kraken.book("XBT/USD", depth=10).pipe(op).subscribe()
    print(op.stats())
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable

from ..errors import InvalidArgument
from ..feed import resync_of

__all__ = ["publish", "PublishOperator"]

_T = TypeVar("_T")


class PublishOperator:
    """The operator :func:`publish` returns: call it on a source; ``stats()`` reads its counters."""

    def __init__(self, bus: Any, options: dict[str, Any], flush_timeout: float) -> None:
        self.bus = bus
        self.options = options
        self.flush_timeout = flush_timeout
        self._lock = threading.Lock()
        self._publishers: list[Any] = []

    def stats(self) -> Any:
        """:class:`~rxfeeds.bus.PublishStats` summed over every subscription so far."""
        from ..bus.base import PublishStats

        with self._lock:
            parts = [p.stats() for p in self._publishers]
        if not parts:
            return PublishStats()
        return PublishStats(
            received=sum(p.received for p in parts),
            published=sum(p.published for p in parts),
            messages=sum(p.messages for p in parts),
            dropped=sum(p.dropped for p in parts),
            pending=sum(p.pending for p in parts),
            max_pending=max(p.max_pending for p in parts),
            retries=sum(p.retries for p in parts),
            resets=sum(p.resets for p in parts),
        )

    def __call__(self, source: Observable[_T]) -> Observable[_T]:
        hook: Callable[[str], object] | None = self.options.get("resync") or resync_of(source)

        def subscribe(observer: abc.ObserverBase[_T], scheduler: abc.SchedulerBase | None = None) -> Any:
            options = dict(self.options)
            options["resync"] = hook
            publisher = self.bus.publisher(**options)
            with self._lock:
                self._publishers.append(publisher)
            put = publisher.put
            stopped = False

            def close() -> None:
                publisher.close(self.flush_timeout)
                forget = getattr(self.bus, "forget", None)
                if forget is not None:
                    forget(publisher)

            def on_next(value: _T) -> None:
                nonlocal stopped
                if stopped:
                    return
                try:
                    put(value)
                except Exception as exc:  # BufferOverflow with overflow="error"
                    stopped = True
                    close()
                    observer.on_error(exc)
                    return
                observer.on_next(value)

            def on_error(error: Exception) -> None:
                close()
                observer.on_error(error)

            def on_completed() -> None:
                close()
                observer.on_completed()

            subscription = source.subscribe(on_next, on_error, on_completed, scheduler=scheduler)
            return CompositeDisposable(subscription, Disposable(close))

        return Observable(subscribe)


def publish(
    bus: Any,
    *,
    channel: str | None = None,
    capacity: int = 100_000,
    overflow: str = "drop_oldest",
    max_batch: int = 512,
    resync: Callable[[str], object] | None = None,
    flush_timeout: float = 10.0,
) -> PublishOperator:
    """Publish every event to ``bus`` and pass it on unchanged (see the module docstring).

    Args:
        bus: a :class:`rxfeeds.bus.Bus` (e.g. :class:`rxfeeds.bus.NatsBus`).
        channel: subject channel for every event; default: one per event type.
        capacity: events buffered while the broker is slower than the feed.
        overflow: ``"drop_oldest"``, ``"drop_newest"``, ``"error"`` or ``"block"``.
        max_batch: events per bus message at most.
        resync: ``resync(symbol)`` after dropped events; default: the source Feed's hook.
        flush_timeout: seconds completion and disposal wait for acknowledgements.

    Raises:
        InvalidArgument: a bad argument (checked here, before anything is published).

    Example:
        >>> publish("nats://127.0.0.1:4222")
        Traceback (most recent call last):
        ...
        rxfeeds.errors.InvalidArgument: bus='nats://127.0.0.1:4222': must be an rxfeeds.bus.Bus
    """
    from ..bus.base import PUBLISH_OVERFLOWS, Bus

    if not isinstance(bus, Bus):
        raise InvalidArgument("bus", bus, "must be an rxfeeds.bus.Bus")
    if overflow not in PUBLISH_OVERFLOWS:
        raise InvalidArgument("overflow", overflow, f"must be one of {', '.join(PUBLISH_OVERFLOWS)}")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise InvalidArgument("capacity", capacity, "must be an int >= 1")
    if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
        raise InvalidArgument("max_batch", max_batch, "must be an int >= 1")
    if channel is not None and (not isinstance(channel, str) or not channel):
        raise InvalidArgument("channel", channel, "must be a non-empty string or None")
    if resync is not None and not callable(resync):
        raise InvalidArgument("resync", resync, "must be callable as resync(symbol)")
    if not isinstance(flush_timeout, int | float) or flush_timeout < 0:
        raise InvalidArgument("flush_timeout", flush_timeout, "must be seconds >= 0")
    options = {"channel": channel, "capacity": capacity, "overflow": overflow, "max_batch": max_batch, "resync": resync}
    return PublishOperator(bus, options, float(flush_timeout))
