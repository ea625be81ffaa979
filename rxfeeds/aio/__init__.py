"""The asyncio door: ``async for``, ``await first/collect`` and awaitable requests over rxfeeds Observables.

rxfeeds Observables deliver on their socket thread.  An asyncio program must not touch its
event loop from that thread, and reactivex's own ``await observable`` does exactly that: it
resolves a future from the socket thread without waking the loop, so the ``await`` returns
only when something else happens to wake it (seconds later, or never).  Everything here hands
values to the loop with ``loop.call_soon_threadsafe``: the loop wakes at once, nothing polls.

* ``async for value in iterate(observable, buffer=..., overflow=...)``: a bounded buffer
  between the socket thread and your loop, with an explicit policy for a slow consumer
  (``"latest"``, ``"drop"``, ``"error"``, ``"block"``) and counters (:meth:`Iteration.stats`);
  errors are raised at the ``async for``; ``break``, cancellation, an exception in the loop
  body or the end of the task unsubscribe.
* ``await first(observable, timeout=...)``, ``await last(...)`` and
  ``await collect(observable, n=..., duration=...)``.
* Requests (order entry, RPC calls, pings) of every client are :class:`AwaitableObservable`:
  ``await kraken.ping()`` works, and is still an Observable.
* ``async with rxfeeds.Kraken() as kraken:`` closes every socket on exit.

They work on any running loop (the standard one, uvloop, a Jupyter kernel's loop with
top-level ``await``), in several loops on several threads at once: each call binds to the loop
running it.

Example::

    import asyncio, rxfeeds
    from rxfeeds import aio, ops

    async def main():
        async with rxfeeds.Kraken() as kraken:
            print(await kraken.ping())
            books = kraken.book("XBT/USD", depth=10).pipe(ops.order_book())
            async for book in aio.iterate(books, buffer=1, overflow="latest"):
                print(book.best_bid, book.best_ask)

    asyncio.run(main())
"""

from __future__ import annotations

from ..errors import BufferOverflow
from ..ops.buffer_bounded import DeliveryStats
from .blocking import run_blocking
from .errors import AwaitTimeout, EmptyStream
from .gathering import collect, first, last
from .iteration import OVERFLOWS, Iteration, Overflow, iterate
from .requests import AwaitableObservable, awaitable

__all__ = [
    "iterate",
    "Iteration",
    "first",
    "last",
    "collect",
    "awaitable",
    "AwaitableObservable",
    "Overflow",
    "OVERFLOWS",
    "BufferOverflow",
    "DeliveryStats",
    "AwaitTimeout",
    "EmptyStream",
    "run_blocking",
]
