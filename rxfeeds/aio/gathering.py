"""``await first(...)``, ``await last(...)``, ``await collect(...)``: one subscription resolving one loop future.

Example:
    >>> import asyncio, reactivex as rx
    >>> asyncio.run(collect(rx.of(1, 2, 3), n=2))
    [1, 2]
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from reactivex import Observable
from reactivex.disposable import SingleAssignmentDisposable

from ._checks import observable as _observable
from ._checks import positive_int, positive_number
from ._handoff import fail, post, resolve
from .errors import AwaitTimeout, EmptyStream

__all__ = ["collect", "first", "last"]

_T = TypeVar("_T")


class _Gather:
    """One subscription resolving one loop future: first value, last value, or a list."""

    def __init__(self, loop: asyncio.AbstractEventLoop, mode: str, n: int | None = None) -> None:
        self.loop = loop
        self.mode = mode
        self.n = n
        self.future: asyncio.Future[Any] = loop.create_future()
        self.lock = threading.Lock()
        self.done = False
        self.values: list[Any] = []
        self.has_value = False
        self.value: Any = None
        self.upstream = SingleAssignmentDisposable()

    def _settle(self, fn: Callable[[asyncio.Future[Any], Any], None], arg: Any) -> None:
        # Caller holds the lock and has checked ``done``.
        self.done = True
        post(self.loop, fn, self.future, arg)

    def on_next(self, value: Any) -> None:
        with self.lock:
            if self.done:
                return
            if self.mode == "first":
                self._settle(resolve, value)
            elif self.mode == "last":
                self.value, self.has_value = value, True
                return
            else:
                self.values.append(value)
                if self.n is None or len(self.values) < self.n:
                    return
                self._settle(resolve, list(self.values))
        self.upstream.dispose()

    def on_error(self, error: Exception) -> None:
        with self.lock:
            if not self.done:
                self._settle(fail, error)

    def on_completed(self) -> None:
        with self.lock:
            if self.done:
                return
            if self.mode == "collect":
                self._settle(resolve, list(self.values))
            elif self.mode == "last" and self.has_value:
                self._settle(resolve, self.value)
            else:
                self._settle(fail, EmptyStream(f"the Observable completed without a value ({self.mode})"))

    def expire(self, error: BaseException | None) -> None:
        """On the loop: the time is up (``error``), or ``collect``'s duration ended (None)."""
        with self.lock:
            if self.done:
                return
            self.done = True
            if error is None:
                resolve(self.future, list(self.values))
            else:
                fail(self.future, error)

    async def run(self, source: Observable[Any], seconds: float | None, error: BaseException | None) -> Any:
        timer = self.loop.call_later(seconds, self.expire, error) if seconds is not None else None
        try:
            self.upstream.disposable = source.subscribe(self.on_next, self.on_error, self.on_completed)
            return await self.future
        finally:
            # value, error, timeout or cancellation: never leave the subscription behind
            if timer is not None:
                timer.cancel()
            with self.lock:
                self.done = True
            self.upstream.dispose()


async def first(observable: Observable[_T], *, timeout: float | None = None) -> _T:
    """The first value of ``observable``, awaited on the running loop; then unsubscribes.

    Raises:
        AwaitTimeout: nothing within ``timeout`` seconds (also a ``TimeoutError``).
        EmptyStream: the Observable completed without a value.
        Exception: the Observable's own error (e.g. ``RequestError``, ``RequestTimeout``).

    Example:
        >>> import asyncio, reactivex as rx
        >>> asyncio.run(first(rx.of("a", "b")))
        'a'

    Over a live venue::

        pong = await aio.first(kraken.ping(), timeout=5)
    """
    source = _observable(observable)
    seconds = positive_number("timeout", timeout)
    gather = _Gather(asyncio.get_running_loop(), "first")
    error = AwaitTimeout("no value", seconds) if seconds is not None else None
    result: _T = await gather.run(source, seconds, error)
    return result


async def last(observable: Observable[_T], *, timeout: float | None = None) -> _T:
    """The last value of ``observable`` once it completes (what ``await`` on a request returns).

    Raises:
        AwaitTimeout: not completed within ``timeout`` seconds.
        EmptyStream: completed without a value.

    Example:
        >>> import asyncio, reactivex as rx
        >>> asyncio.run(last(rx.of("a", "b")))
        'b'
    """
    source = _observable(observable)
    seconds = positive_number("timeout", timeout)
    gather = _Gather(asyncio.get_running_loop(), "last")
    error = AwaitTimeout("not completed", seconds) if seconds is not None else None
    result: _T = await gather.run(source, seconds, error)
    return result


async def collect(observable: Observable[_T], *, n: int | None = None, duration: float | None = None) -> list[_T]:
    """Values of ``observable`` in a list: the first ``n``, or those within ``duration`` seconds.

    Ends at whichever comes first: ``n`` values, ``duration`` elapsed, or completion (the list
    may then be shorter, or empty).  With neither ``n`` nor ``duration`` it waits for
    completion: only for finite Observables.  The source's error is raised.  Values are
    gathered on the source's thread and cross to the loop once, at the end.

    Example:
        >>> import asyncio, reactivex as rx
        >>> asyncio.run(collect(rx.range(0, 10), n=3))
        [0, 1, 2]

    A few seconds of trades::

        trades = await aio.collect(kraken.trades("XBT/USD"), duration=5)
    """
    source = _observable(observable)
    count = positive_int("n", n) if n is not None else None
    seconds = positive_number("duration", duration)
    gather = _Gather(asyncio.get_running_loop(), "collect", count)
    result: list[_T] = await gather.run(source, seconds, None)
    return result
