"""``rxfeeds.run``: run a pipeline from a script until Ctrl-C, a duration, or its end.

``subscribe`` returns at once (values arrive on the socket's thread), so a script that only
subscribes reaches its end and the interpreter exits before the first book.  :func:`run`
subscribes, blocks the calling thread, and always disposes the subscription on the way out
(the venue is sent its unsubscribe frame; the socket closes when nobody else listens).

Example::

    import rxfeeds
    from rxfeeds import ops

    kraken = rxfeeds.Kraken()
    books = kraken.book("XBT/USD", depth=10).pipe(ops.order_book(depth=10))
    rxfeeds.run(books, lambda book: print(book.best_bid, book.best_ask))   # until Ctrl-C
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from .errors import InvalidArgument

__all__ = ["RunResult", "run"]

T = TypeVar("T")

StopReason = Literal["duration", "interrupted", "completed"]


@dataclass(frozen=True)
class RunResult:
    """How :func:`run` ended.

    Attributes:
        values: values the pipeline delivered to ``on_next``.
        stopped_by: ``"duration"`` (the time was up), ``"interrupted"`` (Ctrl-C) or
            ``"completed"`` (the source ended).
    """

    values: int
    stopped_by: StopReason


def run(
    source: Any,
    on_next: Callable[[Any], object] = print,
    *,
    duration: float | None = None,
) -> RunResult:
    """Subscribe ``on_next`` to ``source`` and block until Ctrl-C, ``duration`` or the end.

    The subscription is disposed however the run ends.  Ctrl-C ends the run quietly (the
    result says ``"interrupted"``).  If the source fails, or ``on_next`` raises, that
    exception is raised here, in the calling thread, after the subscription was disposed: a
    mistake in a callback stops the script with its traceback instead of passing unnoticed on
    the socket's thread.

    Args:
        source: an ``Observable`` (a venue feed, usually piped through operators).
        on_next: called with each value, on the socket's thread; default ``print``.
        duration: seconds to run; None runs until Ctrl-C or until the source ends.

    Returns:
        A :class:`RunResult`: how many values arrived and why the run stopped.

    Example:
        >>> import reactivex as rx
        >>> run(rx.of(1, 2, 3))
        1
        2
        3
        RunResult(values=3, stopped_by='completed')
        >>> run(rx.never(), duration=0.01).stopped_by
        'duration'
        >>> run(rx.of(1), duration=-1)
        Traceback (most recent call last):
        ...
        rxfeeds.errors.InvalidArgument: duration=-1: must be a positive number of seconds or None
    """
    if not callable(getattr(source, "subscribe", None)):
        raise InvalidArgument("source", source, "must be an Observable (something with .subscribe)")
    if not callable(on_next):
        raise InvalidArgument("on_next", on_next, "must be callable with one value")
    if duration is not None and (
        isinstance(duration, bool)
        or not isinstance(duration, int | float)
        or not math.isfinite(duration)
        or duration <= 0
    ):
        raise InvalidArgument("duration", duration, "must be a positive number of seconds or None")

    done = threading.Event()
    lock = threading.Lock()
    failure: list[BaseException] = []
    count = 0

    def deliver(value: Any) -> None:
        nonlocal count
        if done.is_set():
            return
        try:
            on_next(value)
        except Exception as error:  # raised again in the calling thread, with its traceback
            with lock:
                failure.append(error)
            done.set()
            return
        with lock:
            count += 1

    def fail(error: Exception) -> None:
        with lock:
            failure.append(error)
        done.set()

    stopped_by: StopReason = "completed"
    subscription = source.subscribe(deliver, fail, done.set)
    try:
        if duration is None:
            while not done.wait(1.0):  # short waits: Ctrl-C is seen promptly on every platform
                pass
        else:
            deadline = time.monotonic() + duration
            while not done.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    stopped_by = "duration"
                    break
                done.wait(min(left, 1.0))
    except KeyboardInterrupt:
        stopped_by = "interrupted"
    finally:
        done.set()
        subscription.dispose()
    with lock:
        if failure:
            raise failure[0]
        return RunResult(count, stopped_by)
