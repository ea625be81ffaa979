"""MidchainsSim at the wire level: real RSA challenge/login, documented replies, garbage handling."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
import websocket

from rxfeeds.sim.midchains import MidchainsSim
from tests.support.midchains import ask, encrypt


@pytest.fixture
def sim() -> Iterator[MidchainsSim]:
    with MidchainsSim(seed=5, tick_interval=None, users={"dave": "hunter2"}) as srv:
        yield srv
        assert srv.hook_errors == []


def test_challenge_login_logout(sim: MidchainsSim) -> None:
    ws = websocket.create_connection(sim.url, timeout=5)
    try:
        # Logging in before a challenge fails.
        assert ask(ws, {"type": "login", "userid": "dave", "pass": "x"})["result"] == "invalid user/password"
        challenge = ask(ws, {"type": "challenge"})
        assert challenge["result"] == "OK" and challenge["type"] == "challenge"
        bad = ask(ws, {"type": "login", "userid": "dave", "pass": encrypt(challenge["key"], "wrong")})
        assert bad == {"result": "invalid user/password", "type": "login"}
        good = ask(ws, {"type": "login", "userid": "dave", "pass": encrypt(challenge["key"], "hunter2")})
        assert good == {"result": "OK", "type": "login"}
        # The key is stable per server.
        assert ask(ws, {"type": "challenge"})["key"] == challenge["key"]
        assert ask(ws, {"type": "logout"}) == {"result": "OK", "type": "logout"}
        try:
            closing = ws.recv()  # websocket-client answers the close frame and returns ""
        except websocket.WebSocketConnectionClosedException:
            closing = ""
        assert closing == ""
        assert not ws.connected
    finally:
        ws.close()


def test_documented_rejects_and_garbage(sim: MidchainsSim) -> None:
    ws = websocket.create_connection(sim.url, timeout=5)
    try:
        assert ask(ws, "{not json")["result"] == "invalid message"
        assert ask(ws, {"type": "frobnicate"}) == {"type": "frobnicate", "result": "unknown request type"}
        refused = ask(ws, {"type": "subscribe", "request": [{"msg": "book", "security": "ZZ1", "dest": "CROX"}]})
        assert refused["result"] == "unknown security" and refused["security"] == "ZZ1"
        order = ask(ws, {"type": "addorder", "security": "BTCUSD", "side": "B", "qty": "1", "price": "1"})
        assert order["result"] == "not logged in"
        assert ask(ws, {"type": "cancelorder", "security": "BTCUSD", "refno": "R"})["result"] == "not logged in"
    finally:
        ws.close()


def test_book_image_aggregates_to_truth_and_updates_are_order_level(sim: MidchainsSim) -> None:
    ws = websocket.create_connection(sim.url, timeout=5)
    try:
        ws.send(orjson.dumps({"type": "subscribe", "request": [{"msg": "book", "security": "LTCUSD", "dest": "CROX"}]}))
        image = orjson.loads(ws.recv())
        orders = {o["id"]: o for o in image["books"]}
        sim.step(5)
        ws.send('{"type":"frobnicate"}')  # its reply is a barrier: every book frame came before it
        while True:
            update = orjson.loads(ws.recv())
            if update["type"] == "frobnicate":
                break
            for o in update["books"]:
                if o["act"] == "R":
                    del orders[o["id"]]  # a removal names an order that was sent before
                else:
                    orders[o["id"]] = o
        levels: dict[tuple[str, float], float] = {}
        for o in orders.values():
            key = (o["side"], float(o["price"]))
            levels[key] = levels.get(key, 0.0) + float(o["qty"])
        truth = sim.truth("LTCUSD")
        want = {("B", p): s for p, s, *_ in truth.bids} | {("S", p): s for p, s, *_ in truth.asks}
        assert levels.keys() == want.keys()
        assert all(abs(levels[k] - want[k]) < 1e-9 for k in want)
    finally:
        ws.close()
