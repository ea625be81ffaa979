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

from typing import TYPE_CHECKING, Any

from . import errors, events
from .errors import RxfeedsError

if TYPE_CHECKING:  # the real types for mypy/pyright; at run time the clients load on first use
    from . import aio, ops
    from .capture.replay import replay
    from .runner import RunResult, run
    from .venues.binance_dex.client import BinanceDex
    from .venues.binance_spot.client import BinanceSpot
    from .venues.bitshares.client import BitShares
    from .venues.bybit.client import Bybit, BybitLinear
    from .venues.coinbase.client import Coinbase
    from .venues.hitbtc.client import HitBTC
    from .venues.hitbtc.client_v3 import HitBTCV3
    from .venues.kraken.client import Kraken
    from .venues.kraken.client_v2 import KrakenV2
    from .venues.midchains.client import Midchains
    from .venues.okx.client import OKX

__version__ = "0.1.0"

__all__ = [
    "events",
    "errors",
    "RxfeedsError",
    "ops",
    "aio",
    "run",
    "RunResult",
    "replay",
    "BinanceDex",
    "BinanceSpot",
    "BitShares",
    "Bybit",
    "BybitLinear",
    "Coinbase",
    "HitBTC",
    "HitBTCV3",
    "Kraken",
    "KrakenV2",
    "Midchains",
    "OKX",
]


def _exports() -> dict[str, str]:
    # top-level client names come from the venue specs (``VenueSpec.export``), third parties' too
    from .venues.registry import specs

    table = {v.export: v.client for v in specs().values() if v.export}
    table["replay"] = "rxfeeds.capture.replay:replay"
    return table


def __getattr__(name: str) -> Any:
    if name in ("ops", "aio"):
        import importlib

        return importlib.import_module(f"rxfeeds.{name}")
    if name in ("run", "RunResult"):
        from . import runner

        globals()[name] = value = getattr(runner, name)
        return value
    target = _exports().get(name)
    if target is not None:
        from .venues import load

        value = load(target)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rxfeeds' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_exports()})
