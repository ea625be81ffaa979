"""Replay captures through the same Observables a live client gives.

:func:`replay` builds the venue's client over :class:`ReplayTransport` s (transports fed from
capture records instead of sockets), so ``replay(...).book("XBT/USD")`` is the very Observable
``Kraken().book("XBT/USD")`` would be, and every operator works unchanged.  REST bodies in the
capture (Binance depth snapshots) answer the client's snapshot requests.

Timing, chosen when the session is created:

* ``speed=None, scheduler=None``: :meth:`ReplaySession.run` feeds every record as fast as
  possible on the calling thread;
* ``speed=2.0``: real time, twice as fast as recorded (sleeps between records);
* ``scheduler=HistoricalScheduler()`` (or any virtual-time scheduler): records are scheduled at
  their recorded times; give the same scheduler to time-based operators (``ops.klines``,
  ``ops.stale_after``) and their timers behave as live.  ``run()`` schedules the records and
  starts the scheduler.

Time is made monotonic: a capture whose clock stepped back (an NTP correction while recording)
replays whole: the replay clock holds at the latest time seen until the capture passes it again
(``session.clock_repair`` counts the steps; events keep their recorded ``recv_time``).
Unreadable records (bad lines, ``nan``/``inf`` timestamps, a truncated gzip tail) are skipped and
listed in ``session.problems``.

REST replies (Binance depth snapshots) reach the streams at their recorded position, as
``decode_http`` events, so a replay is deterministic.  While :meth:`ReplaySession.run` is
feeding records, a snapshot fetch the client starts on its own is not answered (that answer
would arrive at a random point of the replay); it fails with :class:`~rxfeeds.errors.RequestError`
when the session closes.  Before ``run``, ``session.snapshot(...)`` returns the recorded reply.

Marble sketch::

    capture:  open--f1--f2--f3--open--f4--|
    book():   ------e1--e2--e3--R-----e4--|      R = StreamReset("reconnect")

Example::

    session = rxfeeds.replay(["kraken-book.jsonl"], venue="kraken")
    books = []
    session.book("XBT/USD", depth=1000).pipe(ops.order_book()).subscribe(books.append)
    session.run()
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

from reactivex import abc
from reactivex.scheduler import HistoricalScheduler

from ..codec import Codec
from ..errors import InvalidArgument, RequestError
from ..events import ConnectionState
from ..transport.multiplexer import Multiplexer
from ..venues import client_class
from .records import CaptureProblem, CaptureRecord, ClockRepair, merge_timed

__all__ = ["CaptureClock", "ReplayTransport", "ReplaySession", "replay"]


class CaptureClock(HistoricalScheduler):
    """A :class:`HistoricalScheduler` a replay moves record by record for the price of a float store.

    :meth:`move` only notes the replay time; the ``datetime`` clock is advanced (and due work
    run) when something scheduled is due, or when someone reads :attr:`now` or schedules work.
    Timers therefore fire exactly as with ``advance_to`` per record: before the first record at
    or after their due time.  Cancelled timers only cost an early advance.

    Example:
        >>> clock = CaptureClock(100.0)
        >>> fired = []
        >>> _ = clock.schedule_relative(5.0, lambda s, _: fired.append(s.now.timestamp()))
        >>> clock.move(104.0); fired
        []
        >>> clock.move(106.0); fired
        [105.0]
        >>> clock.now.timestamp()
        106.0
    """

    def __init__(self, start: float) -> None:
        super().__init__(datetime.fromtimestamp(start, tz=UTC))
        self._replay_time = start  # latest time a record was replayed at
        self._replay_synced = start  # the time the datetime clock was last advanced to
        self._replay_due: list[float] = []  # due times (seconds) of scheduled work, a heap

    def move(self, t: float) -> None:
        """The replay reached ``t`` (non-decreasing); runs work due by then."""
        self._replay_time = t
        due = self._replay_due
        if due and due[0] <= t:
            self._sync()

    def _sync(self) -> None:
        t = self._replay_time
        if t > self._replay_synced:
            self._replay_synced = t  # first: advance_to reads ``now``, which calls back here
            super().advance_to(datetime.fromtimestamp(t, tz=UTC))
            due = self._replay_due
            while due and due[0] <= t:
                heapq.heappop(due)

    @property
    def now(self) -> datetime:
        self._sync()
        return super().now

    def schedule(self, action: abc.ScheduledAction[Any], state: Any = None) -> abc.DisposableBase:
        self._sync()
        return super().schedule(action, state)

    def schedule_relative(
        self, duetime: Any, action: abc.ScheduledAction[Any], state: Any = None
    ) -> abc.DisposableBase:
        self._sync()
        return super().schedule_relative(duetime, action, state)

    def schedule_absolute(
        self, duetime: Any, action: abc.ScheduledAction[Any], state: Any = None
    ) -> abc.DisposableBase:
        heapq.heappush(self._replay_due, self.to_datetime(duetime).timestamp())
        return super().schedule_absolute(duetime, action, state)


class ReplayTransport(Multiplexer):
    """A transport whose frames come from a capture (see the module docstring).

    Frames the client sends are counted and dropped; requests wait for recorded replies.
    """

    def __init__(self, url: str | Sequence[str], codec: Codec, *, venue: str | None = None, **_: Any) -> None:
        urls = [url] if isinstance(url, str) else list(url)
        super().__init__(codec, venue=venue, url=urls[0] if urls else "")
        self.urls = tuple(urls)
        self._opened = False
        self._connections = 0

    def _is_open(self) -> bool:
        return self._opened

    def _open_if_needed(self) -> None:
        """The capture decides when connections open."""

    def _close_if_idle(self) -> None:
        """The capture decides when connections close."""

    def _write(self, frame: str) -> None:
        self._tap_out(frame)

    def open(self) -> None:
        """A recorded connection opened: session frames, markers and resubscribe as live."""
        reconnect = self._connections > 0
        self._connections += 1
        self._stats.connects += 1
        if reconnect:
            self._stats.reconnects += 1
        self._publish_state(ConnectionState.OPEN)
        self._on_connected(reconnect, lambda: setattr(self, "_opened", True))

    def feed_http(self, url: str, body: str, t: float) -> None:
        """A recorded REST reply; the codec's ``decode_http`` turns it into events (or none)."""
        try:
            messages = self.codec.decode_http(url, body, t)
        except Exception as exc:
            self._errors.on_next(exc)
            return
        self.dispatch(messages)

    def close(self) -> None:
        self._opened = False
        self._publish_state(ConnectionState.CLOSED)
        self._complete_all()


