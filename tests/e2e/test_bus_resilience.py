"""The bus across broker failures: kill -9 and restart mid-stream, a broker slower than the feed."""

from __future__ import annotations

import threading
import time
from typing import Any

import reactivex as rx
from reactivex.subject import Subject

from rxfeeds import ops
from rxfeeds.bus import NatsBus
from rxfeeds.bus.server import NatsServer
from rxfeeds.events import StreamReset, Trade
from rxfeeds.ops._bounded import BufferOverflow
from rxfeeds.sim.hitbtc import HitBTCSim
from rxfeeds.venues.hitbtc.client import HitBTC
from tests.bus_support import own_server  # noqa: F401
from tests.helpers import Collector, wait_until

SYMBOLS = ("ETHBTC", "LTCBTC")


def test_kill_9_of_the_broker_mid_stream_loses_nothing_and_duplicates_nothing(own_server: NatsServer) -> None:  # noqa: F811
    with HitBTCSim(seed=41, tick_interval=None, resnapshot_after=None) as sim:
        publisher_bus = NatsBus(own_server.url)
        consumer_bus = NatsBus(own_server.url)  # another process would have its own connection
        client = HitBTC(sim.public_url, trading_url=sim.trading_url, ping_interval=None)
        try:
            raw = Collector()
            books = Collector()
            raw_source = consumer_bus.source("hitbtc", None, "book", start="first")
            raw_sub = raw_source.subscribe(raw.on_next, raw.on_error)
            books_sub = (
                consumer_bus.source("hitbtc", None, "book", start="first")
                .pipe(ops.order_book(integrity=True))
                .subscribe(books.on_next, books.on_error)
            )
            sent = Collector()
            op = ops.publish(publisher_bus, channel="book", max_batch=8)
            pub_subs = [client.orderbook(s).pipe(op).subscribe(sent.on_next, sent.on_error) for s in SYMBOLS]
            wait_until(lambda: all(sent.book_events(s) for s in SYMBOLS))
            sim.step(5)
            wait_until(lambda: len(raw.snapshot()) > 0)
            own_server.kill()  # kill -9 while the feed goes on
            sim.step(10)
            own_server.start()  # same port, same store
            sim.step(10)
            sim.freeze()

            def last_seq(s: str) -> Any:
                return sim.call(lambda: sim.sequences.get(s))

            wait_until(lambda: all(sent.book_events(s)[-1].sequence == last_seq(s) for s in SYMBOLS), timeout=30)
            wait_until(lambda: op.stats().published == op.stats().received, timeout=30)
            wait_until(lambda: len(raw.snapshot()) >= len(sent.snapshot()), timeout=30)
            for s in SYMBOLS:
                # every published event arrived, none twice, in order
                assert raw.book_events(s) == sent.book_events(s)
            assert len(raw.snapshot()) == len(sent.snapshot())

            def caught_up() -> bool:
                for s in SYMBOLS:
                    book = books.book(s)
                    if book is None or not book.synced or book.sequence != last_seq(s):
                        return False
                return True

            wait_until(caught_up, timeout=30)
            for s in SYMBOLS:
                truth = sim.truth(s)
                book = books.book(s)
                assert book is not None
                assert book.copy() == ({lv[0]: lv[1] for lv in truth.bids}, {lv[0]: lv[1] for lv in truth.asks})
                assert books.kinds(s) == ["synced"]  # nothing was lost: no gap, no reset
            assert op.stats().dropped == 0
            print("kill -9:", op.stats(), raw_source.stats)
            assert raw.errors == [] and books.errors == [] and sent.errors == []
            for sub in [*pub_subs, raw_sub, books_sub]:
                sub.dispose()
        finally:
            client.close()
            publisher_bus.close()
            consumer_bus.close()


def trades(n: int, symbol: str = "X") -> list[Trade]:
    return [Trade("demo", symbol, float(i), float(i), price=float(i), size=1.0) for i in range(n)]


def test_broker_slower_than_the_feed_drops_oldest_then_marks_and_resyncs(own_server: NatsServer) -> None:  # noqa: F811
    bus = NatsBus(own_server.url)
    try:
        asked: list[str] = []
        subject: Subject[Any] = Subject()
        op = ops.publish(bus, channel="trades", capacity=10, overflow="drop_oldest", resync=asked.append)
        passed: list[Any] = []
        sub = subject.pipe(op).subscribe(passed.append)
        own_server.kill()  # the broker is gone: nothing can be acknowledged
        events = trades(100)
        for ev in events:
            subject.on_next(ev)
        assert passed == events  # the feed itself is never held up
        stats = op.stats()
        assert stats.dropped > 0 and stats.max_pending == 10
        own_server.start()
        wait_until(lambda: op.stats().pending == 0, timeout=30)
        stats = op.stats()
        assert stats.resets == 1
        assert stats.published == 100 - stats.dropped + stats.resets  # the reset marker is published too
        assert asked == ["X"]
        got = Collector()
        done = threading.Event()
        bus.source(start="first", follow=False).subscribe(got.on_next, got.on_error, done.set)
        assert done.wait(20)
        items = got.snapshot()
        resets = [i for i, e in enumerate(items) if isinstance(e, StreamReset)]
        assert len(resets) == 1
        reset = items[resets[0]]
        assert reset.reason == f"bus: {stats.dropped} events dropped (publisher buffer full)"
        after = items[resets[0] + 1 :]
        assert [e.time for e in after] == [float(i) for i in range(90, 100)]  # the newest ten were kept
        assert len(items) == stats.published
        sub.dispose()
    finally:
        bus.close()


