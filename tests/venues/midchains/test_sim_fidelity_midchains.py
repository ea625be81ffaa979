"""Midchains simulator fidelity (issue 21, item 9): the documented ``querypos``, ``querytrade``
and ``querymultiorder`` requests, as the Midchains documentation example sends them over a raw
websocket."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import websocket

from rxfeeds.sim.midchains import MidchainsSim
from tests.support.midchains import ask, encrypt


@pytest.fixture
def sim() -> Iterator[MidchainsSim]:
    with MidchainsSim(seed=6, tick_interval=None, users={"dave": "hunter2"}) as srv:
        yield srv
        assert srv.hook_errors == []


@pytest.fixture
def ws(sim: MidchainsSim) -> Iterator[Any]:
    conn = websocket.create_connection(sim.url, timeout=10)
    key = ask(conn, {"type": "challenge"})["key"]
    assert ask(conn, {"type": "login", "userid": "dave", "pass": encrypt(key, "hunter2")})["result"] == "OK"
    yield conn
    conn.close()


def test_queries_before_any_trade(ws: Any) -> None:
    assert ask(ws, {"type": "querypos", "security": "BTCUSD"}) == {"result": "no position", "type": "querypos"}
    trades = ask(ws, {"type": "querytrade", "security": "BTCUSD", "fromtime": "1614331055"})
    assert trades == {"result": "OK", "data": [], "type": "querytrade", "total_rec": 0}
    orders = ask(ws, {"type": "querymultiorder", "security": "BTCUSD", "fromtime": "1614331055000"})
    assert orders == {"result": "OK", "data": [], "type": "querymultiorders", "total_rec": 0}


def test_fills_show_in_querytrade_querypos_and_querymultiorder(sim: MidchainsSim, ws: Any) -> None:
    best_ask = sim.call(lambda: sim.market("BTCUSD").price_text(sim.market("BTCUSD").best_ask()[0]))  # type: ignore[index]
    bought = ask(ws, {"type": "addorder", "security": "BTCUSD", "side": "B", "ordertype": "MKT", "tif": "IOC",
                      "amount": "1000"})  # fmt: skip
    assert bought["result"] == "OK"
    sold = ask(ws, {"type": "addorder", "security": "BTCUSD", "side": "S", "ordertype": "LMT", "tif": "GTC",
                    "qty": "0.001", "price": "1"})  # fmt: skip  # crosses: fills at the best bid
    resting = ask(ws, {"type": "addorder", "security": "BTCUSD", "side": "B", "qty": "0.5", "price": "1"})
    trades = ask(ws, {"type": "querytrade", "security": "BTCUSD", "fromtime": "0"})
    assert trades["result"] == "OK" and trades["total_rec"] == 2
    first, second = trades["data"]
    assert (first["refno"], first["side"], first["execprice"]) == (bought["refno"], "B", best_ask)
    assert Decimal(first["execqty"]) * Decimal(first["execprice"]) <= Decimal("1000")
    assert (second["refno"], second["side"], second["execqty"]) == (sold["refno"], "S", "0.001")
    assert {t["type"] for t in trades["data"]} == {"sale"} and [t["rec_no"] for t in trades["data"]] == [1, 2]
    pos = ask(ws, {"type": "querypos", "security": "BTCUSD"})
    assert pos["result"] == "OK" and pos["type"] == "querypos" and pos["userid"] == "dave" and pos["total_rec"] == 1
    [row] = pos["data"]
    assert row["type"] == "position" and row["security"] == "BTCUSD"
    assert Decimal(row["curpos"]) == Decimal(first["execqty"]) - Decimal("0.001")
    orders = ask(ws, {"type": "querymultiorder", "security": "BTCUSD", "fromtime": "0"})
    assert orders["type"] == "querymultiorders" and orders["total_rec"] == 3
    by_ref = {o["refno"]: o for o in orders["data"]}
    assert by_ref[bought["refno"]]["category"] == "FILLED" and by_ref[resting["refno"]]["category"] == "OPEN"
    assert sorted(o["rec_no"] for o in orders["data"]) == [1, 2, 3]
    # a later fromtime leaves the older records out
    later = ask(ws, {"type": "querytrade", "security": "BTCUSD", "fromtime": str(10**13)})
    assert later["data"] == [] and later["total_rec"] == 0


def test_query_errors(sim: MidchainsSim) -> None:
    conn = websocket.create_connection(sim.url, timeout=10)
    try:
        assert ask(conn, {"type": "querypos", "security": "BTCUSD"})["result"] == "not logged in"
        assert ask(conn, {"type": "querytrade", "security": "BTCUSD", "fromtime": "0"})["result"] == "not logged in"
    finally:
        conn.close()
