"""rxfeeds: exchange websocket feeds as ReactiveX Observables.

Example::

    import rxfeeds
    from rxfeeds import ops

    kraken = rxfeeds.Kraken()
    books = kraken.book("XBT/USD", depth=10).pipe(ops.order_book())
    rxfeeds.run(books, lambda book: print(book.best_bid))   # blocks until Ctrl-C

``rxfeeds.run`` blocks a script until Ctrl-C or ``duration=`` (``subscribe`` alone returns at
once).  Callbacks run on the socket's thread; use ``observe_on`` (or the helpers in
``rxfeeds.notebook``) to move them elsewhere, and ``rxfeeds.aio`` for asyncio
(``async for``, ``await``).  Venue clients are imported lazily.
"""

from __future__ import annotations

from typing import Any

from . import errors, events
from .errors import RxfeedsError

__version__ = "0.1.0"

_CLIENTS = {
    "Kraken": "rxfeeds.venues.kraken.client:Kraken",
    "KrakenV2": "rxfeeds.venues.kraken.client_v2:KrakenV2",
    "HitBTC": "rxfeeds.venues.hitbtc.client:HitBTC",
    "HitBTCV3": "rxfeeds.venues.hitbtc.client_v3:HitBTCV3",
    "BinanceDex": "rxfeeds.venues.binance_dex.client:BinanceDex",
    "BinanceSpot": "rxfeeds.venues.binance_spot.client:BinanceSpot",
    "BitShares": "rxfeeds.venues.bitshares.client:BitShares",
    "Midchains": "rxfeeds.venues.midchains.client:Midchains",
    "replay": "rxfeeds.capture.replay:replay",
}

__all__ = ["events", "errors", "RxfeedsError", "ops", "aio", "run", "RunResult", *_CLIENTS]


def __getattr__(name: str) -> Any:
    if name in ("ops", "aio"):
        import importlib

        return importlib.import_module(f"rxfeeds.{name}")
    if name in ("run", "RunResult"):
        from . import runner

        globals()[name] = value = getattr(runner, name)
        return value
    if name in _CLIENTS:
        from .venues import load

        value = load(_CLIENTS[name])
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rxfeeds' has no attribute {name!r}")
