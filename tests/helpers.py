"""Test helpers shared by the suites: where things are, waiting on conditions, collecting streams.

Support code only (no tests here): every suite imports what it needs from this module instead of
writing its own copy.  Fixtures built on these live in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reactivex.abc import ObserverBase

from rxfeeds.books import OrderBook
from rxfeeds.events import BookDelta, BookSnapshot, IntegrityEvent
from rxfeeds.transport import Backoff

#: The project's root folder (where ``pyproject.toml`` is), wherever a test module lives.
ROOT = Path(__file__).resolve().parents[1]

#: A reconnect back-off fast enough for tests: 50 ms first, at most 200 ms, no jitter.
FAST = Backoff(initial=0.05, max_delay=0.2, jitter="none")


def captures_path() -> Path:
    """Where the shared real recordings live (``$RXFEEDS_CAPTURES`` or ``../shared/captures``)."""
    env = os.environ.get("RXFEEDS_CAPTURES")
    return Path(env) if env else ROOT.parent / "shared" / "captures"


def wait_until(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.01) -> None:
    """Poll ``condition`` until it is truthy; fail the test with AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


class Done(threading.Event):
    """A terminal flag: waitable (``done.wait(20)``) and truthy once set (``assert not done``)."""

    def __bool__(self) -> bool:
        return self.is_set()


class Collector(ObserverBase[Any]):
    """Collects what an Observable delivers (on any thread) for the test thread to read.

    ``items`` (alias ``values``) in arrival order; ``errors`` (``error``: the last one or None);
    ``completed`` after ``on_completed``; ``done`` once terminated either way.  When ``log`` is
    given, every value is also appended to it as ``(tag, value)`` (to check the order across
    several collectors).
    """

    def __init__(self, log: list[Any] | None = None, tag: str = "") -> None:
        self.lock = threading.RLock()
        self.items: list[Any] = []
        self.errors: list[BaseException] = []
        self.completed = False
        self.done = Done()
        self.latest: dict[str, OrderBook] = {}  # the last book per symbol
        self._log = log
        self._tag = tag

    # -- observer --------------------------------------------------------------------------------

    def on_next(self, value: Any) -> None:
        with self.lock:
            self.items.append(value)
            if isinstance(value, OrderBook):
                self.latest[value.symbol] = value
            if self._log is not None:
                self._log.append((self._tag, value))

    def on_error(self, error: BaseException) -> None:
        with self.lock:
            self.errors.append(error)
        self.done.set()

    def on_completed(self) -> None:
        self.completed = True
        self.done.set()

    def subscribe(self, source: Any) -> Any:
        """Subscribe this collector to ``source``; returns the subscription."""
        return source.subscribe(self.on_next, self.on_error, self.on_completed)

    def watch(self, source: Any) -> Collector:
        """Subscribe this collector to ``source``; returns the collector."""
        self.subscribe(source)
        return self

    # -- reading ---------------------------------------------------------------------------------

    @property
    def values(self) -> list[Any]:
        return self.items

    @property
    def error(self) -> BaseException | None:
        with self.lock:
            return self.errors[-1] if self.errors else None

    def snapshot(self) -> list[Any]:
        """A copy of the values so far."""
        with self.lock:
            return list(self.items)

    def of(self, kind: type | tuple[type, ...]) -> list[Any]:
        """The values that are instances of ``kind``."""
        return [v for v in self.snapshot() if isinstance(v, kind)]

    def kinds(self, symbol: str | None = None) -> list[str]:
        """The kinds of the integrity events (of ``symbol``, or all)."""
        return [v.kind for v in self.of(IntegrityEvent) if symbol is None or v.symbol == symbol]

    @property
    def books(self) -> list[OrderBook]:
        """Every order book value."""
        return self.of(OrderBook)

    def synced_books(self) -> list[OrderBook]:
        """The synced order book values."""
        return [b for b in self.books if b.synced]

    def count_books(self, symbol: str) -> int:
        """How many synced books of ``symbol`` came."""
        return sum(1 for b in self.synced_books() if b.symbol == symbol)

    def book(self, symbol: str) -> OrderBook | None:
        """The last order book of ``symbol``, or None."""
        with self.lock:
            return self.latest.get(symbol)

    def book_events(self, symbol: str) -> list[Any]:
        """The snapshots and deltas of ``symbol``."""
        return [e for e in self.of((BookSnapshot, BookDelta)) if e.symbol == symbol]
