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


def _bind_all() -> None:
    # Importing a submodule sets ``rxfeeds.ops.<module>`` to the module object, which would
    # shadow the operator of the same name; binding every operator now, after its module is
    # loaded, keeps ``ops.klines`` the function however the modules were imported.
    for name, module in _OPERATORS.items():
        try:
            globals()[name] = getattr(importlib.import_module(f"rxfeeds.ops.{module}"), name)
        except ModuleNotFoundError as exc:
            if exc.name != f"rxfeeds.ops.{module}":
                raise


def __getattr__(name: str) -> Any:
    module = _OPERATORS.get(name)
    if module is None:
        raise AttributeError(f"module 'rxfeeds.ops' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"rxfeeds.ops.{module}"), name)
    globals()[name] = value
    return value


_bind_all()
