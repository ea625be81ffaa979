"""Binance spot simulator fidelity (issue 21, items 1 and 2), over real sockets.

* ``/ws/<anything>`` opens like on Binance, so clients that connect to ``/ws/<n>`` and then send
  ``SUBSCRIBE`` (ccxt) work; a real stream name in the path still streams raw payloads.
* ``@ticker`` / ``@miniTicker`` and the all-market ``!ticker@arr`` / ``!miniTicker@arr`` exist,
  with Binance's field sets and 8-decimal strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import websocket

from rxfeeds.sim.binance_spot import BinanceSpotSim

_FIXED8 = re.compile(r"^-?\d+\.\d{8}$")
_TICKER_KEYS = set("eEspPwxcQbBaAohlvqOCFLn")
_MINI_KEYS = set("eEscohlvq")


@pytest.fixture
def sim() -> Iterator[BinanceSpotSim]:
    with BinanceSpotSim(seed=5, tick_interval=0.02, max_messages_per_second=None) as server:
        yield server
    assert not server.hook_errors


def ws_root(sim: BinanceSpotSim) -> str:
    return sim.url.rsplit("/", 1)[0]


def recv(ws: websocket.WebSocket) -> Any:
    return json.loads(ws.recv())


@pytest.mark.parametrize("path", ["/ws/0", "/ws/1", "/ws/anything-at-all", "/ws"])
def test_ws_path_that_is_no_stream_name_opens_and_accepts_subscribe(sim: BinanceSpotSim, path: str) -> None:
    ws = websocket.create_connection(ws_root(sim) + path, timeout=10)
    try:
        ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 1}))
        assert recv(ws) == {"result": None, "id": 1}
        trade = recv(ws)
        assert trade["e"] == "trade" and trade["s"] == "BTCUSDT"  # raw payload on /ws
    finally:
        ws.close()


def test_ws_path_with_a_stream_name_still_streams_it(sim: BinanceSpotSim) -> None:
    ws = websocket.create_connection(ws_root(sim) + "/ws/ethbtc@aggTrade", timeout=10)
    try:
        assert recv(ws)["e"] == "aggTrade"
    finally:
        ws.close()


def test_ticker_and_mini_ticker_streams(sim: BinanceSpotSim) -> None:
    ws = websocket.create_connection(sim.url, timeout=10)
    try:
        ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@ticker", "btcusdt@miniTicker"], "id": 7}))
        assert recv(ws) == {"result": None, "id": 7}
        seen: dict[str, list[dict[str, Any]]] = {}
        while len(seen.get("btcusdt@ticker", [])) < 2 or not seen.get("btcusdt@miniTicker"):
            msg = recv(ws)
            seen.setdefault(msg["stream"], []).append(msg["data"])
        first, second = seen["btcusdt@ticker"][:2]
        assert set(first) == _TICKER_KEYS and first["e"] == "24hrTicker" and first["s"] == "BTCUSDT"
        assert 0.8 <= (second["E"] - first["E"]) / 1000 <= 1.5  # once a second
        for k in "pwxcQbBaAohlvq":
            assert _FIXED8.match(first[k]), (k, first[k])
        assert re.match(r"^-?\d+\.\d{3}$", first["P"])
        assert Decimal(first["b"]) < Decimal(first["a"])
        assert Decimal(first["l"]) <= Decimal(first["c"]) <= Decimal(first["h"])
        assert Decimal(first["c"]) - Decimal(first["o"]) == Decimal(first["p"])
        assert first["C"] - first["O"] == 86_400_000
        mini = seen["btcusdt@miniTicker"][0]
        assert set(mini) == _MINI_KEYS and mini["e"] == "24hrMiniTicker"
    finally:
        ws.close()


def test_all_market_ticker_arrays(sim: BinanceSpotSim) -> None:
    sim.market("BTCUSDT")
    sim.market("ETHBTC")
    ws = websocket.create_connection(sim.url, timeout=10)
    try:
        ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["!ticker@arr", "!miniTicker@arr"], "id": 1}))
        assert recv(ws) == {"result": None, "id": 1}
        streams: dict[str, set[str]] = {}
        while len(streams.get("!ticker@arr", ())) < 2 or len(streams.get("!miniTicker@arr", ())) < 2:
            msg = recv(ws)
            assert isinstance(msg["data"], list) and msg["data"]
            streams.setdefault(msg["stream"], set()).update(t["s"] for t in msg["data"])
            kinds = {t["e"] for t in msg["data"]}
            assert kinds == ({"24hrTicker"} if msg["stream"] == "!ticker@arr" else {"24hrMiniTicker"})
        assert streams["!ticker@arr"] >= {"BTCUSDT", "ETHBTC"}
        ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 2}))
        while "result" not in (reply := recv(ws)):
            pass
        assert reply == {"result": ["!ticker@arr", "!miniTicker@arr"], "id": 2}
    finally:
        ws.close()
