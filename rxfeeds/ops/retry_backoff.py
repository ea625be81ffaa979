"""``retry_backoff``: resubscribe an errored Observable after capped, jittered, growing delays.

The policy is a :class:`~rxfeeds.transport.backoff.Backoff`, the same object that configures the
socket subject's reconnects, so a retry policy is described one way everywhere.  Pass one as
``policy`` or give its fields (``initial``, ``max_delay``, ``factor``, ``jitter``,
``max_attempts``, ``reset_after``) as keywords; keywords override the policy's fields.

* Error number ``n`` in a row (``n`` = 1, 2, ...) is followed by a resubscription after
  ``policy.delay(n)``: ``min(max_delay, initial * factor**(n-1))``, jittered.
* When the failed subscription had run for at least ``reset_after`` seconds before its error,
  the count starts again at 1 (the source was stable; this is a fresh failure).
* With ``max_attempts=m`` there are at most ``m`` resubscriptions in a row; error ``m + 1``
  is delivered to the subscriber (the last error, unchanged).
* Errors that ``retry_on`` does not accept are delivered at once.

Marble sketch (each subscription of the cold source emits ``a`` after 1 s and fails at 2 s;
``initial=2, factor=2, jitter="none", max_attempts=2``; one character = 1 s)::

    source, per subscription:  -a#
    subscriptions:             ^   ^     ^        at 0 s, then 2 s and 4 s after each error
    result:                    -a---a-----a#      the third error in a row is delivered

Time comes from ``scheduler`` (default: the subscription's scheduler, else
:class:`~reactivex.scheduler.TimeoutScheduler`), so it runs in virtual time on a
``TestScheduler`` or a replay's ``HistoricalScheduler``.  ``rng`` (a ``random.Random``) makes
the jitter reproducible.

Example:
    >>> import reactivex as rx
    >>> from reactivex.testing import TestScheduler
    >>> sched = TestScheduler()
    >>> tries = []
    >>> def flaky(observer, scheduler=None):
    ...     tries.append(float(sched.clock))
    ...     if len(tries) < 3:
    ...         observer.on_error(ConnectionError("down"))
    ...     else:
    ...         observer.on_next("up")
    ...         observer.on_completed()
    >>> got = []
    >>> _ = rx.create(flaky).pipe(
    ...     retry_backoff(initial=1.0, jitter="none", scheduler=sched)).subscribe(got.append)
    >>> _ = sched.start()
    >>> tries, got
    ([0.0, 1.0, 3.0], ['up'])
"""

from __future__ import annotations

import dataclasses
import enum
import random
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeAlias, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable, SerialDisposable

from ..errors import InvalidArgument
from ..timing import Backoff, Jitter, timer_scheduler

__all__ = ["retry_backoff", "RetryOn"]

_T = TypeVar("_T")

#: What ``retry_on`` accepts: exception classes, or a predicate on the error.
RetryOn: TypeAlias = type[BaseException] | tuple[type[BaseException], ...] | Callable[[Exception], bool]


class _Unset(enum.Enum):
    UNSET = 0


_UNSET = _Unset.UNSET


def _retry_predicate(retry_on: RetryOn) -> Callable[[Exception], bool]:
    if isinstance(retry_on, tuple):
        if not retry_on or not all(isinstance(t, type) and issubclass(t, BaseException) for t in retry_on):
            raise InvalidArgument("retry_on", retry_on, "a tuple of exception classes must not be empty")
        kinds: Any = retry_on
    elif isinstance(retry_on, type):
        if not issubclass(retry_on, BaseException):
            raise InvalidArgument("retry_on", retry_on, "not an exception class")
        kinds = retry_on
    elif callable(retry_on):
        return retry_on
    else:
        raise InvalidArgument("retry_on", retry_on, "give exception classes or a predicate")
    return lambda error: isinstance(error, kinds)


