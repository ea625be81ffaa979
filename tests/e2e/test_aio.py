"""``rxfeeds.aio`` over real sockets against the simulators, and its overflow policies.

Every exit path of an ``async for`` (``break``, cancellation, a timeout, an exception in the
loop body) must leave no thread, socket or subscription behind: checked with
``threading.enumerate()`` and the transport's subscription table (``_routes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import reactivex as rx
from reactivex import operators as rx_ops
from reactivex.subject import Subject

import rxfeeds
from rxfeeds import aio
from rxfeeds.errors import InvalidArgument, RequestError, RequestTimeout, SubscriptionError
from rxfeeds.ops.order_book import order_book
from rxfeeds.sim.kraken import KrakenSim
from rxfeeds.venues.kraken.client import Kraken

PAIRS = ("XBT/USD", "ETH/USD")


@pytest.fixture
def sim() -> Iterator[KrakenSim]:
    with KrakenSim(seed=7, symbols=list(PAIRS), tick_interval=0.02) as server:
        yield server


@pytest.fixture
def frozen() -> Iterator[KrakenSim]:
    with KrakenSim(seed=23, symbols=list(PAIRS), tick_interval=None) as server:
        yield server


async def eventually(condition: Callable[[], object], timeout: float = 20.0) -> None:
    """Wait (without blocking the loop) until ``condition()`` is truthy."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


def subscriptions(client: Any) -> int:
    return sum(len(t._routes) + len(t._pending) for t in client.connections.values())


def socket_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("rxfeeds-kraken") and t.is_alive()]


async def assert_left_nothing(client: Any, threads_before: set[threading.Thread]) -> None:
    """No subscription in the routing table, no socket thread, no thread we did not have before."""
    await eventually(lambda: subscriptions(client) == 0)
    await eventually(lambda: not socket_threads())
    await eventually(lambda: set(threading.enumerate()) <= threads_before)
    for transport in client.connections.values():
        assert transport.current_state.value in ("closed", "idle")


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


# --- one-shot requests -------------------------------------------------------------------


def test_await_first_of_a_ping_returns_well_under_100_ms(sim: KrakenSim) -> None:
    async def main() -> list[float]:
        async with rxfeeds.Kraken(url=sim.url) as kraken:
            assert (await aio.first(kraken.ping(), timeout=10))["event"] == "pong"  # opens the socket
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                pong = await aio.first(kraken.ping(), timeout=10)
                times.append(time.perf_counter() - t0)
                assert pong["event"] == "pong"
            return times

    times = run(main())
    # reactivex's own ``await`` on this Observable takes until something else wakes the loop
    assert min(times) < 0.1, times


def test_requests_are_awaitable_directly_also_after_pipe(sim: KrakenSim) -> None:
    async def main() -> None:
        async with rxfeeds.Kraken(url=sim.url) as kraken:
            ping = kraken.ping()
            assert isinstance(ping, aio.AwaitableObservable)
            t0 = time.perf_counter()
            assert (await ping)["event"] == "pong"
            assert time.perf_counter() - t0 < 5
            assert await kraken.ping().pipe(rx_ops.map(lambda p: p["event"])) == "pong"
            # still an ordinary cold Observable
            assert kraken.ping().run()["event"] == "pong"

    run(main())


def test_awaited_order_entry_returns_the_reply_and_raises_typed_errors(frozen: KrakenSim) -> None:
    token = frozen.issue_token()

    async def main() -> None:
        async with rxfeeds.Kraken(url=frozen.url, auth_url=frozen.url) as kraken:
            resting = await kraken.add_order(token, "XBT/USD", "buy", "limit", "0.25", price="100")
            assert resting["status"] == "ok" and resting["txid"] in frozen.orders
            with pytest.raises(RequestError, match="EOrder:Unknown order"):
                await kraken.cancel_order(token, "O-NOT-THERE")
            with pytest.raises(RequestError, match="Permission denied"):
                await aio.first(kraken.cancel_all("not-a-token"), timeout=10)

    run(main())


