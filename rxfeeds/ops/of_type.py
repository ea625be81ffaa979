"""``of_type``: keep the events of some types out of a mixed stream, typed for checkers.

An element is kept when ``isinstance(element, event_types)``, so a base class keeps its
subclasses too.  Type checkers narrow the element type: ``Observable[Event]`` piped through
``of_type(Trade)`` is an ``Observable[Trade]``; two types give their union.

Marble sketch (``t`` = Trade, ``b`` = BookDelta, ``r`` = StreamReset)::

    source:          -t-b-r-t-b-|
    of_type(Trade):  -t-----t---|

Example:
    >>> import reactivex as rx
    >>> from rxfeeds.events import Trade, StreamReset
    >>> t = Trade("kraken", "XBT/USD", 1.0, 1.0, price=1.0, size=2.0)
    >>> r = StreamReset("kraken", "XBT/USD", 1.0, 1.0, channel="trade", reason="reconnect")
    >>> got = []
    >>> _ = rx.of(t, r, t).pipe(of_type(Trade)).subscribe(got.append)
    >>> [type(e).__name__ for e in got]
    ['Trade', 'Trade']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from reactivex import Observable
from reactivex import operators as rx_ops

from ..errors import InvalidArgument

__all__ = ["of_type"]

_A = TypeVar("_A")
_B = TypeVar("_B")
_C = TypeVar("_C")
_D = TypeVar("_D")


@overload
def of_type(t1: type[_A], /) -> Callable[[Observable[Any]], Observable[_A]]: ...
@overload
def of_type(t1: type[_A], t2: type[_B], /) -> Callable[[Observable[Any]], Observable[_A | _B]]: ...
@overload
def of_type(t1: type[_A], t2: type[_B], t3: type[_C], /) -> Callable[[Observable[Any]], Observable[_A | _B | _C]]: ...
@overload
def of_type(
    t1: type[_A], t2: type[_B], t3: type[_C], t4: type[_D], /
) -> Callable[[Observable[Any]], Observable[_A | _B | _C | _D]]: ...
@overload
def of_type(*event_types: type[Any]) -> Callable[[Observable[Any]], Observable[Any]]: ...


def of_type(*event_types: type[Any]) -> Callable[[Observable[Any]], Observable[Any]]:
    """Keep only elements that are instances of one of ``event_types``.

    Raises:
        InvalidArgument: no types given, or an argument is not a class.

    Example::

        trades = client.all_events().pipe(ops.of_type(Trade))   # Observable[Trade]
    """
    if not event_types:
        raise InvalidArgument("event_types", event_types, "give at least one event type")
    for t in event_types:
        if not isinstance(t, type):
            raise InvalidArgument("event_types", t, "each event type must be a class")
    wanted = event_types[0] if len(event_types) == 1 else event_types

    def keep(element: Any) -> bool:
        return isinstance(element, wanted)

    return rx_ops.filter(keep)
