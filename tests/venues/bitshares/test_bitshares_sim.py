"""BitSharesSim at the wire level: fc JSON-RPC framing, API ids, errors and notice shapes (protocols.md §1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import websocket

from rxfeeds.sim.bitshares import BitSharesSim


@pytest.fixture
def sim() -> Iterator[BitSharesSim]:
    with BitSharesSim(seed=9, tick_interval=None, credentials={"bob": "pw"}) as srv:
        yield srv
        assert srv.hook_errors == []


@pytest.fixture
def ws(sim: BitSharesSim) -> Iterator[Any]:
    conn = websocket.create_connection(sim.url, timeout=5)
    yield conn
    conn.close()


def rpc(ws: Any, params: list[Any], rid: int = 1, jsonrpc: bool = True) -> dict[str, Any]:
    msg: dict[str, Any] = {"method": "call", "params": params, "id": rid}
    if jsonrpc:
        msg["jsonrpc"] = "2.0"
    ws.send(orjson.dumps(msg).decode())
    reply: dict[str, Any] = orjson.loads(ws.recv())
    assert reply["id"] == rid
    return reply


def test_api_ids_login_and_reply_framing(ws: Any) -> None:
    assert rpc(ws, [1, "database", []]) == {"id": 1, "jsonrpc": "2.0", "result": 0}
    assert rpc(ws, [1, "database", []], rid=2, jsonrpc=False) == {"id": 2, "result": 0}
    assert rpc(ws, [1, "login", [None, None]], rid=3)["result"] == 1  # legacy null login
    denied = rpc(ws, [1, "network_broadcast", []], rid=4)
    assert denied["error"]["code"] == 10 and "Access denied" in denied["error"]["message"]
    assert rpc(ws, [1, "login", ["bob", "nope"]], rid=5)["result"] is False
    assert rpc(ws, [1, "login", ["bob", "pw"]], rid=6)["result"] is True
    assert rpc(ws, [1, "network_broadcast", []], rid=7)["result"] == 2
    assert rpc(ws, [1, "history", []], rid=8)["result"] == 3
    # A string API id is resolved through the login API.
    assert rpc(ws, ["network_broadcast", "broadcast_transaction", [{"operations": [[0, {}]]}]], rid=9)["result"] is None


def test_errors_are_fc_style_and_requests_without_id_get_no_reply(ws: Any) -> None:
    unknown = rpc(ws, [0, "get_nothing", []], rid=10)["error"]
    assert unknown["code"] == 10 and unknown["message"].startswith("Execution error: Assert Exception")
    assert "get_nothing" in unknown["message"] and unknown["data"]["name"] == "assert_exception"
    assert "unknown API id" in rpc(ws, [7, "get_objects", [["2.1.0"]]], rid=11)["error"]["message"]
    refused = rpc(ws, [0, "set_subscribe_callback", [1, True]], rid=12)["error"]["message"]
    assert "Subscribing to universal object creation and removal is disallowed in this server." in refused
    ws.send('{"method":"call","params":[0,"get_chain_id",[]],"jsonrpc":"2.0"}')  # no id: no reply
    ws.send("{this is not json")
    parse = orjson.loads(ws.recv())
    assert parse["error"]["code"] == -32700
    ws.send('{"method":"call","params":{"a":1},"id":13}')
    assert orjson.loads(ws.recv())["error"]["code"] == -32602
    # A bare method goes to API 0.
    ws.send('{"method":"get_objects","params":[["1.3.0"]],"id":14}')
    assert orjson.loads(ws.recv())["result"][0]["symbol"] == "BTS"


def test_object_and_market_notices_have_the_documented_shape(sim: BitSharesSim, ws: Any) -> None:
    rpc(ws, [0, "set_subscribe_callback", [200, False]], rid=1)
    assert rpc(ws, [0, "get_objects", [["2.1.0", "1.2.404"]]], rid=2)["result"][1] is None
    rpc(ws, [0, "subscribe_to_market", [300, "USD", "BTS"]], rid=3)
    rpc(ws, [0, "set_block_applied_callback", [400]], rid=4)
    sim.step(3)
    seen: dict[int, list[Any]] = {}
    while len(seen.get(400, [])) < 3:
        msg = orjson.loads(ws.recv())
        assert msg["method"] == "notice" and "id" not in msg
        callback, args = msg["params"]
        assert isinstance(args, list) and len(args) == 1  # the callback's single argument
        seen.setdefault(callback, []).append(args[0])
    assert [o["id"] for batch in seen[200] for o in batch] == ["2.1.0"] * 3
    assert [b[:8] for b in seen[400]] == [f"{n:08x}" for n in range(sim.head_block - 2, sim.head_block + 1)]
    kinds = set()
    for batch in seen[300]:
        for item in batch:
            if isinstance(item, str):
                kinds.add("removed")
            elif isinstance(item, dict):
                kinds.add("order" if "for_sale" in item else "call" if "collateral" in item else "other")
            else:
                assert item[0][0] == 4 and item[1] == [0, {}]
                kinds.add("fill")
    assert {"order", "removed"} <= kinds
    # Market subscriptions are per pair, whichever order it was given in.
    rpc(ws, [0, "unsubscribe_from_market", ["BTS", "USD"]], rid=5)
    assert sim.call(lambda: [c.state["markets"] for c in sim.connections]) == [{}]
