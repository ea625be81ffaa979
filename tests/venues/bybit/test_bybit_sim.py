"""The Bybit simulators on the wire (raw websocket, no rxfeeds codec): answers, numbering, ticker
deltas and bar confirmation as ``docs/venues/bybit.md`` describes the venue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import websocket

from rxfeeds.sim.bybit import BybitLinearSim, BybitSim

pytestmark = pytest.mark.timeout(60)


class Wire:
    """A raw websocket client that skips frames it is not looking for."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=10)

    def send(self, obj: Any) -> None:
        self.ws.send(orjson.dumps(obj).decode())

    def next(self, where: Any = lambda m: True) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = orjson.loads(self.ws.recv())
            if where(message):
                return message

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def spot() -> Iterator[BybitSim]:
    with BybitSim(seed=9, tick_interval=None) as sim:
        yield sim


def test_subscribe_answers_and_a_bad_topic_fails_the_whole_request(spot: BybitSim) -> None:
    wire = Wire(spot.url)
    try:
        wire.send({"req_id": "a", "op": "subscribe", "args": ["publicTrade.BTCUSDT", "orderbook.40.BTCUSDT"]})
        refused = wire.next()
        assert refused["success"] is False and refused["req_id"] == "a" and refused["op"] == "subscribe"
        assert "orderbook.40.BTCUSDT" in refused["ret_msg"] and refused["conn_id"]
        wire.send({"req_id": "b", "op": "subscribe", "args": ["publicTrade.BTCUSDT"]})
        assert wire.next()["success"] is True  # not already subscribed: the failed request took nothing
        wire.send({"req_id": "c", "op": "subscribe", "args": ["publicTrade.BTCUSDT"]})
        again = wire.next()
        assert again["success"] is False and "already subscribed" in again["ret_msg"]
        wire.send({"req_id": "d", "op": "ping"})
        assert wire.next() == {
            "success": True,
            "ret_msg": "pong",
            "conn_id": again["conn_id"],
            "req_id": "d",
            "op": "ping",
        }
        wire.send({"op": "unsubscribe", "args": ["publicTrade.BTCUSDT"], "req_id": "e"})
        assert wire.next()["success"] is True
        spot.faults.reject_subscriptions("BTCUSDT")
        wire.send({"req_id": "f", "op": "subscribe", "args": ["tickers.BTCUSDT"]})
        assert wire.next()["success"] is False and spot.faults.counts["reject_subscription"] == 1
    finally:
        wire.close()
    assert not spot.hook_errors


def test_u_grows_by_one_per_delta_for_every_subscriber_and_restart_begins_at_1(spot: BybitSim) -> None:
    wires = [Wire(spot.url), Wire(spot.url)]
    try:
        for wire in wires:
            wire.send({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})
            assert wire.next()["success"] is True
        firsts = [w.next() for w in wires]
        assert [f["type"] for f in firsts] == ["snapshot", "snapshot"]
        assert firsts[0]["data"]["u"] == firsts[1]["data"]["u"]
        spot.step(20)
        seen: list[list[int]] = [[], []]
        for i, wire in enumerate(wires):
            last = firsts[i]["data"]
            while last["u"] < spot.update_id("BTCUSDT", 50):
                message = wire.next(lambda m: m.get("topic") == "orderbook.50.BTCUSDT")
                assert message["type"] == "delta"
                assert message["data"]["u"] == last["u"] + 1 and message["data"]["seq"] > last["seq"]
                last = message["data"]
                seen[i].append(last["u"])
        assert seen[0] == seen[1] and len(seen[0]) >= 15
        spot.restart("BTCUSDT")
        for wire in wires:
            restarted = wire.next(lambda m: m.get("topic") == "orderbook.50.BTCUSDT")
            assert restarted["type"] == "snapshot" and restarted["data"]["u"] == 1
            assert len(restarted["data"]["b"]) == len(restarted["data"]["a"]) == 50
    finally:
        for wire in wires:
            wire.close()


