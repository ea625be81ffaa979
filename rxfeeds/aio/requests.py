"""Awaitable requests: Observables that ``await`` gives the last value of, on the running loop.

Example:
    >>> import reactivex as rx
    >>> isinstance(awaitable(rx.of(1)), AwaitableObservable)
    True
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

from reactivex import Observable, abc

from ._checks import observable as _observable
from .gathering import last

__all__ = ["AwaitableObservable", "awaitable"]

_T = TypeVar("_T")


class AwaitableObservable(Observable[_T]):
    """An Observable that can also be awaited: ``await obs`` gives its last value (see :func:`last`).

    Unlike reactivex's own ``await``, the value reaches the loop through
    ``call_soon_threadsafe``, so it returns as soon as the reply arrives on the socket
    thread.  ``pipe`` keeps the result awaitable.  Every client's one-shot requests (order
    entry, RPC calls, pings) are built this way; errors are the request's typed errors
    (``RequestError``, ``RequestTimeout``...).

    Example:
        >>> import asyncio, reactivex as rx
        >>> from reactivex import operators as rx_ops
        >>> request = awaitable(rx.of(20)).pipe(rx_ops.map(lambda x: x + 1))
        >>> async def main():
        ...     return await request
        >>> asyncio.run(main())
        21

    Live::

        pong = await kraken.ping()
        status = await kraken.add_order(token, "XBT/USD", "buy", "limit", 0.01, price=20000)
    """

    def __await__(self) -> Generator[Any, None, _T]:
        return last(self).__await__()

    def pipe(self, *operators: Callable[[Any], Any]) -> Any:
        """Like :meth:`Observable.pipe`; an Observable result stays awaitable."""
        result = super().pipe(*operators)
        if isinstance(result, Observable) and not isinstance(result, AwaitableObservable):
            return awaitable(result)
        return result


def awaitable(observable: Observable[_T]) -> AwaitableObservable[_T]:
    """``observable`` as an :class:`AwaitableObservable` (the same subscriptions, plus ``await``).

    Example:
        >>> import asyncio, reactivex as rx
        >>> async def main():
        ...     return await awaitable(rx.of(1, 2))
        >>> asyncio.run(main())
        2
    """
    if isinstance(observable, AwaitableObservable):
        return observable
    source = _observable(observable)

    def subscribe(observer: abc.ObserverBase[_T], scheduler: abc.SchedulerBase | None = None) -> abc.DisposableBase:
        return source.subscribe(observer, scheduler=scheduler)

    return AwaitableObservable(subscribe)
