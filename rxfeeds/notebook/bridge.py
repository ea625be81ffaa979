"""The Rx <-> kernel bridge: gather a feed into a list while a cell blocks, or deliver on the kernel's loop.

rxfeeds sockets run in their own threads; these two helpers move values to the notebook's side
without touching the kernel's asyncio loop from the socket thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from reactivex import Observable

from ..errors import InvalidArgument
from ._common import check_count, check_seconds

__all__ = ["collect", "on_kernel"]


def collect(
    source: Observable[Any],
    *,
    seconds: float | None = None,
    count: int | None = None,
    where: Callable[[Any], bool] | None = None,
) -> list[Any]:
    """Subscribe, gather values for ``seconds`` or until ``count`` of them arrived, then dispose.

    Blocks the calling thread (a notebook cell) while the socket thread delivers; values are
    appended under a lock.  Completion ends the wait early; an error is raised here.  ``where``
    keeps only matching values (counted towards ``count``).

    Example::

        trades = nb.collect(kraken.trades("XBT/USD"), seconds=5)
        books = nb.collect(kraken.book("XBT/USD").pipe(ops.order_book()), count=1,
                           where=lambda b: isinstance(b, OrderBook))
    """
    limit_s = check_seconds("seconds", seconds)
    limit_n = check_count("count", count)
    if limit_s is None and limit_n is None:
        raise InvalidArgument("seconds", seconds, "give seconds or count (or both)")
    values: list[Any] = []
    lock = threading.Lock()
    done = threading.Event()
    failure: list[Exception] = []

    def on_next(value: Any) -> None:
        if where is not None and not where(value):
            return
        with lock:
            if limit_n is not None and len(values) >= limit_n:
                return
            values.append(value)
            if limit_n is not None and len(values) >= limit_n:
                done.set()

    def on_error(exc: Exception) -> None:
        failure.append(exc)
        done.set()

    subscription = source.subscribe(on_next, on_error, done.set)
    try:
        done.wait(limit_s)
    finally:
        subscription.dispose()
    if failure:
        raise failure[0]
    with lock:
        return list(values)


def on_kernel(loop: asyncio.AbstractEventLoop | None = None) -> Callable[[Observable[Any]], Observable[Any]]:
    """Operator: deliver values on the kernel's asyncio loop thread (``observe_on`` that loop).

    Call it from a notebook cell (where the kernel's loop is running) or pass ``loop``.  While a
    cell blocks (``run_for``, ``collect``), values wait until the loop runs again.

    Example::

        kraken.trades("XBT/USD").pipe(nb.on_kernel()).subscribe(my_handler)  # handler on the kernel thread
    """
    from reactivex import operators as rx_ops
    from reactivex.scheduler.eventloop import AsyncIOThreadSafeScheduler

    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise InvalidArgument("loop", loop, "no asyncio loop is running here: pass the kernel's loop") from None
    return rx_ops.observe_on(AsyncIOThreadSafeScheduler(loop))
