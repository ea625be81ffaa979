"""The BitShares market decoder: limit orders, removals, call orders and fills of one market.

Prices are in base per quote and sizes in quote units; chain amounts are integers of an asset's
smallest unit (``10 ** precision``), checked for range before any division.  A market's notices
before its assets are known wait in :attr:`Market.early` (bounded), and order notices before
the first image are covered by it (the node answers in order).

Example:
    >>> m = Market(("market", "BTS:USD"), 4)
    >>> apply_assets(m, [{"id": "1.3.0", "symbol": "BTS", "precision": 5},
    ...                  {"id": "1.3.121", "symbol": "USD", "precision": 4}])
    >>> (m.base.scale, m.quote.scale)
    (100000.0, 10000.0)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ...codec import Data, Key, Message
from ...events import BookOrder, Event, Side
from ...numeric import MAX_TEXT, BadValue
from ...numeric import price as check_price
from ...numeric import size as check_size
from .constants import VENUE
from .events import CallOrderUpdate, ObjectUpdate, OrderFill

__all__ = ["EARLY_LIMIT", "Asset", "Market", "apply_assets", "decode_items", "release_early"]

#: notices kept per market while its assets are unknown (a node that never answers must not grow memory)
EARLY_LIMIT = 1000


def _amount(value: Any) -> int:
    """A chain amount (an int64 of the asset's smallest unit), checked: not negative, in range."""
    # Big integers arrive as JSON strings; a float or bool is not an amount.
    kind = type(value)
    if kind is str:
        if len(value) > MAX_TEXT:
            raise BadValue("amount text too long")
        value = int(value)
    elif kind is not int:
        raise BadValue(f"amount is a {kind.__name__}, not an integer")
    if 0 <= value < _MAX_AMOUNT:
        return value  # type: ignore[no-any-return]
    raise BadValue(f"amount out of range: {value!r}"[:100])


_MAX_AMOUNT = 2**63


def _scale(precision: Any) -> float:
    """``10 ** precision`` of an asset; BitShares precisions are 0 to 12 (bounded, so no overflow)."""
    if type(precision) is not int or not 0 <= precision <= 18:
        raise BadValue(f"asset precision out of range: {precision!r}"[:100])
    return 10.0**precision


@dataclass(slots=True)
class Asset:
    """An asset of a market: chain id, symbol and ``10 ** precision``."""

    asset_id: str
    symbol: str
    scale: float  # 10 ** precision


class Market:
    """Per-market state: asset info (from ``lookup_asset_symbols``), order sides, early notices."""

    __slots__ = ("base", "callback", "early", "imaged", "key", "orders", "quote")

    def __init__(self, key: Key, callback: int) -> None:
        self.key = key
        self.callback = callback
        self.base: Asset | None = None
        self.quote: Asset | None = None
        self.orders: dict[str, tuple[Side, float]] = {}
        self.early: list[tuple[list[Any], float, bool]] = []
        # Order notices before the first image are covered by it (the node answers in order).
        self.imaged = False


def apply_assets(market: Market, result: Any) -> str | None:
    """Set the market's assets from a ``lookup_asset_symbols`` reply; the refusal reason if unknown."""
    base, _, quote = market.key[1].partition(":")
    if not isinstance(result, list) or len(result) != 2 or result[0] is None or result[1] is None:
        unknown = [n for n, a in zip((base, quote), result or [None, None], strict=False) if a is None]
        return f"unknown asset(s): {', '.join(unknown) or market.key[1]}"
    market.base = Asset(result[0]["id"], result[0]["symbol"], _scale(result[0]["precision"]))
    market.quote = Asset(result[1]["id"], result[1]["symbol"], _scale(result[1]["precision"]))
    return None


def release_early(market: Market) -> list[Message]:
    """The messages of the notices that waited for the market's assets (emptying the wait list)."""
    out: list[Message] = []
    early, market.early = market.early, []
    for items, recv_time, snapshot in early:
        out.extend(decode_items(market, items, recv_time, snapshot))
    return out


def decode_items(market: Market, items: list[Any], recv_time: float, snapshot: bool) -> list[Message]:
    """One market notice (or the ``get_limit_orders`` image when ``snapshot``) as one ``Data`` message.

    Before the market's assets are known the items wait in ``market.early`` (bounded).
    """
    base, quote = market.base, market.quote
    if base is None or quote is None:
        if len(market.early) < EARLY_LIMIT:  # a node that never answers must not grow memory
            market.early.append((items, recv_time, snapshot))
        return []
    symbol = market.key[1]
    events: list[Event] = []
    orders_wanted = snapshot or market.imaged
    if snapshot:
        market.imaged = True
    for item in items:
        if isinstance(item, str):
            if orders_wanted or not item.startswith("1.7."):
                events.append(_removed(market, item, recv_time))
        elif isinstance(item, dict):
            if "for_sale" in item and "sell_price" in item:
                if orders_wanted:
                    events.append(_limit_order(market, base, quote, item, recv_time, snapshot))
            elif "collateral" in item and "call_price" in item:
                events.append(_call_order(symbol, base, quote, item, recv_time))
            elif "id" in item:
                events.append(
                    ObjectUpdate(
                        VENUE,
                        symbol,
                        recv_time,
                        recv_time,
                        kind="object",
                        data=item,
                        object_id=item["id"],
                    )
                )
        elif isinstance(item, list) and item:
            op = item[0] if isinstance(item[0], list) else item
            if len(op) == 2 and op[0] == 4 and isinstance(op[1], dict):
                events.append(_fill(symbol, base, quote, op[1], recv_time))
    _mark_frame_end(events, symbol, recv_time, snapshot)
    return [Data(market.key, events)] if events else []


def _limit_order(
    market: Market,
    base: Asset,
    quote: Asset,
    order: dict[str, Any],
    recv_time: float,
    snapshot: bool,
) -> BookOrder:
    sell = order["sell_price"]
    sells, wants = sell["base"], sell["quote"]
    for_sale = _amount(order["for_sale"])
    if sells["asset_id"] == base.asset_id:  # pays base for quote: a bid
        side: Side = "buy"
        price = (_amount(sells["amount"]) / base.scale) / (_amount(wants["amount"]) / quote.scale)
        size = for_sale / base.scale / price if price else 0.0
    else:
        side = "sell"
        price = (_amount(wants["amount"]) / base.scale) / (_amount(sells["amount"]) / quote.scale)
        size = for_sale / quote.scale
    # zero amounts divide by zero (caught as FrameError); the range checks catch the rest
    price = check_price(price)
    size = check_size(size)
    order_id = order["id"]
    if type(order_id) is not str:
        raise BadValue("order id is not a string")
    market.orders[order_id] = (side, price)
    return BookOrder(
        VENUE,
        market.key[1],
        recv_time,
        recv_time,
        order_id=order_id,
        side=side,
        price=price,
        size=size,
        snapshot=snapshot,
        frame_end=False,  # _mark_frame_end marks the message's last order
    )


def _removed(market: Market, object_id: str, recv_time: float) -> Event:
    symbol = market.key[1]
    if object_id.startswith("1.7."):
        side, price = market.orders.pop(object_id, ("buy", 0.0))
        return BookOrder(
            VENUE,
            symbol,
            recv_time,
            recv_time,
            order_id=object_id,
            side=side,
            price=price,
            size=0.0,
            removed=True,
            frame_end=False,  # _mark_frame_end marks the message's last order
        )
    if object_id.startswith("1.8."):
        return CallOrderUpdate(VENUE, symbol, recv_time, recv_time, kind="call_order", order_id=object_id, removed=True)
    return ObjectUpdate(VENUE, symbol, recv_time, recv_time, kind="object", object_id=object_id, removed=True)


def _mark_frame_end(events: list[Event], symbol: str, recv_time: float, snapshot: bool) -> None:
    """Set ``frame_end`` on the message's last order (``ops.order_book`` publishes whole messages).

    An image without orders (an empty market) is one removed order with no id, so the book
    still becomes whole.
    """
    for i in range(len(events) - 1, -1, -1):
        ev = events[i]
        if type(ev) is BookOrder:
            events[i] = dataclasses.replace(ev, frame_end=True)
            return
    if snapshot:
        events.append(
            BookOrder(
                VENUE,
                symbol,
                recv_time,
                recv_time,
                order_id="",
                side="buy",
                price=0.0,
                size=0.0,
                removed=True,
                snapshot=True,
            )
        )


def _asset_amount(amount: dict[str, Any], base: Asset, quote: Asset) -> float:
    scale = base.scale if amount["asset_id"] == base.asset_id else quote.scale
    return _amount(amount["amount"]) / scale


def _call_order(symbol: str, base: Asset, quote: Asset, order: dict[str, Any], recv_time: float) -> CallOrderUpdate:
    collateral_asset = order.get("call_price", {}).get("base", {}).get("asset_id", base.asset_id)
    collateral_scale = base.scale if collateral_asset == base.asset_id else quote.scale
    debt_scale = quote.scale if collateral_asset == base.asset_id else base.scale
    return CallOrderUpdate(
        VENUE,
        symbol,
        recv_time,
        recv_time,
        kind="call_order",
        data=order,
        order_id=order["id"],
        borrower=order.get("borrower", ""),
        collateral=check_size(_amount(order["collateral"]) / collateral_scale),
        debt=check_size(_amount(order["debt"]) / debt_scale),
    )


def _fill(symbol: str, base: Asset, quote: Asset, op: dict[str, Any], recv_time: float) -> OrderFill:
    pays, receives = op["pays"], op["receives"]
    pays_amount = _asset_amount(pays, base, quote)
    receives_amount = _asset_amount(receives, base, quote)
    if pays["asset_id"] == base.asset_id:  # paid base, got quote: bought
        side: Side = "buy"
        size, notional = receives_amount, pays_amount
    else:
        side = "sell"
        size, notional = pays_amount, receives_amount
    return OrderFill(
        VENUE,
        symbol,
        recv_time,
        recv_time,
        kind="fill",
        data=op,
        order_id=op.get("order_id", ""),
        account_id=op.get("account_id", ""),
        side=side,
        price=check_size(notional / size) if size else 0.0,
        size=check_size(size),
        is_maker=op.get("is_maker"),
    )
