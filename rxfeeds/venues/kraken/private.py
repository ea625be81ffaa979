"""Kraken v1 private channels (``ownTrades``, ``openOrders``): records to events, sequence gaps.

Each channel's ``sequence`` is checked: a gap appends an :class:`~rxfeeds.events.IntegrityEvent`
(``kind="gap"``) after the message that revealed it (the client then resubscribes).

Example:
    >>> sequences: dict[str, int] = {}
    >>> record = {"ordertxid": "O1", "pair": "XBT/USD", "time": "1.5", "type": "buy", "price": "2", "vol": "1"}
    >>> [m] = decode_private(sequences, [[{"T1": record}], "ownTrades", {"sequence": 1}], 9.0)
    >>> m.key, m.events[0].trade_id, m.events[0].side, sequences
    (('ownTrades', ''), 'T1', 'buy', {'ownTrades': 1})
"""

from __future__ import annotations

from typing import Any

from ...codec import Data, Message
from ...events import Event, IntegrityEvent, OrderUpdate
from ...numeric import finite, opt_size, seconds, size
from .events import OwnTrade
from .frames import SIDES as _SIDES
from .frames import VENUE

__all__ = ["decode_private"]

_float_or_none = opt_size


def _time(text: str) -> float:
    return seconds(float(text))


def decode_private(sequences: dict[str, int], message: list[Any], recv_time: float) -> list[Message]:
    """Events of a private data frame ``[records, channelName, {"sequence": n}]`` (channel checked by the caller).

    ``sequences`` holds the last sequence seen per channel and is updated.
    """
    channel: str = message[-2]
    info: dict[str, Any] = message[-1]
    sequence = info.get("sequence")
    events: list[Event] = []
    gap: IntegrityEvent | None = None
    if sequence is not None:
        sequence = int(sequence)
        previous = sequences.get(channel)
        if previous is not None and sequence != previous + 1:
            detail = f"expected {previous + 1}, got {sequence}"
            gap = IntegrityEvent(VENUE, "", recv_time, recv_time, kind="gap", detail=detail)
        sequences[channel] = sequence
    records = message[0]
    if channel == "ownTrades":
        for entry in records:
            for trade_id, record in entry.items():
                events.append(_own_trade(trade_id, record, sequence, recv_time))
    else:
        for entry in records:
            for order_id, record in entry.items():
                events.append(_order_update(order_id, record, recv_time))
    if gap is not None:
        # after the message that revealed it, so a resubscription starts a clean stream
        events.append(gap)
    return [Data((channel, ""), events)]


def _own_trade(trade_id: str, record: dict[str, Any], sequence: int | None, recv_time: float) -> OwnTrade:
    time_text = record.get("time")
    return OwnTrade(
        VENUE,
        str(record.get("pair", "")),
        _time(time_text) if time_text is not None else recv_time,
        recv_time,
        kind="ownTrade",
        data=record,
        trade_id=trade_id,
        order_id=str(record.get("ordertxid", "")),
        side=_SIDES.get(record.get("type", "")),
        price=size(record.get("price", 0.0)),
        size=size(record.get("vol", 0.0)),
        fee=finite(record.get("fee", 0.0)),  # signed: a maker rebate must not lose the fill
        cost=size(record.get("cost", 0.0)),
        sequence=sequence,
    )


def _order_update(order_id: str, record: dict[str, Any], recv_time: float) -> OrderUpdate:
    descr = record.get("descr") or {}
    stamp = record.get("lastupdated") or record.get("opentm")
    price = descr.get("price")
    return OrderUpdate(
        VENUE,
        str(descr.get("pair", "")),
        _time(stamp) if stamp is not None else recv_time,
        recv_time,
        order_id=order_id,
        status=str(record.get("status", "")),
        client_order_id=str(record["userref"]) if record.get("userref") is not None else None,
        side=_SIDES.get(descr.get("type", "")),
        price=size(price) if price is not None else None,
        size=_float_or_none(record.get("vol")),
        filled=_float_or_none(record.get("vol_exec")),
        raw=record,
    )
