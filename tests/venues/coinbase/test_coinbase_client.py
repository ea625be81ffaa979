"""Coinbase client against its simulator over real sockets: channels, heartbeats, quiet channels, JWT."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import websocket

from rxfeeds import ops
from rxfeeds.capture import Recorder
from rxfeeds.errors import InvalidArgument, SubscriptionError
from rxfeeds.events import BookSnapshot, Kline, Ticker, Trade
from rxfeeds.sim.coinbase import CoinbaseSim
from rxfeeds.venues.coinbase.client import Coinbase
from tests.helpers import wait_until

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def sim() -> Iterator[CoinbaseSim]:
    with CoinbaseSim(seed=3, tick_interval=0.05, symbols=["BTC-USD", "ETH-USD"]) as server:
        yield server
    assert server.hook_errors == []


class Collect:
    def __init__(self) -> None:
        self.items: list[Any] = []
        self.errors: list[Exception] = []
        self.lock = threading.Lock()

    def on_next(self, value: Any) -> None:
        with self.lock:
            self.items.append(value)

    def of(self, kind: type) -> list[Any]:
        with self.lock:
            return [v for v in self.items if type(v) is kind]


def test_every_channel_delivers_on_one_connection_with_heartbeats_alongside(sim: CoinbaseSim) -> None:
    client = Coinbase(url=sim.url)
    got = Collect()
    subs = [
        client.book("BTC/USD").subscribe(got.on_next, got.errors.append),
        client.trades(["BTC-USD", "ETH/USD"]).subscribe(got.on_next, got.errors.append),
        client.ticker("ETH-USD").subscribe(got.on_next, got.errors.append),
        client.klines("BTC-USD").subscribe(got.on_next, got.errors.append),
    ]
    try:
        wait_until(lambda: got.errors or all(got.of(k) for k in (BookSnapshot, Trade, Ticker, Kline)), timeout=60)
        assert not got.errors, got.errors[0]
        assert {t.symbol for t in got.of(Trade)} <= {"BTC-USD", "ETH-USD"}
        assert {t.instrument for t in got.of(Ticker)} == {"ETH/USD"}
        assert all(k.interval == "5m" and k.close_time - k.open_time == 300 for k in got.of(Kline))
        (conn,) = sim.connections  # one socket for every channel
        assert conn.state.get("heartbeats") is True  # subscribed without being asked
        wait_until(lambda: int(conn.state.get("heartbeat_counter", 0)) >= 2, timeout=30)
        assert set(conn.subscriptions) >= {("level2", "BTC-USD"), ("market_trades", "ETH-USD"), ("candles", "BTC-USD")}
    finally:
        for s in subs:
            s.dispose()
        client.close()


def test_the_book_matches_what_the_simulator_sent(sim: CoinbaseSim) -> None:
    client = Coinbase(url=sim.url)
    books: list[Any] = []
    errors: list[Exception] = []
    sub = client.book(["BTC-USD", "ETH-USD"]).pipe(ops.order_book()).subscribe(books.append, errors.append)
    try:

        def same(symbol: str) -> bool:
            mine = next((b for b in reversed(books) if b.symbol == symbol), None)
            truth = sim.truth(symbol)
            if mine is None or not mine.synced:
                return False
            pairs = [[(p, s) for p, s, *_ in side[:20]] for side in (mine.bids, mine.asks, truth.bids, truth.asks)]
            return pairs[0] == pairs[2] and pairs[1] == pairs[3] and len(pairs[0]) == 20

        sim.freeze()
        wait_until(lambda: errors or (same("BTC-USD") and same("ETH-USD")), timeout=60)
        assert not errors, errors[0]
    finally:
        sim.unfreeze()
        sub.dispose()
        client.close()


def test_quiet_channels_close_without_heartbeats_but_not_with_them() -> None:
    with CoinbaseSim(seed=1, tick_interval=None, heartbeat_interval=0.05, quiet_timeout=0.5) as sim:
        raw = websocket.create_connection(sim.url, timeout=10)
        client = Coinbase(url=sim.url)
        snapshots: list[Any] = []
        sub = client.book("ETH-USD").subscribe(snapshots.append)
        try:
            raw.send(orjson.dumps({"type": "subscribe", "product_ids": ["BTC-USD"], "channel": "level2"}).decode())
            wait_until(lambda: snapshots and sim.connection_count == 2, timeout=30)
            ours = next(c for c in sim.connections if c.state.get("heartbeats"))
            bare = next(c for c in sim.connections if not c.state.get("heartbeats"))
            # the market stands still: nothing is sent on either level2 channel
            wait_until(lambda: sim.faults.counts["quiet_close"] >= 1, timeout=30)
            assert sim.call(lambda: dict(bare.subscriptions)) == {}
            before = len(snapshots)
            sim.step(5)  # the market moves: the closed channel stays silent, ours still updates
            wait_until(lambda: len(snapshots) > before, timeout=30)
            assert ("level2", "ETH-USD") in sim.call(lambda: dict(ours.subscriptions))
            assert int(ours.state["heartbeat_counter"]) >= 10  # several quiet periods have passed
        finally:
            raw.close()
            sub.dispose()
            client.close()


def test_a_refused_product_ends_only_its_own_stream(sim: CoinbaseSim) -> None:
    sim.faults.reject_subscriptions("NOPE-USD")
    client = Coinbase(url=sim.url)
    good, bad = Collect(), Collect()
    subs = [
        client.trades("BTC-USD").subscribe(good.on_next, good.errors.append),
        client.trades("NOPE-USD").subscribe(bad.on_next, bad.errors.append),
    ]
    try:
        wait_until(lambda: bad.errors, timeout=30)
        assert isinstance(bad.errors[0], SubscriptionError) and "NOPE-USD" in str(bad.errors[0])
        count = len(good.items)
        wait_until(lambda: len(good.items) > count, timeout=30)
        assert not good.errors
    finally:
        for s in subs:
            s.dispose()
        client.close()


def test_a_jwt_is_sent_fresh_and_never_recorded(sim: CoinbaseSim, tmp_path: Path) -> None:
    tokens = iter(f"eyJ.secret-{n}.sig" for n in range(1000))
    client = Coinbase(url=sim.url, jwt=lambda: next(tokens))
    path = tmp_path / "coinbase.jsonl"
    recorder = Recorder(path, venue="coinbase").attach(client)
    got: list[Any] = []
    sub = client.ticker("BTC-USD").subscribe(got.append)
    try:
        wait_until(lambda: got, timeout=30)
    finally:
        sub.dispose()
        client.close()
        recorder.close()
    text = path.read_text()
    sent = [orjson.loads(orjson.loads(line)["data"]) for line in text.splitlines()[1:] if '"dir":"out"' in line]
    assert len(sent) >= 3 and all(f["jwt"] == "***" for f in sent)  # heartbeats, ticker, unsubscribe
    assert "secret-" not in text
    assert "secret" not in repr(client)


def test_argument_errors() -> None:
    with pytest.raises(InvalidArgument, match="url"):
        Coinbase(url="ws://example.com/feed", jwt="eyJ.x.y")  # a token over plain ws:// to another host
    client = Coinbase(url="ws://127.0.0.1:1")
    try:
        with pytest.raises(InvalidArgument, match="five-minute"):
            client.klines("BTC-USD", "1m")
        with pytest.raises(InvalidArgument, match="depth"):
            client.book("BTC-USD", depth=0)
        with pytest.raises(InvalidArgument, match="Coinbase"):
            client.trades("BTCUSD")
    finally:
        client.close()


def test_a_connection_that_never_subscribes_is_closed() -> None:
    with CoinbaseSim(seed=1, tick_interval=None, heartbeat_interval=0.05, subscribe_timeout=0.3) as sim:
        idle = websocket.create_connection(sim.url, timeout=30)
        talker = websocket.create_connection(sim.url, timeout=30)
        try:
            talker.send(orjson.dumps({"type": "subscribe", "product_ids": ["BTC-USD"], "channel": "ticker"}).decode())
            assert orjson.loads(talker.recv())["channel"] == "ticker"
            with pytest.raises(websocket.WebSocketConnectionClosedException):
                while True:  # nothing comes but the close frame
                    assert idle.recv() in ("", b"")
            wait_until(lambda: sim.connection_count == 1, timeout=30)
        finally:
            idle.close()
            talker.close()
