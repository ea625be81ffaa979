"""Handing results to an event loop from any thread: ``call_soon_threadsafe``, never a bare future.

Example:
    >>> import asyncio
    >>> async def main():
    ...     future = asyncio.get_running_loop().create_future()
    ...     post(asyncio.get_running_loop(), resolve, future, 42)
    ...     return await future
    >>> asyncio.run(main())
    42
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

__all__ = ["fail", "post", "resolve"]


def post(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> bool:
    """Run ``fn(*args)`` on ``loop`` soon, from any thread; False when the loop is closed."""
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # the loop is closed: nobody is waiting any more
        return False
    return True


def resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
