"""Bybit v5 public venue specs: the spot endpoint (``bybit``) and the linear one (``bybit-linear``).

Two venues rather than one with a category option: a symbol such as ``BTCUSDT`` names a spot
pair on one endpoint and a perpetual on the other, so the venue name says which market a
command, a capture or an event means (``rxfeeds watch bybit-linear book BTC/USDT``).

Example:
    >>> [(s.name, s.book_channel.book) for s in SPECS]
    [('bybit', 'sequence'), ('bybit-linear', 'sequence')]
"""

from __future__ import annotations

from typing import Any

from ..spec import Channel, VenueSpec
from ..symbols import SymbolNotation

__all__ = ["SPECS", "for_simulator"]


def for_simulator(sim: Any, **options: Any) -> Any:
    """The client of the simulator's category (``BybitSim`` or ``BybitLinearSim``) on its URL."""
    from .client import Bybit, BybitLinear

    cls = BybitLinear if sim.category == "linear" else Bybit
    return cls(url=sim.url, **options)


#: Bybit symbols: letters and digits, dated futures with a ``-`` (``BTCUSDT-27DEC24``)
SYMBOL_PATTERN = r"[A-Z0-9]{2,30}(?:-[A-Z0-9]{2,12})?"
#: spot pairs never have the ``-``: ``BTC-USDT`` (OKX's, Coinbase's spelling) is refused at once
SPOT_SYMBOL_PATTERN = r"[A-Z0-9]{2,30}"

_CHANNELS = (
    Channel("book", ("BookSnapshot", "BookDelta"), book="sequence", aliases=("orderbook",)),
    Channel("trades", ("Trade",)),
    Channel("ticker", ("Ticker",), aliases=("tickers",)),
    Channel("klines", ("Kline",), aliases=("kline",)),
)

SPECS = (
    VenueSpec(
        name="bybit",
        symbol_notation=SymbolNotation("{base}{quote}", pattern=SPOT_SYMBOL_PATTERN),
        pair_example="BTC/USDT",
        title="Bybit v5 (spot)",
        client="rxfeeds.venues.bybit.client:Bybit",
        codec="rxfeeds.venues.bybit.codec:BybitCodec",
        simulator="rxfeeds.sim.bybit:BybitSim",
        sim_client="rxfeeds.venues.bybit.spec:for_simulator",
        status="live",
        notes="v5 public spot; u-numbered book",
        export="Bybit",
        channels=_CHANNELS,
        symbol_example="BTCUSDT",
        requests=("ping",),
        hosts=(("stream.bybit.com", "/v5/public/spot"), ("stream-testnet.bybit.com", "/v5/public/spot")),
        docs="venues/bybit.md",
    ),
    VenueSpec(
        name="bybit-linear",
        symbol_notation=SymbolNotation("{base}{quote}", pattern=SYMBOL_PATTERN),
        pair_example="BTC/USDT",
        title="Bybit v5 (linear)",
        client="rxfeeds.venues.bybit.client:BybitLinear",
        codec="rxfeeds.venues.bybit.codec:BybitLinearCodec",
        simulator="rxfeeds.sim.bybit:BybitLinearSim",
        sim_client="rxfeeds.venues.bybit.spec:for_simulator",
        status="live",
        notes="v5 public USDT/USDC perpetuals and futures",
        export="BybitLinear",
        channels=_CHANNELS,
        symbol_example="BTCUSDT",
        requests=("ping",),
        hosts=(("stream.bybit.com", "/v5/public/linear"), ("stream-testnet.bybit.com", "/v5/public/linear")),
        docs="venues/bybit-linear.md",
    ),
)
