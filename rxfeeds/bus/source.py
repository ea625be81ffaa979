"""Consuming: one delivery thread per ``bus.source(...)`` subscription, with de-duplication and gap reports.

Every subscription of :meth:`~rxfeeds.bus.base.Bus.source` gets its own delivery thread
(``rxfeeds-bus-source``): it fetches from the broker through a :class:`~rxfeeds.bus.link.Cursor`,
decodes, drops duplicates (by ``(publisher, subject, seq)``), announces lost messages with a
``StreamReset`` and calls the observer.  **Subscriber callbacks run on that thread**; a slow
callback only slows that subscription, and its backlog stays in the broker.

Example:
    >>> SourceStats(messages=2, events=10)
    SourceStats(messages=2, events=10, duplicates=0, gaps=0, errors=0)
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from reactivex import abc

from ..errors import FrameError
from ..events import StreamReset
from .envelope import decode_batch
from .link import BusMessage, Cursor, Link, Start
from .subjects import parse_subject

__all__ = ["SourceRun", "SourceStats"]

log = logging.getLogger("rxfeeds.bus")


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


class SourceRun:
    """One subscription of ``Bus.source``: its delivery thread and de-duplication state.

    ``runs`` is the bus's set of live subscriptions: the run leaves it when its thread ends.
    """

    def __init__(
        self,
        link: Link,
        runs: set[Any],
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
        self.runs = runs
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
            self.runs.discard(self)

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