def test_linear_tickers_send_only_changed_fields_after_the_snapshot() -> None:
    with BybitLinearSim(seed=4, tick_interval=None) as sim:
        wire = Wire(sim.url)
        try:
            wire.send({"op": "subscribe", "args": ["tickers.BTCUSDT"]})
            assert wire.next()["success"] is True
            snapshot = wire.next()
            assert snapshot["type"] == "snapshot"
            state = dict(snapshot["data"])
            assert {"bid1Price", "ask1Price", "lastPrice", "volume24h", "markPrice"} <= set(state)
            sim.step(30)
            deltas = 0
            while True:
                wire.send({"op": "ping"})
                message = wire.next(lambda m: m.get("op") == "ping" or m.get("topic") == "tickers.BTCUSDT")
                if message.get("op") == "ping":
                    break
                assert message["type"] == "delta" and message["data"]["symbol"] == "BTCUSDT"
                changed = {k: v for k, v in message["data"].items() if k != "symbol"}
                assert changed and all(state.get(k) != v for k, v in changed.items())
                state.update(changed)
                deltas += 1
            assert deltas >= 1
            m = sim.market("BTCUSDT")
            bid = sim.call(m.best_bid)
            assert bid is not None and state["bid1Price"] == m.price_text(bid[0])
        finally:
            wire.close()


def test_spot_tickers_are_whole_snapshots_and_trades_name_the_taker(spot: BybitSim) -> None:
    wire = Wire(spot.url)
    try:
        wire.send({"op": "subscribe", "args": ["tickers.ETHUSDT", "publicTrade.ETHUSDT"]})
        assert wire.next()["success"] is True
        spot.step(30)
        ticker = wire.next(lambda m: m.get("topic") == "tickers.ETHUSDT" and m["data"]["lastPrice"])
        assert ticker["type"] == "snapshot" and "bid1Price" not in ticker["data"]
        trades = wire.next(lambda m: m.get("topic") == "publicTrade.ETHUSDT")
        assert trades["type"] == "snapshot"
        assert {t["S"] for t in trades["data"]} <= {"Buy", "Sell"} and all(t["i"].isdigit() for t in trades["data"])
    finally:
        wire.close()


def test_a_bar_is_confirmed_once_its_minute_ends() -> None:
    with BybitSim(seed=6, tick_interval=None) as sim:
        now = [1_700_000_000.0]  # 22:13:20 UTC: 40 s left in the minute
        sim.clock = lambda: now[0]
        wire = Wire(sim.url)
        try:
            wire.send({"op": "subscribe", "args": ["kline.1.BTCUSDT"]})
            assert wire.next()["success"] is True
            first = wire.next()["data"][0]
            assert (first["start"], first["end"], first["confirm"]) == (1_699_999_980_000, 1_700_000_039_999, False)
            for _ in range(45):
                now[0] += 1.0
                sim.step(1)
            confirmed = wire.next(lambda m: m.get("topic") == "kline.1.BTCUSDT" and m["data"][0]["confirm"])
            bar = confirmed["data"][0]
            assert bar["start"] == first["start"] and float(bar["low"]) <= float(bar["close"]) <= float(bar["high"])
            following = wire.next(lambda m: m.get("topic") == "kline.1.BTCUSDT")["data"][0]
            assert following["start"] == 1_700_000_040_000 and following["open"] == bar["close"]
        finally:
            wire.close()


def test_a_client_that_never_pings_is_closed() -> None:
    with BybitSim(seed=1, tick_interval=None, idle_timeout=0.5) as sim:
        wire = Wire(sim.url)
        try:
            wire.ws.settimeout(30)
            with pytest.raises(websocket.WebSocketConnectionClosedException):
                while True:
                    wire.ws.recv()
            assert sim.faults.counts["idle_close"] == 1
        finally:
            wire.close()
