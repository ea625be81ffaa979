"""BitShares simulator fidelity (issue 21, item 8): asset objects as the node gives them, and the
database calls real clients use (``get_order_book``, ``get_ticker``, ``get_account_by_name``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import orjson
import pytest
import websocket

from rxfeeds.sim.bitshares import BitSharesSim


@pytest.fixture
def sim() -> Iterator[BitSharesSim]:
    with BitSharesSim(seed=4, tick_interval=None) as srv:
        yield srv
        assert srv.hook_errors == []


@pytest.fixture
def ws(sim: BitSharesSim) -> Iterator[Any]:
    conn = websocket.create_connection(sim.url, timeout=5)
    yield conn
    conn.close()


def call(ws: Any, method: str, *args: Any) -> Any:
    ws.send(orjson.dumps({"method": "call", "params": [0, method, list(args)], "jsonrpc": "2.0", "id": 7}).decode())
    while True:
        reply = orjson.loads(ws.recv())
        if reply.get("id") == 7:
            assert "error" not in reply, reply
            return reply["result"]


def test_asset_objects_carry_options_and_their_data_objects(ws: Any) -> None:
    usd, bts = call(ws, "lookup_asset_symbols", ["USD", "BTS"])
    for asset in (usd, bts):
        options = asset["options"]
        # what python-bitshares' Asset reads on construction
        for field in ("max_supply", "issuer_permissions", "flags", "core_exchange_rate", "description"):
            assert field in options, field
        rate = options["core_exchange_rate"]
        assert {rate["base"]["asset_id"], rate["quote"]["asset_id"]} == {"1.3.0", asset["id"]}
    assert usd["bitasset_data_id"].startswith("2.4.") and "bitasset_data_id" not in bts
    dynamic, bitasset = call(ws, "get_objects", [usd["dynamic_asset_data_id"], usd["bitasset_data_id"]])
    assert dynamic["id"] == usd["dynamic_asset_data_id"] and "current_supply" in dynamic
    assert bitasset["asset_id"] == usd["id"] and "current_feed" in bitasset


def test_get_order_book_matches_the_truth_both_ways_round(sim: BitSharesSim, ws: Any) -> None:
    call(ws, "subscribe_to_market", 4, "BTS", "USD")  # creates the market
    sim.step(5)
    book = call(ws, "get_order_book", "BTS", "USD", 50)
    assert (book["base"], book["quote"]) == ("BTS", "USD") and "time" in book
    for side in (book["bids"], book["asks"]):
        assert side and set(side[0]) == {"price", "quote", "base", "owner_id", "owner_name", "time"}
    bid_prices = [Decimal(o["price"]) for o in book["bids"]]
    ask_prices = [Decimal(o["price"]) for o in book["asks"]]
    assert bid_prices == sorted(bid_prices, reverse=True) and ask_prices == sorted(ask_prices)
    assert bid_prices[0] < ask_prices[0]
    truth = sim.truth("BTS:USD")
    levels: dict[str, dict[Decimal, Decimal]] = {"bids": defaultdict(Decimal), "asks": defaultdict(Decimal)}
    for side in ("bids", "asks"):
        for o in book[side]:
            levels[side][Decimal(o["price"])] += Decimal(o["quote"])
    assert {Decimal(lv[2]): Decimal(lv[3]) for lv in truth.bids} == dict(levels["bids"])
    assert {Decimal(lv[2]): Decimal(lv[3]) for lv in truth.asks} == dict(levels["asks"])
    # the other way round: prices inverted, sides swapped, base and quote amounts swapped
    flipped = call(ws, "get_order_book", "USD", "BTS", 50)
    assert (flipped["base"], flipped["quote"]) == ("USD", "BTS")
    assert Decimal(flipped["asks"][0]["base"]) == Decimal(book["bids"][0]["quote"])
    assert abs(Decimal(flipped["asks"][0]["price"]) * bid_prices[0] - 1) < Decimal("0.001")
    limited = call(ws, "get_order_book", "BTS", "USD", 3)
    assert len(limited["bids"]) == len(limited["asks"]) == 3


def test_get_ticker_and_get_account_by_name(sim: BitSharesSim, ws: Any) -> None:
    ticker = call(ws, "get_ticker", "BTS", "USD")
    assert {"time", "base", "quote", "latest", "lowest_ask", "highest_bid", "percent_change", "base_volume",
            "quote_volume"} <= set(ticker)  # fmt: skip
    assert Decimal(ticker["highest_bid"]) < Decimal(ticker["lowest_ask"])
    alice = call(ws, "get_account_by_name", "alice")
    assert alice["name"] == "alice" and alice["id"].startswith("1.2.")
    assert call(ws, "get_account_by_name", "nobody-here") is None
