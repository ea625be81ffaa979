"""Pipeable, venue-agnostic operators, one per module (the reactivex house style).

Example::

    from rxfeeds import ops
    client.book("XBT/USD").pipe(ops.order_book(depth=10), ops.latest())

Each operator module's docstring has a marble sketch.
"""

from __future__ import annotations

import importlib
from typing import Any

#: operator name -> module that defines it
_OPERATORS = {
    "order_book": "order_book",
    "OrderBook": "order_book",
    "klines": "klines",
    "resample": "resample",
    "reconcile_klines": "reconcile_klines",
    "retry_backoff": "retry_backoff",
    "of_type": "of_type",
    "of_channel": "of_channel",
    "stale_after": "stale_after",
    "latest": "latest",
    "buffer_bounded": "buffer_bounded",
    "record": "record",
}

__all__ = sorted(_OPERATORS)


def __getattr__(name: str) -> Any:
    module = _OPERATORS.get(name)
    if module is None:
        raise AttributeError(f"module 'rxfeeds.ops' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"rxfeeds.ops.{module}"), name)
    globals()[name] = value
    return value
