"""The Bybit clients against their simulators, over real sockets: books that follow the venue's
truth through lost messages, ``u == 1`` restarts and dropped connections; tickers, trades and
klines; refused subscriptions; the 20 s ping and the idle disconnect it prevents."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from rxfeeds import ops
from rxfeeds.books.book import OrderBook
from rxfeeds.errors import SubscriptionError
from rxfeeds.events import IntegrityEvent, Kline, Ticker, Trade
from rxfeeds.sim.bybit import BybitLinearSim, BybitSim
from rxfeeds.transport import FrameTap
from rxfeeds.venues.bybit.client import Bybit, BybitLinear
from tests.helpers import wait_until

pytestmark = pytest.mark.timeout(120)

SYMBOL = "BTCUSDT"


class Collector:
    """Books and integrity events of an ``order_book(integrity=True)`` stream, thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.books: dict[str, OrderBook] = {}
        self.integrity: list[IntegrityEvent] = []
        self.errors: list[Exception] = []

    def on_next(self, value: Any) -> None:
        with self.lock:
            if isinstance(value, OrderBook):
                self.books[value.symbol] = value
            elif isinstance(value, IntegrityEvent):
                self.integrity.append(value)

    def kinds(self, symbol: str = SYMBOL) -> list[str]:
        with self.lock:
            return [e.kind for e in self.integrity if e.symbol == symbol]

    def count(self, kind: str, symbol: str = SYMBOL, detail: str = "") -> int:
        with self.lock:
            return sum(e.kind == kind and e.symbol == symbol and detail in e.detail for e in self.integrity)


def matches_truth(sim: BybitSim, collector: Collector, depth: int, symbol: str = SYMBOL) -> bool:
    """The last book is synced and equals, level for level, what the topic has sent."""
    with collector.lock:
        book = collector.books.get(symbol)
    if book is None or not book.synced:
        return False
    truth = sim.truth((symbol, depth))
    return (
        book.bids == tuple((p, s) for p, s, *_ in truth.bids)
        and book.asks == tuple((p, s) for p, s, *_ in truth.asks)
        and len(truth.bids) == depth
    )


@pytest.fixture
def spot() -> Iterator[tuple[BybitSim, Bybit]]:
    with BybitSim(seed=11, tick_interval=None) as sim:
        client = Bybit(url=sim.url)
        try:
            yield sim, client
        finally:
            client.close()


@pytest.mark.parametrize(
    ("sim_class", "client_class", "depth"),
    [(BybitSim, Bybit, 1000), (BybitLinearSim, BybitLinear, 500), (BybitSim, Bybit, 1)],
)
def test_the_book_follows_the_simulator_level_for_level(sim_class: Any, client_class: Any, depth: int) -> None:
    with sim_class(seed=3, tick_interval=None) as sim:
        client = client_class(url=sim.url)
        got = Collector()
        sub = client.book("BTC/USDT", depth=depth).pipe(ops.order_book(integrity=True)).subscribe(got.on_next)
        try:
            wait_until(lambda: matches_truth(sim, got, depth), timeout=30)
            for _ in range(5):
                sim.step(3)
                wait_until(lambda: matches_truth(sim, got, depth), timeout=30)
            assert got.kinds() == ["synced"]
            with got.lock:
                assert got.books[SYMBOL].sequence == sim.update_id(SYMBOL, depth)
        finally:
            sub.dispose()
            client.close()