class ReplaySession:
    """A venue client over replay transports plus the records that drive it.

    Attribute access falls through to the client, so ``session.book(...)`` is
    ``session.client.book(...)``.
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        venue: str,
        *,
        speed: float | None = None,
        scheduler: abc.SchedulerBase | None = None,
        **client_options: Any,
    ) -> None:
        if not paths:
            raise InvalidArgument("paths", paths, "give at least one capture file")
        for p in paths:
            if not Path(p).is_file():
                raise InvalidArgument("paths", str(p), "no such capture file")
        if speed is not None and not speed > 0:
            raise InvalidArgument("speed", speed, "must be a positive factor or None")
        if speed is not None and scheduler is not None:
            raise InvalidArgument("speed", speed, "give either speed or scheduler, not both")
        self.venue = venue
        self.problems: list[CaptureProblem] = []
        self.clock_repair = ClockRepair()
        timed = list(merge_timed(list(paths), self.problems, self.clock_repair))
        self.records: list[CaptureRecord] = [r for _, r in timed]
        self._times = [t for t, _ in timed]  # non-decreasing replay times
        self._running = False
        self._closed = threading.Event()
        self.speed = speed
        self.scheduler = scheduler
        self.frames = 0
        self._transports: dict[str, ReplayTransport] = {}
        self._capture_urls = list(dict.fromkeys(r.url for r in self.records if r.kind in ("open", "in") and r.url))
        self._http = [r for r in self.records if r.kind == "http"]
        cls = client_class(venue)
        self.client: Any = cls(transport_factory=self._make_transport, http_get=self._recorded_http, **client_options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    # ------------------------------------------------------------------ plumbing

    def _make_transport(self, url: str | Sequence[str], codec: Codec, **options: Any) -> ReplayTransport:
        wanted = [url] if isinstance(url, str) else list(url)
        capture_url = next((u for u in wanted if u in self._capture_urls and u not in self._transports), None)
        if capture_url is None:
            # A simulator recording has loopback URLs: take the first connection nobody claimed.
            capture_url = next((u for u in self._capture_urls if u not in self._transports), wanted[0])
        transport = ReplayTransport(capture_url, codec, venue=options.get("venue"))
        self._transports[capture_url] = transport
        return transport

    def _recorded_http(self, url: str, timeout: float) -> bytes:
        if self._running:
            # Recorded replies reach the streams at their recorded position (feed_http); an
            # answer here would be injected at a random point of the replay, out of order.
            self._closed.wait()
            raise RequestError(self.venue, "replay: REST replies are replayed at their recorded time")
        want = urlparse(url)
        want_query = dict(parse_qsl(want.query))
        for record in self._http:
            got = urlparse(record.url)
            if (
                got.path == want.path
                and dict(parse_qsl(got.query)).get("symbol", "").upper() == want_query.get("symbol", "").upper()
            ):
                return record.data.encode()
        raise RequestError(self.venue, f"the capture has no recorded response for {want.path}?{want.query}")

    def _apply(self, record: CaptureRecord) -> None:
        if record.kind == "http":  # REST replies have their own URL: every connection may use them
            for t in list(self._transports.values()):
                t.feed_http(record.url, record.data, record.t)
            return
        transport = self._transports.get(record.url)
        if transport is None:
            return
        if record.kind == "in":
            self.frames += 1
            transport.feed(record.data, record.t)
        elif record.kind == "open":
            transport.open()

    # ------------------------------------------------------------------ running

    def run(self) -> ReplaySession:
        """Feed every record (see the module docstring for the timing modes); then complete."""
        self._running = True
        if self.scheduler is not None:
            self._run_scheduled(self.scheduler)
        elif self.speed is not None:
            start = time.monotonic()
            t0 = self._times[0] if self._times else 0.0
            for t, record in zip(self._times, self.records, strict=True):
                wait = (t - t0) / self.speed - (time.monotonic() - start)
                if wait > 0:
                    time.sleep(wait)
                self._apply(record)
            self.close()
        else:
            # as fast as possible: received frames (nearly every record) skip the _apply call
            transports = self._transports
            frames = 0
            try:
                for record in self.records:
                    if record.kind == "in":
                        transport = transports.get(record.url)
                        if transport is not None:
                            frames += 1
                            transport.feed(record.data, record.t)
                    else:
                        self._apply(record)
            finally:
                self.frames += frames
            self.close()
        return self

    def _run_scheduled(self, scheduler: abc.SchedulerBase) -> None:
        records, times = self.records, self._times
        index = 0

        def step(sched: abc.SchedulerBase, _: Any = None) -> None:
            nonlocal index
            if index >= len(records):
                self.close()
                return
            t = times[index]
            while index < len(records) and times[index] <= t:
                self._apply(records[index])
                index += 1
            if index < len(records):
                sched.schedule_absolute(_when(scheduler, times[index]), step)
            else:
                self.close()

        if records:
            scheduler.schedule_absolute(_when(scheduler, times[0]), step)
        start = getattr(scheduler, "start", None)
        if start is not None:
            start()

    def close(self) -> None:
        """Complete every replayed stream."""
        self._closed.set()
        self._running = False
        for transport in list(self._transports.values()):
            transport.close()


def _when(scheduler: abc.SchedulerBase, t: float) -> Any:
    if isinstance(scheduler, HistoricalScheduler):
        return datetime.fromtimestamp(t, tz=UTC)
    return t


def replay(
    paths: str | Path | Sequence[str | Path],
    *,
    venue: str,
    speed: float | None = None,
    scheduler: abc.SchedulerBase | None = None,
    **client_options: Any,
) -> ReplaySession:
    """A replay session: the venue client over captures (see the module docstring).

    Example::

        s = rxfeeds.replay("hitbtc.jsonl", venue="hitbtc")
        s.trades("ETHBTC").subscribe(print)
        s.run()
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    return ReplaySession(list(paths), venue, speed=speed, scheduler=scheduler, **client_options)


Replayer = Callable[..., ReplaySession]
