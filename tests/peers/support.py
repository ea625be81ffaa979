"""Support for the peer-client suite: running coroutines and waiting on the event loop.

The suite points real third-party client libraries at the simulators.  Install them with
``pip install -e '.[peers]'`` and run ``pytest -m peers tests/peers``; each module skips when its
library is not installed.  The ``peers`` marker is given by folder (``tests/conftest.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any


async def until(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> None:
    """Wait (on the event loop, not by sleeping the thread) until ``condition()`` is truthy."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def levels(pairs: Any, depth: int) -> list[tuple[Decimal, Decimal]]:
    """Best-first ``(price, size)`` as Decimals, from any iterable of price/size pairs."""
    return [(Decimal(str(p)), Decimal(str(s))) for p, s in list(pairs)[:depth]]


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]
