"""HitBTC v2 client against the v2 simulator over real sockets (websocket-client <-> websockets).

The simulator runs without automatic ticks; tests drive the market with ``sim.step(n)`` and
wait for conditions with deadlines.  Truth comes from the simulator's own state (the book it
sent, its market's trades) and from independent rebuilds in the tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from rxfeeds.errors import AuthError, InvalidArgument, SubscriptionError
from rxfeeds.events import BookDelta, BookSnapshot, Kline, OrderUpdate, StreamReset, Ticker, Trade
from rxfeeds.sim.hitbtc import HitBTCSim
from rxfeeds.venues.hitbtc import errors as E
from rxfeeds.venues.hitbtc.client import HitBTC
from tests.helpers import Collector as Sink
from tests.helpers import wait_until
from tests.support.hitbtc import rebuild, truth_books

KEY, SECRET = "sim-key", "sim-secret"


@pytest.fixture
def sim() -> Iterator[HitBTCSim]:
    with HitBTCSim(seed=11, tick_interval=None, resnapshot_after=None) as server:
        yield server
        assert server.hook_errors == []


def client_for(sim: HitBTCSim, **kw: Any) -> HitBTC:
    return HitBTC(sim.public_url, trading_url=sim.trading_url, ping_interval=None, request_timeout=5.0, **kw)


def test_orderbook_matches_truth_and_resnapshot_equals_rebuilt_book(sim: HitBTCSim) -> None:
    with client_for(sim) as client:
        sink = Sink()
        sub = client.orderbook("ETHBTC").subscribe(sink)
        wait_until(lambda: sink.of(BookSnapshot))
        sim.step(30)
        wait_until(lambda: len(sink.of(BookDelta)) >= 25)
        before = list(sink.items)
        bids, asks, last = rebuild(before)
        wait_until(lambda: sim.call(lambda: sim.sequences["ETHBTC"]) == rebuild(list(sink.items))[2])
        bids, asks, last = rebuild(list(sink.items))
        assert (bids, asks) == truth_books(sim, "ETHBTC")
        assert max(bids) < min(asks)
        # the unsolicited mid-stream re-snapshot: same sequence as the last update, same book
        n = len(sink.items)
        assert sim.resnapshot("ETHBTC") == 1
        wait_until(lambda: len(sink.items) > n)
        again = sink.items[n]
        assert isinstance(again, BookSnapshot) and again.sequence == last
        assert (
            {Decimal(p): Decimal(s) for _, _, p, s in again.bids},
            {Decimal(p): Decimal(s) for _, _, p, s in again.asks},
        ) == (bids, asks)
        sim.step(5)
        wait_until(lambda: rebuild(list(sink.items))[2] == sim.call(lambda: sim.sequences["ETHBTC"]))
        assert rebuild(list(sink.items))[:2] == truth_books(sim, "ETHBTC")
        sub.dispose()
    assert not sink.errors


def test_skip_sequence_fault_is_visible_and_resync_recovers(sim: HitBTCSim) -> None:
    with client_for(sim) as client:
        sink = Sink()
        feed = client.orderbook("ETHBTC")
        sub = feed.subscribe(sink)
        wait_until(lambda: sink.of(BookSnapshot))
        sim.faults.skip_sequence("ETHBTC")
        sim.step(3)
        wait_until(lambda: len(sink.of(BookDelta)) >= 3)
        deltas = sink.of(BookDelta)
        steps = [b.sequence - a.sequence for a, b in itertools.pairwise(deltas)]
        first_gap = deltas[0].sequence - sink.of(BookSnapshot)[0].sequence
        assert sorted([first_gap, *steps]) == [1, 1, 2]
        assert feed.resync("ETHBTC")
        wait_until(lambda: len(sink.of(BookSnapshot)) == 2)
        reset_at = next(i for i, e in enumerate(sink.items) if isinstance(e, StreamReset))
        after = sink.items[reset_at + 1 :]
        sim.step(5)
        wait_until(lambda: len(sink.items) - reset_at > 5)
        wait_until(lambda: sim.call(lambda: sim.sequences["ETHBTC"]) == rebuild(sink.items[reset_at + 1 :])[2])
        assert rebuild(sink.items[reset_at + 1 :])[:2] == truth_books(sim, "ETHBTC")
        assert after and isinstance(after[0], BookSnapshot)
        sub.dispose()


def test_trades_candles_ticker_against_the_simulated_market(sim: HitBTCSim) -> None:
    sim.market("ETHBTC")
    sim.step(200)  # some history for the snapshots
    market_trades = sim.call(lambda: sim.market("ETHBTC").trades())
    assert len(market_trades) > 100
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
        m = sim.call(lambda: sim.market("ETHBTC"))
        # trades snapshot: the last 100 trades, oldest first, exact values
        snap = trades.of(Trade)[:100]
        expected = market_trades[-100:]
        assert [t.trade_id for t in snap] == [t.id for t in expected]
        assert [(t.price, t.size, t.side) for t in snap] == [
            (m.price(x.price), m.size(x.size), x.side) for x in expected
        ]
        assert all(abs(a.time - x.time) < 0.0015 for a, x in zip(snap, expected, strict=True))
        # candles snapshot: an independent OHLCV aggregation of the same trades by minute
        by_minute: dict[int, list[Any]] = {}
        for t in market_trades:
            by_minute.setdefault(int(t.time // 60), []).append(t)
        got = candles.of(Kline)
        assert len(got) == len(by_minute)
        for k, (minute, ts) in zip(got, sorted(by_minute.items()), strict=True):
            assert k.open_time == minute * 60 and k.close_time == minute * 60 + 60 and k.interval == "1m"
            prices = [m.price(t.price) for t in ts]
            assert (k.open, k.high, k.low, k.close) == (prices[0], max(prices), min(prices), prices[-1])
            assert k.volume == pytest.approx(sum(m.size(t.size) for t in ts), rel=1e-12)
        # ticker: the touch of the market at that moment
        first = ticker.of(Ticker)[0]
        bid, ask = sim.call(lambda: (m.best_bid(), m.best_ask()))
        assert bid is not None and ask is not None
        assert (first.bid, first.ask) == (m.price(bid[0]), m.price(ask[0]))
        # live updates keep coming, trades in increasing id order
        n_trades = len(trades.items)
        sim.step(50)
        wait_until(lambda: len(trades.items) > n_trades)
        ids = [t.trade_id for t in trades.of(Trade)]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        for s in subs:
            s.dispose()
        assert not (trades.errors or candles.errors or ticker.errors)


def test_multiplexed_and_unsubscribed_on_last_dispose(sim: HitBTCSim) -> None:
    def subscribed() -> list[Any]:
        return sim.call(lambda: [k for c in sim.connections for k in c.subscriptions])

    with client_for(sim) as client:
        a, b = Sink(), Sink()
        trades = client.trades("ETHBTC")
        d1 = trades.subscribe(a)
        d2 = client.trades("ETHBTC").subscribe(b)
        wait_until(lambda: subscribed() == [("trades", "ETHBTC")])
        sim.step(20)
        wait_until(lambda: len(a.items) > 0 and a.items == b.items)
        assert subscribed() == [("trades", "ETHBTC")] and sim.connection_count == 1
        d1.dispose()
        sim.step(1)
        assert subscribed() == [("trades", "ETHBTC")]
        d2.dispose()
        wait_until(lambda: subscribed() == [])


def test_unknown_symbol_fails_only_its_subscription(sim: HitBTCSim) -> None:
    with client_for(sim) as client:
        good, bad, rejected = Sink(), Sink(), Sink()
        d1 = client.trades("ETHBTC").subscribe(good)
        d2 = client.orderbook("NOPE").subscribe(bad)
        sim.faults.reject_subscriptions("LTCBTC")
        d3 = client.candles("LTCBTC", "M5").subscribe(rejected)
        wait_until(lambda: bad.errors and rejected.errors)
        for sink in (bad, rejected):
            [err] = sink.errors
            assert isinstance(err, SubscriptionError)
            assert isinstance(err, E.HitBTCSubscriptionError)
            assert isinstance(err.error, E.SymbolNotFound) and err.code == 2001 and "Symbol not found" in str(err)
        n = len(good.items)
        sim.step(30)
        wait_until(lambda: len(good.items) > n)
        assert not good.errors
        for d in (d1, d2, d3):
            d.dispose()


def test_market_data_requests(sim: HitBTCSim) -> None:
    sim.market("ETHBTC")
    sim.step(50)
    with client_for(sim) as client:
        assert client.symbol("ETHBTC").run() == sim.call(lambda: sim.symbol_info("ETHBTC"))
        ids = [s["id"] for s in client.symbols().run()]
        assert {"ETHBTC", "BTCUSD"} <= set(ids)
        assert client.currency("ETH").run()["id"] == "ETH"
        assert {"ETH", "BTC", "USD"} <= {c["id"] for c in client.currencies().run()}
        with pytest.raises(E.SymbolNotFound, match="Symbol not found"):
            client.symbol("NOPE").run()
        with pytest.raises(E.CurrencyNotFound):
            client.currency("ZZZ").run()
        history = client.trades_history("ETHBTC", limit=7).run()
        market = sim.call(lambda: sim.market("ETHBTC").trades())
        assert [t.trade_id for t in history] == [t.id for t in reversed(market[-7:])]  # DESC
        asc = client.trades_history("ETHBTC", sort="ASC", by="id", since=market[3].id, limit=2).run()
        assert [t.trade_id for t in asc] == [market[3].id, market[4].id]


def test_bad_arguments_raise_before_sending(sim: HitBTCSim) -> None:
    client = client_for(sim)
    with pytest.raises(InvalidArgument, match="period"):
        client.candles("ETHBTC", "M2")
    with pytest.raises(InvalidArgument, match="symbol"):
        client.trades("")
    with pytest.raises(InvalidArgument, match="depth"):
        client.book("ETHBTC", depth=0)
    with pytest.raises(AuthError):
        client.reports()
    authed = client_for(sim, key=KEY, secret=SECRET)
    with pytest.raises(InvalidArgument, match="side"):
        authed.new_order("ETHBTC", "hold", "1", "0.05")
    with pytest.raises(InvalidArgument, match="quantity"):
        authed.new_order("ETHBTC", "buy", "-1", "0.05")
    with pytest.raises(InvalidArgument, match="price"):
        authed.new_order("ETHBTC", "buy", "1")
    assert sim.connection_count == 0
    for text in (repr(authed), str(authed)):
        assert KEY not in text and SECRET not in text


@pytest.mark.parametrize("algo", ["HS256", "BASIC"])
def test_login_reports_and_order_flow(sim: HitBTCSim, algo: str) -> None:
    log: list[tuple[str, Any]] = []
    with client_for(sim, key=KEY, secret=SECRET, algo=algo) as client:
        reports = Sink(log, "report")
        sub = client.reports().subscribe(reports)
        wait_until(lambda: sim.call(lambda: [c.state.get("account") for c in sim.connections]) == [KEY])

        def place(cid: str, **kw: Any) -> OrderUpdate:
            result = client.new_order("ETHBTC", "buy", "0.5", "0.04", client_order_id=cid, **kw).run()
            log.append(("result", result))
            return result

        placed = place("order-1")
        assert (placed.client_order_id, placed.status, placed.raw["reportType"]) == ("order-1", "new", "new")
        assert placed.price == 0.04 and placed.size == 0.5 and placed.side == "buy"
        # the report for the order arrived before the result
        tags = [(tag, item.client_order_id) for tag, item in log]
        assert tags.index(("report", "order-1")) < tags.index(("result", "order-1"))
        assert sim.call(lambda: list(sim.orders[KEY])) == ["order-1"]

        with pytest.raises(E.DuplicateClientOrderId, match="Duplicate clientOrderId"):
            place("order-1")

        replaced = client.replace_order("order-1", "order-2", "0.75", "0.041").run()
        log.append(("result", replaced))
        assert replaced.client_order_id == "order-2" and replaced.raw["originalRequestClientOrderId"] == "order-1"
        assert replaced.raw["reportType"] == "replaced" and replaced.size == 0.75
        assert [o.client_order_id for o in client.active_orders().run()] == ["order-2"]

        canceled = client.cancel_order("order-2").run()
        log.append(("result", canceled))
        assert canceled.status == "canceled"
        with pytest.raises(E.OrderNotFound):
            client.cancel_order("order-2").run()
        tags3 = [(tag, item.client_order_id, item.raw["reportType"]) for tag, item in log]
        for cid, kind in (("order-2", "replaced"), ("order-2", "canceled")):
            assert tags3.index(("report", cid, kind)) < tags3.index(("result", cid, kind))
        assert sim.call(lambda: sim.orders[KEY]) == {}
        assert [b["currency"] for b in client.trading_balance().run()][:2] == ["BTC", "ETH"]
        assert not reports.errors  # the duplicate failed only its own request
        sub.dispose()


def test_reports_snapshot_lists_active_orders(sim: HitBTCSim) -> None:
    with client_for(sim, key=KEY, secret=SECRET) as client:
        client.new_order("ETHBTC", "sell", "1", "0.06", client_order_id="resting").run()
        reports = Sink()
        sub = client.reports().subscribe(reports)
        wait_until(lambda: reports.items)
        [snap] = reports.items
        assert isinstance(snap, OrderUpdate) and snap.client_order_id == "resting" and snap.side == "sell"
        sub.dispose()


def test_bad_key_fails_private_streams_with_1002_while_public_flows(sim: HitBTCSim) -> None:
    with client_for(sim, key=KEY, secret="wrong-secret") as client:
        trades, reports = Sink(), Sink()
        d1 = client.trades("ETHBTC").subscribe(trades)
        d2 = client.reports().subscribe(reports)
        wait_until(lambda: reports.errors)
        wait_until(lambda: sim.call(lambda: any(("trades", "ETHBTC") in c.subscriptions for c in sim.connections)))
        [err] = reports.errors
        assert isinstance(err, E.HitBTCSubscriptionError) and isinstance(err.error, E.AuthorizationFailed)
        assert err.code == 1002 and "wrong-secret" not in str(err)
        with pytest.raises(E.AuthorizationFailed) as info:
            client.new_order("ETHBTC", "buy", "1", "0.05").run()
        assert isinstance(info.value, AuthError) and "wrong-secret" not in repr(info.value)
        sim.step(30)
        wait_until(lambda: trades.items)
        assert not trades.errors
        d1.dispose()
        d2.dispose()


def test_garbage_gets_json_rpc_errors_and_server_survives(sim: HitBTCSim) -> None:
    import json

    import websocket

    ws = websocket.create_connection(sim.public_url, timeout=5)
    try:
        ws.send("{not json")
        assert json.loads(ws.recv())["error"]["code"] == -32700
        ws.send('{"method":"noSuchMethod","params":{},"id":5}')
        reply = json.loads(ws.recv())
        assert reply["error"]["code"] == -32601 and reply["id"] == 5
        ws.send('{"method":"subscribeTrades","params":[1],"id":6}')
        assert json.loads(ws.recv())["id"] == 6
        ws.send('{"method":"login","params":{"algo":"MD5","pKey":"x"},"id":7}')
        assert json.loads(ws.recv())["error"]["code"] == 1004
        ws.send("x" * 70_000)
        assert json.loads(ws.recv())["error"]["code"] == -32600
        ws.send('{"method":"getSymbol","params":{"symbol":"ETHBTC"},"id":8}')
        assert json.loads(ws.recv())["result"]["id"] == "ETHBTC"
    finally:
        ws.close()


def test_single_original_endpoint_carries_everything_on_one_socket(sim: HitBTCSim) -> None:
    single = sim.url  # ws://127.0.0.1:PORT/api/2/ws
    with HitBTC(single, trading_url=single, key=KEY, secret=SECRET, ping_interval=None) as client:
        trades, reports = Sink(), Sink()
        d1 = client.trades("ETHBTC").subscribe(trades)
        d2 = client.reports().subscribe(reports)
        wait_until(
            lambda: (
                sim.call(lambda: [sorted(c.subscriptions) for c in sim.connections])
                == [[("reports", ""), ("trades", "ETHBTC")]]
            )
        )
        assert client.symbol("ETHBTC").run()["id"] == "ETHBTC"
        assert client.new_order("ETHBTC", "buy", "1", "0.04").run().status == "new"
        sim.step(20)
        wait_until(lambda: trades.items and reports.items)
        assert sim.connection_count == 1 and set(client.connections) == {"trading"}
        d1.dispose()
        d2.dispose()


def test_blocking_and_asyncio_bridges_from_the_docstring(sim: HitBTCSim) -> None:
    import asyncio
    import concurrent.futures
    import queue

    from reactivex import operators as rx_ops

    sim.market("ETHBTC")
    sim.step(50)
    with client_for(sim) as client:
        first = client.trades("ETHBTC").pipe(rx_ops.take(5), rx_ops.to_list()).run()
        assert len(first) == 5 and all(isinstance(t, Trade) for t in first)
        q: queue.Queue[Any] = queue.Queue()
        sub = client.trades("ETHBTC").subscribe(q.put)
        assert isinstance(q.get(timeout=5), Trade)  # the old recv(timeout)
        sub.dispose()

        async def ask() -> Any:
            fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
            client.symbol("ETHBTC").subscribe(fut.set_result, fut.set_exception)
            return await asyncio.wrap_future(fut)

        assert asyncio.run(ask())["id"] == "ETHBTC"


def test_account_endpoint_balance_and_transactions(sim: HitBTCSim) -> None:
    from rxfeeds.events import VenueEvent

    account_url = sim.public_url.replace("/public", "/account")
    with client_for(sim, key=KEY, secret=SECRET, account_url=account_url) as client:
        balance, transactions = Sink(), Sink()
        d1 = client.balance().subscribe(balance)
        d2 = client.transactions().subscribe(transactions)
        wait_until(lambda: balance.items)
        [event] = balance.items
        assert isinstance(event, VenueEvent) and event.kind == "balance"
        assert event.data == sim.call(lambda: sim.balances(KEY))
        wait_until(
            lambda: (
                sim.call(lambda: [sorted(c.subscriptions) for c in sim.connections if c.subscriptions])
                == [[("balance", ""), ("transactions", "")]]
            )
        )
        assert set(client.connections) == {"account"} and not transactions.errors
        d1.dispose()
        d2.dispose()