def test_every_injected_fault_shows_as_an_integrity_event_then_a_correct_book(spot: tuple[BybitSim, Bybit]) -> None:
    sim, client = spot
    depth = 50
    got = Collector()
    sub = (
        client.book(SYMBOL, depth=depth).pipe(ops.order_book(integrity=True)).subscribe(got.on_next, got.errors.append)
    )
    try:
        wait_until(lambda: matches_truth(sim, got, depth), timeout=30)
        for round_ in range(1, 4):
            # a lost book message: the next delta's u skips one
            sim.faults.skip_sequence(SYMBOL)
            sim.step(2)
            wait_until(lambda: got.count("gap") == round_, timeout=30)  # noqa: B023
            wait_until(lambda: matches_truth(sim, got, depth), timeout=30)
            # the venue restarts its book service: u starts over at 1 with a snapshot
            assert sim.restart(SYMBOL) == 1
            wait_until(lambda: got.count("reset", detail="u=1") == round_, timeout=30)  # noqa: B023
            wait_until(lambda: matches_truth(sim, got, depth), timeout=30)
            sim.step(2)
            wait_until(lambda: matches_truth(sim, got, depth), timeout=30)
            with got.lock:
                assert got.books[SYMBOL].sequence == sim.update_id(SYMBOL, depth) < 10
            # the connection drops: the transport resubscribes and the book comes back
            old = {c.id for c in sim.connections}
            assert sim.faults.close_all(1012, "restart") == 1
            wait_until(lambda: {c.id for c in sim.connections} - old, timeout=30)  # noqa: B023
            wait_until(lambda: got.count("reset", detail="reconnect") == round_, timeout=30)  # noqa: B023
            wait_until(lambda: matches_truth(sim, got, depth), timeout=30)
        assert sim.faults.counts["skip_sequence"] == 3 and sim.faults.counts["restart"] == 3
        assert got.count("gap") == 3 and got.count("reset", detail="u=1") == 3
        assert got.count("reset", detail="reconnect") == 3
        # each failure was followed by a synced book again; nothing failed for good
        kinds = got.kinds()
        assert "failed" not in kinds and kinds[-1] == "synced"
        assert kinds.count("synced") >= 1 + 3 * 3
        assert not got.errors and not sim.hook_errors
    finally:
        sub.dispose()


def test_a_gap_resyncs_only_its_symbol(spot: tuple[BybitSim, Bybit]) -> None:
    sim, client = spot
    out = FrameOut()
    client.add_tap(out)
    got = Collector()
    sub = client.book([SYMBOL, "ETHUSDT"]).pipe(ops.order_book(integrity=True)).subscribe(got.on_next)
    try:
        wait_until(lambda: matches_truth(sim, got, 50) and matches_truth(sim, got, 50, "ETHUSDT"), timeout=30)
        connections = {c.id for c in sim.connections}
        sim.faults.skip_sequence(SYMBOL)
        sim.step(2)
        wait_until(lambda: got.count("gap") == 1, timeout=30)
        wait_until(lambda: matches_truth(sim, got, 50) and matches_truth(sim, got, 50, "ETHUSDT"), timeout=30)
        assert got.kinds("ETHUSDT") == ["synced"]  # the other book never broke
        assert {c.id for c in sim.connections} == connections  # same socket
        resubscribed = [f for f in out.frames if "orderbook.50.BTCUSDT" in f]
        assert [f.split('"op":"')[1].split('"')[0] for f in resubscribed] == ["subscribe", "unsubscribe", "subscribe"]
        assert not [f for f in out.frames if "ETHUSDT" in f and "unsubscribe" in f]
    finally:
        sub.dispose()


class FrameOut(FrameTap):
    def __init__(self) -> None:
        self.frames: list[str] = []

    def frame_out(self, url: str, data: str, t: float) -> None:
        self.frames.append(data)


def test_trades_ticker_and_klines_match_the_market() -> None:
    with BybitLinearSim(seed=5, tick_interval=None) as sim:
        client = BybitLinear(url=sim.url)
        trades: list[Trade] = []
        tickers: list[Ticker] = []
        klines: list[Kline] = []
        subs = [
            client.trades(SYMBOL).subscribe(trades.append),
            client.ticker(SYMBOL).subscribe(tickers.append),
            client.klines(SYMBOL, "1m").subscribe(klines.append),
        ]
        try:
            wait_until(lambda: tickers and klines, timeout=30)  # the subscribe snapshots
            for _ in range(20):
                sim.step(1)
            wait_until(lambda: len(trades) >= 5, timeout=30)

            def ticker_is_current() -> bool:
                bid, ask = sim.call(lambda: (sim.market(SYMBOL).best_bid(), sim.market(SYMBOL).best_ask()))
                m = sim.market(SYMBOL)
                t = tickers[-1]
                return t.bid == m.price(bid[0]) and t.ask == m.price(ask[0]) and t.last is not None

            wait_until(ticker_is_current, timeout=30)
            # every field of the merged ticker is filled although deltas carry only what changed
            last = tickers[-1]
            assert None not in (last.bid, last.bid_size, last.ask, last.ask_size, last.high, last.low, last.volume)
            market_trades = sim.call(lambda: sim.market(SYMBOL).trades())
            assert [t.price for t in trades] == [sim.market(SYMBOL).price(t.price) for t in market_trades][
                -len(trades) :
            ]
            assert {t.side for t in trades} <= {"buy", "sell"} and all(t.symbol == SYMBOL for t in trades)
            assert {k.interval for k in klines} == {"1m"} and klines[-1].close == trades[-1].price
        finally:
            for sub in subs:
                sub.dispose()
            client.close()


