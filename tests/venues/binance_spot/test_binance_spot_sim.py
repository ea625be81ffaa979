"""BinanceSpotSim speaks the protocol: checked over real sockets with plain websocket-client + urllib.

The book check is independent of the library: a Decimal book rebuilt here from the REST snapshot
and the diffs, following the documented bridge rule, must equal the simulator's truth.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import websocket

from rxfeeds.sim.binance_spot import BinanceSpotSim
from tests.helpers import wait_until


@pytest.fixture
def sim() -> Iterator[BinanceSpotSim]:
    with BinanceSpotSim(
        seed=3, listed=["BTCUSDT", "ETHBTC"], tick_interval=0.02, max_messages_per_second=None
    ) as server:
        yield server
    assert not server.hook_errors


def connect(url: str) -> websocket.WebSocket:
    return websocket.create_connection(url, timeout=10)


def request(ws: websocket.WebSocket, method: str, params: Any = None, request_id: Any = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"method": method, "id": request_id}
    if params is not None:
        body["params"] = params
    ws.send(json.dumps(body))
    while True:
        msg = json.loads(ws.recv())
        if "stream" not in msg:
            return msg  # type: ignore[no-any-return]


def rest(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_subscribe_list_unsubscribe_and_errors(sim: BinanceSpotSim) -> None:
    ws = connect(sim.url)
    try:
        assert request(ws, "SUBSCRIBE", ["btcusdt@trade", "ethbtc@kline_1m"], 1) == {"result": None, "id": 1}
        assert request(ws, "LIST_SUBSCRIPTIONS", None, 2) == {"result": ["btcusdt@trade", "ethbtc@kline_1m"], "id": 2}
        assert request(ws, "UNSUBSCRIBE", ["ethbtc@kline_1m"], 3) == {"result": None, "id": 3}
        assert request(ws, "LIST_SUBSCRIPTIONS", None, 4)["result"] == ["btcusdt@trade"]
        unknown = request(ws, "SUBSCRIBE", ["nosuchcoin@trade"], 5)
        assert unknown["id"] == 5 and unknown["error"]["code"] == 2 and "NOSUCHCOIN" in unknown["error"]["msg"]
        bad = request(ws, "SUBSCRIBE", ["btcusdt@kline_7m"], 6)
        assert bad["id"] == 6 and "kline_7m" in bad["error"]["msg"]
        assert request(ws, "FLY", None, 7)["error"]["code"] == 2
        assert request(ws, "SUBSCRIBE", "btcusdt@trade", 8)["error"]["code"] == 2
        assert request(ws, "SUBSCRIBE", ["btcusdt@trade"], -1) == {
            "error": {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"},
            "id": None,
        }
        ws.send("{not json")
        reply = json.loads(ws.recv())
        while "stream" in reply:
            reply = json.loads(ws.recv())
        assert reply["error"]["code"] == 3 and reply["id"] is None
        # the connection survived all of that
        assert request(ws, "LIST_SUBSCRIPTIONS", None, 9)["result"] == ["btcusdt@trade"]
    finally:
        ws.close()


def test_more_than_five_messages_a_second_closes_the_connection() -> None:
    with BinanceSpotSim(seed=1, tick_interval=None) as sim:
        ws = connect(sim.url)
        for i in range(6):
            ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
        replies = []
        with pytest.raises(websocket.WebSocketConnectionClosedException):
            while True:
                frame = ws.recv()
                if not frame:
                    raise websocket.WebSocketConnectionClosedException("closed")
                replies.append(json.loads(frame))
        assert len(replies) == 5
        ws.shutdown()  # type: ignore[no-untyped-call]  # the server already closed: drop the TCP socket too
        wait_until(lambda: sim.connection_count == 0)


def test_rest_errors(sim: BinanceSpotSim) -> None:
    status, body = rest(sim.http_url + "/api/v3/depth?symbol=NOSUCHCOIN")
    assert (status, body["code"]) == (400, -1121)
    status, body = rest(sim.http_url + "/api/v3/depth")
    assert (status, body["code"]) == (400, -1102)
    status, body = rest(sim.http_url + "/api/v3/depth?symbol=BTCUSDT&limit=0")
    assert (status, body["code"]) == (400, -1100)
    # the websocket port answers plain GETs too
    status, body = rest(f"http://127.0.0.1:{sim.port}/api/v3/depth?symbol=BTCUSDT&limit=5")
    assert status == 200 and len(body["bids"]) == 5 and len(body["asks"]) == 5


def _apply(book: dict[str, dict[Decimal, Decimal]], data: dict[str, Any]) -> None:
    for side, levels in (("bids", data["b"]), ("asks", data["a"])):
        for price, qty in levels:
            if Decimal(qty) == 0:
                book[side].pop(Decimal(price), None)
            else:
                book[side][Decimal(price)] = Decimal(qty)


@pytest.mark.parametrize("channel", ["depth@100ms", "depth"])
def test_rest_snapshot_bridges_diffs_and_rebuilds_truth(sim: BinanceSpotSim, channel: str) -> None:
    ws = connect(f"{sim.url}?streams=btcusdt@{channel}")
    try:
        first = json.loads(ws.recv())["data"]  # stream open before the snapshot, as the rule asks
        status, snap = rest(sim.http_url + "/api/v3/depth?symbol=BTCUSDT&limit=1000")
        assert status == 200
        last_id = snap["lastUpdateId"]
        book = {
            "bids": {Decimal(p): Decimal(q) for p, q in snap["bids"]},
            "asks": {Decimal(p): Decimal(q) for p, q in snap["asks"]},
        }
        diffs = [first]
        applied = 0
        previous_u: int | None = None
        while applied < (3 if channel == "depth@100ms" else 1):
            diffs.append(json.loads(ws.recv())["data"])
            for d in diffs:
                if d["u"] <= last_id:
                    continue
                if previous_u is None:
                    assert d["U"] <= last_id + 1 <= d["u"]
                else:
                    assert d["U"] == previous_u + 1
                _apply(book, d)
                previous_u = d["u"]
                applied += 1
            diffs.clear()
        assert previous_u is not None
        sim.freeze()  # no tick between reading the truth and the last diff id
        try:
            extra = []
            ws.settimeout(0.3)
            try:
                while True:
                    extra.append(json.loads(ws.recv())["data"])
            except websocket.WebSocketTimeoutException:
                pass
            for d in extra:
                assert d["U"] == previous_u + 1
                _apply(book, d)
                previous_u = d["u"]
            truth = sim.truth("BTCUSDT")
        finally:
            sim.unfreeze()
        assert [(Decimal(p), Decimal(q)) for p, q, *_ in ((b[2], b[3]) for b in truth.bids)] == sorted(
            book["bids"].items(), reverse=True
        )
        assert [(Decimal(b[2]), Decimal(b[3])) for b in truth.asks] == sorted(book["asks"].items())
    finally:
        ws.close()


def test_skip_sequence_fault_breaks_contiguity(sim: BinanceSpotSim) -> None:
    ws = connect(f"{sim.url}?streams=btcusdt@depth@100ms")
    try:
        previous = json.loads(ws.recv())["data"]
        sim.faults.skip_sequence("BTCUSDT")
        gaps = 0
        for _ in range(20):
            d = json.loads(ws.recv())["data"]
            if d["U"] != previous["u"] + 1:
                assert d["U"] == previous["u"] + 2
                gaps += 1
            previous = d
            if gaps:
                break
        assert gaps == 1 and sim.faults.counts["skip_sequence"] == 1
    finally:
        ws.close()


def test_trades_klines_and_book_ticker_follow_the_market(sim: BinanceSpotSim) -> None:
    ws = connect(f"{sim.url}?streams=btcusdt@trade/btcusdt@aggTrade/btcusdt@bookTicker/btcusdt@kline_1s")
    try:
        seen: dict[str, list[dict[str, Any]]] = {}
        while not all(seen.get(s) for s in ("trade", "aggTrade", "bookTicker", "kline_1s")):
            msg = json.loads(ws.recv())
            seen.setdefault(msg["stream"].split("@", 1)[1], []).append(msg["data"])
        trade = seen["trade"][0]
        market_trades = {t.id: t for t in sim.call(lambda: sim.market("BTCUSDT").trades())}
        t = market_trades[trade["t"]]
        assert Decimal(trade["p"]) == Decimal(sim.call(lambda: sim.market("BTCUSDT").price_text(t.price)))
        assert trade["m"] == (t.side == "sell")
        kline = seen["kline_1s"][-1]["k"]
        assert kline["i"] == "1s" and kline["T"] - kline["t"] == 999
        assert Decimal(kline["l"]) <= Decimal(kline["c"]) <= Decimal(kline["h"])
        ticker = seen["bookTicker"][0]
        assert Decimal(ticker["b"]) < Decimal(ticker["a"])
    finally:
        ws.close()


def test_reject_subscription_fault(sim: BinanceSpotSim) -> None:
    ws = connect(sim.url)
    try:
        sim.faults.reject_subscriptions("ETHBTC")
        refused = request(ws, "SUBSCRIBE", ["ethbtc@trade"], 1)
        assert refused["id"] == 1 and refused["error"]["code"] == 2 and "ETHBTC" in refused["error"]["msg"]
        assert sim.faults.counts["reject_subscription"] == 1
        sim.faults.accept_subscriptions()
        assert request(ws, "SUBSCRIBE", ["ethbtc@trade"], 2) == {"result": None, "id": 2}
    finally:
        ws.close()
