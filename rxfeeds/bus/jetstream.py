"""The NATS JetStream adapter of the bus.

Storage: one stream (default ``RXFEEDS``, file storage) holds ``<prefix>.>``: every bus
message, de-duplicated by its ``Nats-Msg-Id`` header within ``duplicate_window`` seconds.
A second stream (``RXFEEDS_SNAP``) keeps only the newest message per subject
(``max_msgs_per_subject=1``): for every data subject, the position where its newest snapshot
starts, so a late joiner (``start="last"``) begins there.

Consumers are JetStream pull consumers: the subscriber's thread asks for the next batch when it
is ready, so a slow subscriber's backlog stays in the broker.  Without a group the consumer is
ephemeral and unacknowledged (it is re-created at the next position after a broker restart);
a ``group`` is a durable consumer with explicit acknowledgements shared by its members.

The nats-py client is asyncio: the bus runs its event loop on one background thread
(``rxfeeds-bus-nats``) and every call from other threads is handed to it thread-safely.

Example::

    from rxfeeds.bus import NatsBus

    with NatsBus("nats://127.0.0.1:4222") as bus:
        bus.source("kraken", "XBT/USD", "book", start="last").subscribe(print)
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from ..errors import InvalidArgument, RxfeedsError
from .base import Bus, BusMessage, Cursor, Publisher, Start, log

__all__ = ["NatsBus"]

_T = TypeVar("_T")


def _require_nats() -> Any:
    try:
        import nats
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RxfeedsError("the NATS bus needs nats-py: pip install 'rxfeeds[bus]'") from exc
    return nats


class NatsBus(Bus):
    """A connection to NATS JetStream carrying rxfeeds events (see the module docstring).

    Args:
        url: server URL(s), ``nats://host:port`` (comma-separated for a cluster).
        stream: JetStream stream name (made if missing; ``<stream>_SNAP`` holds the snapshot index).
        prefix: subject prefix: subjects are ``<prefix>.<venue>.<symbol>.<channel>``.
        max_age: seconds of history kept (None: no limit).
        max_bytes: bytes of history kept (None: no limit).
        duplicate_window: seconds during which a message id is remembered for de-duplication.
        connect_timeout: seconds to wait for the first connection.

    Raises:
        RxfeedsError: the server cannot be reached or has no JetStream.
    """

    def __init__(
        self,
        url: str = "nats://127.0.0.1:4222",
        *,
        stream: str = "RXFEEDS",
        prefix: str = "rxfeeds",
        max_age: float | None = None,
        max_bytes: int | None = None,
        duplicate_window: float = 120.0,
        connect_timeout: float = 10.0,
    ) -> None:
        if not isinstance(url, str) or not url:
            raise InvalidArgument("url", url, "must be a nats:// URL")
        if not stream.replace("_", "").replace("-", "").isalnum():
            raise InvalidArgument("stream", stream, "must be letters, digits, '-' and '_'")
        if not prefix.replace("_", "").replace("-", "").isalnum():
            raise InvalidArgument("prefix", prefix, "must be one subject token of letters, digits, '-' and '_'")
        self._nats = _require_nats()
        self.url = url
        self.stream = stream
        self.snap_stream = f"{stream}_SNAP"
        self.prefix = prefix
        self.snap_prefix = f"{prefix}-snap"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="rxfeeds-bus-nats", daemon=True)
        self._thread.start()
        self._closed = False
        self._publishers: list[Any] = []
        try:
            self._call(self._connect(connect_timeout, max_age, max_bytes, duplicate_window), connect_timeout + 10)
        except TimeoutError:
            self._stop_loop()
            raise RxfeedsError(f"cannot connect to NATS at {url} within {connect_timeout:g} s") from None
        except BaseException:
            self._stop_loop()
            raise

    def __repr__(self) -> str:
        return f"NatsBus({self.url!r}, stream={self.stream!r}, prefix={self.prefix!r})"

    # ------------------------------------------------------------------------ loop plumbing

    def _call(self, coro: Coroutine[Any, Any, _T], timeout: float) -> _T:
        """Run ``coro`` on the bus loop and wait for its result (from any other thread)."""
        if self._closed:
            coro.close()
            raise RxfeedsError("the bus is closed")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    async def _connect(
        self, timeout: float, max_age: float | None, max_bytes: int | None, duplicate_window: float
    ) -> None:
        nats = self._nats
        from nats.js import api

        async def quiet(exc: Exception) -> None:
            log.debug("nats: %s", exc)

        try:
            # nats-py retries a first connection as often as later reconnections: bound the first
            # one by ``timeout``, then reconnect forever (broker restarts must not end the bus)
            self._nc = await nats.connect(
                self.url,
                connect_timeout=min(timeout, 5.0),
                max_reconnect_attempts=max(1, int(timeout / 0.05)),
                reconnect_time_wait=0.05,
                allow_reconnect=True,
                error_cb=quiet,
                name="rxfeeds",
            )
            self._nc.options["max_reconnect_attempts"] = -1
        except Exception as exc:
            raise RxfeedsError(f"cannot connect to NATS at {self.url}: {type(exc).__name__}: {exc}") from None
        self._js = self._nc.jetstream()
        await self._ensure_stream(
            api.StreamConfig(
                name=self.stream,
                subjects=[f"{self.prefix}.>"],
                storage=api.StorageType.FILE,
                duplicate_window=duplicate_window,
                max_age=max_age,
                max_bytes=max_bytes,
            )
        )
        await self._ensure_stream(
            api.StreamConfig(
                name=self.snap_stream,
                subjects=[f"{self.snap_prefix}.>"],
                storage=api.StorageType.FILE,
                max_msgs_per_subject=1,
            )
        )

    async def _ensure_stream(self, config: Any) -> None:
        from nats.js.errors import NotFoundError

        try:
            await self._js.stream_info(config.name)
        except NotFoundError:
            try:
                await self._js.add_stream(config)
            except Exception as exc:
                raise RxfeedsError(f"cannot create JetStream stream {config.name}: {exc}") from None
        except Exception as exc:
            raise RxfeedsError(f"JetStream not available at {self.url}: {type(exc).__name__}: {exc}") from None

    def _stop_loop(self) -> None:
        """Cancel what still runs on the loop (client tasks), stop it and close it."""
        loop = self._loop

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(5.0)
        except Exception:
            log.debug("bus loop tasks did not all end", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        if threading.current_thread() is not self._thread:
            self._thread.join(5)
            if not self._thread.is_alive():
                loop.close()

    def close(self) -> None:
        """Flush this bus's publishers, close the connection and stop the loop thread."""
        if self._closed:
            return
        for publisher in list(self._publishers):
            publisher.close()
        self._stop_sources()
        try:
            if self._nc.is_connected:
                self._call(self._nc.drain(), 5.0)
        except Exception:
            log.debug("nats drain failed", exc_info=True)
        try:
            if not self._nc.is_closed:  # not connected (broker gone): stop reconnecting
                self._call(self._nc.close(), 5.0)
        except Exception:
            log.debug("nats close failed", exc_info=True)
        self._closed = True
        self._stop_loop()

    def delete(self) -> None:
        """Delete this bus's streams with all their history (tests, notebooks, a fresh start)."""
        from nats.js.errors import NotFoundError

        async def drop() -> None:
            for name in (self.stream, self.snap_stream):
                try:
                    await self._js.delete_stream(name)
                except NotFoundError:
                    pass

        self._call(drop(), 30.0)

    def publisher(self, **options: Any) -> Any:
        """A publisher on this bus, run by the bus's event loop; :meth:`close` flushes it."""
        publisher = _LoopPublisher(self, **options)
        self._publishers.append(publisher)
        return publisher

    async def asend(self, messages: Sequence[tuple[str, bytes, str]], timeout: float) -> list[int | Exception]:
        """:meth:`send` on the bus loop."""

        async def one(subject: str, data: bytes, msg_id: str) -> int:
            ack = await self._js.publish(subject, data, timeout=timeout, headers={"Nats-Msg-Id": msg_id})
            seq: int = ack.seq
            return seq

        results = await asyncio.gather(*(one(*m) for m in messages), return_exceptions=True)
        return [r if isinstance(r, int | Exception) else RxfeedsError(repr(r)) for r in results]

    def forget(self, publisher: Any) -> None:
        """Stop tracking a closed publisher."""
        if publisher in self._publishers:
            self._publishers.remove(publisher)

    # ----------------------------------------------------------------------------- Link API

    def send(self, messages: Sequence[tuple[str, bytes, str]], timeout: float) -> list[int | Exception]:
        try:
            return self._call(self.asend(messages, timeout), timeout + 5.0)
        except Exception as exc:
            return [exc for _ in messages]

    def mark_snapshot(self, subject: str, position: int) -> None:
        self._call(self.amark_snapshot(subject, position), 7.0)

    async def amark_snapshot(self, subject: str, position: int) -> None:
        """:meth:`mark_snapshot` on the bus loop."""
        snap_subject = self.snap_prefix + subject[len(self.prefix) :]
        await self._js.publish(snap_subject, str(position).encode(), timeout=2.0)

    def start_positions(self, filter_subject: str) -> dict[str, int]:
        async def positions() -> dict[str, int]:
            from nats.js.errors import NotFoundError

            out: dict[str, int] = {}
            info = await self._js.stream_info(self.stream, subjects_filter=filter_subject)
            subjects = list((info.state.subjects or {}).keys())
            for subj in subjects:
                try:
                    snap = await self._js.get_last_msg(self.snap_stream, self.snap_prefix + subj[len(self.prefix) :])
                    out[subj] = int(snap.data or b"0")
                    continue
                except NotFoundError:
                    pass
                last = await self._js.get_last_msg(self.stream, subj)
                out[subj] = int(last.seq or 0)
            return out

        return self._call(positions(), 30.0)

    def open_cursor(self, filter_subject: str, start: Start, group: str | None, window: int = 256) -> Cursor:
        cursor = _NatsCursor(self, filter_subject, start, group, window)
        self._call(cursor.create(), 15.0)
        return cursor


