"""The JetStream adapter's pull consumer: a :class:`~rxfeeds.bus.link.Cursor` fed by standing pull requests.

Without a group the consumer is ephemeral and unacknowledged (it is re-created at the next
position after a broker restart); a ``group`` is a durable consumer with explicit
acknowledgements shared by its members.  The broker delivers into an inbox subscription on the
bus's event loop; :meth:`NatsCursor.fetch` runs on the subscription's delivery thread.

Example:
    >>> PULL_EXPIRES
    2.0
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .link import BusMessage, Cursor, Start

if TYPE_CHECKING:
    from .jetstream import NatsBus

__all__ = ["PULL_EXPIRES", "NatsCursor"]

log = logging.getLogger("rxfeeds.bus")

#: seconds a pull request stays open in the broker
PULL_EXPIRES = 2.0


class NatsCursor(Cursor):
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
            if now - self.requested_at > PULL_EXPIRES:
                self.outstanding = 0  # older requests have expired
            want = self.window - self.outstanding - len(self.buffer)
            if want < max(1, self.window // 2) and self.outstanding > 0:
                return
            if want <= 0:
                return
            self.outstanding += want
            self.requested_at = now
        request = b'{"batch":%d,"expires":%d}' % (want, int(PULL_EXPIRES * 1e9))
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
