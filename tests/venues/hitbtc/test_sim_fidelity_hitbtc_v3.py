"""HitBTC v3 simulator and codec fidelity (issue 21, items 3 and 5), over real sockets.

* Partial books ``orderbook/D{5,10,20}/{speed}``, ``orderbook/top/{speed}`` and their ``/batch``
  forms exist in the simulator, and the codec decodes them (the venue's documented frames too).
* A request without an ``id`` is answered without an ``id`` key, like HitBTC; the codec takes such
  a reply as the answer of its pending login.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
import websocket

from rxfeeds.codec import Data, Notice
from rxfeeds.events import BookSnapshot, Quote
from rxfeeds.sim.hitbtc_v3 import HitBTCV3Sim
from rxfeeds.venues.hitbtc._common import Credentials
from rxfeeds.venues.hitbtc.codec_v3 import HitBTCV3Codec

KEY, SECRET = "sim-key", "sim-secret"


@pytest.fixture
def sim() -> Iterator[HitBTCV3Sim]:
    with HitBTCV3Sim(seed=9, tick_interval=None, resnapshot_after=None) as server:
        yield server
        assert server.hook_errors == []


class Raw:
    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=10)

    def send(self, obj: Any) -> None:
        self.ws.send(json.dumps(obj))

    def recv(self) -> Any:
        return json.loads(self.ws.recv())

    def recv_text(self) -> str:
        text = self.ws.recv()
        assert isinstance(text, str)
        return text


def top_of(sim: HitBTCV3Sim, symbol: str, depth: int) -> tuple[list[list[str]], list[list[str]]]:
    def read() -> tuple[list[list[str]], list[list[str]]]:
        m = sim.market(symbol)
        return (
            [[m.price_text(p), m.size_text(q)] for p, q in m.asks(depth)],
            [[m.price_text(p), m.size_text(q)] for p, q in m.bids(depth)],
        )

    return sim.call(read)


@pytest.mark.parametrize("ch", ["orderbook/D5/500ms", "orderbook/D10/100ms", "orderbook/D20/1000ms"])
def test_partial_depth_channels_send_the_top_n_and_decode(sim: HitBTCV3Sim, ch: str) -> None:
    depth = int(ch.split("/")[1][1:])
    client = Raw(sim.public_url)
    client.send({"method": "subscribe", "ch": ch, "params": {"symbols": ["ETHBTC"]}, "id": 1})
    assert client.recv() == {"result": {"ch": ch, "subscriptions": ["ETHBTC"]}, "id": 1}
    sim.step(1)
    text = client.recv_text()
    frame = json.loads(text)
    assert frame["ch"] == ch and set(frame["data"]) == {"ETHBTC"}
    body = frame["data"]["ETHBTC"]
    assert set(body) == {"t", "s", "a", "b"}
    assert (body["a"], body["b"]) == top_of(sim, "ETHBTC", depth)
    codec = HitBTCV3Codec()
    [msg] = codec.decode(text, 1.0)
    assert isinstance(msg, Data) and msg.key == (ch, "ETHBTC")
    [snap] = msg.events
    assert isinstance(snap, BookSnapshot) and len(snap.asks) == len(snap.bids) == depth
    assert snap.sequence == body["s"] and snap.asks[0][2] == body["a"][0][0]
    client.send({"method": "unsubscribe", "ch": ch, "params": {"symbols": ["ETHBTC"]}, "id": 2})
    assert client.recv() == {"result": {"ch": ch, "subscriptions": []}, "id": 2}


def test_top_of_book_and_batch_forms(sim: HitBTCV3Sim) -> None:
    client = Raw(sim.public_url)
    client.send({"method": "subscribe", "ch": "orderbook/top/100ms", "params": {"symbols": ["ETHBTC"]}, "id": 1})
    assert client.recv()["result"]["subscriptions"] == ["ETHBTC"]
    ch = "orderbook/D5/100ms/batch"
    client.send({"method": "subscribe", "ch": ch, "params": {"symbols": ["ETHBTC", "BTCUSDT"]}, "id": 2})
    assert client.recv() == {"result": {"ch": ch, "subscriptions": ["ETHBTC", "BTCUSDT"]}, "id": 2}
    sim.step(1)
    codec = HitBTCV3Codec()
    frames = {}
    while len(frames) < 2:
        text = client.recv_text()
        frames[json.loads(text)["ch"]] = text
    top = json.loads(frames["orderbook/top/100ms"])["data"]["ETHBTC"]
    assert set(top) == {"t", "a", "A", "b", "B"}
    asks, bids = top_of(sim, "ETHBTC", 1)
    assert [top["a"], top["A"]] == asks[0] and [top["b"], top["B"]] == bids[0]
    [quote_msg] = codec.decode(frames["orderbook/top/100ms"], 1.0)
    [quote] = quote_msg.events  # type: ignore[attr-defined]
    assert isinstance(quote, Quote) and quote.bid < quote.ask
    batch = json.loads(frames[ch])["data"]
    assert set(batch) == {"ETHBTC", "BTCUSDT"}  # both symbols in one message
    decoded = codec.decode(frames[ch], 1.0)
    assert {m.key for m in decoded} == {(ch, "ETHBTC"), (ch, "BTCUSDT")}  # type: ignore[attr-defined]


def test_codec_decodes_the_documented_partial_book_frames() -> None:
    codec = HitBTCV3Codec()
    d5 = (
        '{"ch":"orderbook/D5/500ms","data":{"ETHBTC":{"t":1626866578796,"s":27617207,'
        '"a":[["0.060506","0"],["0.060549","12.6431"]],"b":[["0.060501","3.1"],["0.060500","0.2"]]}}}'
    )
    [msg] = codec.decode(d5, 2.0)
    assert isinstance(msg, Data) and msg.key == ("orderbook/D5/500ms", "ETHBTC")
    [snap] = msg.events
    assert isinstance(snap, BookSnapshot) and snap.sequence == 27617207 and snap.depth == 5
    assert [lv[2] for lv in snap.asks] == ["0.060549"]  # the zero-size level is dropped
    top = (
        '{"ch":"orderbook/top/100ms","data":{"ETHBTC":{"t":1626866578796,'
        '"a":"0.060506","A":"0.1","b":"0.060501","B":"2"}}}'
    )
    [msg] = codec.decode(top, 2.0)
    assert isinstance(msg, Data) and msg.key == ("orderbook/top/100ms", "ETHBTC")
    [quote] = msg.events
    assert isinstance(quote, Quote) and (quote.bid, quote.ask_size) == (0.060501, 0.1)
    batch = (
        '{"ch":"orderbook/top/1000ms/batch","data":{"A1":{"t":1,"a":"2","A":"1","b":"1","B":"1"},'
        '"B2":{"t":1,"a":"3","A":"1","b":"2","B":"1"}}}'
    )
    assert [m.key for m in codec.decode(batch, 2.0)] == [  # type: ignore[attr-defined]
        ("orderbook/top/1000ms/batch", "A1"),
        ("orderbook/top/1000ms/batch", "B2"),
    ]
    assert codec.subscribe_frames(("orderbook/D10/100ms", "ETHBTC")) == [
        '{"method":"subscribe","ch":"orderbook/D10/100ms","params":{"symbols":["ETHBTC"]},"id":1}'
    ]


def test_login_without_id_is_answered_without_an_id_key(sim: HitBTCV3Sim) -> None:
    client = Raw(sim.trading_url)
    stamp = 1_700_000_000_000
    signature = hmac.new(SECRET.encode(), str(stamp).encode(), hashlib.sha256).hexdigest()
    client.send({"method": "login", "params": {"type": "HS256", "api_key": KEY, "timestamp": stamp,
                                               "signature": signature}})  # fmt: skip
    assert client.recv() == {"jsonrpc": "2.0", "result": True}
    client.send({"method": "spot_balances", "params": {}, "id": 5})
    balances = client.recv()
    assert balances["id"] == 5 and isinstance(balances["result"], list)
    bad = Raw(sim.trading_url)
    bad.send({"method": "login", "params": {"type": "BASIC", "api_key": KEY, "secret_key": "wrong"}})
    reply = bad.recv()
    assert "id" not in reply and reply["error"]["code"] == 1002
    bad.send("{not json")
    assert "id" not in bad.recv()


def test_codec_takes_an_id_less_reply_as_its_login_answer() -> None:
    codec = HitBTCV3Codec(Credentials(KEY, SECRET))
    assert codec.login_frame() is not None
    assert codec.decode('{"jsonrpc":"2.0","result":true}', 1.0) == []
    assert not codec._logins  # the login is answered
    failing = HitBTCV3Codec(Credentials(KEY, SECRET))
    failing.login_frame()
    [notice] = failing.decode(
        '{"jsonrpc":"2.0","error":{"code":1002,"message":"Authorization is required or has been failed"}}', 1.0
    )
    assert isinstance(notice, Notice)
    # with no login pending, an id-less success is harmless
    assert HitBTCV3Codec().decode('{"jsonrpc":"2.0","result":true}', 1.0) == []