class _LoopPublisher(Publisher):
    """The publisher's rounds run as a task on the bus's event loop, not on a thread of their own.

    A round then needs no thread hand-over between encoding and publishing, which keeps the
    latency low.  ``put`` (on the feed's thread) wakes the task thread-safely when the buffer
    stops being empty; ``resync`` hooks run on the loop's default executor (they may block).
    """

    bus: NatsBus

    def __init__(self, bus: NatsBus, **options: Any) -> None:
        self.bus = bus
        self._event = asyncio.Event()
        self._task: Any = None
        super().__init__(bus, **options)

    def _start(self) -> None:
        self._task = asyncio.run_coroutine_threadsafe(self._arun(), self.bus._loop)

    def _wake(self) -> None:
        try:
            self.bus._loop.call_soon_threadsafe(self._event.set)
        except RuntimeError:  # the loop has stopped: the bus is closed
            pass

    def _alive(self) -> bool:
        return self._task is not None and not self._task.done()

    def _join(self, timeout: float) -> None:
        if self._task is None or threading.current_thread() is self.bus._thread:
            return
        try:
            self._task.result(timeout)
        except Exception:
            log.debug("bus publisher task ended with an error", exc_info=True)

    async def _arun(self) -> None:
        try:
            while True:
                await self._event.wait()
                self._event.clear()
                while True:
                    with self._lock:
                        if not self._buf and not self._losses and not self._closing:
                            self._idle.notify_all()
                            break
                        round_ = self._next_round()
                    if round_ is None:
                        return
                    if round_[0] and self.resync is not None:
                        await asyncio.get_running_loop().run_in_executor(None, self._resync_dropped, round_[0])
                    else:
                        self._resets += len(round_[0])
                    for wave in self._plan(*round_):
                        await self._asend_wave(wave)
                    self._round_done()
        except Exception as exc:  # pragma: no cover - a bug: keep it visible
            self._fail(exc)

    async def _asend_wave(self, wave: list[tuple[str, list[Any], bool]]) -> None:
        if self._abandon_wave(wave):
            return
        messages = self._encode_wave(wave)
        todo = list(range(len(messages)))
        while todo:
            results = await self.bus.asend([messages[i] for i in todo], self.ack_timeout)
            todo, snapshots = self._acknowledged(wave, todo, results)
            for subj, position in snapshots:
                while True:
                    try:
                        await self.bus.amark_snapshot(subj, position)
                        break
                    except Exception as exc:
                        if self._closing:
                            break
                        log.debug("bus: snapshot index not stored (%s), retrying", exc)
                        await asyncio.sleep(self.retry_delay)
            if todo:
                await asyncio.sleep(self.retry_delay)


