"""Publishing: a bounded buffer on the feed's side, acknowledged and numbered messages on the broker's.

:meth:`Publisher.put` runs on the caller's thread (the venue's socket thread when piped from
a client) and only appends to a bounded buffer.  One worker thread per publisher
(``rxfeeds-bus-publish``) takes the events out in rounds, has them grouped into messages
(:mod:`rxfeeds.bus.batching`), numbers each message per subject for the consumers'
de-duplication, and waits until the broker acknowledged each one.

Example:
    >>> PublishStats(received=3, published=3, messages=1)
    PublishStats(received=3, published=3, messages=1, dropped=0, pending=0, max_pending=0, retries=0, resets=0)
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import BufferOverflow, InvalidArgument
from ..events import StreamReset
from .batching import Batcher, Group
from .channels import MARKERS, default_channel
from .envelope import encode_batch
from .link import Link

__all__ = ["PUBLISH_OVERFLOWS", "PublishOverflow", "PublishStats", "Publisher"]

log = logging.getLogger("rxfeeds.bus")

PublishOverflow = Literal["drop_oldest", "drop_newest", "error", "block"]
PUBLISH_OVERFLOWS = ("drop_oldest", "drop_newest", "error", "block")


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
        self._batcher = Batcher(link, channel, max_batch)  # subjects and messages of a round
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
        channel = self.channel or (None if isinstance(event, MARKERS) else default_channel(event))
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

    def _plan(self, resets: list[StreamReset], events: list[Any]) -> list[list[Group]]:
        """The messages of a round as waves (see :meth:`Batcher.plan`)."""
        return self._batcher.plan(resets, events)

    def _abandon_wave(self, wave: list[Group]) -> bool:
        """Closing gave up on the broker: the wave's events are dropped (counted) instead of sent."""
        with self._lock:
            if self._abandoned:
                self._dropped += sum(len(evs) for _, evs, _ in wave)
                return True
        return False

    def _encode_wave(self, wave: list[Group]) -> list[tuple[str, bytes, str]]:
        """The messages of a wave: numbered per subject, with their de-duplication ids."""
        messages = []
        for subj, evs, _ in wave:
            seq = self._seq.get(subj, 0) + 1
            self._seq[subj] = seq
            messages.append((subj, encode_batch(self.id, seq, evs), f"{self.id}:{seq}:{subj}"))
        return messages

    def _acknowledged(
        self, wave: list[Group], todo: list[int], results: list[int | Exception]
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

    def _send_wave(self, wave: list[Group]) -> None:
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