def test_a_request_without_reply_raises_request_timeout_and_leaves_nothing(frozen: KrakenSim) -> None:
    before = set(threading.enumerate())

    async def main() -> None:
        kraken = rxfeeds.Kraken(url=frozen.url)
        async with kraken:
            await kraken.ping()
            frozen.faults.stall()
            try:
                with pytest.raises(RequestTimeout):
                    await kraken.ping(timeout=0.3)
                with pytest.raises(aio.AwaitTimeout) as info:  # aio's own timeout, shorter
                    await aio.first(kraken.ping(timeout=30), timeout=0.2)
                assert isinstance(info.value, TimeoutError)
                await eventually(lambda: subscriptions(kraken) == 0)
            finally:
                frozen.faults.resume()
        await assert_left_nothing(kraken, before)

    run(main())


# --- async for over live feeds -------------------------------------------------------------


def test_async_for_over_a_book_feed_yields_the_simulators_truth(frozen: KrakenSim) -> None:
    before = set(threading.enumerate())

    def truth(pair: str) -> tuple[dict[float, float], dict[float, float]]:
        t = frozen.truth((pair, 10))
        return {lv[0]: lv[1] for lv in t.bids}, {lv[0]: lv[1] for lv in t.asks}

    async def main() -> int:
        kraken = rxfeeds.Kraken(url=frozen.url)
        async with kraken:
            books = kraken.book(list(PAIRS), depth=10).pipe(order_book())
            latest: dict[str, Any] = {}
            matched = 0
            async with aio.iterate(books, buffer=10_000, overflow="error") as it:
                async for book in it:
                    if not hasattr(book, "bids") or not book.synced:
                        continue
                    latest[book.symbol] = book
                    if len(latest) < len(PAIRS):
                        continue
                    if all(latest[p].copy() == truth(p) for p in PAIRS):
                        matched += 1
                        if matched == 5:
                            break
                        await aio.run_blocking(lambda: frozen.step(3))  # the market moves on
                assert it.stats().dropped == 0 and it.stats().received >= it.stats().delivered
        await assert_left_nothing(kraken, before)
        return matched

    assert run(main()) == 5


@pytest.mark.parametrize("how", ["break", "return", "exception", "cancel", "timeout"])
def test_every_way_out_of_async_for_leaves_no_thread_socket_or_subscription(sim: KrakenSim, how: str) -> None:
    before = set(threading.enumerate())
    kraken = rxfeeds.Kraken(url=sim.url)  # no ``with``: the exit path alone must clean up

    async def consume(seen: list[Any], started: asyncio.Event) -> None:
        async for trade in aio.iterate(kraken.trades("XBT/USD"), buffer=100, overflow="latest"):
            seen.append(trade)
            started.set()
            if how == "break" and len(seen) >= 3:
                break
            if how == "return" and len(seen) >= 3:
                return  # the task ends inside the loop
            if how == "exception" and len(seen) >= 3:
                raise ZeroDivisionError("in the loop body")

    async def main() -> None:
        seen: list[Any] = []
        started = asyncio.Event()
        if how == "break":
            await consume(seen, started)
        elif how == "return":
            await asyncio.create_task(consume(seen, started))
        elif how == "exception":
            with pytest.raises(ZeroDivisionError):
                await consume(seen, started)
        elif how == "cancel":
            task = asyncio.create_task(consume(seen, started))
            await started.wait()
            assert subscriptions(kraken) == 1
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        else:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5):
                    await consume(seen, started)
        assert seen
        await assert_left_nothing(kraken, before)

    run(main())
    assert kraken.connections["public"].stats().frames_in > 0


def test_a_refused_subscription_is_raised_at_the_async_for(sim: KrakenSim) -> None:
    async def main() -> None:
        async with rxfeeds.Kraken(url=sim.url) as kraken:
            with pytest.raises(SubscriptionError, match="NOPE/USD"):
                async for _ in aio.iterate(kraken.trades("NOPE/USD")):
                    pass
            await eventually(lambda: subscriptions(kraken) == 0)

    run(main())


