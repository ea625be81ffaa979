"""``async for`` (``rxfeeds.aio.iterate``) against a plain Rx subscriber on the same feed, same run.

A simulator on 127.0.0.1 streams Binance-spot ``trade`` frames (the paced server of
``benchmarks/slow_consumer.py``); the real :class:`~rxfeeds.transport.SocketSubject` with the
real codec delivers them.  Two measurements, one JSON object on stdout:

* ``throughput`` (at ``--rate`` frames/s offered, ``--duration`` s per phase, best of
  ``--repeat`` interleaved runs per case): values/s
  delivered to a counting plain Rx subscriber (on the socket thread), then to a counting
  ``async for`` on an asyncio loop (buffer 100,000, ``overflow="drop"``, so a loop that
  cannot keep up shows as ``dropped``), and their ratio;
* ``latency`` (at ``--latency-rate`` frames/s, both subscribed to the same stream at once):
  the time from the plain subscriber's ``on_next`` (socket thread) to the ``async for`` body
  receiving the same event on the loop: the latency ``aio`` adds, p50/p99/max in microseconds.

Run from the project root::

    python benchmarks/aio.py                       # 3 x 5 s phases per case, then 5 s of latency
    python benchmarks/aio.py --duration 2 --loop uvloop
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from slow_consumer import KEY, PacedTradeSim  # noqa: E402

from rxfeeds import aio  # noqa: E402
from rxfeeds.transport import SocketSubject  # noqa: E402
from rxfeeds.venues.binance_spot.codec import BinanceSpotCodec  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def wait_flowing(sock: SocketSubject, timeout: float = 20.0) -> None:
    start = sock.stats().frames_in
    deadline = time.monotonic() + timeout
    while sock.stats().frames_in < start + 100:
        if time.monotonic() > deadline:
            raise RuntimeError("the simulator did not stream")
        time.sleep(0.01)


def rx_phase(url: str, duration: float) -> dict[str, Any]:
    sock = SocketSubject(url, BinanceSpotCodec(), venue="binance-spot")
    count = 0

    def on_next(_: Any) -> None:
        nonlocal count
        count += 1

    sub = sock.multiplex(KEY).subscribe(on_next)
    try:
        wait_flowing(sock)
        c0, f0, t0 = count, sock.stats().frames_in, time.perf_counter()
        time.sleep(duration)
        c1, f1, t1 = count, sock.stats().frames_in, time.perf_counter()
    finally:
        sub.dispose()
        sock.close()
    return {"delivered_per_s": round((c1 - c0) / (t1 - t0)), "frames_in_per_s": round((f1 - f0) / (t1 - t0))}


async def aio_phase(url: str, duration: float) -> dict[str, Any]:
    sock = SocketSubject(url, BinanceSpotCodec(), venue="binance-spot")
    count = 0
    try:
        async with aio.iterate(sock.multiplex(KEY), buffer=100_000, overflow="drop") as it:
            t_end = None
            async for _ in it:
                count += 1
                if t_end is None and count == 100:
                    await aio.run_blocking(lambda: wait_flowing(sock))
                    c0, f0, s0, t0 = count, sock.stats().frames_in, it.stats(), time.perf_counter()
                    t_end = t0 + duration
                elif t_end is not None and (count & 255) == 0 and time.perf_counter() >= t_end:
                    break
            c1, f1, s1, t1 = count, sock.stats().frames_in, it.stats(), time.perf_counter()
    finally:
        await aio.run_blocking(sock.close)
    return {
        "delivered_per_s": round((c1 - c0) / (t1 - t0)),
        "frames_in_per_s": round((f1 - f0) / (t1 - t0)),
        "dropped": s1.dropped - s0.dropped,
        "max_pending": s1.max_pending,
    }


async def latency_phase(url: str, duration: float) -> dict[str, Any]:
    sock = SocketSubject(url, BinanceSpotCodec(), venue="binance-spot")
    stream = sock.multiplex(KEY)
    stamped: dict[int, float] = {}
    lock = threading.Lock()

    def stamp(event: Any) -> None:  # the plain Rx subscriber, first in the route: runs first
        with lock:
            stamped[id(event)] = time.perf_counter()

    sub = stream.subscribe(stamp)
    added: list[float] = []
    try:
        async with aio.iterate(stream, buffer=100_000, overflow="drop") as it:
            t_end = time.perf_counter() + duration
            async for event in it:
                now = time.perf_counter()
                with lock:
                    t = stamped.pop(id(event), None)
                if t is not None:
                    added.append(now - t)
                if now >= t_end:
                    break
            dropped = it.stats().dropped
    finally:
        sub.dispose()
        await aio.run_blocking(sock.close)
    added = added[100:]  # connection warm-up
    return {
        "samples": len(added),
        "dropped": dropped,
        "added_us_p50": round(percentile(added, 0.50) * 1e6, 1),
        "added_us_p99": round(percentile(added, 0.99) * 1e6, 1),
        "added_us_max": round(max(added) * 1e6, 1),
        "added_us_mean": round(statistics.fmean(added) * 1e6, 1),
    }


def run(coro: Any, loop_kind: str) -> Any:
    if loop_kind == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    return asyncio.run(coro)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per phase")
    parser.add_argument("--rate", type=float, default=200_000, help="frames/s offered in the throughput phases")
    parser.add_argument("--latency-rate", type=float, default=2_000, help="frames/s offered in the latency phase")
    parser.add_argument("--repeat", type=int, default=3, help="throughput runs per case (best reported)")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = parser.parse_args()

    rx_runs: list[dict[str, Any]] = []
    aio_runs: list[dict[str, Any]] = []
    with PacedTradeSim(args.rate) as sim:
        for _ in range(args.repeat):  # interleaved, so a change in machine load hits both
            rx_runs.append(rx_phase(sim.url, args.duration))
            aio_runs.append(run(aio_phase(sim.url, args.duration), args.loop))
    rx_plain = max(rx_runs, key=lambda r: r["delivered_per_s"])
    aio_for = max(aio_runs, key=lambda r: r["delivered_per_s"])
    with PacedTradeSim(args.latency_rate) as sim:
        latency = run(latency_phase(sim.url, args.duration), args.loop)
    print(
        json.dumps(
            {
                "loop": args.loop,
                "offered_frames_per_s": args.rate,
                "throughput": {
                    "best_of": args.repeat,
                    "rx_subscriber": rx_plain,
                    "async_for": aio_for,
                    "ratio_async_for_vs_rx": round(aio_for["delivered_per_s"] / max(1, rx_plain["delivered_per_s"]), 3),
                },
                "latency": {"offered_frames_per_s": args.latency_rate, **latency},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
