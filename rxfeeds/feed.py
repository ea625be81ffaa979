"""``Feed``: an Observable that knows how to ask its venue for a fresh start.

Venue clients return a :class:`Feed` for book channels.  Operators that detect broken
continuity (``ops.order_book``) call ``feed.resync(symbol)`` to get a fresh snapshot for that
symbol only: Kraken and HitBTC resubscribe the channel on the same socket, Binance spot fetches
a new REST snapshot.  ``pipe`` keeps the ability, so ``feed.pipe(op1, ops.order_book())`` still
resyncs.

Example:
    >>> import reactivex as rx
    >>> asked = []
    >>> feed = Feed(rx.of(1, 2).subscribe, resync=asked.append)
    >>> feed.resync("XBT/USD")
    True
    >>> asked
    ['XBT/USD']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

from reactivex import Observable

_T = TypeVar("_T")
_A = TypeVar("_A")
_B = TypeVar("_B")
_C = TypeVar("_C")
_D = TypeVar("_D")
_E = TypeVar("_E")
_F = TypeVar("_F")
_G = TypeVar("_G")

__all__ = ["Feed", "resync_of"]


class Feed(Observable[_T], Generic[_T]):
    """An Observable with a ``resync(symbol)`` hook (see the module docstring)."""

    def __init__(self, subscribe: Any, resync: Callable[[str], None] | None = None) -> None:
        super().__init__(subscribe)
        self._resync = resync

    @property
    def can_resync(self) -> bool:
        """Whether this feed can ask the venue for a fresh snapshot."""
        return self._resync is not None

    def resync(self, symbol: str) -> bool:
        """Ask for a fresh snapshot of ``symbol``; False when this feed cannot."""
        if self._resync is None:
            return False
        self._resync(symbol)
        return True

    # typed like Observable.pipe, so ``feed.pipe(ops.order_book())`` is an Observable[OrderBook]
    # to mypy and pyright (the runtime re-wrapping below never changes a value's type)
    @overload
    def pipe(self) -> Feed[_T]: ...

    @overload
    def pipe(self, op1: Callable[[Feed[_T]], _A], /) -> _A: ...

    @overload
    def pipe(self, op1: Callable[[Feed[_T]], _A], op2: Callable[[_A], _B], /) -> _B: ...

    @overload
    def pipe(self, op1: Callable[[Feed[_T]], _A], op2: Callable[[_A], _B], op3: Callable[[_B], _C], /) -> _C: ...

    @overload
    def pipe(
        self,
        op1: Callable[[Feed[_T]], _A],
        op2: Callable[[_A], _B],
        op3: Callable[[_B], _C],
        op4: Callable[[_C], _D],
        /,
    ) -> _D: ...

    @overload
    def pipe(
        self,
        op1: Callable[[Feed[_T]], _A],
        op2: Callable[[_A], _B],
        op3: Callable[[_B], _C],
        op4: Callable[[_C], _D],
        op5: Callable[[_D], _E],
        /,
    ) -> _E: ...

    @overload
    def pipe(
        self,
        op1: Callable[[Feed[_T]], _A],
        op2: Callable[[_A], _B],
        op3: Callable[[_B], _C],
        op4: Callable[[_C], _D],
        op5: Callable[[_D], _E],
        op6: Callable[[_E], _F],
        /,
    ) -> _F: ...

    @overload
    def pipe(
        self,
        op1: Callable[[Feed[_T]], _A],
        op2: Callable[[_A], _B],
        op3: Callable[[_B], _C],
        op4: Callable[[_C], _D],
        op5: Callable[[_D], _E],
        op6: Callable[[_E], _F],
        op7: Callable[[_F], _G],
        /,
    ) -> _G: ...

    # no catch-all ``*operators -> Any`` overload: with one, mypy answers Any whenever an operator's
    # type mentions Any (most do: Observable[Any] inputs); chain a second pipe() beyond seven

    def pipe(self, *operators: Callable[[Any], Any]) -> Any:
        """Like :meth:`Observable.pipe`, but operators still see the resync hook.

        Each intermediate result that is a plain Observable is re-wrapped as a Feed sharing this
        feed's hook, so an ``order_book`` anywhere in the chain can resync.
        """
        source: Any = self
        for op in operators:
            result = op(source)
            # Only plain Observables are re-wrapped: subclasses (ConnectableObservable from
            # publish(), GroupedObservable...) carry behaviour a Feed would hide.
            if type(result) is Observable:
                result = Feed(_subscriber_of(result), self._resync)
            source = result
        return source


def _subscriber_of(observable: Observable[Any]) -> Any:
    def subscribe(observer: Any, scheduler: Any = None) -> Any:
        return observable.subscribe(observer, scheduler=scheduler)

    return subscribe


def resync_of(source: Any) -> Callable[[str], bool] | None:
    """The resync hook of ``source`` if it is a :class:`Feed` that has one, else None."""
    if isinstance(source, Feed) and source.can_resync:
        return source.resync
    return None
