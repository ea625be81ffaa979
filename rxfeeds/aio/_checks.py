"""Argument checks shared by the asyncio door's functions: typed ``InvalidArgument`` errors.

Example:
    >>> positive_int("buffer", 0)
    Traceback (most recent call last):
    ...
    rxfeeds.errors.InvalidArgument: buffer=0: must be a positive integer
"""

from __future__ import annotations

from typing import Any

from reactivex import Observable

from ..errors import InvalidArgument

__all__ = ["observable", "positive_int", "positive_number"]


def positive_number(name: str, value: Any, optional: bool = True) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise InvalidArgument(name, value, "must be a positive number of seconds" + (" or None" if optional else ""))
    return float(value)


def positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(name, value, "must be a positive integer")
    return value


def observable(value: Any) -> Observable[Any]:
    if not isinstance(value, Observable):
        raise InvalidArgument("observable", type(value).__name__, "must be a reactivex Observable")
    return value
