"""ops.latest: conflation for slow subscribers, ordering, and a producer that is never blocked.

Deterministic tests deliver on a separate ``TestScheduler`` that is only advanced when the test
says so: everything pushed before an advance arrives while the "subscriber" is busy.
"""

from __future__ import annotations

import threading
from typing import Any

import orjson
import reactivex as rx
from reactivex.subject import Subject
from reactivex.testing import TestScheduler

from rxfeeds.ops.latest import latest
from rxfeeds.sim.server import SimConnection, SimServer
from rxfeeds.transport import SocketSubject
from rxfeeds.venues.binance_spot.codec import BinanceSpotCodec
from tests.helpers import wait_until
from tests.support.flood import flood_blocked_subscriber


def test_a_busy_subscriber_gets_only_the_newest_value() -> None:
    #  source:   -a-b-c-d-----e--|      (subscriber busy while b, c, d arrive)
    #  latest(): -a-------d---e--|
    source: Subject[str] = Subject()
    delivery = TestScheduler()
    op = latest(delivery)
    got: list[str] = []
    events: list[str] = []
    source.pipe(op).subscribe(got.append, on_completed=lambda: events.append("C"))

    source.on_next("a")
    delivery.advance_by(1)
    assert got == ["a"]
    for v in "bcd":
        source.on_next(v)
    assert got == ["a"]  # nothing delivered on the producer's thread
    assert op.stats().pending == 1
    delivery.advance_by(1)
    assert got == ["a", "d"]
    source.on_next("e")
    source.on_completed()
    delivery.advance_by(1)
    assert got == ["a", "d", "e"] and events == ["C"]
    stats = op.stats()
    assert (stats.received, stats.delivered, stats.dropped, stats.max_pending) == (5, 3, 2, 1)


def test_error_comes_after_the_newest_pending_value() -> None:
    source: Subject[int] = Subject()
    delivery = TestScheduler()
    seen: list[Any] = []
    source.pipe(latest(delivery)).subscribe(seen.append, seen.append)
    boom = RuntimeError("boom")
    source.on_next(1)
    source.on_next(2)
    source.on_error(boom)
    source.on_next(3)  # after the error: ignored
    delivery.advance_by(1)
    assert seen == [2, boom]


def test_a_fast_subscriber_loses_nothing() -> None:
    # with a subscriber that keeps up, every value is delivered, in order
    done = threading.Event()
    got: list[int] = []
    op = latest()
    rx.from_iterable(range(200)).pipe(op).subscribe(got.append, on_completed=done.set)
    wait_until(done.is_set, timeout=10)
    assert got[-1] == 199
    assert got == sorted(got)
    assert op.stats().delivered + op.stats().dropped == 200


def test_producer_is_never_blocked_and_at_most_one_value_is_held() -> None:
    op = latest()
    flood = flood_blocked_subscriber(op, 100_000)  # blocked until the producer is done
    total = flood.total
    assert not flood.completed.is_set()
    assert flood.max_pending <= 1 and op.stats().max_pending <= 1
    flood.release()
    wait_until(flood.completed.is_set, timeout=20)
    # the first value (taken before the producer ran ahead) and then the newest one
    assert flood.got[-1] == total - 1
    assert len(flood.got) <= 2
    assert flood.producer not in flood.delivery_threads
    stats = op.stats()
    assert stats.received == total and stats.delivered + stats.dropped == total


class TradeBurstSim(SimServer):
    """Binance-spot-like: acks a SUBSCRIBE, then sends ``trades`` trade frames at once."""

    venue = "binance-spot"

    def __init__(self, trades: int) -> None:
        super().__init__(tick_interval=None)
        self.trades = trades

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        request = orjson.loads(message)
        if request.get("method") != "SUBSCRIBE":
            return
        conn.send(orjson.dumps({"result": None, "id": request["id"]}))
        for i in range(self.trades):
            data = {"e": "trade", "E": 1, "s": "BTCUSDT", "t": i, "p": "1.5", "q": "2", "T": 1, "m": True}
            conn.send(orjson.dumps({"stream": "btcusdt@trade", "data": data}))


def test_socket_thread_keeps_reading_while_the_subscriber_is_stuck() -> None:
    total = 3000
    with TradeBurstSim(total) as sim:
        sock = SocketSubject(sim.url, BinanceSpotCodec(), venue="binance-spot")
        gate = threading.Event()
        got: list[Any] = []

        def stuck(trade: Any) -> None:
            gate.wait(30)
            got.append(trade)

        op = latest()
        subscription = sock.multiplex(("trade", "BTCUSDT")).pipe(op).subscribe(stuck)
        try:
            # every frame is read and decoded on the socket thread while the subscriber is stuck
            wait_until(lambda: op.stats().received == total, timeout=20)
            assert sock.stats().frames_in >= total + 1  # the ack and every trade
            assert not gate.is_set() and got == []
            assert op.stats().max_pending <= 1
            gate.set()
            wait_until(lambda: bool(got) and got[-1].trade_id == total - 1, timeout=20)
            assert len(got) <= 2  # the value it was stuck on, then the newest
        finally:
            gate.set()
            subscription.dispose()
            sock.close()