def test_async_with_a_client_closes_its_sockets(sim: KrakenSim) -> None:
    before = set(threading.enumerate())

    async def main() -> Kraken:
        async with rxfeeds.Kraken(url=sim.url) as kraken:
            it = aio.iterate(kraken.trades("XBT/USD"), buffer=10, overflow="latest")
            await it.__anext__()  # subscribed and flowing; never closed by us
            assert socket_threads()
        return kraken

    kraken = run(main())
    assert not socket_threads()
    assert set(threading.enumerate()) <= before
    assert kraken.connections["public"].current_state.value == "closed"


def test_several_event_loops_in_several_threads_share_one_client(sim: KrakenSim) -> None:
    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    with rxfeeds.Kraken(url=sim.url) as kraken:

        def worker(i: int) -> None:
            async def main() -> tuple[str, int]:
                pong = await kraken.ping()
                trades = []
                async for trade in aio.iterate(kraken.trades("XBT/USD"), buffer=50, overflow="latest"):
                    trades.append(trade)
                    if len(trades) == 5:
                        break
                return pong["event"], len(trades)

            try:
                results[i] = asyncio.run(asyncio.wait_for(main(), 60))
            except BaseException as exc:  # reported to the test thread
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        assert errors == []
        assert results == {i: ("pong", 5) for i in range(4)}


def test_uvloop(sim: KrakenSim) -> None:
    uvloop = pytest.importorskip("uvloop")

    async def main() -> tuple[str, int, str]:
        async with rxfeeds.Kraken(url=sim.url) as kraken:
            pong = await aio.first(kraken.ping(), timeout=10)
            trades = await aio.collect(kraken.trades("XBT/USD"), n=5)
            return pong["event"], len(trades), type(asyncio.get_running_loop()).__module__

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        event, count, loop_module = runner.run(asyncio.wait_for(main(), 60))
    assert (event, count) == ("pong", 5) and loop_module.startswith("uvloop")


def test_collect_by_count_and_by_duration_over_a_live_feed(sim: KrakenSim) -> None:
    before = set(threading.enumerate())

    async def main() -> None:
        kraken = rxfeeds.Kraken(url=sim.url)
        async with kraken:
            trades = await aio.collect(kraken.trades("XBT/USD"), n=7)
            assert len(trades) == 7 and all(t.symbol == "XBT/USD" for t in trades)
            t0 = time.monotonic()
            window = await aio.collect(kraken.trades("XBT/USD"), duration=0.5)
            assert time.monotonic() - t0 >= 0.45 and window
            await eventually(lambda: subscriptions(kraken) == 0)
        await assert_left_nothing(kraken, before)

    run(main())


def test_a_slow_consumer_over_a_socket_keeps_memory_bounded(sim: KrakenSim) -> None:
    async def main() -> aio.DeliveryStats:
        async with rxfeeds.Kraken(url=sim.url) as kraken:
            async with aio.iterate(kraken.trades("XBT/USD"), buffer=3, overflow="latest") as it:
                async for _ in it:
                    await aio.run_blocking(lambda: time.sleep(0.05))  # a body much slower than the feed
                    if it.stats().dropped >= 5:
                        break
            assert subscriptions(kraken) == 0
            return it.stats()

    stats = run(main())
    assert stats.dropped >= 5 and stats.max_pending <= 3 and stats.subscriptions == 0


# --- overflow policies (a producer thread, a consumer that does not read yet) ----------------


def produce(subject: Subject[int], count: int, done: threading.Event) -> threading.Thread:
    def push() -> None:
        for i in range(count):
            subject.on_next(i)
        done.set()

    thread = threading.Thread(target=push, daemon=True)
    thread.start()
    return thread


def test_overflow_latest_keeps_the_newest_and_counts_the_rest() -> None:
    async def main() -> tuple[list[int], aio.DeliveryStats, bool]:
        subject: Subject[int] = Subject()
        it = aio.iterate(subject, buffer=10, overflow="latest")
        async with it:
            done = threading.Event()
            produce(subject, 1000, done)
            await eventually(done.is_set)
            subject.on_completed()
            got = [v async for v in it]
        return got, it.stats(), bool(subject.observers)

    got, stats, observed = run(main())
    assert got == list(range(990, 1000))
    assert (stats.received, stats.delivered, stats.dropped, stats.max_pending) == (1000, 10, 990, 10)
    assert not observed


