"""When things happen: the retry policy and the scheduler rule shared by sockets and operators.

This module sits below both the transport and the operators (they import it; it imports neither),
so one policy object and one scheduler rule serve every layer.

Back-off
--------
:class:`Backoff` configures the socket subject's reconnects, ``ops.retry_backoff`` and
``ops.order_book``'s resyncs, so users describe their retry policy once.

Delay for attempt ``n`` (1-based)::

    base(n) = min(max_delay, initial * factor ** (n - 1))
    jitter="full":  uniform(0, base(n))          (AWS "full jitter")
    jitter="equal": base(n)/2 + uniform(0, base(n)/2)
    jitter="none":  base(n)

The attempt counter resets once a connection (or subscription) has run cleanly for
``reset_after`` seconds; the socket subject also resets it as soon as a new connection has
delivered data for every active subscription (a successful resync), so a flapping link does not
climb to ``max_delay``.  After ``max_attempts`` failed attempts in a row the caller gives up.

Example:
    >>> import random
    >>> b = Backoff(initial=1.0, max_delay=8.0, jitter="none")
    >>> [b.delay(n) for n in range(1, 6)]
    [1.0, 2.0, 4.0, 8.0, 8.0]
    >>> 0.0 <= Backoff(initial=1.0, max_delay=8.0).delay(3, random.Random(1)) <= 4.0
    True

The scheduler rule
------------------
Every time-based operator (``klines``, ``resample``, ``order_book``'s resync timers,
``stale_after``, ``retry_backoff``) and the health monitor pick the scheduler for their timers
with :func:`timer_scheduler`: an explicit ``scheduler=`` argument wins; otherwise the scheduler
the subscriber passed to ``subscribe`` (a ``TestScheduler``, a replay's ``HistoricalScheduler``);
otherwise :class:`~reactivex.scheduler.TimeoutScheduler`.  Immediate and current-thread
schedulers are skipped: a delay on them raises ``WouldBlockException`` or sleeps on the caller's
thread (the socket thread), and ``rx.defer`` hands the immediate one to its factory.

Example:
    >>> from reactivex.scheduler import ImmediateScheduler, TimeoutScheduler
    >>> timer_scheduler(None, ImmediateScheduler.singleton()) is TimeoutScheduler.singleton()
    True
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Literal

from reactivex import abc
from reactivex.scheduler import CurrentThreadScheduler, ImmediateScheduler, TimeoutScheduler, TrampolineScheduler

from .errors import InvalidArgument

__all__ = ["Backoff", "Jitter", "check_backoff", "timer_scheduler"]

Jitter = Literal["full", "equal", "none"]
_JITTERS = ("full", "equal", "none")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Retry policy (see the module docstring).

    Args:
        initial: delay before the first retry, seconds (> 0).
        max_delay: cap on any delay, seconds (>= initial).
        factor: growth per attempt (>= 1).
        jitter: ``"full"``, ``"equal"`` or ``"none"``.
        max_attempts: give up after this many consecutive failures; ``None`` retries forever.
        reset_after: seconds of clean running after which the attempt counter resets.
    """

    initial: float = 0.5
    max_delay: float = 30.0
    factor: float = 2.0
    jitter: Jitter = "full"
    max_attempts: int | None = None
    reset_after: float = 30.0

    def __post_init__(self) -> None:
        for name in ("initial", "max_delay", "factor", "reset_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InvalidArgument(name, value, "must be a finite number")
        if self.max_attempts is not None and (
            isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int)
        ):
            raise InvalidArgument("max_attempts", self.max_attempts, "must be an int or None")
        if not self.initial > 0:
            raise InvalidArgument("initial", self.initial, "must be a positive number of seconds")
        if not self.max_delay >= self.initial:
            raise InvalidArgument("max_delay", self.max_delay, "must be >= initial")
        if not self.factor >= 1:
            raise InvalidArgument("factor", self.factor, "must be >= 1")
        if self.jitter not in _JITTERS:
            raise InvalidArgument("jitter", self.jitter, f"must be one of {', '.join(_JITTERS)}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise InvalidArgument("max_attempts", self.max_attempts, "must be >= 1 or None")
        if not self.reset_after >= 0:
            raise InvalidArgument("reset_after", self.reset_after, "must be >= 0")

    def base_delay(self, attempt: int) -> float:
        """The un-jittered delay for ``attempt`` (1-based)."""
        if attempt < 1:
            raise InvalidArgument("attempt", attempt, "attempts count from 1")
        # Cap the exponent so huge attempt numbers cannot overflow.
        exponent = min(attempt - 1, 1024)
        try:
            grown = self.initial * self.factor**exponent
        except OverflowError:
            grown = self.max_delay
        return min(self.max_delay, grown)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The jittered delay before retry number ``attempt`` (1-based)."""
        base = self.base_delay(attempt)
        if self.jitter == "none":
            return base
        r = (rng or random).random()
        if self.jitter == "full":
            return base * r
        return base / 2 + base / 2 * r

    def gives_up(self, attempt: int) -> bool:
        """Whether ``attempt`` consecutive failures exhaust the policy."""
        return self.max_attempts is not None and attempt > self.max_attempts


def check_backoff(name: str, policy: Any) -> None:
    """Raise :class:`~rxfeeds.errors.InvalidArgument` naming ``name`` unless ``policy`` can serve
    as a reconnect policy: what the transport calls (``delay(attempt, rng)``,
    ``gives_up(attempt)``, ``reset_after``) must be there, at construction rather than at the
    first disconnect (where a broken policy used to end the socket thread).

    Example:
        >>> check_backoff("backoff", Backoff())
        >>> check_backoff("backoff", 5)
        Traceback (most recent call last):
        ...
        rxfeeds.errors.InvalidArgument: backoff=5: must be a Backoff (or have delay(), gives_up() and reset_after)
    """
    if isinstance(policy, Backoff):
        return
    why = "must be a Backoff (or have delay(), gives_up() and reset_after)"
    if not (callable(getattr(policy, "delay", None)) and callable(getattr(policy, "gives_up", None))):
        raise InvalidArgument(name, policy, why)
    reset_after = getattr(policy, "reset_after", None)
    if isinstance(reset_after, bool) or not isinstance(reset_after, (int, float)) or not reset_after >= 0:
        raise InvalidArgument(name, policy, why + "; reset_after must be a number >= 0")


_BLOCKING = (ImmediateScheduler, CurrentThreadScheduler, TrampolineScheduler)


def timer_scheduler(explicit: abc.SchedulerBase | None, subscribed: abc.SchedulerBase | None) -> abc.SchedulerBase:
    """The scheduler for an operator's timers (the rule in the module docstring).

    Args:
        explicit: the operator's own ``scheduler=`` argument (wins when given).
        subscribed: the scheduler the subscriber passed to ``subscribe`` (may be None).

    Example:
        >>> from reactivex.testing import TestScheduler
        >>> clock = TestScheduler()
        >>> timer_scheduler(None, clock) is clock
        True
    """
    if explicit is not None:
        return explicit
    if subscribed is not None and not isinstance(subscribed, _BLOCKING):
        return subscribed
    return TimeoutScheduler.singleton()
