"""ops.retry_backoff on reactivex's TestScheduler (virtual time).

Expected resubscription times are computed here from the documented formula
``min(max_delay, initial * factor**(n-1))`` (and an independent ``random.Random`` for jitter),
never by calling the policy under test.
"""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
import reactivex as rx
from reactivex import Observable, abc
from reactivex.testing import ReactiveTest, TestScheduler

from rxfeeds.errors import InvalidArgument, SubscriptionError
from rxfeeds.ops.retry_backoff import retry_backoff
from rxfeeds.ops.stale_after import StaleError, stale_after
from rxfeeds.sim.server import SimConnection, SimServer
from rxfeeds.transport import SocketSubject
from rxfeeds.transport.backoff import Backoff
from rxfeeds.venues.binance_spot.codec import BinanceSpotCodec
from tests.helpers import wait_until

on_next = ReactiveTest.on_next
on_completed = ReactiveTest.on_completed


class FlakySource:
    """A cold source: each subscription emits ``value`` after 1 s and fails after ``runs[i]`` s.

    Records the virtual time of every subscription; each failure is a distinct exception.
    """

    def __init__(self, scheduler: TestScheduler, runs: list[float] | None = None, default_run: float = 2.0):
        self.scheduler = scheduler
        self.runs = runs or []
        self.default_run = default_run
        self.subscribed_at: list[float] = []
        self.errors: list[Exception] = []

    def observable(self) -> Observable[str]:
        def subscribe(observer: abc.ObserverBase[str], _: abc.SchedulerBase | None = None) -> abc.DisposableBase:
            n = len(self.subscribed_at)
            self.subscribed_at.append(float(self.scheduler.clock))
            run = self.runs[n] if n < len(self.runs) else self.default_run
            error = ConnectionError(f"failure {n + 1}")
            self.errors.append(error)
            first = self.scheduler.schedule_relative(1.0, lambda *_: observer.on_next(f"v{n + 1}"))
            fail = self.scheduler.schedule_relative(run, lambda *_: observer.on_error(error))
            return rx.disposable.CompositeDisposable(first, fail)

        return rx.create(subscribe)


def waits(source: FlakySource, runs: list[float]) -> list[float]:
    """Delays between each failure and the next subscription."""
    times = source.subscribed_at
    return [round(times[i + 1] - (times[i] + runs[i]), 9) for i in range(len(times) - 1)]


def test_delays_grow_by_factor_up_to_the_cap_then_give_up_with_the_last_error() -> None:
    sched = TestScheduler()
    source = FlakySource(sched)
    op = retry_backoff(initial=1.0, factor=2.0, max_delay=5.0, jitter="none", max_attempts=4, reset_after=100)
    result = sched.start(lambda: source.observable().pipe(op))

    assert len(source.subscribed_at) == 5  # the first subscription and max_attempts=4 retries
    expected = [min(5.0, 1.0 * 2.0**n) for n in range(4)]  # 1, 2, 4, 5 (capped from 8)
    assert waits(source, [2.0] * 5) == expected
    # values from every subscription reach the subscriber; the fifth failure is delivered
    values = [m.value.value for m in result.messages if m.value.kind == "N"]
    assert values == ["v1", "v2", "v3", "v4", "v5"]
    last = result.messages[-1]
    assert last.value.kind == "E"
    assert last.value.exception is source.errors[-1]
    assert str(last.value.exception) == "failure 5"
    assert last.time == source.subscribed_at[-1] + 2.0


def test_full_jitter_delays_are_reproducible_and_within_the_growing_bound() -> None:
    def run(seed: int) -> list[float]:
        sched = TestScheduler()
        source = FlakySource(sched)
        op = retry_backoff(
            initial=1.0, factor=3.0, max_delay=20.0, max_attempts=6, reset_after=100, rng=random.Random(seed)
        )
        sched.start(lambda: source.observable().pipe(op), disposed=10_000)
        return waits(source, [2.0] * len(source.subscribed_at))

    delays = run(7)
    assert len(delays) == 6
    independent = random.Random(7)
    for n, delay in enumerate(delays):
        bound = min(20.0, 3.0**n)
        assert 0.0 <= delay <= bound
        assert delay == pytest.approx(bound * independent.random(), abs=1e-6)
    assert run(7) == delays
    assert run(8) != delays


def test_equal_jitter_keeps_at_least_half_the_base_delay() -> None:
    sched = TestScheduler()
    source = FlakySource(sched)
    op = retry_backoff(
        initial=2.0, max_delay=16.0, jitter="equal", max_attempts=5, reset_after=100, rng=random.Random(3)
    )
    sched.start(lambda: source.observable().pipe(op), disposed=10_000)
    delays = waits(source, [2.0] * len(source.subscribed_at))
    assert len(delays) == 5
    for n, delay in enumerate(delays):
        bound = min(16.0, 2.0 * 2.0**n)
        assert bound / 2 <= delay <= bound


