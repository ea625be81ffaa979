"""BinanceSpot end to end: the real client stack against BinanceSpotSim over real sockets.

Truth is the simulator's own book (``sim.truth``) and its market's trades; the books are built
by ``ops.order_book`` from the client's diff stream plus the REST snapshots it fetched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import reactivex
from reactivex import operators as rx_ops

from rxfeeds import ops
from rxfeeds.errors import InvalidArgument, SubscriptionError
from rxfeeds.events import BookDelta, BookSnapshot, IntegrityEvent, Kline, Quote, Trade
from rxfeeds.sim.binance_spot import BinanceSpotSim
from rxfeeds.venues.binance_spot import BinanceSpot
from tests.helpers import FAST, wait_until
from tests.helpers import Collector as Sink


@pytest.fixture
def sim() -> Iterator[BinanceSpotSim]:
    with BinanceSpotSim(seed=11, listed=["BTCUSDT", "ETHBTC"], tick_interval=0.05) as server:
        yield server
    assert not server.hook_errors


@pytest.fixture
def client(sim: BinanceSpotSim) -> Iterator[BinanceSpot]:
    spot = BinanceSpot(url=sim.url, rest_url=sim.http_url, backoff=FAST)
    yield spot
    spot.close()


def synced_books(sink: Sink) -> list[Any]:
    return [b for b in sink.of(ops.OrderBook) if b.synced]


def assert_book_equals_truth(sim: BinanceSpotSim, sink: Sink, symbol: str) -> None:
    """Freeze the market, wait for the book at the simulator's last update id, compare every level."""
    wait_until(lambda: any(b.symbol == symbol for b in synced_books(sink)), timeout=30)  # needs live diffs
    sim.freeze()
    try:
        last_id = sim.update_id(symbol)
        wait_until(lambda: any(b.symbol == symbol and b.sequence == last_id for b in synced_books(sink)))
        book = next(b for b in reversed(synced_books(sink)) if b.symbol == symbol and b.sequence == last_id)
        truth = sim.truth(symbol)
    finally:
        sim.unfreeze()
    bids, asks = book.levels()
    assert [(lv[0], lv[1]) for lv in bids] == [(lv[0], lv[1]) for lv in truth.bids]
    assert [(lv[0], lv[1]) for lv in asks] == [(lv[0], lv[1]) for lv in truth.asks]
    assert len(truth.bids) > 50 and len(truth.asks) > 50


def test_book_from_diffs_and_rest_snapshot_equals_simulator_book(sim: BinanceSpotSim, client: BinanceSpot) -> None:
    raw = Sink()
    sink = Sink()
    feed = client.book(["BTCUSDT", "ETHBTC"])
    # share a plain view of the Feed (Feed.pipe re-wraps share()'s inner ConnectableObservable)

    def subscribe(observer: Any, scheduler: Any = None) -> Any:
        return feed.subscribe(observer, scheduler=scheduler)

    plain = reactivex.create(subscribe)
    shared = plain.pipe(rx_ops.share())
    d1 = shared.subscribe(raw.on_next, raw.on_error)
    d2 = shared.pipe(ops.order_book(resync=feed.resync)).subscribe(sink.on_next, sink.on_error)
    try:
        for symbol in ("BTCUSDT", "ETHBTC"):
            assert_book_equals_truth(sim, sink, symbol)
        snapshots = raw.of(BookSnapshot)
        assert {s.symbol for s in snapshots} == {"BTCUSDT", "ETHBTC"}
        deltas = [d for d in raw.of(BookDelta) if d.symbol == "BTCUSDT"]
        assert all(d.first_sequence is not None and d.first_sequence <= d.sequence for d in deltas)
        # the snapshot came after the stream's first diff and bridges it
        snap = next(s for s in snapshots if s.symbol == "BTCUSDT")
        assert snap.sequence is not None and snap.sequence + 1 >= deltas[0].first_sequence
        assert not sink.errors and not raw.errors
    finally:
        d1.dispose()
        d2.dispose()


def test_gap_triggers_resync_of_that_symbol_and_the_book_heals(sim: BinanceSpotSim, client: BinanceSpot) -> None:
    sink = Sink()
    disposable = client.book("BTCUSDT").pipe(ops.order_book(integrity=True)).subscribe(sink.on_next, sink.on_error)
    try:
        wait_until(lambda: synced_books(sink))
        sim.faults.skip_sequence("BTCUSDT")
        wait_until(lambda: any(e.kind == "gap" for e in sink.of(IntegrityEvent)))
        gap_at = next(i for i, e in enumerate(sink.items) if isinstance(e, IntegrityEvent) and e.kind == "gap")
        wait_until(lambda: any(isinstance(e, ops.OrderBook) and e.synced for e in sink.items[gap_at:]))
        assert any(isinstance(e, IntegrityEvent) and e.kind == "resync" for e in sink.items[gap_at:])
        assert sim.faults.counts["skip_sequence"] == 1
        assert_book_equals_truth(sim, sink, "BTCUSDT")
    finally:
        disposable.dispose()


