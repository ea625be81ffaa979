"""OKX's venue spec: the v5 public websocket (``okx``).

Example:
    >>> [s.name for s in SPECS], SPECS[0].channel("book").book
    (['okx'], 'checksum')
"""

from __future__ import annotations

from typing import Any

from ..spec import Channel, VenueSpec
from ..symbols import SymbolNotation

__all__ = ["INSTRUMENT_PATTERN", "SPECS", "for_simulator"]


def for_simulator(sim: Any, **options: Any) -> Any:
    """An :class:`OKX` client on a running ``OKXSim`` (public and business paths)."""
    from .client import OKX

    return OKX(url=sim.url, business_url=sim.business_url, **options)


#: instrument ids: SPOT ``BTC-USDT``, SWAP ``BTC-USDT-SWAP``, FUTURES ``BTC-USD-251226``,
#: OPTION ``BTC-USD-251226-100000-C``
INSTRUMENT_PATTERN = r"[A-Z0-9]{1,15}-[A-Z0-9]{1,15}(?:-[A-Z0-9]{1,15}){0,3}"

SPECS = (
    VenueSpec(
        name="okx",
        symbol_notation=SymbolNotation("{base}-{quote}", pattern=INSTRUMENT_PATTERN),
        pair_example="BTC/USDT",
        title="OKX (v5)",
        client="rxfeeds.venues.okx.client:OKX",
        codec="rxfeeds.venues.okx.codec:OKXCodec",
        simulator="rxfeeds.sim.okx:OKXSim",
        sim_client="rxfeeds.venues.okx.spec:for_simulator",
        status="live",
        notes="WS v5 public; SPOT, SWAP, FUTURES",
        export="OKX",
        channels=(
            Channel("book", ("BookSnapshot", "BookDelta"), book="checksum"),
            Channel("book5", ("BookSnapshot",), book="full-images"),
            Channel("bbo", ("Quote",)),
            Channel("trades", ("Trade",)),
            Channel("ticker", ("Ticker",), aliases=("tickers",)),
            Channel("klines", ("Kline",), aliases=("candles",)),
        ),
        symbol_example="BTC-USDT",
        requests=("ping",),
        hosts=(("ws.okx.com", "/ws/v5"), ("wsaws.okx.com", "/ws/v5"), ("ws.okx.com", "")),
        docs="venues/okx.md",
    ),
)
