"""Which channel an event is published on, and which events follow the data's subjects.

A data event goes to the channel of its type (:func:`default_channel`); a marker
(:data:`MARKERS`: ``StreamReset``, ``IntegrityEvent``) concerns a stream rather than carrying
data, so the publisher sends it on the subjects its symbol's data already uses.
"""

from __future__ import annotations

from typing import Any

from ..events import (
    BookDelta,
    BookOrder,
    BookSnapshot,
    ConnectionStatus,
    IntegrityEvent,
    Kline,
    OrderUpdate,
    Quote,
    StreamReset,
    Ticker,
    Trade,
    VenueEvent,
)

__all__ = ["MARKERS", "default_channel"]

_CHANNELS: dict[type[Any], str] = {
    Trade: "trades",
    Quote: "quote",
    Ticker: "ticker",
    Kline: "klines",
    BookSnapshot: "book",
    BookDelta: "book",
    BookOrder: "book",
    OrderUpdate: "orders",
    ConnectionStatus: "status",
}

#: event types that concern a stream rather than carry data: they follow the data's subjects
MARKERS = (StreamReset, IntegrityEvent)


def default_channel(event: Any) -> str:
    """The channel an event is published on when ``ops.publish`` is given none.

    Example:
        >>> from rxfeeds.events import Trade, VenueEvent
        >>> default_channel(Trade("kraken", "XBT/USD", 1.0, 1.0, price=1.0, size=1.0))
        'trades'
        >>> default_channel(VenueEvent("bitshares", "", 1.0, 1.0, kind="block"))
        'block'
    """
    found = _CHANNELS.get(type(event))
    if found is not None:
        return found
    if isinstance(event, VenueEvent):
        return event.kind or "events"
    for cls, name in _CHANNELS.items():
        if isinstance(event, cls):
            return name
    return "events"
