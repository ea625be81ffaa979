"""The JetStream adapter's publisher: a :class:`~rxfeeds.bus.publisher.Publisher` run as a task on the bus loop.

Example:
    >>> issubclass(LoopPublisher, Publisher)
    True
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Any

from .batching import Group
from .publisher import Publisher

if TYPE_CHECKING:
    from .jetstream import NatsBus

__all__ = ["LoopPublisher"]

log = logging.getLogger("rxfeeds.bus")


class LoopPublisher(Publisher):
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

    async def _asend_wave(self, wave: list[Group]) -> None:
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
