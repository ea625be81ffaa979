"""Kraken v1's own event types: the system status, connection errors and the user's fills.

Example:
    >>> KrakenStatus("kraken", "", 1.0, 1.0, kind="systemStatus", status="online").status
    'online'
"""

from __future__ import annotations

from dataclasses import dataclass

from ...events import Side, VenueEvent

__all__ = ["KrakenStatus", "KrakenError", "OwnTrade"]


@dataclass(frozen=True, slots=True)
class KrakenStatus(VenueEvent):
    """``systemStatus``: ``status`` is ``online``, ``maintenance``, ``cancel_only`` or ``post_only``.

    ``connection_id`` is exact even above 2**63.

    Example:
        >>> KrakenStatus("kraken", "", 1.0, 1.0, kind="systemStatus", status="online").status
        'online'
    """

    status: str = ""
    version: str = ""
    connection_id: int | None = None


@dataclass(frozen=True, slots=True)
class KrakenError(VenueEvent):
    """A connection-level error from Kraken (``{"event":"error"}``, ``{"Error":"Exceeded msg rate"}``).

    Example:
        >>> KrakenError("kraken", "", 1.0, 1.0, kind="error", message="Exceeded msg rate").message
        'Exceeded msg rate'
    """

    message: str = ""


@dataclass(frozen=True, slots=True)
class OwnTrade(VenueEvent):
    """One of the user's fills (``ownTrades``); ``data`` keeps Kraken's full record.

    Example:
        >>> OwnTrade("kraken", "XBT/USD", 1.0, 1.0, kind="ownTrade", trade_id="T1", price=2.0).price
        2.0
    """

    trade_id: str = ""
    order_id: str = ""
    side: Side | None = None
    price: float = 0.0
    size: float = 0.0
    fee: float = 0.0
    cost: float = 0.0
    sequence: int | None = None
