"""The broker-neutral bus: :class:`Bus`, what every adapter's connection offers on top of its :class:`Link`.

An adapter (:class:`~rxfeeds.bus.jetstream.NatsBus`) supplies a small :class:`Link`: store a
list of messages and report each one's position, open a :class:`Cursor` over a subject filter,
and tell where the newest snapshot of each subject is.  Everything else is broker-neutral, one
concern per module, so a second broker (Redis Streams, say) only has to implement those few calls:

* :mod:`rxfeeds.bus.link`: the adapter contract (:class:`Link`, :class:`Cursor`, :class:`BusMessage`);
* :mod:`rxfeeds.bus.channels`: the channel of an event (:func:`default_channel`);
* :mod:`rxfeeds.bus.batching`: a round of events as messages per subject;
* :mod:`rxfeeds.bus.publisher`: the publishing buffer and its worker (:class:`Publisher`);
* :mod:`rxfeeds.bus.source`: the consuming side, de-duplication and gaps (:class:`SourceStats`).

This module ties them together and keeps every name it always offered.

Threads
-------
* :meth:`Publisher.put` runs on the caller's thread (the venue's socket thread when piped
  from a client) and only appends to a bounded buffer.
* One worker thread per publisher (``rxfeeds-bus-publish``) takes events from the buffer,
  groups them by subject into messages and waits until the broker acknowledged each one.
* Every subscription of :meth:`Bus.source` gets its own delivery thread
  (``rxfeeds-bus-source``): it fetches from the broker, decodes, drops duplicates and calls the
  observer.  **Subscriber callbacks run on that thread**; a slow callback only slows that
  subscription, and its backlog stays in the broker.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from reactivex import Observable, abc
from reactivex.disposable import Disposable

from ..errors import InvalidArgument
from .channels import default_channel
from .link import BusMessage, Cursor, Link, Start
from .publisher import PUBLISH_OVERFLOWS as PUBLISH_OVERFLOWS  # re-exported: ops.publish checks it
from .publisher import Publisher, PublishOverflow, PublishStats
from .source import SourceRun, SourceStats
from .subjects import filter_subject

__all__ = [
    "Bus",
    "BusMessage",
    "Cursor",
    "Link",
    "PublishOverflow",
    "PublishStats",
    "Publisher",
    "SourceStats",
    "Start",
    "default_channel",
]

log = logging.getLogger("rxfeeds.bus")


class Bus(Link):
    """A broker connection: :meth:`publisher` for ``ops.publish``, :meth:`source` for consumers."""

    def publisher(
        self,
        *,
        channel: str | None = None,
        capacity: int = 100_000,
        overflow: PublishOverflow = "drop_oldest",
        max_batch: int = 512,
        resync: Callable[[str], object] | None = None,
    ) -> Publisher:
        """A started :class:`Publisher` on this bus (``ops.publish`` makes one per subscription)."""
        return Publisher(
            self, channel=channel, capacity=capacity, overflow=overflow, max_batch=max_batch, resync=resync
        )

    def source(
        self,
        venue: str | None = None,
        symbol: str | None = None,
        channel: str | None = None,
        *,
        start: Start = "new",
        pace: Literal["fast", "original"] = "fast",
        group: str | None = None,
        follow: bool = True,
        batch: int = 256,
    ) -> Observable[Any]:
        """Events published on the bus, decoded back into the same event values.

        Args:
            venue, symbol, channel: what to receive; ``None`` matches any.
            start: ``"new"`` (only what is published from now on), ``"last"`` (per subject from
                its newest snapshot, else its newest message: a late joiner's books sync at
                once), ``"first"`` (everything the broker still holds), an ``int`` stream
                position, or a ``datetime`` (messages stored at or after it).
            pace: ``"fast"`` delivers as fast as the subscriber takes it; ``"original"`` keeps
                the events' original spacing (their ``recv_time``), for replaying history.
            group: consumers with the same group name share the messages (each message goes to
                one of them; delivery is acknowledged).  The group remembers its position in
                the broker, so ``start`` only matters for the first member ever.  Without a
                group every subscriber gets everything.
            follow: ``False`` completes once the messages stored at subscription time are
                delivered (history replay); ``True`` goes on with live data.
            batch: messages fetched per request.

        Duplicates (broker redeliveries, publisher retries) are dropped.  A message that was
        truly lost (a gap in a publisher's numbering, outside a group) shows as a
        :class:`~rxfeeds.events.StreamReset` with ``reason`` starting ``"bus gap"``, so
        ``order_book()`` marks the book unsynced until the next snapshot.  Callbacks run on
        the subscription's own delivery thread (``rxfeeds-bus-source``).  The Observable's
        ``stats`` attribute (:class:`SourceStats`) counts messages, events, duplicates, gaps
        and undecodable messages over its subscriptions.

        Example::

            bus.source("kraken", "XBT/USD", "book", start="last").pipe(ops.order_book())
        """
        if pace not in ("fast", "original"):
            raise InvalidArgument("pace", pace, "must be 'fast' or 'original'")
        if not (
            start in ("new", "last", "first")
            or isinstance(start, datetime)
            or (isinstance(start, int) and not isinstance(start, bool) and start >= 1)
        ):
            raise InvalidArgument("start", start, "must be 'new', 'last', 'first', a position >= 1 or a datetime")
        if group is not None and (not isinstance(group, str) or not group.replace("-", "").replace("_", "").isalnum()):
            raise InvalidArgument("group", group, "must be a name of letters, digits, '-' and '_'")
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise InvalidArgument("batch", batch, "must be an int >= 1")
        filt = filter_subject(self.prefix, venue, symbol, channel)
        stats = SourceStats()

        def subscribe(observer: abc.ObserverBase[Any], _: abc.SchedulerBase | None = None) -> abc.DisposableBase:
            run = SourceRun(self, self._live_runs(), filt, start, pace, group, follow, batch, observer, stats)
            self._live_runs().add(run)
            # the consumer exists when subscribe returns: with start="new" nothing published
            # after this call is missed
            if run.open():
                run.thread.start()
            return Disposable(run.dispose)

        observable: Observable[Any] = Observable(subscribe)
        observable.stats = stats  # type: ignore[attr-defined]
        return observable

    def _live_runs(self) -> set[Any]:
        runs: set[Any] | None = self.__dict__.get("_runs")
        if runs is None:
            runs = self.__dict__["_runs"] = set()
        return runs

    def _stop_sources(self, timeout: float = 5.0) -> None:
        """End every source subscription of this bus (before the connection closes)."""
        runs = list(self._live_runs())
        for run in runs:
            run.dispose()
        deadline = time.monotonic() + timeout
        for run in runs:
            if run.thread.is_alive() and run.thread is not threading.current_thread():
                run.thread.join(max(0.0, deadline - time.monotonic()))

    @abstractmethod
    def close(self) -> None:
        """Close the connection (publishers flush first)."""

    def __enter__(self) -> Bus:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
