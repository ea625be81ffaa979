"""Blocking work awaited from the loop, on a short-lived thread of its own.

Example:
    >>> import asyncio
    >>> asyncio.run(run_blocking(lambda: "done"))
    'done'
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

from ._handoff import fail, post, resolve

__all__ = ["run_blocking"]

_T = TypeVar("_T")


async def run_blocking(fn: Callable[[], _T]) -> _T:
    """Run a blocking ``fn()`` on a short-lived thread of its own and await its result.

    Used by ``VenueClient.__aexit__`` (closing joins socket threads).  A fresh thread rather
    than the loop's default executor, whose idle worker threads would outlive the call.

    Example:
        >>> import asyncio
        >>> asyncio.run(run_blocking(lambda: 6 * 7))
        42
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()

    def work() -> None:
        try:
            result = fn()
        except BaseException as exc:  # handed to the awaiting task
            post(loop, fail, future, exc)
        else:
            post(loop, resolve, future, result)

    thread = threading.Thread(target=work, name="rxfeeds-aio-blocking", daemon=True)
    thread.start()
    try:
        return await asyncio.shield(future)
    finally:
        if future.done():
            thread.join(1.0)  # it has posted its result: only its last instructions remain