def test_overflow_error_fails_the_stream_and_block_waits(own_server: NatsServer) -> None:  # noqa: F811
    bus = NatsBus(own_server.url)
    try:
        own_server.kill()
        errors: list[BaseException] = []
        subject: Subject[Any] = Subject()
        subject.pipe(ops.publish(bus, capacity=5, overflow="error", flush_timeout=0.1)).subscribe(
            on_error=errors.append
        )
        for ev in trades(20):
            subject.on_next(ev)
        assert len(errors) == 1 and isinstance(errors[0], BufferOverflow)
        own_server.start()
        op = ops.publish(bus, capacity=2, overflow="block")
        done = threading.Event()
        rx.from_iterable(trades(500, "Y")).pipe(op).subscribe(on_completed=done.set)
        assert done.wait(30)
        assert op.stats().published == 500 and op.stats().dropped == 0
        got = Collector()
        finished = threading.Event()
        bus.source(symbol="Y", start="first", follow=False).subscribe(got.on_next, got.on_error, finished.set)
        assert finished.wait(20)
        assert [e.time for e in got.snapshot()] == [float(i) for i in range(500)]
    finally:
        bus.close()


def test_group_members_leaving_hand_back_their_messages(own_server: NatsServer) -> None:  # noqa: F811
    bus = NatsBus(own_server.url)
    try:
        a, b = Collector(), Collector()
        sub_a = bus.source(group="g", start="first", batch=1).subscribe(a.on_next, a.on_error)
        sub_b = bus.source(group="g", start="first", batch=1).subscribe(b.on_next, b.on_error)
        op = ops.publish(bus, max_batch=1)
        done = threading.Event()
        feed: Subject[Any] = Subject()
        feed.pipe(op).subscribe(on_completed=done.set)
        events = trades(200)
        # One at a time until both members have pulled once: a member whose thread starts late
        # on a loaded machine would otherwise find the whole burst taken by the other.
        sent = 0
        while sent < 100 and not (a.snapshot() and b.snapshot()):
            feed.on_next(events[sent])
            sent += 1
            wait_until(lambda n=sent: len(a.snapshot()) + len(b.snapshot()) >= n, timeout=30)
        for ev in events[sent:]:
            feed.on_next(ev)
        feed.on_completed()
        assert done.wait(20)
        wait_until(lambda: len(a.snapshot()) + len(b.snapshot()) >= 200, timeout=30)
        sub_a.dispose()
        sub_b.dispose()
        assert len(a.snapshot()) > 0 and len(b.snapshot()) > 0
        times = sorted(e.time for e in a.snapshot() + b.snapshot())
        assert times == [float(i) for i in range(200)]
        # the group remembers its position: a new member gets only what comes next
        c = Collector()
        sub_c = bus.source(group="g", start="first").subscribe(c.on_next, c.on_error)
        rx.from_iterable(trades(3, "Z")).pipe(ops.publish(bus)).subscribe()
        wait_until(lambda: len(c.snapshot()) == 3)
        sub_c.dispose()
        assert [e.symbol for e in c.snapshot()] == ["Z", "Z", "Z"]
    finally:
        bus.close()


def test_kill_9_under_a_fast_stream_every_event_once_for_plain_and_group_consumers(own_server: NatsServer) -> None:  # noqa: F811
    publisher_bus = NatsBus(own_server.url)
    consumer_bus = NatsBus(own_server.url)
    try:
        plain, grouped = Collector(), Collector()
        plain_source = consumer_bus.source(start="first")
        group_source = consumer_bus.source(start="first", group="solo")
        subs = [
            plain_source.subscribe(plain.on_next, plain.on_error),
            group_source.subscribe(grouped.on_next, grouped.on_error),
        ]
        n = 30_000
        events = [Trade("demo", f"S{i % 3}", float(i), float(i), price=float(i), size=1.0) for i in range(n)]
        op = ops.publish(publisher_bus, max_batch=32)
        feed: Subject[Any] = Subject()
        feed.pipe(op).subscribe()
        half = threading.Event()

        def produce() -> None:
            for i, ev in enumerate(events):
                feed.on_next(ev)
                if i == n // 2:
                    half.set()

        producer = threading.Thread(target=produce)
        producer.start()
        assert half.wait(30)
        wait_until(lambda: len(plain.snapshot()) > 0 and len(grouped.snapshot()) > 0, timeout=30)
        own_server.kill()
        producer.join(60)
        own_server.start()
        wait_until(lambda: op.stats().pending == 0, timeout=60)
        assert op.stats().published == n and op.stats().dropped == 0
        wait_until(lambda: len(plain.snapshot()) >= n and len(grouped.snapshot()) >= n, timeout=60)
        for got in (plain, grouped):
            items = got.snapshot()
            assert len(items) == n  # none twice
            for s in ("S0", "S1", "S2"):  # all, in order per subject
                assert [e.time for e in items if e.symbol == s] == [e.time for e in events if e.symbol == s]
        print("kill -9 fast:", op.stats(), plain_source.stats, group_source.stats)
        for sub in subs:
            sub.dispose()
    finally:
        publisher_bus.close()
        consumer_bus.close()


def test_closing_while_the_broker_is_gone_ends_in_bounded_time(own_server: NatsServer) -> None:  # noqa: F811
    bus = NatsBus(own_server.url)
    try:
        own_server.kill()
        op = ops.publish(bus, flush_timeout=0.5)
        feed: Subject[Any] = Subject()
        sub = feed.pipe(op).subscribe()
        for ev in trades(5000):
            feed.on_next(ev)
        started = time.monotonic()
        sub.dispose()  # flush gives up after 0.5 s; the rest is counted as dropped, not retried forever
        wait_until(lambda: op.stats().pending == 0, timeout=30)
        assert time.monotonic() - started < 10  # one acknowledgement timeout (2 s), not one per message
        stats = op.stats()
        assert stats.published == 0 and stats.dropped == 5000
    finally:
        bus.close()