#: seconds a pull request stays open in the broker
_PULL_EXPIRES = 2.0


class _NatsCursor(Cursor):
    """A pull consumer fed by standing pull requests (see the module docstring).

    The broker delivers into an inbox subscription whose callback (on the bus loop) only
    appends to a local buffer; :meth:`fetch` (on the subscription's delivery thread) waits for
    that buffer, so a message reaches the subscriber without a loop round trip.  Pull requests
    keep at most ``window`` messages requested or buffered: a slow subscriber leaves its
    backlog in the broker.  After a broker restart the consumer is re-created at the next
    position.
    """

    def __init__(self, bus: NatsBus, filter_subject: str, start: Start, group: str | None, window: int) -> None:
        self.bus = bus
        self.filter = filter_subject
        self.start = start
        self.group = group
        self.window = window
        self.name: str | None = None
        self.next_subject = ""
        self.inbox = ""
        self.core_sub: Any = None
        self.lock = threading.Lock()
        self.ready = threading.Condition(self.lock)
        self.buffer: deque[Any] = deque()
        self.outstanding = 0  # messages requested and not delivered yet
        self.requested_at = 0.0
        self.next_position: int | None = None  # after the last message fetched
        self.quiet_since = time.monotonic()
        self.lost = False  # the broker said the consumer is gone

    def _config(self) -> Any:
        from nats.js import api

        options: dict[str, Any] = {"filter_subject": self.filter}
        start = self.start
        if self.next_position is not None and self.group is None:
            options.update(deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.next_position)
        elif start == "new":
            options["deliver_policy"] = api.DeliverPolicy.NEW
        elif start == "first":
            options["deliver_policy"] = api.DeliverPolicy.ALL
        elif isinstance(start, datetime):
            when = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
            options.update(deliver_policy=api.DeliverPolicy.BY_START_TIME, opt_start_time=when.astimezone(UTC))
        else:
            options.update(deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=int(start))
        if self.group is None:
            options.update(ack_policy=api.AckPolicy.NONE, inactive_threshold=60.0, mem_storage=True)
        else:
            options.update(
                name=self.group,
                durable_name=self.group,
                ack_policy=api.AckPolicy.EXPLICIT,
                ack_wait=30.0,
                max_ack_pending=max(10_000, 4 * self.window),
            )
        return api.ConsumerConfig(**options)

    async def create(self) -> None:
        from nats.js.errors import NotFoundError

        js = self.bus._js
        stream = self.bus.stream
        if self.group is not None:
            try:
                info = await js.consumer_info(stream, self.group)
            except NotFoundError:
                info = await js.add_consumer(stream, self._config())
        else:
            info = await js.add_consumer(stream, self._config())
        self.name = info.name
        if self.backlog is None:  # the first creation: what the subscriber must read to be caught up
            self.backlog = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
        self.next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{info.name}"
        if self.core_sub is None:
            nc = self.bus._nc
            self.inbox = nc.new_inbox()
            self.core_sub = await nc.subscribe(
                self.inbox, cb=self._on_msg, pending_msgs_limit=-1, pending_bytes_limit=-1
            )
        with self.lock:
            self.outstanding = 0
            self.lost = False
        await self._request()

    async def _on_msg(self, msg: Any) -> None:
        """On the bus loop: a delivered message (buffered) or a pull status."""
        headers = msg.headers
        status = headers.get("Status") if headers else None
        if status is None:
            with self.lock:
                self.buffer.append(msg)
                if self.outstanding > 0:
                    self.outstanding -= 1
                self.ready.notify()
            return
        if status == "408" or status == "409":
            # an expired or refused pull request: what it still wanted will not come
            pending = headers.get("Nats-Pending-Messages")
            with self.lock:
                if pending is not None and pending.isdigit():
                    self.outstanding = max(0, self.outstanding - int(pending))
                else:
                    self.outstanding = 0
                if status == "409" and "deleted" in (headers.get("Description") or "").lower():
                    self.lost = True
                self.ready.notify()

    async def _request(self) -> None:
        """Keep ``window`` messages requested or buffered (the broker holds the rest)."""
        now = time.monotonic()
        with self.lock:
            if now - self.requested_at > _PULL_EXPIRES:
                self.outstanding = 0  # older requests have expired
            want = self.window - self.outstanding - len(self.buffer)
            if want < max(1, self.window // 2) and self.outstanding > 0:
                return
            if want <= 0:
                return
            self.outstanding += want
            self.requested_at = now
        request = b'{"batch":%d,"expires":%d}' % (want, int(_PULL_EXPIRES * 1e9))
        try:
            await self.bus._nc.publish(self.next_subject, request, reply=self.inbox)
        except Exception as exc:  # reconnecting: the next fetch asks again
            log.debug("bus pull request failed: %s", exc)
            with self.lock:
                self.outstanding = 0

    async def _maintain(self, quiet: bool) -> None:
        """Top up pull requests; after quiet periods check the consumer still exists."""
        if quiet and (self.lost or time.monotonic() - self.quiet_since >= 1.0):
            self.quiet_since = time.monotonic()
            from nats.js.errors import NotFoundError

            try:
                await self.bus._js.consumer_info(self.bus.stream, self.name)
                missing = self.lost
            except NotFoundError:
                missing = True
            except Exception as exc:  # the broker is restarting: try again later
                log.debug("bus consumer check failed: %s", exc)
                return
            if missing:
                log.debug("bus consumer %s lost; re-creating it at %s", self.name, self.next_position)
                try:
                    await self.create()
                except Exception as exc:
                    log.debug("bus consumer re-creation failed: %s", exc)
                return
        await self._request()

    def fetch(self, max_messages: int, timeout: float) -> list[BusMessage]:
        with self.lock:
            if not self.buffer:
                self.ready.wait(timeout)
            buffer = self.buffer
            taken = [buffer.popleft() for _ in range(min(max_messages, len(buffer)))]
            low = len(buffer) + self.outstanding <= self.window // 2
        if low or not taken:
            future = asyncio.run_coroutine_threadsafe(self._maintain(not taken), self.bus._loop)
            if not taken:
                try:
                    future.result(30.0)
                except Exception as exc:
                    log.debug("bus consumer maintenance failed: %s", exc)
                return []
        out = []
        for m in taken:
            meta = m.metadata
            out.append(BusMessage(m.subject, m.data, meta.sequence.stream, meta.num_pending, m))
        self.next_position = out[-1].position + 1
        self.quiet_since = time.monotonic()
        return out

    def wake(self) -> None:
        """Let a waiting :meth:`fetch` return now (the subscription ended)."""
        with self.lock:
            self.ready.notify_all()

    def ack(self, messages: Sequence[BusMessage]) -> None:
        if self.group is None or not messages:
            return
        self._reply_all(messages, b"+ACK")

    def release(self, messages: Sequence[BusMessage]) -> None:
        if self.group is None or not messages:
            return
        self._reply_all(messages, b"-NAK")

    def _reply_all(self, messages: Sequence[BusMessage], body: bytes) -> None:
        async def reply() -> None:
            nc = self.bus._nc
            for m in messages:
                try:
                    await nc.publish(m.handle.reply, body)
                except Exception as exc:  # redelivered after ack_wait; members de-duplicate
                    log.debug("bus ack failed: %s", exc)

        self.bus._call(reply(), 30.0)

    def close(self) -> None:
        if self.bus._closed:
            return

        async def release() -> None:
            if self.core_sub is not None:
                try:
                    await self.core_sub.unsubscribe()
                except Exception:
                    log.debug("unsubscribe failed", exc_info=True)
            if self.group is not None:
                # messages delivered after the last fetch: hand them back to the group at once
                with self.lock:
                    left = list(self.buffer)
                    self.buffer.clear()
                for m in left:
                    try:
                        await self.bus._nc.publish(m.reply, b"-NAK")
                    except Exception:
                        log.debug("bus nak failed", exc_info=True)
            elif self.name:
                try:
                    await self.bus._js.delete_consumer(self.bus.stream, self.name)
                except Exception:
                    log.debug("delete_consumer failed", exc_info=True)

        try:
            self.bus._call(release(), 10.0)
        except Exception:
            log.debug("bus cursor release failed", exc_info=True)
