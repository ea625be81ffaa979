"""Order-level codecs mark message boundaries (``BookOrder.frame_end``) so ``order_book`` can publish
whole messages only (issue 16, defect 3)."""

from __future__ import annotations

from typing import Any

import orjson
import reactivex as rx

from rxfeeds.books.book import OrderBook
from rxfeeds.events import BookOrder
from rxfeeds.ops.order_book import order_book
from rxfeeds.venues.bitshares.codec import BitSharesCodec
from rxfeeds.venues.midchains.codec import MidchainsCodec
from tests.support.bitshares import ASSETS, events, limit_order, notice, open_market, reply


def midchains_book(entries: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"security": "LTCUSD", "books": entries, "type": "book"})


def mc_entry(oid: int, side: str = "B", act: str = "U", price: str = "184.3", qty: str = "1") -> dict[str, Any]:
    return {"side": side, "act": act, "src": "CROX", "price": price, "qty": qty, "id": oid, "time": "1614331055706"}


def book_orders(messages: list[Any]) -> list[BookOrder]:
    return [e for m in messages for e in m.events if isinstance(e, BookOrder)]


def test_midchains_marks_the_last_order_of_each_message() -> None:
    codec = MidchainsCodec()
    codec.subscribe_frames(("book", "LTCUSD"))
    summary = {"side": "summary", "bid": "1"}  # a "side" summary entry is not an order
    image = book_orders(codec.decode(midchains_book([mc_entry(1), mc_entry(2, "S", price="185"), summary]), 1.0))
    assert [(o.order_id, o.snapshot, o.frame_end) for o in image] == [("1", True, False), ("2", True, True)]
    update = book_orders(codec.decode(midchains_book([mc_entry(1, act="R"), mc_entry(3), mc_entry(4)]), 2.0))
    assert [(o.order_id, o.snapshot, o.frame_end) for o in update] == [
        ("1", False, False),
        ("3", False, False),
        ("4", False, True),
    ]


def test_midchains_empty_image_still_starts_the_book() -> None:
    codec = MidchainsCodec()
    codec.subscribe_frames(("book", "LTCUSD"))
    (marker,) = book_orders(codec.decode(midchains_book([]), 1.0))
    assert marker.snapshot and marker.removed and marker.frame_end and marker.order_id == ""


def test_bitshares_notice_is_one_message_with_its_last_order_marked() -> None:
    codec = BitSharesCodec()
    key = ("market", "BTS:USD")
    ids = open_market(codec, key)
    codec.decode(reply(ids["lookup_asset_symbols"], ASSETS), 1.0)
    bid1 = limit_order("1.7.1", (2_000_000, "1.3.0"), (10_000, "1.3.121"), 1_000_000)
    bid2 = limit_order("1.7.2", (1_900_000, "1.3.0"), (10_000, "1.3.121"), 1_000_000)
    image = events(codec.decode(reply(ids["get_limit_orders"], [bid1, bid2]), 1.0), key)
    assert [(o.order_id, o.snapshot, o.frame_end) for o in image] == [("1.7.1", True, False), ("1.7.2", True, True)]
    ask = limit_order("1.7.3", (30_000, "1.3.121"), (6_600_000, "1.3.0"), 30_000)
    call_order = {
        "id": "1.8.4",
        "borrower": "1.2.6",
        "collateral": "500000000",
        "debt": "100000",
        "call_price": {"base": {"amount": 1, "asset_id": "1.3.0"}, "quote": {"amount": 1, "asset_id": "1.3.121"}},
    }
    # two update lists in one notice, the last item not an order: one message, one frame end
    messages = codec.decode(notice(4, [ask, "1.7.1"], [call_order]), 2.0)
    assert len(messages) == 1
    orders = book_orders(messages)
    assert [(o.order_id, o.removed, o.frame_end) for o in orders] == [("1.7.3", False, False), ("1.7.1", True, True)]


def test_bitshares_empty_market_image_still_starts_the_book() -> None:
    codec = BitSharesCodec()
    key = ("market", "BTS:USD")
    ids = open_market(codec, key)
    codec.decode(reply(ids["lookup_asset_symbols"], ASSETS), 1.0)
    (marker,) = events(codec.decode(reply(ids["get_limit_orders"], []), 1.0), key)
    assert isinstance(marker, BookOrder) and marker.snapshot and marker.removed and marker.frame_end


def test_an_empty_image_gives_a_synced_empty_book() -> None:
    codec = MidchainsCodec()
    codec.subscribe_frames(("book", "LTCUSD"))
    orders = book_orders(codec.decode(midchains_book([]), 1.0))
    orders += book_orders(codec.decode(midchains_book([mc_entry(7)]), 2.0))
    out: list[Any] = []
    rx.from_iterable(orders).pipe(order_book()).subscribe(out.append)
    books = [v for v in out if isinstance(v, OrderBook)]
    assert [(b.synced, b.bids) for b in books] == [(True, ()), (True, ((184.3, 1.0),))]
