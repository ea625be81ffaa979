"""A fast producer against a subscriber that blocks: the slow-consumer operators' shared test rig."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reactivex.subject import Subject


@dataclass
class Flood:
    """What :func:`flood_blocked_subscriber` saw; call :attr:`release` to unblock the subscriber."""

    total: int
    release: Callable[[], None]
    completed: threading.Event
    got: list[int] = field(default_factory=list)
    max_pending: int = 0  # the operator's ``stats().pending``, sampled every 1,000 values
    delivery_threads: set[int] = field(default_factory=set)
    producer: int | None = None


def flood_blocked_subscriber(op: Any, total: int) -> Flood:
    """Push ``total`` values through ``op`` from a thread while the subscriber blocks on its first.

    The subscriber waits for :attr:`Flood.release`; if the operator let the subscriber block
    the producer, the producer would never finish, so this asserts that it did.
    """
    source: Subject[int] = Subject()
    gate = threading.Event()
    flood = Flood(total, gate.set, threading.Event())

    def slow(value: int) -> None:
        flood.delivery_threads.add(threading.get_ident())
        gate.wait(30)
        flood.got.append(value)

    source.pipe(op).subscribe(slow, on_completed=flood.completed.set)

    def produce() -> None:
        for i in range(total):
            source.on_next(i)
            if i % 1000 == 0:
                flood.max_pending = max(flood.max_pending, op.stats().pending)
        source.on_completed()

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    producer.join(timeout=20)
    assert not producer.is_alive(), "producer blocked behind a slow subscriber"
    flood.producer = producer.ident
    return flood
