"""The broker-neutral half of the bus: publishing buffer, batching, de-duplication, sources.

An adapter (:class:`~rxfeeds.bus.nats.NatsBus`) supplies a small :class:`Link`: store a list of
messages and report each one's position, open a :class:`Cursor` over a subject filter, and tell
where the newest snapshot of each subject is.  Everything else lives here, so a second broker
(Redis Streams, say) only has to implement those few calls.

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
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, Literal

from reactivex import Observable, abc
from reactivex.disposable import Disposable

from ..errors import BufferOverflow, FrameError, InvalidArgument
from ..events import (
    BookDelta,
    BookOrder,
    BookSnapshot,
    ConnectionStatus,
    Event,
    IntegrityEvent,
    Kline,
    OrderUpdate,
    Quote,
    StreamReset,
    Ticker,
    Trade,
    VenueEvent,
)
from .envelope import decode_batch, encode_batch
from .subjects import filter_subject, parse_subject, subject

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

PublishOverflow = Literal["drop_oldest", "drop_newest", "error", "block"]
PUBLISH_OVERFLOWS = ("drop_oldest", "drop_newest", "error", "block")
Start = Literal["new", "last", "first"] | int | datetime

_CHANNELS: dict[type[Any], str] = {
    Trade: "trades",
    Quote: "quote",
    Ticker: "ticker",
    Kline: "klines",
    BookSnapshot: "book",
    BookDelta: "book",
    BookOrder: "book",
    OrderUpdate: "orders",
    ConnectionStatus: "status",
}

#: event types that concern a stream rather than carry data: they follow the data's subjects
_MARKERS = (StreamReset, IntegrityEvent)
#: event types the publisher looks at one by one (markers, snapshots, order-level images)
_SPECIAL = (StreamReset, IntegrityEvent, BookSnapshot, BookOrder)
_VENUE_SYMBOL = attrgetter("venue", "symbol")


def _TYPE_VENUE_SYMBOL(event: Any) -> tuple[Any, ...]:
    return (type(event), event.venue, event.symbol)


def default_channel(event: Any) -> str:
    """The channel an event is published on when ``ops.publish`` is given none.

    Example:
        >>> from rxfeeds.events import Trade, VenueEvent
        >>> default_channel(Trade("kraken", "XBT/USD", 1.0, 1.0, price=1.0, size=1.0))
        'trades'
        >>> default_channel(VenueEvent("bitshares", "", 1.0, 1.0, kind="block"))
        'block'
    """
    found = _CHANNELS.get(type(event))
    if found is not None:
        return found
    if isinstance(event, VenueEvent):
        return event.kind or "events"
    for cls, name in _CHANNELS.items():
        if isinstance(event, cls):
            return name
    return "events"


# ----------------------------------------------------------------------------------- adapter API


@dataclass(slots=True)
class BusMessage:
    """One message fetched from the broker."""

    subject: str
    data: bytes
    position: int  # the broker's sequence of the message in its stream
    pending: int  # messages after this one the consumer has not fetched yet
    handle: Any = None  # the adapter's own message object (for acknowledgements)


class Cursor(ABC):
    """A consumer position in the broker: fetch messages in order, acknowledge them."""

    #: messages waiting for this cursor when it was made (None: the broker does not say)
    backlog: int | None = None

    @abstractmethod
    def fetch(self, max_messages: int, timeout: float) -> list[BusMessage]:
        """Up to ``max_messages``; ``[]`` after ``timeout`` seconds without any.  Survives broker restarts."""

    @abstractmethod
    def ack(self, messages: Sequence[BusMessage]) -> None:
        """Processed: a consumer group must not deliver them again."""

    @abstractmethod
    def release(self, messages: Sequence[BusMessage]) -> None:
        """Fetched but not delivered (the subscriber left): a group gives them to another member now."""

    @abstractmethod
    def close(self) -> None:
        """Release the consumer (a group's durable consumer stays in the broker)."""


class Link(ABC):
    """What a broker adapter provides (see the module docstring)."""

    prefix: str

    @abstractmethod
    def send(self, messages: Sequence[tuple[str, bytes, str]], timeout: float) -> list[int | Exception]:
        """Store ``(subject, data, message_id)`` messages; each one's stream position or the error.

        Messages whose id the broker has seen recently are not stored again (their position is
        the first copy's).
        """

    @abstractmethod
    def mark_snapshot(self, subject: str, position: int) -> None:
        """Remember that ``subject``'s newest snapshot starts at ``position``."""

    @abstractmethod
    def start_positions(self, filter_subject: str) -> dict[str, int]:
        """Per stored subject matching the filter: its newest snapshot's position, else its last message's."""

    @abstractmethod
    def open_cursor(self, filter_subject: str, start: Start, group: str | None, window: int = 256) -> Cursor:
        """A cursor over the filter from ``start`` (``int``: a stream position).

        ``window``: messages the broker may push ahead of the subscriber (the rest stays there).
        """


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
            run = _SourceRun(self, filt, start, pace, group, follow, batch, observer, stats)
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


# ------------------------------------------------------------------------------------ publishing


@dataclass(frozen=True, slots=True)
class PublishStats:
    """Counters of one publisher (``ops.publish(...).stats()`` sums its subscriptions).

    Attributes:
        received: events handed to the publisher.
        published: events the broker acknowledged, per subject: a marker that follows the data
            to several subjects counts once per subject, and the ``StreamReset`` markers this
            publisher adds for dropped events count too.
        messages: bus messages acknowledged (each carries a batch of events of one subject).
        dropped: events discarded by the overflow policy (the broker was slower than the feed).
        pending: events waiting in the buffer or in flight.
        max_pending: the largest buffer length seen.
        retries: messages sent again after an error or timeout.
        resets: ``StreamReset`` markers published for dropped events.
    """

    received: int = 0
    published: int = 0
    messages: int = 0
    dropped: int = 0
    pending: int = 0
    max_pending: int = 0
    retries: int = 0
    resets: int = 0


class Publisher:
    """Publishes events with acknowledged, batched, de-duplicated messages (see the module docstring).

    Ordering: each subject has at most one message in flight, retried with the same message id
    until the broker acknowledges it, so a subject's messages are stored in order even across
    broker restarts.  When the buffer is full the ``overflow`` policy applies (``"block"``
    waits for room on the caller's thread); dropped events are followed by a
    ``StreamReset(reason="bus: N events dropped ...")`` on their subjects and a call of
    ``resync(symbol)`` so a fresh snapshot follows.
    """

    def __init__(
        self,
        link: Link,
        *,
        channel: str | None = None,
        capacity: int = 100_000,
        overflow: PublishOverflow = "drop_oldest",
        max_batch: int = 512,
        resync: Callable[[str], object] | None = None,
        retry_delay: float = 0.05,
        ack_timeout: float = 2.0,
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise InvalidArgument("capacity", capacity, "must be an int >= 1")
        if overflow not in PUBLISH_OVERFLOWS:
            raise InvalidArgument("overflow", overflow, f"must be one of {', '.join(PUBLISH_OVERFLOWS)}")
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
            raise InvalidArgument("max_batch", max_batch, "must be an int >= 1")
        if channel is not None and (not isinstance(channel, str) or not channel):
            raise InvalidArgument("channel", channel, "must be a non-empty string or None")
        self.link = link
        self.id = secrets.token_hex(6)
        self.channel = channel
        self.capacity = capacity
        self.overflow = overflow
        self.max_batch = max_batch
        self.resync = resync
        self.retry_delay = retry_delay
        self.ack_timeout = ack_timeout
        self._buf: deque[Any] = deque()
        self._lock = threading.Lock()
        self._has_data = threading.Condition(self._lock)
        self._has_room = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._n_in = 0  # index of the next event put
        self._n_out = 0  # index of the next event taken (or dropped from the front)
        self._inflight = 0
        # (venue, symbol, channel) -> [index the reset goes before, dropped count]
        self._losses: dict[tuple[str, str, str], list[int]] = {}
        self._closing = False
        self._abandoned = False  # closing gave up on an unreachable broker
        self._failed: Exception | None = None
        self._seq: dict[str, int] = {}
        self._subjects: dict[tuple[str, str], list[str]] = {}  # (venue, symbol) -> channels used
        self._image: dict[str, bool] = {}  # subject -> an order-level image is being sent
        self._received = 0
        self._published = 0
        self._messages = 0
        self._dropped = 0
        self._max_pending = 0
        self._retries = 0
        self._resets = 0
        self._thread: threading.Thread | None = None
        self._start()

    def _start(self) -> None:
        """Start the worker (adapters with an event loop run it there instead of a thread)."""
        self._thread = threading.Thread(target=self._run, name="rxfeeds-bus-publish", daemon=True)
        self._thread.start()

    def _wake(self) -> None:
        """With the lock held: the worker has something to do."""
        self._has_data.notify()

    def _alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _join(self, timeout: float) -> None:
        if self._thread is not None and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    # ------------------------------------------------------------------------- caller's thread

    def put(self, event: Any) -> None:
        """Queue one event (called on the feed's thread; never waits for the broker unless ``block``).

        Raises:
            BufferOverflow: the buffer is full and ``overflow="error"``.
        """
        with self._lock:
            if self._closing:
                return
            self._received += 1
            buf = self._buf
            if len(buf) >= self.capacity:
                if self.overflow == "drop_oldest":
                    old = buf.popleft()
                    self._n_out += 1
                    self._note_loss(old, self._n_out, latest=True)
                elif self.overflow == "drop_newest":
                    self._note_loss(event, self._n_in, latest=False)
                    return
                elif self.overflow == "block":
                    while len(buf) >= self.capacity and not self._closing:
                        self._has_room.wait(0.5)
                else:
                    self._dropped += 1
                    raise BufferOverflow(self.capacity)
            buf.append(event)
            self._n_in += 1
            n = len(buf)
            if n > self._max_pending:
                self._max_pending = n
            if n == 1:
                self._wake()

    def _note_loss(self, event: Any, index: int, *, latest: bool) -> None:
        self._dropped += 1
        channel = self.channel or (None if isinstance(event, _MARKERS) else default_channel(event))
        key = (getattr(event, "venue", ""), getattr(event, "symbol", ""), channel or "")
        found = self._losses.get(key)
        if found is None:
            self._losses[key] = [index, 1]
            self._wake()
        else:
            found[1] += 1
            if latest:  # drop_oldest: the reset goes before the oldest event still kept
                found[0] = index

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every event put so far is acknowledged; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._buf or self._inflight or self._losses:
                if self._failed is not None or not self._alive():
                    return False
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.1))
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Flush (up to ``timeout`` seconds), then stop the worker."""
        self.flush(timeout)
        with self._lock:
            self._closing = True
            self._has_data.notify_all()
            self._has_room.notify_all()
            self._wake()
        self._join(timeout)

    def stats(self) -> PublishStats:
        """The counters (see :class:`PublishStats`)."""
        with self._lock:
            return PublishStats(
                received=self._received,
                published=self._published,
                messages=self._messages,
                dropped=self._dropped,
                pending=len(self._buf) + self._inflight,
                max_pending=self._max_pending,
                retries=self._retries,
                resets=self._resets,
            )

    # --------------------------------------------------------------------------- worker thread

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    while not self._buf and not self._losses and not self._closing:
                        self._idle.notify_all()
                        self._has_data.wait()
                    round_ = self._next_round()
                if round_ is None:
                    return
                self._resync_dropped(round_[0])
                for wave in self._plan(*round_):
                    self._send_wave(wave)
                self._round_done()
        except Exception as exc:  # pragma: no cover - a bug: keep it visible
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        log.exception("bus publisher failed", exc_info=exc)
        with self._lock:
            self._failed = exc
            self._idle.notify_all()

    def _next_round(self) -> tuple[list[StreamReset], list[Any]] | None:
        """With the lock held: the resets and events of the next round; None when closed."""
        if self._closing and self._abandoned and self._buf:
            # closing while the broker does not answer: what is left is dropped, not retried forever
            self._dropped += len(self._buf)
            self._n_out += len(self._buf)
            self._buf.clear()
            self._losses.clear()
        if self._closing and not self._buf:
            self._idle.notify_all()
            return None
        resets = self._due_resets()
        events = self._take()
        self._inflight = len(events)
        self._has_room.notify_all()
        return resets, events

    def _round_done(self) -> None:
        with self._lock:
            self._inflight = 0
            self._idle.notify_all()

    def _resync_dropped(self, resets: list[StreamReset]) -> None:
        """Ask the source for fresh snapshots of the symbols whose events were dropped."""
        for reset in resets:
            self._resets += 1
            if self.resync is not None and reset.symbol:
                try:
                    self.resync(reset.symbol)
                except Exception:
                    log.exception("resync(%r) raised after bus overflow", reset.symbol)

    def _due_resets(self) -> list[StreamReset]:
        """With the lock held: resets for drops that come before the next event."""
        out = []
        for key, (index, count) in list(self._losses.items()):
            if index <= self._n_out:
                del self._losses[key]
                venue, symbol, channel = key
                now = time.time()
                reason = f"bus: {count} events dropped (publisher buffer full)"
                out.append(StreamReset(venue, symbol, now, now, channel=channel or "", reason=reason))
        return out

    def _take(self) -> list[Any]:
        """With the lock held: the events of one round (stops before the next pending reset)."""
        limit = len(self._buf)
        if self._losses:
            limit = max(0, min(limit, min(index for index, _ in self._losses.values()) - self._n_out))
        limit = min(limit, self.max_batch * 8)
        buf = self._buf
        if limit == len(buf):
            events = list(buf)
            buf.clear()
        else:
            events = [buf.popleft() for _ in range(limit)]
        self._n_out += limit
        return events

    def _route(self, event: Any) -> list[str]:
        """Subjects of one event (markers follow the data subjects of their symbol or venue)."""
        prefix = self.link.prefix
        if self.channel is not None:
            channels = [self.channel]
        elif isinstance(event, _MARKERS):
            if event.symbol:
                channels = self._subjects.get((event.venue, event.symbol)) or [
                    event.channel if isinstance(event, StreamReset) and event.channel else "events"
                ]
            else:
                pairs = [(s, c) for (v, s), cs in self._subjects.items() if v == event.venue for c in cs]
                return [subject(prefix, event.venue, s, c) for s, c in pairs] or [
                    subject(prefix, event.venue, "", "events")
                ]
        else:
            channels = [default_channel(event)]
        venue = getattr(event, "venue", "")
        symbol = getattr(event, "symbol", "")
        key = (venue, symbol)
        known = self._subjects.get(key)
        if known is None:
            known = self._subjects[key] = []
        for c in channels:
            if c not in known and not isinstance(event, _MARKERS):
                known.append(c)
        return [subject(prefix, venue, symbol, c) for c in channels]

    def _plan(self, resets: list[StreamReset], events: list[Any]) -> list[list[tuple[str, list[Any], bool]]]:
        """The messages of a round as waves: at most one message per subject in each wave."""
        items = [*resets, *events] if resets else events
        kinds = set(map(type, items))
        fixed = self.channel is not None
        # plain events: their subject follows from (type, venue, symbol) alone
        if all(
            issubclass(k, Event) and not issubclass(k, _SPECIAL) and (fixed or not issubclass(k, VenueEvent))
            for k in kinds
        ):
            groups = self._group_plain(items, kinds)
        else:
            groups = self._group(items)
        # one message per subject in flight at a time: send in waves
        waves: list[list[tuple[str, list[Any], bool]]] = []
        depth: dict[str, int] = {}
        for group in groups:
            d = depth.get(group[0], 0)
            depth[group[0]] = d + 1
            if d == len(waves):
                waves.append([])
            waves[d].append(group)
        return waves

    def _group_plain(self, items: list[Any], kinds: set[type[Any]]) -> list[tuple[str, list[Any], bool]]:
        """Messages of a round without snapshots or markers: split by subject at C speed where possible."""
        key_of = _VENUE_SYMBOL if self.channel is not None or len(kinds) == 1 else _TYPE_VENUE_SYMBOL
        keys = list(map(key_of, items))
        buckets: dict[Any, list[Any]]
        if len(set(keys)) == 1:
            buckets = {keys[0]: items}
        else:
            buckets = {}
            for key, ev in zip(keys, items, strict=True):
                bucket = buckets.get(key)
                if bucket is None:
                    bucket = buckets[key] = []
                bucket.append(ev)
        groups = []
        step = self.max_batch
        for evs in buckets.values():
            for subj in self._route(evs[0]):
                if self._image:
                    self._image.pop(subj, None)
                groups += [(subj, evs[i : i + step], False) for i in range(0, len(evs), step)]
        return groups

    def _group(self, items: list[Any]) -> list[tuple[str, list[Any], bool]]:
        """Messages of a round by subject; a snapshot (or an order-level image) starts a new message."""
        groups: list[tuple[str, list[Any], bool]] = []
        current: dict[str, tuple[str, list[Any], bool]] = {}
        route_cache: dict[tuple[type[Any], str, str], list[str]] = {}
        for ev in items:
            kind = type(ev)
            if kind is BookDelta or kind is Trade:
                ck = (kind, ev.venue, ev.symbol)
                subjects = route_cache.get(ck)
                if subjects is None:
                    subjects = route_cache[ck] = self._route(ev)
            else:
                subjects = self._route(ev)
            for subj in subjects:
                starts = kind is BookSnapshot
                if kind is BookOrder:
                    starts = ev.snapshot and not self._image.get(subj, False)
                    self._image[subj] = ev.snapshot
                elif self._image:
                    self._image.pop(subj, None)
                group = current.get(subj)
                if group is None or starts or len(group[1]) >= self.max_batch:
                    group = (subj, [], starts)
                    current[subj] = group
                    groups.append(group)
                group[1].append(ev)
        return groups

    def _abandon_wave(self, wave: list[tuple[str, list[Any], bool]]) -> bool:
        """Closing gave up on the broker: the wave's events are dropped (counted) instead of sent."""
        with self._lock:
            if self._abandoned:
                self._dropped += sum(len(evs) for _, evs, _ in wave)
                return True
        return False

    def _encode_wave(self, wave: list[tuple[str, list[Any], bool]]) -> list[tuple[str, bytes, str]]:
        """The messages of a wave: numbered per subject, with their de-duplication ids."""
        messages = []
        for subj, evs, _ in wave:
            seq = self._seq.get(subj, 0) + 1
            self._seq[subj] = seq
            messages.append((subj, encode_batch(self.id, seq, evs), f"{self.id}:{seq}:{subj}"))
        return messages

    def _acknowledged(
        self, wave: list[tuple[str, list[Any], bool]], todo: list[int], results: list[int | Exception]
    ) -> tuple[list[int], list[tuple[str, int]]]:
        """Count what was acknowledged; the messages to send again and the snapshots to index."""
        failed = []
        snapshots = []
        for i, result in zip(todo, results, strict=True):
            if isinstance(result, Exception):
                failed.append(i)
                continue
            subj, evs, snap = wave[i]
            with self._lock:
                self._published += len(evs)
                self._messages += 1
            if snap:
                snapshots.append((subj, result))
        if failed:
            with self._lock:
                self._retries += len(failed)
                if self._closing:
                    log.warning("bus publisher closing: %d messages not acknowledged", len(failed))
                    self._abandoned = True
                    self._dropped += sum(len(wave[i][1]) for i in failed)
                    return [], snapshots
            log.debug("bus: %d messages not acknowledged, retrying", len(failed))
        return failed, snapshots

    def _send_wave(self, wave: list[tuple[str, list[Any], bool]]) -> None:
        if self._abandon_wave(wave):
            return
        messages = self._encode_wave(wave)
        todo = list(range(len(messages)))
        while todo:
            results = self.link.send([messages[i] for i in todo], self.ack_timeout)
            todo, snapshots = self._acknowledged(wave, todo, results)
            for subj, position in snapshots:
                self._mark(subj, position)
            if todo:
                time.sleep(self.retry_delay)

    def _mark(self, subj: str, position: int) -> None:
        while True:
            try:
                self.link.mark_snapshot(subj, position)
                return
            except Exception as exc:
                with self._lock:
                    if self._closing:
                        return
                log.debug("bus: snapshot index not stored (%s), retrying", exc)
                time.sleep(self.retry_delay)