def test_a_refused_subscription_errors_that_stream_only(spot: tuple[BybitSim, Bybit]) -> None:
    sim, client = spot
    sim.faults.reject_subscriptions("DOGEUSDT")
    errors: list[Exception] = []
    trades: list[Any] = []
    client.trades("DOGEUSDT").subscribe(on_error=errors.append)
    client.trades(SYMBOL).subscribe(trades.append)
    wait_until(lambda: errors, timeout=30)
    assert isinstance(errors[0], SubscriptionError) and "DOGEUSDT" in str(errors[0])
    sim.step(10)
    wait_until(lambda: trades, timeout=30)


def test_the_venue_drops_a_client_that_stops_pinging_and_keeps_one_that_pings() -> None:
    with BybitSim(seed=2, tick_interval=None, idle_timeout=1.0) as sim:
        silent = Bybit(url=sim.url, app_ping_interval=None)
        pinging = Bybit(url=sim.url, app_ping_interval=0.2)
        out = FrameOut()
        pinging.add_tap(out)
        states: list[str] = []
        silent.state.subscribe(lambda s: states.append(s.state))
        subs = [silent.trades(SYMBOL).subscribe(), pinging.trades("ETHUSDT").subscribe()]
        try:
            wait_until(lambda: sim.faults.counts["idle_close"] >= 1, timeout=30)
            wait_until(lambda: states.count("open") >= 2, timeout=30)  # the silent client reconnected
            wait_until(lambda: sum('"op":"ping"' in f for f in out.frames) >= 12, timeout=30)  # > 2 idle timeouts
            # the pinging client still has its first connection
            assert pinging.connections["public"].stats().reconnects == 0
        finally:
            for sub in subs:
                sub.dispose()
            silent.close()
            pinging.close()


@pytest.mark.parametrize(("sim_class", "client_class"), [(BybitSim, Bybit), (BybitLinearSim, BybitLinear)])
def test_ping_is_answered_with_pong_as_on_kraken_and_okx(sim_class: Any, client_class: Any) -> None:
    from rxfeeds.errors import InvalidArgument

    with sim_class(seed=1, tick_interval=None) as sim, client_class(url=sim.url) as client:
        assert client.ping().run() == "pong"
        assert client.ping(timeout=5).run() == "pong"  # the same request id again
        with pytest.raises(InvalidArgument, match="timeout"):
            client.ping(timeout=0)


def test_the_keep_alive_pong_answers_no_request() -> None:
    from rxfeeds.codec import Pong, Reply
    from rxfeeds.venues.bybit.codec import PING_ID, BybitCodec

    codec = BybitCodec()
    keep_alive = codec.decode('{"success":true,"ret_msg":"pong","conn_id":"c","req_id":"","op":"ping"}', 0.0)
    assert keep_alive == [Pong()]
    asked = codec.decode('{"success":true,"ret_msg":"pong","conn_id":"c","req_id":"' + PING_ID + '","op":"ping"}', 0.0)
    assert asked == [Pong(PING_ID), Reply(PING_ID, result="pong")]


def test_a_dashed_pair_is_refused_on_spot_and_a_dated_future_taken_on_linear() -> None:
    # BTC-USDT (OKX's and Coinbase's spelling) used to pass on spot, where Bybit has no such symbol
    from rxfeeds.errors import InvalidArgument

    spot = Bybit(url="ws://127.0.0.1:9/v5/public/spot")
    with pytest.raises(InvalidArgument, match=r"'BTCUSDT' \(the venue's spelling\) or 'BTC/USDT'"):
        spot.book("BTC-USDT")
    linear = BybitLinear(url="ws://127.0.0.1:9/v5/public/linear")
    assert linear.book("BTCUSDT-27DEC24") is not None and linear.book("BTC/USDT") is not None


def test_a_depth_bybit_does_not_offer_names_the_depths_it_does() -> None:
    from rxfeeds.errors import InvalidArgument

    with pytest.raises(InvalidArgument) as refused:
        Bybit(url="ws://127.0.0.1:9/v5/public/spot").book("BTCUSDT", depth=10)
    assert str(refused.value).endswith("Bybit spot books take one of 1, 50, 200, 1000")  # not a tuple's repr
