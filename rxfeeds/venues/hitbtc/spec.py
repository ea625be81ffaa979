"""HitBTC's venue specs: socket API v2 (``hitbtc``, retired) and API v3 (``hitbtc-v3``).

Example:
    >>> [(s.name, s.status) for s in SPECS]
    [('hitbtc', 'retired'), ('hitbtc-v3', 'live')]
"""

from __future__ import annotations

from typing import Any

from ..spec import Channel, VenueSpec
from ..symbols import SymbolNotation

#: HitBTC symbols as the venue accepts them (case kept: the venue answers unknown spellings itself)
SYMBOL_PATTERN = r"[A-Za-z0-9_.\-]{1,40}"

__all__ = ["SPECS", "v2_for_simulator", "v3_for_simulator"]


def v2_for_simulator(sim: Any, **options: Any) -> Any:
    """A :class:`HitBTC` client on a running ``HitBTCSim`` (market data and trading sockets)."""
    from .client import HitBTC

    return HitBTC(sim.public_url, trading_url=sim.trading_url, **options)


def v3_for_simulator(sim: Any, **options: Any) -> Any:
    """A :class:`HitBTCV3` client on a running ``HitBTCV3Sim``."""
    from .client_v3 import HitBTCV3

    return HitBTCV3(sim.public_url, trading_url=sim.trading_url, **options)


_CHANNELS = (
    Channel("book", ("BookSnapshot", "BookDelta"), book="sequence", aliases=("orderbook",)),
    Channel("trades", ("Trade",)),
    Channel("ticker", ("Ticker",)),
    Channel("klines", ("Kline",), aliases=("candles",)),
)
_REQUESTS = ("symbols", "symbol", "currencies", "currency", "trades_history")
_TRADING = (
    "reports",
    "balance",
    "transactions",
    "trading_balance",
    "active_orders",
    "new_order",
    "cancel_order",
    "replace_order",
)

SPECS = (
    VenueSpec(
        name="hitbtc",
        symbol_notation=SymbolNotation("{base}{quote}", pattern=SYMBOL_PATTERN, upper=False),
        pair_example="ETH/BTC",
        title="HitBTC (v2)",
        client="rxfeeds.venues.hitbtc.client:HitBTC",
        codec="rxfeeds.venues.hitbtc.codec:HitBTCCodec",
        simulator="rxfeeds.sim.hitbtc:HitBTCSim",
        sim_client="rxfeeds.venues.hitbtc.spec:v2_for_simulator",
        status="retired",
        notes="socket API v2, gone since 2023; simulation and replay",
        export="HitBTC",
        channels=_CHANNELS,
        symbol_example="ETHBTC",
        requests=_REQUESTS,
        trading=_TRADING,
        hosts=(("api.hitbtc.com", ""),),
        docs="venues/hitbtc.md",
    ),
    VenueSpec(
        name="hitbtc-v3",
        symbol_notation=SymbolNotation("{base}{quote}", pattern=SYMBOL_PATTERN, upper=False),
        pair_example="ETH/BTC",
        title="HitBTC (v3)",
        client="rxfeeds.venues.hitbtc.client_v3:HitBTCV3",
        codec="rxfeeds.venues.hitbtc.codec_v3:HitBTCV3Codec",
        simulator="rxfeeds.sim.hitbtc_v3:HitBTCV3Sim",
        sim_client="rxfeeds.venues.hitbtc.spec:v3_for_simulator",
        status="live",
        notes="socket API v3",
        export="HitBTCV3",
        channels=_CHANNELS,
        symbol_example="ETHBTC",
        requests=_REQUESTS,
        trading=_TRADING,
        hosts=(("api.hitbtc.com", "/api/3"),),
        docs="venues/hitbtc-v3.md",
    ),
)
