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
The pull consumer is :mod:`rxfeeds.bus.jetstream_cursor`, the publisher run on that loop
:mod:`rxfeeds.bus.jetstream_publisher`.

Example::

    from rxfeeds.bus import NatsBus

    with NatsBus("nats://127.0.0.1:4222") as bus:
        bus.source("kraken", "XBT/USD", "book", start="last").subscribe(print)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from ..errors import InvalidArgument, RxfeedsError
from .base import Bus, log
from .jetstream_cursor import NatsCursor
from .jetstream_publisher import LoopPublisher
from .link import Cursor, Start

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
        publisher = LoopPublisher(self, **options)
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
        cursor = NatsCursor(self, filter_subject, start, group, window)
        self._call(cursor.create(), 15.0)
        return cursor
