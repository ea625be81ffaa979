"""rxfeeds.health: reports from transport counters, rates from successive snapshots, virtual time."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from reactivex.subject import Subject
from reactivex.testing import TestScheduler

from rxfeeds.errors import InvalidArgument
from rxfeeds.events import ConnectionState
from rxfeeds.health import Health, HealthTracker, health_stream
from rxfeeds.ops.buffer_bounded import buffer_bounded
from rxfeeds.sim.server import SimConnection, SimServer
from rxfeeds.transport import SocketSubject
from rxfeeds.transport.stats import TransportStats
from rxfeeds.venues.binance_spot.codec import BinanceSpotCodec
from tests.helpers import wait_until

TRADE = ("trade", "XBT/USD")
BOOK = ("book-10", "XBT/USD")


class FakeTraffic:
    """Drives real TransportStats counters the way a transport would, on virtual time."""

    def __init__(self, sched: TestScheduler) -> None:
        self.sched = sched
        self.public = TransportStats("kraken", "wss://ws.kraken.com")
        self.private = TransportStats("kraken", "wss://ws-auth.kraken.com")
        self.public.state = ConnectionState.OPEN
        self.public.connects = 1

    def receive(self, key: tuple[str, str], frames: int) -> None:
        now = float(self.sched.clock)
        self.public.frames_in += frames
        self.public.last_recv = now
        route = self.public.route(key)
        route.messages += frames
        route.last_recv = now

    def snapshots(self) -> list[Any]:
        now = float(self.sched.clock)
        return [self.public.snapshot(now), self.private.snapshot(now)]


def test_reports_every_interval_with_rates_from_deltas_and_ages() -> None:
    sched = TestScheduler()
    traffic = FakeTraffic(sched)
    # 30 trade frames in the first second, 10 book frames at 201.5, then silence on the book
    sched.schedule_absolute(200.5, lambda *_: traffic.receive(TRADE, 30))
    sched.schedule_absolute(201.5, lambda *_: traffic.receive(BOOK, 10))
    sched.schedule_absolute(202.5, lambda *_: traffic.receive(TRADE, 6))
    result = sched.start(lambda: health_stream(traffic.snapshots, interval=1.0), disposed=203.5)

    reports: list[Health] = [m.value.value for m in result.messages]
    assert [m.time for m in result.messages] == [200.0, 201.0, 202.0, 203.0]
    first, second, third, fourth = reports
    public = first.connections[0]
    assert public.frame_rate is None and public.subscriptions == ()  # nothing to compare with yet
    assert (public.state, public.connects, public.age) == (ConnectionState.OPEN, 1, None)

    public = second.connections[0]
    assert public.frame_rate == pytest.approx(30.0)
    assert public.age == pytest.approx(0.5)
    (trade,) = public.subscriptions
    assert trade.key == TRADE and trade.rate == pytest.approx(30.0) and trade.messages == 30
    assert trade.age == pytest.approx(0.5)

    rates = {s.key: s.rate for s in third.connections[0].subscriptions}
    assert rates == {TRADE: pytest.approx(0.0), BOOK: pytest.approx(10.0)}
    ages = {s.key: s.age for s in fourth.connections[0].subscriptions}
    assert ages == {TRADE: pytest.approx(0.5), BOOK: pytest.approx(1.5)}
    assert fourth.connections[0].frame_rate == pytest.approx(6.0)
    # the idle second connection is reported too
    idle = fourth.connections[1]
    assert (idle.url, idle.state, idle.frames_in, idle.frame_rate) == (
        "wss://ws-auth.kraken.com",
        ConnectionState.IDLE,
        0,
        pytest.approx(0.0),
    )
    assert fourth.time == 203.0


def test_ok_reconnects_errors_and_resyncs_follow_the_counters() -> None:
    stats = TransportStats("hitbtc", "wss://api.hitbtc.com/api/2/ws")
    stats.state = ConnectionState.RECONNECTING
    stats.reconnects = 2
    stats.frame_errors = 3
    stats.callback_errors = 1
    route = stats.route(("orderbook", "ETHBTC"))
    route.resyncs, route.resets, route.observers = 4, 2, 1
    health = HealthTracker().report([stats.snapshot(10.0)])
    assert not health.ok and health.reconnects == 2 and health.errors == 4
    (sub,) = health.subscriptions
    assert (sub.resyncs, sub.resets, sub.observers) == (4, 2, 1)
    text = str(health)
    assert text.startswith("DEGRADED (hitbtc reconnecting)")
    assert "orderbook ETHBTC" in text and "resyncs 4" in text and "reconnects 2" in text
    stats.state = ConnectionState.OPEN
    assert HealthTracker().report([stats.snapshot(11.0)]).ok


def test_a_restarted_transport_gives_no_negative_rate() -> None:
    tracker = HealthTracker()
    stats = TransportStats("kraken", "wss://ws.kraken.com")
    stats.frames_in = 1000
    tracker.report([stats.snapshot(1.0)])
    fresh = TransportStats("kraken", "wss://ws.kraken.com")
    fresh.frames_in = 10
    health = tracker.report([fresh.snapshot(2.0)])
    assert health.connections[0].frame_rate is None


def test_drops_of_bounded_operators_are_reported() -> None:
    delivery = TestScheduler()
    op = buffer_bounded(2, "drop_newest", scheduler=delivery)
    source: Subject[int] = Subject()
    source.pipe(op).subscribe(lambda _: None)
    for i in range(5):
        source.on_next(i)
    health = HealthTracker(buffers={"books": op}).report([])
    assert health.drops == {"books": 3}
    assert "3 dropped" in health.line()


def test_rich_rendering_shows_every_subscription() -> None:
    rich_console = pytest.importorskip("rich.console")
    stats = TransportStats("kraken", "wss://ws.kraken.com")
    stats.route(TRADE).messages = 5
    console = rich_console.Console(width=160, record=True)
    console.print(HealthTracker().report([stats.snapshot(1.0)]))
    text = console.export_text()
    assert "trade XBT/USD" in text and "kraken wss://ws.kraken.com" in text


@pytest.mark.parametrize("interval", [0, -1.0, "1", None])
def test_bad_interval_raises_invalid_argument(interval: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        health_stream(list, interval=interval)
    assert info.value.name == "interval"


class TradeSim(SimServer):
    """Binance-spot-like: acks a SUBSCRIBE, then sends ``trades`` trade frames."""

    venue = "binance-spot"

    def __init__(self, trades: int) -> None:
        super().__init__(tick_interval=None)
        self.trades = trades
        self.sent = 0

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        request = orjson.loads(message)
        if request.get("method") != "SUBSCRIBE":
            return
        conn.send(orjson.dumps({"result": None, "id": request["id"]}))
        for i in range(self.trades):
            data = {"e": "trade", "E": 1, "s": "BTCUSDT", "t": i, "p": "1.5", "q": "2", "T": 1, "m": True}
            conn.send(orjson.dumps({"stream": "btcusdt@trade", "data": data}))
            self.sent += 1


def test_health_of_a_real_socket_counts_what_the_simulator_sent() -> None:
    with TradeSim(trades=300) as sim:
        sock = SocketSubject(sim.url, BinanceSpotCodec(), venue="binance-spot")
        try:
            got: list[Any] = []
            sock.multiplex(("trade", "BTCUSDT")).subscribe(got.append)
            wait_until(lambda: len(got) == 300, timeout=10)
            reports: list[Health] = []
            # no scheduler anywhere: the default timer must not block (rx.defer would hand out
            # the immediate scheduler)
            subscription = health_stream(lambda: [sock.stats()], interval=0.05).subscribe(reports.append)
            try:
                wait_until(lambda: len(reports) >= 3, timeout=10)
            finally:
                subscription.dispose()
            last = reports[-1]
            (conn,) = last.connections
            (sub,) = conn.subscriptions
            assert conn.state is ConnectionState.OPEN and last.ok
            assert sub.key == ("trade", "BTCUSDT") and sub.messages == sim.sent == 300
            assert conn.frames_in == sim.sent + 1  # the trades and the subscription ack
            assert sub.rate == 0.0  # nothing new between the last two reports
            assert conn.age is not None and conn.age >= 0
        finally:
            sock.close()


def test_backoff_position_and_delivery_lag_are_reported() -> None:
    stats = TransportStats("kraken", "wss://ws.kraken.com")
    stats.state = ConnectionState.RECONNECTING
    stats.attempt, stats.next_delay = 3, 1.5
    stats.delivery_lag, stats.max_delivery_lag = 0.2, 0.7
    stats.route(("book", "XBT/USD")).refusals = 2
    conn = HealthTracker().report([stats.snapshot(now=100.0)]).connections[0]
    assert (conn.attempt, conn.retry_delay) == (3, 1.5)
    assert (conn.delivery_lag, conn.max_delivery_lag) == (0.2, 0.7)
    assert conn.subscriptions[0].refusals == 2
    assert "attempt 3 (retry in 1.5s)" in str(conn) and "lag 0.2s (max 0.7s)" in str(conn)
    # A delivery in progress (a callback stuck since the frames' receive at t=90): the lag is
    # the age of that data now, and it counts towards the maximum.
    stats.delivering_since = 90.0
    busy = HealthTracker().report([stats.snapshot(now=100.0)]).connections[0]
    assert busy.delivery_lag == 10.0 and busy.max_delivery_lag == 10.0