def retry_backoff(
    policy: Backoff | None = None,
    *,
    initial: float | None = None,
    max_delay: float | None = None,
    factor: float | None = None,
    jitter: Jitter | None = None,
    max_attempts: int | _Unset | None = _UNSET,
    reset_after: float | None = None,
    retry_on: RetryOn = Exception,
    scheduler: abc.SchedulerBase | None = None,
    rng: random.Random | None = None,
    on_retry: Callable[[int, float, Exception], None] | None = None,
) -> Callable[[Observable[_T]], Observable[_T]]:
    """Resubscribe on error with capped exponential back-off (see the module docstring).

    Args:
        policy: a :class:`Backoff`; default ``Backoff()``.
        initial, max_delay, factor, jitter, max_attempts, reset_after: override the policy's
            fields (same meaning and validation as :class:`Backoff`).
        retry_on: exception class(es) or a predicate ``error -> bool``; other errors are
            delivered at once.  Default: every ``Exception``.
        scheduler: time source for delays and for ``reset_after``.
        rng: random source for the jitter (seed it for reproducible delays).
        on_retry: called as ``on_retry(attempt, delay, error)`` before each wait (logging,
            metrics); it runs on the thread that delivered the error.

    Raises:
        InvalidArgument: a bad policy field (e.g. negative ``initial``) or ``retry_on``.

    Example::

        policy = Backoff(initial=0.5, max_delay=30, max_attempts=10)
        client.trades("XBT/USD").pipe(ops.retry_backoff(policy)).subscribe(print)
    """
    base = policy if policy is not None else Backoff()
    if not isinstance(base, Backoff):
        raise InvalidArgument("policy", policy, "must be a rxfeeds.transport.Backoff")
    changes: dict[str, Any] = {
        name: value
        for name, value in (
            ("initial", initial),
            ("max_delay", max_delay),
            ("factor", factor),
            ("jitter", jitter),
            ("reset_after", reset_after),
        )
        if value is not None
    }
    if max_attempts is not _UNSET:
        changes["max_attempts"] = max_attempts
    if "initial" in changes and "max_delay" not in changes and changes["initial"] > base.max_delay:
        # a larger first delay alone should not trip the max_delay >= initial check
        changes["max_delay"] = changes["initial"]
    backoff = dataclasses.replace(base, **changes) if changes else base
    should_retry = _retry_predicate(retry_on)

    def operator(source: Observable[_T]) -> Observable[_T]:
        def subscribe(observer: abc.ObserverBase[_T], scheduler_: abc.SchedulerBase | None = None) -> Any:
            clock = timer_scheduler(scheduler, scheduler_)
            lock = threading.RLock()
            current = SerialDisposable()
            timer = SerialDisposable()
            attempt = 0
            started: datetime = clock.now
            disposed = False

            def connect(*_: Any) -> None:
                nonlocal started
                with lock:
                    if disposed:
                        return
                    started = clock.now
                # assigning disposes the previous (finished) subscription
                current.disposable = source.subscribe(
                    observer.on_next, on_error, observer.on_completed, scheduler=scheduler_
                )

            def on_error(error: Exception) -> None:
                nonlocal attempt
                try:
                    retry = should_retry(error)
                except Exception as predicate_error:
                    observer.on_error(predicate_error)
                    return
                if not retry:
                    observer.on_error(error)
                    return
                with lock:
                    if disposed:
                        return
                    if (clock.now - started).total_seconds() >= backoff.reset_after:
                        attempt = 0
                    attempt += 1
                    if backoff.gives_up(attempt):
                        give_up = True
                        delay = 0.0
                    else:
                        give_up = False
                        delay = backoff.delay(attempt, rng)
                    n = attempt
                if give_up:
                    observer.on_error(error)
                    return
                if on_retry is not None:
                    on_retry(n, delay, error)
                timer.disposable = clock.schedule_relative(delay, connect)

            def dispose() -> None:
                nonlocal disposed
                with lock:
                    disposed = True

            connect()
            return CompositeDisposable(Disposable(dispose), timer, current)

        return Observable(subscribe)

    return operator
