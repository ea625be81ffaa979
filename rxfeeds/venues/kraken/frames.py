"""Kraken v1 wire vocabulary and outgoing frames: channel names, subscribe and order-entry frames.

Pure functions and constants shared by the codec and the clients (no decoding here).

Example:
    >>> subscribe_frame((book_channel(10), "XBT/USD"))
    '{"event":"subscribe","pair":["XBT/USD"],"subscription":{"name":"book","depth":10}}'
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from ...codec import Key
from ...events import Side

__all__ = [
    "VENUE",
    "BOOK_DEPTHS",
    "OHLC_INTERVALS",
    "PRIVATE_CHANNELS",
    "SIDES",
    "book_channel",
    "ohlc_channel",
    "subscription_of",
    "subscribe_frame",
    "request_frame",
    "status_key",
]

VENUE: Final = "kraken"
#: Book depths Kraken v1 accepts.
BOOK_DEPTHS: Final = (10, 25, 100, 500, 1000)
#: OHLC interval (minutes) -> canonical interval name.
OHLC_INTERVALS: Final[dict[int, str]] = {
    1: "1m",
    5: "5m",
    15: "15m",
    30: "30m",
    60: "1h",
    240: "4h",
    1440: "1d",
    10080: "1w",
    21600: "15d",
}
PRIVATE_CHANNELS: Final = ("ownTrades", "openOrders")
#: Wire side (trades use ``b``/``s``, private records ``buy``/``sell``) -> canonical side.
SIDES: Final[dict[str, Side]] = {"b": "buy", "s": "sell", "buy": "buy", "sell": "sell"}


def book_channel(depth: int) -> str:
    """Channel name of a book subscription.

    Example:
        >>> book_channel(25)
        'book-25'
    """
    return f"book-{depth}"


def ohlc_channel(interval: int) -> str:
    """Channel name of an OHLC subscription (``interval`` in minutes).

    Example:
        >>> ohlc_channel(60)
        'ohlc-60'
    """
    return f"ohlc-{interval}"


def subscription_of(channel: str) -> dict[str, Any]:
    """The ``subscription`` object of a subscribe message for a channel name.

    Example:
        >>> subscription_of("ohlc-5"), subscription_of("trade")
        ({'name': 'ohlc', 'interval': 5}, {'name': 'trade'})
    """
    name, dash, option = channel.partition("-")
    if dash and name == "book" and option.isdigit():
        return {"name": "book", "depth": int(option)}
    if dash and name == "ohlc" and option.isdigit():
        return {"name": "ohlc", "interval": int(option)}
    return {"name": channel}


def subscribe_frame(key: Key, event: str = "subscribe", token: str | None = None, reqid: int | None = None) -> str:
    """The (un)subscribe frame for one key; private channels need ``token``.

    Example:
        >>> subscribe_frame(("trade", "XBT/USD"), "unsubscribe")
        '{"event":"unsubscribe","pair":["XBT/USD"],"subscription":{"name":"trade"}}'
    """
    channel, pair = key
    message: dict[str, Any] = {"event": event}
    if pair:
        message["pair"] = [pair]
    subscription = subscription_of(channel)
    if token is not None:
        subscription["token"] = token
    message["subscription"] = subscription
    if reqid is not None:
        message["reqid"] = reqid
    return orjson.dumps(message).decode()


def request_frame(event: str, reqid: int, token: str | None, fields: dict[str, Any]) -> str:
    """An order-entry frame: ``{"event": event, "token": ..., "reqid": ..., **fields}``.

    ``None`` fields are left out.

    Example:
        >>> request_frame("cancelAll", 7, "T", {})
        '{"event":"cancelAll","token":"T","reqid":7}'
    """
    message: dict[str, Any] = {"event": event}
    if token is not None:
        message["token"] = token
    message["reqid"] = reqid
    for name, value in fields.items():
        if value is not None:
            message[name] = value
    return orjson.dumps(message).decode()


def status_key(message: dict[str, Any]) -> Key:
    """The routing key a ``subscriptionStatus`` message is about.

    Example:
        >>> status_key({"pair": "XBT/USD", "subscription": {"name": "book", "depth": 25}})
        ('book-25', 'XBT/USD')
    """
    channel = message.get("channelName")
    if not channel:
        subscription = message.get("subscription") or {}
        name = subscription.get("name") or ""
        if name == "book":
            channel = book_channel(subscription.get("depth", 10))
        elif name == "ohlc":
            channel = ohlc_channel(subscription.get("interval", 1))
        else:
            channel = name
    return (str(channel), str(message.get("pair") or ""))
