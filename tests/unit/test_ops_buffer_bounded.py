"""ops.buffer_bounded: overflow policies with counts, ordering of terminal notifications, threads.

Deterministic tests deliver on a separate ``TestScheduler`` that is only advanced when the test
says so: everything pushed before an advance arrives while the "subscriber" is busy.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from typing import Any

import pytest
import reactivex as rx
from reactivex.scheduler import EventLoopScheduler
from reactivex.subject import Subject
from reactivex.testing import TestScheduler

from rxfeeds.errors import InvalidArgument
from rxfeeds.ops.buffer_bounded import BufferOverflow, buffer_bounded
from rxfeeds.ops.latest import latest
from tests.helpers import wait_until
from tests.support.flood import flood_blocked_subscriber


class Recorder:
    def __init__(self) -> None:
        self.values: list[Any] = []
        self.error: Exception | None = None
        self.completed = False
        self.events: list[str] = []

    def on_next(self, value: Any) -> None:
        self.values.append(value)
        self.events.append(f"N{value}")

    def on_error(self, error: Exception) -> None:
        self.error = error
        self.events.append("E")

    def on_completed(self) -> None:
        self.completed = True
        self.events.append("C")


def setup(n: int, overflow: str) -> tuple[Subject[int], TestScheduler, Recorder, Any]:
    source: Subject[int] = Subject()
    delivery = TestScheduler()
    op = buffer_bounded(n, overflow, scheduler=delivery)  # type: ignore[arg-type]
    recorder = Recorder()
    source.pipe(op).subscribe(recorder)
    return source, delivery, recorder, op


def busy_while(source: Subject[int], values: range) -> None:
    for v in values:
        source.on_next(v)


@pytest.mark.parametrize(
    ("overflow", "delivered", "dropped"),
    [
        ("drop_oldest", [3, 4, 5, 6, 7], 2),
        ("drop_newest", [1, 2, 3, 4, 5], 2),
    ],
)
def test_overflow_policies_keep_the_right_values_and_count_drops(
    overflow: str, delivered: list[int], dropped: int
) -> None:
    #  source:  -1-2-3-4-5-6-7----8-|      (subscriber busy until after 7; n=5)
    #  drop_oldest:         ------3 4 5 6 7-8-|
    #  drop_newest:         ------1 2 3 4 5-8-|
    source, delivery, got, op = setup(5, overflow)
    busy_while(source, range(1, 8))
    stats = op.stats()
    assert (stats.received, stats.pending, stats.dropped, stats.delivered) == (7, 5, dropped, 0)
    delivery.advance_by(1)
    assert got.values == delivered
    source.on_next(8)
    source.on_completed()
    delivery.advance_by(1)
    assert got.values == [*delivered, 8]
    assert got.events[-1] == "C"
    stats = op.stats()
    assert (stats.received, stats.delivered, stats.dropped, stats.pending) == (8, 6, dropped, 0)
    assert stats.max_pending == 5
    assert stats.subscriptions == 0


def test_overflow_error_delivers_queued_values_then_buffer_overflow_and_unsubscribes() -> None:
    source, delivery, got, op = setup(3, "error")
    busy_while(source, range(1, 6))  # 4 overflows; 5 arrives after the source was dropped
    assert not source.observers  # unsubscribed at the overflow
    delivery.advance_by(1)
    assert got.values == [1, 2, 3]
    assert isinstance(got.error, BufferOverflow) and got.error.capacity == 3
    assert got.events == ["N1", "N2", "N3", "E"]
    assert op.stats().dropped == 1


def test_completion_and_errors_come_after_the_last_queued_value() -> None:
    source, delivery, got, _ = setup(10, "drop_oldest")
    busy_while(source, range(3))
    boom = RuntimeError("boom")
    source.on_error(boom)
    assert got.events == []
    delivery.advance_by(1)
    assert got.events == ["N0", "N1", "N2", "E"] and got.error is boom


def test_dispose_drops_pending_values_and_delivers_nothing_more() -> None:
    source: Subject[int] = Subject()
    delivery = TestScheduler()
    op = buffer_bounded(10, scheduler=delivery)
    got = Recorder()
    subscription = source.pipe(op).subscribe(got)
    busy_while(source, range(4))
    subscription.dispose()
    source.on_next(99)
    delivery.advance_by(1)
    assert got.events == []
    assert not source.observers
    assert op.stats().pending == 0 and op.stats().subscriptions == 0


def test_stats_sum_over_subscriptions() -> None:
    source: Subject[int] = Subject()
    delivery = TestScheduler()
    op = buffer_bounded(2, "drop_newest", scheduler=delivery)
    first, second = Recorder(), Recorder()
    source.pipe(op).subscribe(first)
    source.pipe(op).subscribe(second)
    busy_while(source, range(5))
    stats = op.stats()
    assert (stats.subscriptions, stats.received, stats.dropped, stats.pending) == (2, 10, 6, 4)
    delivery.advance_by(1)
    assert first.values == second.values == [0, 1]
    assert op.stats().delivered == 4


def test_default_delivery_is_a_dedicated_thread() -> None:
    producer = threading.get_ident()
    threads: list[int] = []
    done = threading.Event()
    rx.of(1, 2, 3).pipe(buffer_bounded(10)).subscribe(
        lambda _: threads.append(threading.get_ident()), on_completed=done.set
    )
    wait_until(done.is_set, timeout=10)
    assert len(threads) == 3 and len(set(threads)) == 1 and threads[0] != producer


def test_a_raising_subscriber_ends_only_its_own_subscription(caplog: pytest.LogCaptureFixture) -> None:
    loop = EventLoopScheduler()
    try:
        source: Subject[int] = Subject()
        op = buffer_bounded(10, scheduler=loop)
        good: list[int] = []

        def bad(value: int) -> None:
            raise ValueError("user bug")

        with caplog.at_level(logging.ERROR, logger="rxfeeds.ops"):
            source.pipe(op).subscribe(bad)
            source.pipe(op).subscribe(good.append)
            busy_while(source, range(3))
            wait_until(lambda: len(good) == 3, timeout=10)
            # the shared delivery thread survived the bad subscriber and still delivers
            source.on_next(3)
            wait_until(lambda: len(good) == 4, timeout=10)
        assert good == [0, 1, 2, 3]
        assert "subscriber callback raised" in caplog.text
        assert len(source.observers) == 1  # the bad subscription was ended
    finally:
        loop.dispose()


def test_producer_is_never_blocked_and_the_queue_stays_bounded() -> None:
    # the subscriber blocks on its first value until the producer has finished: if the
    # producer could be blocked by the subscriber, it would never finish
    op = buffer_bounded(100, "drop_oldest")
    flood = flood_blocked_subscriber(op, 50_000)
    total = flood.total
    assert not flood.completed.is_set()
    stats = op.stats()
    assert stats.max_pending <= 100 and flood.max_pending <= 100 and stats.pending <= 100
    flood.release()
    wait_until(flood.completed.is_set, timeout=20)
    stats = op.stats()
    assert stats.received == total
    assert stats.delivered + stats.dropped == total
    assert stats.delivered <= 101  # the first value plus at most a full queue
    # drop_oldest keeps the newest values, in order
    assert flood.got[-100:] == list(range(total - 100, total))


@pytest.mark.parametrize(
    ("args", "name"),
    [((0,), "n"), ((-5,), "n"), ((1.5,), "n"), ((True,), "n"), ((10, "drop_all"), "overflow")],
)
def test_bad_arguments_raise_invalid_argument(args: tuple[Any, ...], name: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        buffer_bounded(*args)
    assert info.value.name == name and isinstance(info.value, ValueError)


def test_package_names_stay_callable_whatever_is_imported_first() -> None:
    # importing ``latest`` (which shares the engine) must not bind ``rxfeeds.ops.buffer_bounded``
    # to a module; run in a fresh interpreter so earlier imports cannot hide the problem
    code = (
        "from rxfeeds.ops import latest\n"
        "from rxfeeds import ops\n"
        "names = ['latest', 'buffer_bounded', 'retry_backoff', 'of_type', 'of_channel', 'stale_after']\n"
        "bad = [n for n in names if not callable(getattr(ops, n))]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------- no thread outlives its subscription


def _ended_on_own_thread(how: str, op_factory: Any) -> None:
    """One subscription with the default delivery thread that ends ``how``; waits until it has."""
    source: Subject[int] = Subject()
    ended = threading.Event()
    box: dict[str, Any] = {}

    def on_next(value: int) -> None:
        if how == "raising callback":
            ended.set()
            raise ValueError("user bug")
        if how == "sys.exit in callback":
            ended.set()
            sys.exit(3)
        if how == "dispose inside callback":
            box["d"].dispose()
            ended.set()
        if how == "dispose while delivering":
            ended.set()
            box["gate"].wait(10)

    box["gate"] = threading.Event()
    box["d"] = source.pipe(op_factory()).subscribe(on_next, lambda _: ended.set(), ended.set)
    source.on_next(1)
    if how == "completion":
        source.on_completed()
    elif how == "error":
        source.on_error(RuntimeError("feed down"))
    assert ended.wait(10), how
    if how == "dispose while delivering":
        box["d"].dispose()  # from the test thread, while the delivery thread is busy
        box["gate"].set()


@pytest.mark.parametrize(
    "how",
    [
        "completion",
        "error",
        "raising callback",
        "sys.exit in callback",
        "dispose inside callback",
        "dispose while delivering",
    ],
)
@pytest.mark.parametrize("op_factory", [lambda: buffer_bounded(8), latest], ids=["buffer_bounded", "latest"])
def test_delivery_threads_end_with_their_subscriptions(how: str, op_factory: Any) -> None:
    # A subscription ending on its own delivery thread used to leave that thread waiting forever.
    before = set(threading.enumerate())
    ops_log = logging.getLogger("rxfeeds.ops")
    level = ops_log.level
    ops_log.setLevel(logging.CRITICAL)  # 50 logged "subscriber callback raised" are noise here
    try:
        for _ in range(50):
            _ended_on_own_thread(how, op_factory)
        wait_until(lambda: _threads_since(before) == 0, timeout=20)
    finally:
        ops_log.setLevel(level)


def test_delivery_threads_end_when_the_client_closes() -> None:
    from rxfeeds import Kraken, ops
    from rxfeeds.sim.kraken import KrakenSim

    with KrakenSim(seed=11, tick_interval=0.01) as sim:
        before = set(threading.enumerate())
        client = Kraken(url=sim.url)
        got: list[list[Any]] = [[] for _ in range(20)]
        completed: list[int] = []
        for i in range(20):
            op = ops.latest() if i % 2 else ops.buffer_bounded(4)
            client.book("XBT/USD", depth=10).pipe(op).subscribe(got[i].append, on_completed=lambda: completed.append(1))
        wait_until(lambda: all(got), timeout=20)
        assert _threads_since(before) >= 20  # one delivery thread per subscription
        client.close()
        wait_until(lambda: len(completed) == 20, timeout=20)
        wait_until(lambda: _threads_since(before) == 0, timeout=20)


def _threads_since(before: set[threading.Thread]) -> int:
    # threads started since `before` and still alive: earlier tests' lingering threads do not count
    return len(set(threading.enumerate()) - before)


def test_sys_exit_in_a_callback_ends_the_subscription_instead_of_stalling_it() -> None:
    source: Subject[int] = Subject()
    got: list[int] = []

    def exits(value: int) -> None:
        got.append(value)
        sys.exit(1)

    source.pipe(buffer_bounded(8)).subscribe(exits)
    source.on_next(1)
    wait_until(lambda: not source.observers, timeout=10)  # unsubscribed from the source
    assert got == [1]
