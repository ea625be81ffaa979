"""Which scheduler runs an operator's timers (private helper of the time-based operators).

An explicit ``scheduler=`` argument wins; otherwise the scheduler the subscriber passed to
``subscribe`` (a ``TestScheduler``, a replay's ``HistoricalScheduler``); otherwise
:class:`~reactivex.scheduler.TimeoutScheduler`.  Immediate and current-thread schedulers are
skipped: a delay on them raises ``WouldBlockException`` or sleeps on the caller's thread (the
socket thread), and ``rx.defer`` hands the immediate one to its factory.

Example:
    >>> from reactivex.scheduler import ImmediateScheduler, TimeoutScheduler
    >>> timer_scheduler(None, ImmediateScheduler.singleton()) is TimeoutScheduler.singleton()
    True
"""

from __future__ import annotations

from reactivex import abc
from reactivex.scheduler import CurrentThreadScheduler, ImmediateScheduler, TimeoutScheduler, TrampolineScheduler

__all__ = ["timer_scheduler"]

_BLOCKING = (ImmediateScheduler, CurrentThreadScheduler, TrampolineScheduler)


def timer_scheduler(explicit: abc.SchedulerBase | None, subscribed: abc.SchedulerBase | None) -> abc.SchedulerBase:
    """The scheduler for timers (see the module docstring)."""
    if explicit is not None:
        return explicit
    if subscribed is not None and not isinstance(subscribed, _BLOCKING):
        return subscribed
    return TimeoutScheduler.singleton()