def test_overflow_drop_keeps_the_oldest_and_counts_the_rest() -> None:
    async def main() -> tuple[list[int], aio.DeliveryStats]:
        subject: Subject[int] = Subject()
        it = aio.iterate(subject, buffer=10, overflow="drop")
        async with it:
            done = threading.Event()
            produce(subject, 1000, done)
            await eventually(done.is_set)
            subject.on_completed()
            got = [v async for v in it]
        return got, it.stats()

    got, stats = run(main())
    assert got == list(range(10))
    assert (stats.dropped, stats.max_pending, stats.pending) == (990, 10, 0)


def test_overflow_error_unsubscribes_and_raises_after_the_queued_values() -> None:
    async def main() -> tuple[list[int], BaseException | None, bool]:
        subject: Subject[int] = Subject()
        got: list[int] = []
        caught: BaseException | None = None
        it = aio.iterate(subject, buffer=10)  # "error" is the default
        try:
            async with it:
                done = threading.Event()
                produce(subject, 100, done)
                await eventually(done.is_set)
                async for v in it:
                    got.append(v)
        except aio.BufferOverflow as exc:
            caught = exc
        return got, caught, bool(subject.observers)

    got, caught, observed = run(main())
    assert got == list(range(10))
    assert isinstance(caught, aio.BufferOverflow) and caught.capacity == 10
    assert not observed


def test_overflow_block_loses_nothing_and_stays_bounded() -> None:
    async def main() -> tuple[list[int], aio.DeliveryStats]:
        subject: Subject[int] = Subject()
        got: list[int] = []
        it = aio.iterate(subject, buffer=5, overflow="block", block_timeout=30)
        async with it:
            done = threading.Event()
            producer = produce(subject, 300, done)
            async for v in it:
                got.append(v)
                if len(got) % 50 == 0:
                    await asyncio.sleep(0.02)  # slow now and then: the producer must wait
                if len(got) == 300:
                    break
            producer.join(10)
        return got, it.stats()

    got, stats = run(main())
    assert got == list(range(300))
    assert stats.dropped == 0 and stats.max_pending <= 5


def test_overflow_block_gives_up_after_block_timeout_without_deadlock() -> None:
    async def main() -> tuple[list[int], float]:
        subject: Subject[int] = Subject()
        it = aio.iterate(subject, buffer=4, overflow="block", block_timeout=0.2)
        got: list[int] = []
        async with it:
            done = threading.Event()
            t0 = time.monotonic()
            produce(subject, 50, done)
            await eventually(done.is_set)  # the producer came back: it did not hang
            waited = time.monotonic() - t0
            with pytest.raises(aio.BufferOverflow):
                async for v in it:
                    got.append(v)
        return got, waited

    got, waited = run(main())
    assert got == [0, 1, 2, 3] and waited >= 0.2


def test_overflow_block_with_the_producer_on_the_loop_thread_errors_instead_of_deadlocking() -> None:
    async def main() -> list[int]:
        got: list[int] = []
        with pytest.raises(aio.BufferOverflow):
            async for v in aio.iterate(rx.range(0, 100), buffer=8, overflow="block", block_timeout=30):
                got.append(v)
        return got

    assert run(main()) == list(range(8))


def test_dispose_wakes_a_blocked_producer() -> None:
    async def main() -> bool:
        subject: Subject[int] = Subject()
        done = threading.Event()
        it = aio.iterate(subject, buffer=2, overflow="block", block_timeout=60)
        async with it:
            produce(subject, 10, done)
            await eventually(lambda: it.stats().received >= 3)  # the producer is now waiting
        await eventually(done.is_set, timeout=10)  # released by the exit, not by the 60 s bound
        return bool(subject.observers)

    assert run(main()) is False


# --- first / last / collect / errors -------------------------------------------------------


