"""Pipeable, venue-agnostic operators, one per module (the reactivex house style).

Example::

    from rxfeeds import ops
    client.book("XBT/USD").pipe(ops.order_book(depth=10), ops.latest())

Each operator module's docstring has a marble sketch.
"""

from __future__ import annotations

# Importing each operator here (after its module) keeps ``ops.<name>`` the function: a plain
# submodule import would otherwise bind the module object under the same name.
from .buffer_bounded import buffer_bounded
from .klines import klines
from .latest import latest
from .of_channel import of_channel
from .of_type import of_type
from .order_book import OrderBook, order_book
from .publish import publish
from .reconcile_klines import reconcile_klines
from .record import record
from .resample import resample
from .retry_backoff import retry_backoff
from .stale_after import stale_after

__all__ = [
    "OrderBook",
    "buffer_bounded",
    "klines",
    "latest",
    "of_channel",
    "of_type",
    "order_book",
    "publish",
    "reconcile_klines",
    "record",
    "resample",
    "retry_backoff",
    "stale_after",
]
