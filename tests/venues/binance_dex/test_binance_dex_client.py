"""BinanceDex end to end: every stream, the one-off mode, keepAlive/close and errors, against
BinanceDexSim over real sockets.  Truth: the simulator's books, trades, heights and account log."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import websocket

from rxfeeds import ops
from rxfeeds.errors import InvalidArgument, SubscriptionError
from rxfeeds.events import BookDelta, BookSnapshot, Kline, Ticker, Trade
from rxfeeds.sim.binance_dex import BinanceDexSim
from rxfeeds.venues.binance_dex import BinanceDex, BlockHeight, DexAccount, DexOrderUpdate, DexTransfer
from rxfeeds.venues.binance_dex.codec import bech32_encode
from tests.helpers import FAST, wait_until
from tests.helpers import Collector as Sink

BNB_BTC = "BNB_BTCB-1DE"
BNB_USD = "BNB_USDT.B-B7C"
ADDRESS = "bnb1m4m9etgf3ca5wpgkqe5nr6r33a4ynxfln3yz4v"


@pytest.fixture
def sim() -> Iterator[BinanceDexSim]:
    with BinanceDexSim(seed=5, listed=[BNB_BTC, BNB_USD], symbols=[BNB_BTC, BNB_USD], tick_interval=0.05) as server:
        yield server
    assert not server.hook_errors


@pytest.fixture
def dex(sim: BinanceDexSim) -> Iterator[BinanceDex]:
    client = BinanceDex(url=sim.url, backoff=FAST)
    yield client
    client.close()


def collect(source: Any) -> tuple[Sink, Any]:
    sink = Sink()
    return sink, source.subscribe(sink.on_next, sink.on_error, sink.on_completed)


def test_market_depth_snapshots_equal_simulator_top_levels(sim: BinanceDexSim, dex: BinanceDex) -> None:
    sinks = {levels: collect(dex.market_depth(BNB_BTC, levels=levels)) for levels in (20, 100)}
    try:
        wait_until(lambda: all(s.of(BookSnapshot) for s, _ in sinks.values()))
        sim.freeze()
        try:
            # drive ticks by hand until a snapshot of the current block arrives, then compare
            for levels, (sink, _) in sinks.items():
                wait_until(functools.partial(_stepped_to_current, sim, sink))
                snap = sink.of(BookSnapshot)[-1]
                truth = sim.truth(BNB_BTC, depth=levels)
                assert snap.depth == levels and len(snap.bids) == levels
                assert [(b[0], b[1]) for b in snap.bids] == [(b[0], b[1]) for b in truth.bids]
                assert [(a[0], a[1]) for a in snap.asks] == [(a[0], a[1]) for a in truth.asks]
        finally:
            sim.unfreeze()
    finally:
        for _, d in sinks.values():
            d.dispose()


def _stepped_to_current(sim: BinanceDexSim, sink: Sink) -> bool:
    snaps = sink.of(BookSnapshot)
    if snaps and snaps[-1].sequence == sim.height:
        return True
    sim.step(1)
    return False


def test_market_diff_applied_to_the_book_follows_the_simulator(sim: BinanceDexSim, dex: BinanceDex) -> None:
    sim.freeze()
    try:
        book: dict[str, dict[float, float]] = {"b": {}, "a": {}}
        truth = sim.truth(BNB_BTC)
        book["b"] = {lv[0]: lv[1] for lv in truth.bids}
        book["a"] = {lv[0]: lv[1] for lv in truth.asks}
        sink, disposable = collect(dex.market_diff(BNB_BTC))
        wait_until(lambda: sim.call(lambda: ("marketDiff", BNB_BTC) in sim._watchers))
        sim.step(10)
        final = sim.truth(BNB_BTC)

        def caught_up() -> bool:
            for delta in sink.of(BookDelta)[caught_up.applied :]:  # type: ignore[attr-defined]
                for side, levels in (("b", delta.bids), ("a", delta.asks)):
                    for price, size, _, _ in levels:
                        if size == 0:
                            book[side].pop(price, None)
                        else:
                            book[side][price] = size
                caught_up.applied += 1  # type: ignore[attr-defined]
            return book["b"] == {lv[0]: lv[1] for lv in final.bids} and book["a"] == {lv[0]: lv[1] for lv in final.asks}

        caught_up.applied = 0  # type: ignore[attr-defined]
        wait_until(caught_up)
        assert all(d.sequence is None and d.symbol == BNB_BTC for d in sink.of(BookDelta))
        disposable.dispose()
    finally:
        sim.unfreeze()


def test_trades_klines_tickers_and_block_height(sim: BinanceDexSim, dex: BinanceDex) -> None:
    streams: dict[str, Any] = {
        "trades": dex.trades([BNB_BTC, BNB_USD]),
        "klines": dex.klines(BNB_BTC, "1m"),
        "ticker": dex.ticker(BNB_BTC),
        "mini": dex.mini_ticker(BNB_USD),
        "all": dex.all_tickers(),
        "all_mini": dex.all_mini_tickers(),
        "height": dex.block_height(),
    }
    sinks = {name: collect(source) for name, source in streams.items()}
    try:
        wait_until(lambda: all(s.items for s, _ in sinks.values()))
        wait_until(lambda: {t.symbol for t in sinks["trades"][0].of(Trade)} == {BNB_BTC, BNB_USD})
        for trade in sinks["trades"][0].of(Trade):
            market = sim.call(lambda t=trade: sim.market(t.symbol))
            truth = {t.id: t for t in sim.call(market.trades)}[int(str(trade.trade_id).split("-")[1])]
            assert (trade.price, trade.size, trade.side) == (
                market.price(truth.price),
                market.size(truth.size),
                truth.side,
            )
        kline = sinks["klines"][0].of(Kline)[-1]
        assert (kline.symbol, kline.interval, kline.close_time - kline.open_time) == (BNB_BTC, "1m", 60.0)
        assert kline.low <= kline.close <= kline.high
        ticker = sinks["ticker"][0].of(Ticker)[-1]
        assert (
            ticker.symbol == BNB_BTC and ticker.bid is not None and ticker.ask is not None and ticker.bid < ticker.ask
        )
        mini = sinks["mini"][0].of(Ticker)[-1]
        assert mini.symbol == BNB_USD and mini.bid is None and mini.last is not None
        wait_until(lambda: {t.symbol for t in sinks["all"][0].of(Ticker)} == {BNB_BTC, BNB_USD})
        wait_until(lambda: {t.symbol for t in sinks["all_mini"][0].of(Ticker)} == {BNB_BTC, BNB_USD})
        wait_until(lambda: len(sinks["height"][0].of(BlockHeight)) >= 3)
        heights = [b.height for b in sinks["height"][0].of(BlockHeight)]
        assert heights == list(range(heights[0], heights[0] + len(heights)))
        assert heights[-1] <= sim.height
    finally:
        for _, d in sinks.values():
            d.dispose()


def test_account_streams_are_told_apart(sim: BinanceDexSim, dex: BinanceDex) -> None:
    other = bech32_encode("bnb", bytes(range(20)))
    sink, d1 = collect(dex.account(ADDRESS))
    orders, d2 = collect(dex.account(ADDRESS).pipe(ops.of_channel("orders")))
    second, d3 = collect(dex.account(other, streams=["transfers"]))
    try:
        wait_until(lambda: all(sink.of(k) for k in (DexAccount, DexOrderUpdate, DexTransfer)))
        wait_until(lambda: second.items and orders.items)
        assert sim.connection_count == 2  # one address per connection
        log = sim.call(lambda: list(sim.account_log[ADDRESS]))
        sent_orders = [o for topic, data in log if topic == "orders" for o in data]
        for update in sink.of(DexOrderUpdate):
            assert update.channel == "orders"
            assert any(o["i"] == update.order_id and o["X"] == update.status for o in sent_orders)
        sent_hashes = {data["H"] for topic, data in log if topic == "transfers"}
        assert {t.tx_hash for t in sink.of(DexTransfer)} <= sent_hashes
        assert all(t.from_address == ADDRESS for t in sink.of(DexTransfer))
        balances = sink.of(DexAccount)[0].balances
        assert [b[0] for b in balances] == ["BNB", "BTCB-1DE"]
        assert all(isinstance(o, DexOrderUpdate) for o in orders.items)
        assert all(isinstance(t, DexTransfer) and t.from_address == other for t in second.items)
    finally:
        for d in (d1, d2, d3):
            d.dispose()


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda dex: dex.market_depth(BNB_BTC, one_off=True), BookSnapshot),
        (lambda dex: dex.trades(BNB_BTC, one_off=True), Trade),
        (lambda dex: dex.market_diff(BNB_BTC, one_off=True), BookDelta),
        (lambda dex: dex.klines(BNB_BTC, "1m", one_off=True), Kline),
        (lambda dex: dex.ticker(BNB_BTC, one_off=True), Ticker),
        (lambda dex: dex.all_mini_tickers(one_off=True), Ticker),
        (lambda dex: dex.block_height(one_off=True), BlockHeight),
        (lambda dex: dex.account(ADDRESS, one_off=True), (DexAccount, DexOrderUpdate, DexTransfer)),
    ],
)
def test_one_off_emits_one_value_and_closes(
    sim: BinanceDexSim, dex: BinanceDex, make: Callable[[BinanceDex], Any], kind: Any
) -> None:
    sink, _ = collect(make(dex))
    wait_until(lambda: sink.completed or sink.errors)
    assert not sink.errors
    assert len(sink.items) == 1 and isinstance(sink.items[0], kind)
    wait_until(lambda: sim.connection_count == 0)


def test_keepalive_on_a_timer_and_close_on_dispose(sim: BinanceDexSim) -> None:
    client = BinanceDex(url=sim.url, keepalive_interval=0.1, backoff=FAST)
    sink, _ = collect(client.block_height())
    wait_until(lambda: sink.items)
    wait_until(lambda: sim.keepalives >= 2)
    client.close()
    wait_until(lambda: sim.close_requests == 1 and sim.connection_count == 0)
    assert sink.completed


def test_unknown_symbol_fails_only_that_subscription(sim: BinanceDexSim, dex: BinanceDex) -> None:
    good, d1 = collect(dex.block_height())
    bad, d2 = collect(dex.trades("NOPE_BNB"))
    try:
        wait_until(lambda: bad.errors)
        (error,) = bad.errors
        assert isinstance(error, SubscriptionError) and "NOPE_BNB" in str(error)
        count = len(good.items)
        wait_until(lambda: len(good.items) > count + 2)
        assert not good.errors
    finally:
        d1.dispose()
        d2.dispose()


def test_bad_arguments_are_refused_before_anything_is_sent(sim: BinanceDexSim, dex: BinanceDex) -> None:
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: dex.account("tbnb1" + ADDRESS[4:]), "address"),
        (lambda: dex.account(ADDRESS[:-1] + "w"), "address"),
        (lambda: dex.account(ADDRESS, streams=["balances"]), "streams"),
        (lambda: dex.klines(BNB_BTC, "1s"), "interval"),
        (lambda: dex.klines(BNB_BTC, "10m"), "interval"),
        (lambda: dex.market_depth(BNB_BTC, levels=50), "levels"),
        (lambda: dex.trades("BNBBTC"), "symbols"),
        (lambda: dex.ticker([]), "symbols"),
    ]
    for call, name in cases:
        with pytest.raises(InvalidArgument) as info:
            call()
        assert info.value.name == name, name
    assert sim.connection_count == 0
    testnet = BinanceDex(testnet=True, url=sim.url)
    assert testnet.account(bech32_encode("tbnb", bytes(20))) is not None
    assert BinanceDex().base_url == "wss://dex.binance.org/api/"
    assert BinanceDex(testnet=True).base_url == "wss://testnet-dex.binance.org/api/"


def test_simulator_protocol_details(sim: BinanceDexSim) -> None:
    ws = websocket.create_connection(sim.url + "ws", timeout=10)
    try:
        # the pre-2019 field name still works
        ws.send(json.dumps({"method": "subscribe", "topic": "accounts", "userAddress": ADDRESS}))
        ws.send(json.dumps({"method": "fly"}))
        ws.send("{nope")
        ws.send(json.dumps({"method": "subscribe", "topic": "marketDepth", "symbols": ["NOPE_BNB"]}))
        errors: list[dict[str, Any]] = []
        streams: set[str] = set()
        while len(errors) < 3 or "accounts" not in streams:
            msg = json.loads(ws.recv())
            if "error" in msg:
                errors.append(msg)
            else:
                streams.add(msg["stream"])
        assert errors[0]["error"]["code"] == 400 and "fly" in errors[0]["error"]["msg"]
        assert errors[1]["error"]["code"] == 400
        assert errors[2]["topic"] == "marketDepth" and errors[2]["symbols"] == ["NOPE_BNB"]
        ws.send(json.dumps({"method": "close"}))
        with pytest.raises(websocket.WebSocketConnectionClosedException):
            while ws.recv():  # data until the server's close frame ("" once closed)
                pass
            raise websocket.WebSocketConnectionClosedException("closed by the server")
        wait_until(lambda: sim.connection_count == 0)
        assert sim.close_requests == 1
    finally:
        ws.close()