def test_first_last_collect_on_plain_observables() -> None:
    async def main() -> None:
        assert await aio.first(rx.of(1, 2, 3)) == 1
        assert await aio.last(rx.of(1, 2, 3)) == 3
        assert await aio.collect(rx.of(1, 2, 3)) == [1, 2, 3]
        assert await aio.collect(rx.of(1, 2, 3), n=2) == [1, 2]
        with pytest.raises(aio.EmptyStream):
            await aio.first(rx.empty())
        with pytest.raises(ZeroDivisionError):
            await aio.first(rx.throw(ZeroDivisionError()))
        with pytest.raises(aio.AwaitTimeout):
            await aio.first(rx.never(), timeout=0.05)
        assert await aio.collect(rx.never(), duration=0.05) == []

    run(main())


def test_cancelling_first_unsubscribes() -> None:
    async def main() -> bool:
        subject: Subject[int] = Subject()
        task = asyncio.create_task(aio.first(subject))
        await eventually(lambda: bool(subject.observers))
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return bool(subject.observers)

    assert run(main()) is False


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: aio.iterate(rx.of(1), buffer=0), "buffer"),
        (lambda: aio.iterate(rx.of(1), buffer=True), "buffer"),
        (lambda: aio.iterate(rx.of(1), overflow="newest"), "overflow"),  # type: ignore[arg-type]
        (lambda: aio.iterate(rx.of(1), block_timeout=-1), "block_timeout"),
        (lambda: aio.iterate([1, 2]), "observable"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_are_invalid_argument_naming_the_argument(call: Callable[[], Any], name: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        call()
    assert info.value.name == name


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: aio.first(rx.of(1), timeout=0), "timeout"),
        (lambda: aio.first(rx.of(1), timeout=float("nan")), "timeout"),
        (lambda: aio.collect(rx.of(1), n=0), "n"),
        (lambda: aio.collect(rx.of(1), duration=-2), "duration"),
    ],
)
def test_bad_await_arguments_raise_before_subscribing(make: Callable[[], Any], name: str) -> None:
    async def main() -> None:
        with pytest.raises(InvalidArgument) as info:
            await make()
        assert info.value.name == name

    run(main())


def test_requests_of_other_venues_are_awaitable_with_their_typed_errors() -> None:
    from rxfeeds.sim.hitbtc import HitBTCSim
    from rxfeeds.sim.kraken_v2 import KrakenV2Sim
    from rxfeeds.venues.hitbtc import errors as hitbtc_errors

    async def main() -> None:
        with HitBTCSim(seed=11, tick_interval=None) as hsim, KrakenV2Sim(seed=31, tick_interval=None) as ksim:
            async with rxfeeds.HitBTC(url=hsim.url) as hitbtc, rxfeeds.KrakenV2(url=ksim.url) as kraken_v2:
                for request in (hitbtc.symbol("ETHBTC"), hitbtc.trades_history("ETHBTC"), kraken_v2.ping()):
                    assert isinstance(request, aio.AwaitableObservable)  # reactivex's own await hangs here
                assert (await hitbtc.symbol("ETHBTC"))["id"] == "ETHBTC"
                assert "ETH" in {c["id"] for c in await hitbtc.currencies()}
                with pytest.raises(hitbtc_errors.SymbolNotFound):
                    await hitbtc.symbol("NOPE")
                assert (await kraken_v2.ping())["method"] == "pong"

    run(main())


def test_a_closed_iteration_ends_and_never_subscribes_again() -> None:
    async def main() -> tuple[list[int], list[int], bool]:
        subject: Subject[int] = Subject()
        unused = aio.iterate(subject)
        await unused.aclose()
        never = [v async for v in unused]
        it = aio.iterate(subject, buffer=5)
        got: list[int] = []
        async with it:
            subject.on_next(1)
            got.append(await it.__anext__())
        subject.on_next(2)
        after = [v async for v in it]
        return never + after, got, bool(subject.observers)

    rest, got, observed = run(main())
    assert rest == [] and got == [1] and not observed