def test_attempt_counter_resets_after_the_source_ran_cleanly_for_reset_after() -> None:
    sched = TestScheduler()
    # runs: two quick failures, one long clean run (10 s >= reset_after), then quick failures
    runs = [2.0, 2.0, 10.0, 2.0, 2.0]
    source = FlakySource(sched, runs=runs)
    op = retry_backoff(initial=1.0, factor=2.0, max_delay=60.0, jitter="none", max_attempts=3, reset_after=5.0)
    result = sched.start(lambda: source.observable().pipe(op), disposed=10_000)

    # 1, 2 for the quick failures; after the stable run the count restarts: 1, 2, 4; then the
    # fourth failure in a row (the sixth subscription) exceeds max_attempts=3
    assert waits(source, [*runs, 2.0]) == [1.0, 2.0, 1.0, 2.0, 4.0]
    assert len(source.subscribed_at) == 6
    assert result.messages[-1].value.kind == "E"
    assert result.messages[-1].value.exception is source.errors[-1]


def test_stable_runs_never_exhaust_max_attempts() -> None:
    sched = TestScheduler()
    source = FlakySource(sched, default_run=6.0)
    op = retry_backoff(initial=1.0, jitter="none", max_attempts=1, reset_after=5.0)
    result = sched.start(lambda: source.observable().pipe(op), disposed=200 + 7 * 20)
    # every run lasts 6 s >= reset_after, so each failure is the first in a row: delay 1 s
    assert len(source.subscribed_at) >= 15
    assert set(waits(source, [6.0] * len(source.subscribed_at))) == {1.0}
    assert all(m.value.kind == "N" for m in result.messages)


def test_policy_object_is_used_and_keywords_override_its_fields() -> None:
    policy = Backoff(initial=3.0, max_delay=3.0, jitter="none", max_attempts=2, reset_after=100)
    sched = TestScheduler()
    source = FlakySource(sched)
    sched.start(lambda: source.observable().pipe(retry_backoff(policy)), disposed=10_000)
    assert waits(source, [2.0] * 3) == [3.0, 3.0]

    sched = TestScheduler()
    source = FlakySource(sched)
    sched.start(lambda: source.observable().pipe(retry_backoff(policy, max_attempts=4)), disposed=10_000)
    assert len(source.subscribed_at) == 5


def test_errors_not_accepted_by_retry_on_are_delivered_at_once() -> None:
    class Refused(Exception):
        pass

    for retry_on in (ConnectionError, (TimeoutError, ConnectionError), lambda e: isinstance(e, OSError)):
        sched = TestScheduler()
        refused = Refused("no")
        source = sched.create_cold_observable(ReactiveTest.on_error(1, refused))
        op = retry_backoff(initial=1.0, jitter="none", retry_on=retry_on)
        result = sched.start(lambda op=op, source=source: source.pipe(op))
        assert [(s.subscribe, s.unsubscribe) for s in source.subscriptions] == [(200, 201)]
        assert [(m.time, m.value.kind) for m in result.messages] == [(201.0, "E")]
        assert result.messages[0].value.exception is refused


def test_completion_is_not_retried() -> None:
    sched = TestScheduler()
    source = sched.create_cold_observable(on_next(1, "a"), on_completed(2))
    result = sched.start(lambda: source.pipe(retry_backoff(initial=1.0, jitter="none")))
    assert result.messages == [on_next(201, "a"), on_completed(202)]
    assert len(source.subscriptions) == 1


def test_disposing_during_the_wait_cancels_the_resubscription() -> None:
    sched = TestScheduler()
    source = FlakySource(sched)
    op = retry_backoff(initial=10.0, jitter="none", reset_after=100)
    # first failure at 202; the retry would come at 212; dispose at 205
    sched.start(lambda: source.observable().pipe(op), disposed=205)
    sched.advance_to(300)
    assert source.subscribed_at == [200.0]