def test_reconnect_refetches_the_snapshot(sim: BinanceSpotSim, client: BinanceSpot) -> None:
    sink = Sink()
    disposable = client.book("BTCUSDT").pipe(ops.order_book(integrity=True)).subscribe(sink.on_next, sink.on_error)
    try:
        wait_until(lambda: synced_books(sink))
        sim.faults.reset_all()
        wait_until(lambda: any(e.kind == "reset" for e in sink.of(IntegrityEvent)))
        reset_at = next(i for i, e in enumerate(sink.items) if isinstance(e, IntegrityEvent) and e.kind == "reset")
        wait_until(lambda: any(isinstance(e, ops.OrderBook) and e.synced for e in sink.items[reset_at:]))
        assert_book_equals_truth(sim, sink, "BTCUSDT")
        assert not sink.errors
    finally:
        disposable.dispose()


def test_trades_agg_trades_klines_and_book_ticker(sim: BinanceSpotSim, client: BinanceSpot) -> None:
    sinks = {name: Sink() for name in ("trades", "agg", "klines", "ticker")}
    disposables = [
        client.trades("btcusdt").subscribe(sinks["trades"].on_next),
        client.agg_trades("BTCUSDT").subscribe(sinks["agg"].on_next),
        client.klines("BTCUSDT", "1s").subscribe(sinks["klines"].on_next),
        client.book_ticker("BTCUSDT").subscribe(sinks["ticker"].on_next),
    ]
    try:
        wait_until(lambda: all(s.items for s in sinks.values()))
        wait_until(lambda: any(k.closed for k in sinks["klines"].of(Kline)), timeout=5)
        market_trades = {t.id: t for t in sim.call(lambda: sim.market("BTCUSDT").trades())}
        market = sim.call(lambda: sim.market("BTCUSDT"))
        for trade in sinks["trades"].of(Trade) + sinks["agg"].of(Trade):
            truth = market_trades[trade.trade_id]
            assert (trade.symbol, trade.price, trade.size, trade.side) == (
                "BTCUSDT",
                market.price(truth.price),
                market.size(truth.size),
                truth.side,
            )
        closed = next(k for k in sinks["klines"].of(Kline) if k.closed)
        in_bar = [t for t in market_trades.values() if closed.open_time <= t.time < closed.close_time]
        assert closed.trades == len(in_bar) and closed.close_time - closed.open_time == 1.0
        assert closed.high == max(market.price(t.price) for t in in_bar)
        assert closed.volume == pytest.approx(sum(market.size(t.size) for t in in_bar))
        quote = sinks["ticker"].of(Quote)[-1]
        assert quote.bid < quote.ask
    finally:
        for d in disposables:
            d.dispose()


def test_unknown_symbol_fails_only_that_subscription(sim: BinanceSpotSim, client: BinanceSpot) -> None:
    good, bad = Sink(), Sink()
    d1 = client.trades("BTCUSDT").subscribe(good.on_next, good.on_error)
    d2 = client.book_ticker("NOSUCHCOIN").subscribe(bad.on_next, bad.on_error)
    try:
        wait_until(lambda: bad.errors)
        (error,) = bad.errors
        assert isinstance(error, SubscriptionError) and "NOSUCHCOIN" in str(error)
        count = len(good.items)
        wait_until(lambda: len(good.items) > count + 3)  # the other subscription keeps flowing
        assert not good.errors
        names: list[Any] = []
        client.list_subscriptions().subscribe(names.append)
        wait_until(lambda: names)
        assert names[0] == ["btcusdt@trade"]
    finally:
        d1.dispose()
        d2.dispose()


def test_bad_arguments_are_refused_before_anything_is_sent(sim: BinanceSpotSim, client: BinanceSpot) -> None:
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: client.klines("BTCUSDT", "7m"), "interval"),
        (lambda: client.klines("BTCUSDT", "fortnight"), "interval"),
        (lambda: client.trades("BTC/USDT/X"), "symbols"),  # "BTC/USDT" is the common notation
        (lambda: client.depth([]), "symbols"),
        (lambda: client.depth("BTCUSDT", speed="10ms"), "speed"),
        (lambda: client.book("BTCUSDT", limit=0), "limit"),
    ]
    for call, name in cases:
        with pytest.raises(InvalidArgument) as info:
            call()
        assert info.value.name == name
    assert sim.connection_count == 0
