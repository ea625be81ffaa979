"""HitBTC v3 client against the v3 simulator over real sockets (and its REST endpoints)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rxfeeds.errors import AuthError, SubscriptionError
from rxfeeds.events import BookDelta, BookSnapshot, Kline, OrderUpdate, Ticker, Trade
from rxfeeds.sim.hitbtc_v3 import HitBTCV3Sim
from rxfeeds.venues.hitbtc import errors as E
from rxfeeds.venues.hitbtc.client_v3 import HitBTCV3
from tests.helpers import Collector as Sink
from tests.helpers import wait_until
from tests.support.hitbtc import rebuild, truth_books

KEY, SECRET = "sim-key", "sim-secret"


@pytest.fixture
def sim() -> Iterator[HitBTCV3Sim]:
    with HitBTCV3Sim(seed=5, tick_interval=None, resnapshot_after=None) as server:
        yield server
        assert server.hook_errors == []


def client_for(sim: HitBTCV3Sim, **kw: Any) -> HitBTCV3:
    return HitBTCV3(sim.public_url, trading_url=sim.trading_url, ping_interval=None, request_timeout=5.0, **kw)


def subscribed(sim: HitBTCV3Sim) -> list[Any]:
    return sim.call(lambda: [k for c in sim.connections for k in c.subscriptions])


def test_v3_orderbook_matches_truth_and_resnapshot(sim: HitBTCV3Sim) -> None:
    with client_for(sim) as client:
        sink = Sink()
        sub = client.orderbook("ETHBTC").subscribe(sink)
        wait_until(lambda: sink.of(BookSnapshot))
        sim.step(30)
        wait_until(lambda: rebuild(list(sink.items))[2] == sim.call(lambda: sim.sequences["ETHBTC"]))
        bids, asks, last = rebuild(list(sink.items))
        assert len(sink.of(BookDelta)) >= 25
        assert (bids, asks) == truth_books(sim, "ETHBTC")
        n = len(sink.items)
        sim.resnapshot("ETHBTC")
        wait_until(lambda: len(sink.items) > n)
        again = sink.items[n]
        assert isinstance(again, BookSnapshot) and again.sequence == last
        assert rebuild([again])[:2] == (bids, asks)
        sub.dispose()
        wait_until(lambda: subscribed(sim) == [])
    assert not sink.errors


def test_v3_trades_candles_ticker(sim: HitBTCV3Sim) -> None:
    sim.market("ETHBTC")
    sim.step(150)
    market_trades = sim.call(lambda: sim.market("ETHBTC").trades())
    m = sim.call(lambda: sim.market("ETHBTC"))
    with client_for(sim) as client:
        trades, candles, ticker = Sink(), Sink(), Sink()
        subs = [client.trades("ETHBTC").subscribe(trades)]
        # Open the socket before adding channels: the transport may send a subscription that
        # arrives while the socket is opening twice (reported), which would double snapshots.
        wait_until(lambda: len(trades.items) >= 100)
        subs += [client.candles("ETHBTC", "M1").subscribe(candles), client.ticker("ETHBTC").subscribe(ticker)]
        # a snapshot frame's events are delivered one by one: wait for all of them
        minute_count = len({int(t.time // 60) for t in market_trades})
        wait_until(lambda: len(trades.items) >= 100 and len(candles.items) >= minute_count and ticker.items)
        snap = trades.of(Trade)
        expected = market_trades[-100:]
        assert [(t.trade_id, t.price, t.size, t.side) for t in snap] == [
            (x.id, m.price(x.price), m.size(x.size), x.side) for x in expected
        ]
        minutes = sorted({int(t.time // 60) for t in market_trades})
        got = candles.of(Kline)
        assert [k.open_time for k in got] == [mi * 60.0 for mi in minutes]
        for k in got:
            inside = [m.price(t.price) for t in market_trades if k.open_time <= t.time < k.close_time]
            assert (k.open, k.high, k.low, k.close) == (inside[0], max(inside), min(inside), inside[-1])
        first = ticker.of(Ticker)[0]
        bid, ask = sim.call(lambda: (m.best_bid(), m.best_ask()))
        assert bid is not None and ask is not None
        assert (first.bid, first.bid_size, first.ask, first.ask_size) == (
            m.price(bid[0]),
            m.size(bid[1]),
            m.price(ask[0]),
            m.size(ask[1]),
        )
        n = len(trades.items)
        sim.step(40)
        wait_until(lambda: len(trades.items) > n)
        for s in subs:
            s.dispose()
        wait_until(lambda: subscribed(sim) == [])


def test_v3_unknown_symbol_fails_only_its_subscription(sim: HitBTCV3Sim) -> None:
    with client_for(sim) as client:
        good, bad = Sink(), Sink()
        d1 = client.trades("ETHBTC").subscribe(good)
        d2 = client.ticker("NOPE").subscribe(bad)
        wait_until(lambda: bad.errors)
        [err] = bad.errors
        assert isinstance(err, SubscriptionError) and isinstance(err, E.HitBTCSubscriptionError)
        assert isinstance(err.error, E.SymbolNotFound) and err.code == 2001
        sim.step(30)
        wait_until(lambda: good.items)
        assert not good.errors
        d1.dispose()
        d2.dispose()


def test_v3_rest_requests(sim: HitBTCV3Sim) -> None:
    sim.market("ETHBTC")
    sim.step(40)
    with client_for(sim) as client:
        info = client.symbol("ETHBTC").run()
        assert info["id"] == "ETHBTC" and info["tick_size"] == sim.call(lambda: sim.market("ETHBTC").price_text(1))
        assert "ETHBTC" in [s["id"] for s in client.symbols().run()]
        assert client.currency("BTC").run()["id"] == "BTC"
        assert "ETH" in [c["id"] for c in client.currencies().run()]
        with pytest.raises(E.SymbolNotFound, match="Symbol not found"):
            client.symbol("NOPE").run()
        with pytest.raises(E.CurrencyNotFound):
            client.currency("QQQ").run()
        market = sim.call(lambda: sim.market("ETHBTC").trades())
        history = client.trades_history("ETHBTC", sort="ASC", limit=5).run()
        assert [t.trade_id for t in history] == [t.id for t in market[:5]]


@pytest.mark.parametrize("algo", ["HS256", "BASIC"])
def test_v3_login_and_orders_report_before_result(sim: HitBTCV3Sim, algo: str) -> None:
    log: list[tuple[str, Any]] = []
    with client_for(sim, key=KEY, secret=SECRET, algo=algo) as client:
        reports = Sink(log, "report")
        sub = client.reports().subscribe(reports)
        wait_until(lambda: sim.call(lambda: [c.state.get("account") for c in sim.connections]) == [KEY])
        placed = client.new_order("ETHBTC", "sell", "2", "0.07", client_order_id="v3-1").run()
        log.append(("result", placed))
        assert isinstance(placed, OrderUpdate) and placed.client_order_id == "v3-1" and placed.side == "sell"
        assert placed.raw["report_type"] == "new" and placed.filled == 0.0
        with pytest.raises(E.DuplicateClientOrderId):
            client.new_order("ETHBTC", "sell", "2", "0.07", client_order_id="v3-1").run()
        replaced = client.replace_order("v3-1", "v3-2", "3", "0.071").run()
        log.append(("result", replaced))
        assert replaced.raw["original_client_order_id"] == "v3-1" and replaced.size == 3.0
        assert [o.client_order_id for o in client.active_orders().run()] == ["v3-2"]
        canceled = client.cancel_order("v3-2").run()
        log.append(("result", canceled))
        assert canceled.status == "canceled"
        tags = [(tag, item.client_order_id, item.raw["report_type"]) for tag, item in log]
        for entry in (("v3-1", "new"), ("v3-2", "replaced"), ("v3-2", "canceled")):
            assert tags.index(("report", *entry)) < tags.index(("result", *entry))
        assert client.trading_balance().run()[0]["currency"] == "BTC"
        assert not reports.errors
        sub.dispose()


def test_v3_bad_key_is_1002_on_private_only(sim: HitBTCV3Sim) -> None:
    with client_for(sim, key="nobody", secret="nothing") as client:
        trades, reports = Sink(), Sink()
        d1 = client.trades("ETHBTC").subscribe(trades)
        d2 = client.reports().subscribe(reports)
        wait_until(lambda: reports.errors)
        [err] = reports.errors
        assert isinstance(err, E.HitBTCSubscriptionError) and isinstance(err.error, E.AuthorizationFailed)
        with pytest.raises(AuthError):
            client.trading_balance().run()
        wait_until(lambda: ("trades", "ETHBTC") in subscribed(sim))
        sim.step(30)
        wait_until(lambda: trades.items)
        assert not trades.errors
        d1.dispose()
        d2.dispose()


def test_v3_raw_multi_symbol_subscribe_and_garbage(sim: HitBTCV3Sim) -> None:
    import json

    import websocket

    ws = websocket.create_connection(sim.public_url, timeout=5)
    try:
        ws.send('{"method":"subscribe","ch":"orderbook/full","params":{"symbols":["ETHBTC","NOPE","LTCBTC"]},"id":3}')
        assert json.loads(ws.recv()) == {
            "result": {"ch": "orderbook/full", "subscriptions": ["ETHBTC", "LTCBTC"]},
            "id": 3,
        }
        snaps = [json.loads(ws.recv()) for _ in range(2)]
        assert [list(m["snapshot"]) for m in snaps] == [["ETHBTC"], ["LTCBTC"]]
        for m in snaps:
            [(symbol, body)] = m["snapshot"].items()
            assert body["s"] == sim.call(lambda s=symbol: sim.sequences[s])
            truth = sim.truth(symbol)
            assert [[p, s] for _, _, p, s in truth.bids] == body["b"]
            assert [[p, s] for _, _, p, s in truth.asks] == body["a"]
        ws.send('{"method":"subscribe","ch":"orderbook/D7","params":{"symbols":["ETHBTC"]},"id":4}')
        assert json.loads(ws.recv())["error"]["code"] == 10001
        ws.send("[]")
        assert json.loads(ws.recv())["error"]["code"] == -32600
        ws.send('{"method":"unsubscribe","ch":"orderbook/full","params":{"symbols":["ETHBTC"]},"id":5}')
        assert json.loads(ws.recv())["result"]["subscriptions"] == ["LTCBTC"]
    finally:
        ws.close()


def test_v3_balance_stream_on_the_trading_endpoint(sim: HitBTCV3Sim) -> None:
    from rxfeeds.events import VenueEvent

    with client_for(sim, key=KEY, secret=SECRET) as client:
        balance = Sink()
        d = client.balance().subscribe(balance)
        wait_until(lambda: balance.items)
        [event] = balance.items
        assert isinstance(event, VenueEvent) and event.data == sim.call(lambda: sim.balances(KEY))
        assert set(client.connections) == {"trading"}
        with pytest.raises(NotImplementedError):
            client.transactions()
        d.dispose()