def test_on_retry_reports_attempt_delay_and_error() -> None:
    sched = TestScheduler()
    source = FlakySource(sched)
    seen: list[tuple[int, float, str]] = []
    op = retry_backoff(
        initial=1.0,
        jitter="none",
        max_attempts=3,
        reset_after=100,
        on_retry=lambda n, d, e: seen.append((n, d, str(e))),
    )
    sched.start(lambda: source.observable().pipe(op), disposed=10_000)
    assert seen == [(1, 1.0, "failure 1"), (2, 2.0, "failure 2"), (3, 4.0, "failure 3")]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"initial": -1.0}, "initial"),
        ({"initial": 0.0}, "initial"),
        ({"initial": 2.0, "max_delay": 1.0}, "max_delay"),
        ({"factor": 0.5}, "factor"),
        ({"jitter": "some"}, "jitter"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"reset_after": -5.0}, "reset_after"),
        ({"retry_on": "ConnectionError"}, "retry_on"),
        ({"retry_on": ()}, "retry_on"),
        ({"retry_on": int}, "retry_on"),
        ({"policy": {"initial": 1.0}}, "policy"),
    ],
)
def test_bad_arguments_raise_invalid_argument_naming_them(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        retry_backoff(**kwargs)
    assert info.value.name == name
    assert isinstance(info.value, ValueError)
    assert name in str(info.value)


class RefusingTradeSim(SimServer):
    """Binance-spot-like: refuses the first ``refuse`` SUBSCRIBEs, then acks and sends trades."""

    venue = "binance-spot"

    def __init__(self, refuse: int, trades: int) -> None:
        super().__init__(tick_interval=None)
        self.refuse = refuse
        self.trades = trades
        self.subscribes = 0

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        request = orjson.loads(message)
        if request.get("method") != "SUBSCRIBE":
            return
        self.subscribes += 1
        if self.subscribes <= self.refuse:
            conn.send(orjson.dumps({"error": {"code": 2, "msg": "Invalid request"}, "id": request["id"]}))
            return
        conn.send(orjson.dumps({"result": None, "id": request["id"]}))
        for i in range(self.trades):
            data = {"e": "trade", "E": 1, "s": "BTCUSDT", "t": i, "p": "1.5", "q": "2", "T": 1, "m": False}
            conn.send(orjson.dumps({"stream": "btcusdt@trade", "data": data}))


def test_resubscribes_a_refused_subscription_on_a_real_socket() -> None:
    with RefusingTradeSim(refuse=2, trades=5) as sim:
        sock = SocketSubject(sim.url, BinanceSpotCodec(), venue="binance-spot")
        try:
            got: list[Any] = []
            errors: list[Exception] = []
            retries: list[tuple[int, float, Exception]] = []
            op = retry_backoff(
                initial=0.02, jitter="none", max_attempts=3, on_retry=lambda n, d, e: retries.append((n, d, e))
            )
            sock.multiplex(("trade", "BTCUSDT")).pipe(op).subscribe(got.append, errors.append)
            wait_until(lambda: len(got) == 5, timeout=10)
            assert sim.subscribes == 3  # two refusals, then accepted
            assert [(n, d) for n, d, _ in retries] == [(1, 0.02), (2, 0.04)]
            assert all(isinstance(e, SubscriptionError) for _, _, e in retries)
            assert [t.trade_id for t in got] == [0, 1, 2, 3, 4] and not errors
        finally:
            sock.close()


def test_the_marble_sketch_of_the_docstring() -> None:
    #  source, per subscription:  -a#
    #  subscriptions:             ^   ^     ^
    #  result:                    -a---a-----a#
    sched = TestScheduler()
    boom = ConnectionError("down")
    source = sched.create_cold_observable(on_next(1, "a"), ReactiveTest.on_error(2, boom))
    op = retry_backoff(initial=2.0, factor=2.0, jitter="none", max_attempts=2, reset_after=100)
    result = sched.start(lambda: source.pipe(op))
    assert [s.subscribe for s in source.subscriptions] == [200, 204, 210]
    assert result.messages == [
        on_next(201, "a"),
        on_next(205, "a"),
        on_next(211, "a"),
        ReactiveTest.on_error(212, boom),
    ]


def test_a_silent_stream_is_resubscribed_with_stale_after_error() -> None:
    # each subscription delivers one value then goes silent; stale_after turns the silence
    # into StaleError and retry_backoff resubscribes
    sched = TestScheduler()
    source = sched.create_cold_observable(on_next(1, "a"))
    op = retry_backoff(initial=1.0, jitter="none", max_attempts=2, reset_after=100)
    result = sched.start(lambda: source.pipe(stale_after(3.0, error=True), op))
    # subscribe 200, a 201, stale 204, retry 205, a 206, stale 209, retry 211, a 212, stale 215
    assert [s.subscribe for s in source.subscriptions] == [200, 205, 211]
    assert [s.unsubscribe for s in source.subscriptions] == [204, 209, 215]
    assert [(m.time, m.value.kind) for m in result.messages] == [(201, "N"), (206, "N"), (212, "N"), (215, "E")]
    assert isinstance(result.messages[-1].value.exception, StaleError)