# ------------------------------------------------------------------------------------- consuming


@dataclass(slots=True)
class SourceStats:
    """Counters of a ``bus.source(...)`` Observable, summed over its subscriptions.

    Attributes:
        messages: bus messages received.
        events: events delivered to subscribers.
        duplicates: messages dropped as already seen.
        gaps: publisher messages found missing (each announced by a ``StreamReset``).
        errors: messages that could not be decoded (logged and skipped).
    """

    messages: int = 0
    events: int = 0
    duplicates: int = 0
    gaps: int = 0
    errors: int = 0


class _SourceRun:
    """One subscription of ``Bus.source``: its delivery thread and de-duplication state."""

    def __init__(
        self,
        link: Bus,
        filt: str,
        start: Start,
        pace: str,
        group: str | None,
        follow: bool,
        batch: int,
        observer: abc.ObserverBase[Any],
        stats: SourceStats,
    ) -> None:
        self.link = link
        self.filter = filt
        self.start = start
        self.pace = pace
        self.group = group
        self.follow = follow
        self.batch = batch
        self.observer = observer
        self.stats = stats
        self.disposed = threading.Event()
        self.last: dict[tuple[str, str], int] = {}  # (publisher, subject) -> last seq delivered
        self.recent: set[tuple[str, str, int]] = set()  # group mode: seen (publisher, subject, seq)
        self.recent_order: deque[tuple[str, str, int]] = deque()
        self.skip_below: dict[str, int] = {}  # start="last": subject -> first position to deliver
        self.pace_anchor: tuple[float, float] | None = None
        self.cursor: Cursor | None = None
        self.thread = threading.Thread(target=self._run, name="rxfeeds-bus-source", daemon=True)

    def dispose(self) -> None:
        self.disposed.set()
        wake = getattr(self.cursor, "wake", None)
        if wake is not None:
            wake()

    def open(self) -> bool:
        """Create the broker consumer (on the subscribing thread); False after reporting an error."""
        try:
            start = self.start
            if start == "last":
                self.skip_below = self.link.start_positions(self.filter)
                start = min(self.skip_below.values()) if self.skip_below else "first"
            self.cursor = self.link.open_cursor(self.filter, start, self.group, self.batch)
        except Exception as exc:
            self.observer.on_error(exc)
            return False
        return True

    def _run(self) -> None:
        cursor = self.cursor
        assert cursor is not None
        try:
            # follow=False: done when nothing was waiting, else when a message says none is left;
            # an empty fetch only means "not yet" (a loaded broker may take a while)
            if not self.follow and cursor.backlog == 0:
                if not self.disposed.is_set():
                    self.observer.on_completed()
                return
            while not self.disposed.is_set():
                messages = cursor.fetch(self.batch, 0.5)
                if not messages:
                    if not self.follow and cursor.backlog is None:
                        break
                    continue
                for i, message in enumerate(messages):
                    if self.disposed.is_set():
                        cursor.release(messages[i:])
                        return
                    self._deliver(message)
                cursor.ack(messages)
                if not self.follow and messages[-1].pending == 0:
                    break
            if not self.disposed.is_set():
                self.observer.on_completed()
        except Exception as exc:
            if not self.disposed.is_set():
                self.observer.on_error(exc)
        finally:
            try:
                cursor.close()
            except Exception:
                log.debug("bus cursor close failed", exc_info=True)
            self.link._live_runs().discard(self)

    def _deliver(self, message: BusMessage) -> None:
        stats = self.stats
        stats.messages += 1
        if self.skip_below:
            first = self.skip_below.get(message.subject)
            if first is not None:
                if message.position < first:
                    return
                del self.skip_below[message.subject]
        try:
            publisher, seq, events = decode_batch(message.data)
        except FrameError as exc:
            stats.errors += 1
            log.warning("bus message on %s skipped: %s", message.subject, exc)
            return
        key = (publisher, message.subject)
        if self.group is None:
            last = self.last.get(key)
            if last is not None:
                if seq <= last:
                    stats.duplicates += 1
                    return
                if seq > last + 1:
                    stats.gaps += seq - last - 1
                    venue, symbol, channel = parse_subject(message.subject)
                    now = time.time()
                    reason = f"bus gap: messages {last + 1}..{seq - 1} of publisher {publisher} missing"
                    self.observer.on_next(StreamReset(venue, symbol, now, now, channel=channel, reason=reason))
            self.last[key] = seq
        else:
            # a group member sees only its share: no gaps to find, only redeliveries to drop
            rkey = (publisher, message.subject, seq)
            if rkey in self.recent:
                stats.duplicates += 1
                return
            self.recent.add(rkey)
            self.recent_order.append(rkey)
            if len(self.recent_order) > 100_000:
                self.recent.discard(self.recent_order.popleft())
        on_next = self.observer.on_next
        if self.pace == "original":
            for ev in events:
                self._wait_pace(ev)
                on_next(ev)
        else:
            for ev in events:
                on_next(ev)
        stats.events += len(events)

    def _wait_pace(self, event: Any) -> None:
        t = getattr(event, "recv_time", None)
        if not isinstance(t, float):
            return
        if self.pace_anchor is None:
            self.pace_anchor = (time.monotonic(), t)
            return
        wall0, t0 = self.pace_anchor
        wait = wall0 + (t - t0) - time.monotonic()
        if wait > 0:
            # original pacing is the point here: wait out the recorded spacing (interruptible)
            self.disposed.wait(wait)
