"""Throughput and latency through the bus (NATS JetStream) against the in-process pipeline.

One command, one JSON object on stdout.  A ``nats-server`` with JetStream and a temporary store
is started on a free port (or ``--url`` names a running one).  The events are Kraken-like book
deltas (two levels with wire texts and a checksum) over ``--symbols`` symbols, built before
timing.  Phases, all in this run:

* ``inprocess``: the same events handed across a thread inside the process
  (``ops.buffer_bounded``), the in-process pipeline's hand-off: events/s;
* ``publish``: ``ops.publish(bus)`` fed as fast as possible until the broker acknowledged every
  event: events/s, messages, events per message;
* ``consume``: ``bus.source(start="first", follow=False)`` reading them all back (fetch, decode,
  de-duplicate): events/s;
* ``latency``: a producer paced at ``--rate`` events/s for ``--duration`` s through
  publish -> broker -> source (on another connection, as another process would have), and the
  same through the in-process hand-off: p50 / p99 / max of the time from ``put`` to the
  consumer's callback.

Targets (issue 23, 2-core machine): >= 200k events/s published, >= 100k events/s consumed,
p99 < 5 ms at 10k events/s.

Run from the project root::

    python benchmarks/bus.py
    python benchmarks/bus.py --events 100000 --duration 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reactivex.subject import Subject  # noqa: E402

from rxfeeds import ops  # noqa: E402
from rxfeeds.bus import NatsBus  # noqa: E402
from rxfeeds.bus.server import NatsServer  # noqa: E402
from rxfeeds.events import BookDelta, Trade  # noqa: E402


def book_deltas(count: int, symbols: int) -> list[BookDelta]:
    events = []
    for i in range(count):
        price = 30000.0 + (i % 500) * 0.1
        p_text = f"{price:.1f}"
        size = 0.001 * (i % 97 + 1)
        s_text = f"{size:.8f}"
        events.append(
            BookDelta(
                "kraken",
                f"PAIR{i % symbols}/USD",
                1.7e9 + i * 1e-3,
                1.7e9 + i * 1e-3,
                bids=((price, size, p_text, s_text),),
                asks=((price + 0.5, size, f"{price + 0.5:.1f}", s_text),),
                checksum=i & 0xFFFFFFFF,
            )
        )
    return events


def fresh_bus(url: str) -> NatsBus:
    name = "BENCH" + uuid.uuid4().hex[:8].upper()
    return NatsBus(url, stream=name, prefix=name.lower())


def inprocess_rate(events: list[Any]) -> float:
    done = threading.Event()
    count = 0
    n = len(events)

    def on_next(_: Any) -> None:
        nonlocal count
        count += 1
        if count == n:
            done.set()

    feed: Subject[Any] = Subject()
    sub = feed.pipe(ops.buffer_bounded(n + 1)).subscribe(on_next)
    start = time.perf_counter()
    for ev in events:
        feed.on_next(ev)
    done.wait(120)
    elapsed = time.perf_counter() - start
    sub.dispose()
    return n / elapsed


def publish_phase(bus: NatsBus, events: list[Any]) -> dict[str, Any]:
    op = ops.publish(bus, channel="book", capacity=len(events) + 1)
    feed: Subject[Any] = Subject()
    sub = feed.pipe(op).subscribe()
    start = time.perf_counter()
    for ev in events:
        feed.on_next(ev)
    put_done = time.perf_counter()
    while op.stats().published < len(events):
        time.sleep(0.001)
    elapsed = time.perf_counter() - start
    stats = op.stats()
    sub.dispose()
    return {
        "events_per_s": round(len(events) / elapsed),
        "put_events_per_s": round(len(events) / (put_done - start)),
        "messages": stats.messages,
        "events_per_message": round(stats.published / max(stats.messages, 1), 1),
        "dropped": stats.dropped,
        "seconds": round(elapsed, 3),
    }


def consume_phase(bus: NatsBus, expected: int) -> dict[str, Any]:
    done = threading.Event()
    count = 0

    def on_next(_: Any) -> None:
        nonlocal count
        count += 1

    source = bus.source(start="first", follow=False, batch=512)
    start = time.perf_counter()
    sub = source.subscribe(on_next, on_completed=done.set)
    done.wait(300)
    elapsed = time.perf_counter() - start
    sub.dispose()
    assert count == expected, (count, expected)
    return {"events_per_s": round(count / elapsed), "seconds": round(elapsed, 3), "events": count}


def paced(feed: Subject[Any], rate: float, duration: float, stamps: dict[int, float]) -> int:
    """Push Trade events at ``rate``/s in 1 ms slots; ``stamps[i]`` = perf_counter at put."""
    start = time.perf_counter()
    i = 0
    total = int(rate * duration)
    while i < total:
        due = min(total, int((time.perf_counter() - start) * rate) + 1)
        while i < due:
            stamps[i] = time.perf_counter()
            feed.on_next(Trade("bench", "LAT", float(i), float(i), price=1.0, size=1.0, trade_id=i))
            i += 1
        time.sleep(0.0005)
    return total


def percentiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    if not samples:
        return {}

    def pick(q: float) -> float:
        return round(samples[min(len(samples) - 1, int(q * len(samples)))] * 1000, 3)

    return {
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "max_ms": round(samples[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(samples) * 1000, 3),
        "samples": len(samples),
    }


def latency_phase(url: str, rate: float, duration: float) -> dict[str, Any]:
    pub_bus = fresh_bus(url)
    sub_bus = NatsBus(url, stream=pub_bus.stream, prefix=pub_bus.prefix)
    stamps: dict[int, float] = {}
    lat: list[float] = []
    received = threading.Event()
    lock = threading.Lock()
    total = int(rate * duration)

    def on_bus(ev: Any) -> None:
        now = time.perf_counter()
        with lock:
            lat.append(now - stamps[ev.trade_id])
            if len(lat) == total:
                received.set()

    sub = sub_bus.source("bench", start="new").subscribe(on_bus)
    feed: Subject[Any] = Subject()
    pub = feed.pipe(ops.publish(pub_bus)).subscribe()
    paced(feed, rate, duration, stamps)
    received.wait(duration + 30)
    pub.dispose()
    sub.dispose()
    bus_figures = percentiles(lat)
    _drop(pub_bus)
    sub_bus.close()

    stamps2: dict[int, float] = {}
    lat2: list[float] = []
    done2 = threading.Event()

    def on_local(ev: Any) -> None:
        lat2.append(time.perf_counter() - stamps2[ev.trade_id])
        if len(lat2) == total:
            done2.set()

    feed2: Subject[Any] = Subject()
    sub2 = feed2.pipe(ops.buffer_bounded(total + 1)).subscribe(on_local)
    paced(feed2, rate, duration, stamps2)
    done2.wait(duration + 30)
    sub2.dispose()
    return {"rate": rate, "bus": bus_figures, "inprocess": percentiles(lat2)}


def consumer_process(url: str, stream: str, total: int, ready_file: str) -> None:
    """``--consumer``: receive ``total`` events and print the latency percentiles (JSON)."""
    bus = NatsBus(url, stream=stream, prefix=stream.lower())
    lat: list[float] = []
    done = threading.Event()

    def on_next(ev: Any) -> None:
        lat.append(time.time() - ev.time)  # the producer put time.time() into ``time``
        if len(lat) >= total:
            done.set()

    sub = bus.source("bench", start="new").subscribe(on_next)
    Path(ready_file).write_text("ready")
    done.wait(120)
    sub.dispose()
    bus.close()
    print(json.dumps(percentiles(lat)))


def latency_cross_process(url: str, rate: float, duration: float) -> dict[str, Any]:
    """The latency phase with the consumer in another process (as on another machine)."""
    import subprocess
    import tempfile

    bus = fresh_bus(url)
    total = int(rate * duration)
    with tempfile.TemporaryDirectory() as tmp:
        ready = Path(tmp) / "ready"
        proc = subprocess.Popen(
            [sys.executable, __file__, "--consumer", url, bus.stream, str(total), str(ready)],
            stdout=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        feed: Subject[Any] = Subject()
        pub = feed.pipe(ops.publish(bus)).subscribe()
        start = time.perf_counter()
        i = 0
        while i < total:
            due = min(total, int((time.perf_counter() - start) * rate) + 1)
            while i < due:
                now = time.time()
                feed.on_next(Trade("bench", "LAT", now, now, price=1.0, size=1.0, trade_id=i))
                i += 1
            time.sleep(0.0005)
        out, _ = proc.communicate(timeout=duration + 60)
        pub.dispose()
    _drop(bus)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _drop(bus: NatsBus) -> None:
    bus.delete()
    bus.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running nats-server with JetStream (default: start one)")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--symbols", type=int, default=4)
    parser.add_argument("--rate", type=float, default=10_000.0, help="events/s of the latency phase")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of the latency phase")
    parser.add_argument("--consumer", nargs=4, help=argparse.SUPPRESS)  # internal: the consumer process
    args = parser.parse_args()
    if args.consumer:
        url, stream, total, ready = args.consumer
        consumer_process(url, stream, int(total), ready)
        return

    server = None
    url = args.url
    if url is None:
        server = NatsServer().start()
        url = server.url
    try:
        events = book_deltas(args.events, args.symbols)
        inproc = inprocess_rate(events)
        bus = fresh_bus(url)
        published = publish_phase(bus, events)
        consumed = consume_phase(bus, len(events))
        _drop(bus)
        latency = latency_phase(url, args.rate, args.duration)
        latency["bus_consumer_process"] = latency_cross_process(url, args.rate, args.duration)
    finally:
        if server is not None:
            server.stop()
    result = {
        "events": args.events,
        "symbols": args.symbols,
        "inprocess_events_per_s": round(inproc),
        "publish": published,
        "consume": consumed,
        "latency": latency,
        "ratios": {
            "publish_vs_inprocess": round(published["events_per_s"] / inproc, 3),
            "consume_vs_inprocess": round(consumed["events_per_s"] / inproc, 3),
        },
        "targets_met": {
            "publish_200k": published["events_per_s"] >= 200_000,
            "consume_100k": consumed["events_per_s"] >= 100_000,
            "p99_under_5ms": latency["bus"].get("p99_ms", 1e9) < 5.0,
            "p99_under_5ms_consumer_process": latency["bus_consumer_process"].get("p99_ms", 1e9) < 5.0,
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
