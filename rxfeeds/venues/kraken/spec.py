"""Kraken's venue specs: websocket API v1 (``kraken``) and v2 (``kraken-v2``).

Example:
    >>> [s.name for s in SPECS]
    ['kraken', 'kraken-v2']
"""

from __future__ import annotations

from typing import Any

from ..spec import Channel, VenueSpec
from ..symbols import SymbolNotation

__all__ = ["SPECS", "v1_for_simulator", "v2_for_simulator"]


def v1_for_simulator(sim: Any, **options: Any) -> Any:
    """A :class:`Kraken` client on a running ``KrakenSim`` (public and private endpoints)."""
    from .client import Kraken

    return Kraken(url=sim.url, auth_url=sim.url, **options)


def v2_for_simulator(sim: Any, **options: Any) -> Any:
    """A :class:`KrakenV2` client on a running ``KrakenV2Sim``."""
    from .client_v2 import KrakenV2

    return KrakenV2(url=sim.url, auth_url=sim.url, **options)


#: Kraken's pair spelling (both API versions); clients check symbols against it
PAIR_PATTERN = r"[A-Z0-9]{1,12}/[A-Z0-9]{1,12}"

_CHANNELS = (
    Channel("book", ("BookSnapshot", "BookDelta"), book="checksum"),
    Channel("trades", ("Trade",)),
    Channel("ticker", ("Ticker",)),
    Channel("klines", ("Kline",), aliases=("ohlc",)),
    Channel("spread", ("Quote",)),
)

SPECS = (
    VenueSpec(
        name="kraken",
        symbol_notation=SymbolNotation("{base}/{quote}", {"BTC": "XBT", "DOGE": "XDG"}, pattern=PAIR_PATTERN),
        pair_example="BTC/USD",
        title="Kraken (v1)",
        client="rxfeeds.venues.kraken.client:Kraken",
        codec="rxfeeds.venues.kraken.codec:KrakenCodec",
        simulator="rxfeeds.sim.kraken:KrakenSim",
        sim_client="rxfeeds.venues.kraken.spec:v1_for_simulator",
        status="live",
        notes="WS v1, frozen by Kraken",
        export="Kraken",
        channels=_CHANNELS,
        symbol_example="XBT/USD",
        requests=("ping",),
        trading=(
            "own_trades",
            "open_orders",
            "add_order",
            "edit_order",
            "cancel_order",
            "cancel_all",
            "cancel_all_orders_after",
        ),
        hosts=(("ws.kraken.com", ""), ("ws-auth.kraken.com", "")),
        docs="venues/kraken.md",
    ),
    VenueSpec(
        name="kraken-v2",
        symbol_notation=SymbolNotation("{base}/{quote}", pattern=PAIR_PATTERN),
        pair_example="BTC/USD",
        title="Kraken (v2)",
        client="rxfeeds.venues.kraken.client_v2:KrakenV2",
        codec="rxfeeds.venues.kraken.codec_v2:KrakenV2Codec",
        simulator="rxfeeds.sim.kraken_v2:KrakenV2Sim",
        sim_client="rxfeeds.venues.kraken.spec:v2_for_simulator",
        status="live",
        notes="WS v2",
        export="KrakenV2",
        channels=_CHANNELS,
        symbol_example="BTC/USD",
        requests=("ping",),
        trading=(
            "executions",
            "balances",
            "add_order",
            "amend_order",
            "edit_order",
            "batch_add",
            "batch_cancel",
            "cancel_order",
            "cancel_all",
            "cancel_all_orders_after",
        ),
        # listed before v1's hosts: the path tells the versions apart
        hosts=(("ws.kraken.com", "/v2"), ("ws-auth.kraken.com", "/v2")),
        docs="venues/kraken-v2.md",
    ),
)
