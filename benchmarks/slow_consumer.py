"""Slow consumer behind ``ops.latest()``: process memory stays flat, the socket thread keeps its rate.

A simulator on 127.0.0.1 streams Binance-spot ``trade`` frames at ``--rate`` frames/s (paced in
5 ms batches, pre-encoded).  The real :class:`~rxfeeds.transport.SocketSubject` with the real
Binance-spot codec subscribes; a subscriber that sleeps ``--sleep`` s (default 50 ms) per item
sits behind ``latest()``.  Three phases in one run, one JSON object on stdout:

* ``baseline_fast``: a no-op subscriber directly on the stream (no ``latest``): the socket
  thread's rate when nothing is slow, the figure to compare with;
* ``latest_slow`` (``--duration`` s, default 60): the slow subscriber behind ``latest()``:
  socket-thread rate, RSS before/after/max, items delivered and conflated;
* ``baseline_blocking``: the same slow subscriber directly on the socket thread (no
  ``latest``): what ``latest()`` prevents.

The socket-thread rate is the transport's own ``frames_in`` counter over the phase.  RSS is
``VmRSS`` of this process (the simulator runs in-process, and drops frames rather than
buffering when the client falls behind, so its memory does not hide in the figure).

Run from the project root::

    python benchmarks/slow_consumer.py                 # 60 s main phase
    python benchmarks/slow_consumer.py --duration 10   # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from reactivex import Observable  # noqa: E402

from rxfeeds.events import Trade  # noqa: E402
from rxfeeds.ops.latest import latest  # noqa: E402
from rxfeeds.sim.server import SimConnection, SimServer, encode_frame  # noqa: E402
from rxfeeds.transport import SocketSubject  # noqa: E402
from rxfeeds.venues.binance_spot.codec import BinanceSpotCodec  # noqa: E402

KEY = ("trade", "BTCUSDT")
BATCH_PERIOD = 0.005
# beyond this many unsent bytes the simulator skips frames instead of buffering them
SERVER_BUFFER_LIMIT = 4 << 20


def trade_messages(count: int) -> list[bytes]:
    """Distinct Binance ``trade`` messages (JSON text)."""
    messages = []
    for i in range(count):
        msg = {
            "stream": "btcusdt@trade",
            "data": {
                "e": "trade",
                "E": 1_700_000_000_000 + i,
                "s": "BTCUSDT",
                "t": i,
                "p": f"{30000 + (i % 500) * 0.01:.2f}",
                "q": "0.01000000",
                "T": 1_700_000_000_000 + i,
                "m": bool(i & 1),
                "M": True,
            },
        }
        messages.append(orjson.dumps(msg))
    return messages


class PacedTradeSim(SimServer):
    """Answers a Binance SUBSCRIBE with an ack, then streams trades at ``rate`` frames/s."""

    venue = "binance-spot"

    def __init__(self, rate: float) -> None:
        super().__init__(tick_interval=None)
        self.rate = rate
        self.frames = [encode_frame(m) for m in trade_messages(1000)]
        self.skipped = 0

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        request = orjson.loads(message)
        if request.get("method") == "SUBSCRIBE":
            conn.send(orjson.dumps({"result": None, "id": request["id"]}))
            self.spawn(self._stream(conn))

    async def _stream(self, conn: SimConnection) -> None:
        start = time.monotonic()
        sent = 0
        frames, n = self.frames, len(self.frames)
        while conn.is_open:
            due = int((time.monotonic() - start) * self.rate) - sent
            if due > 0:
                if conn.ws.transport.get_write_buffer_size() > SERVER_BUFFER_LIMIT:
                    self.skipped += due  # the client is not reading: drop, do not buffer
                else:
                    batch = b"".join(frames[(sent + k) % n] for k in range(due))
                    conn.send_raw(batch, due)
                sent += due
            await asyncio.sleep(BATCH_PERIOD)


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def frames_in(sock: SocketSubject) -> int:
    return sock.stats().frames_in


def phase(
    sock: SocketSubject,
    stream: Observable[Any],
    seconds: float,
    subscriber: Callable[[Any], None],
    sample: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Subscribe, let it run ``seconds`` after a 2 s warm-up, return rate and RSS figures."""
    subscription = stream.subscribe(subscriber)
    try:
        deadline = time.monotonic() + 10
        while frames_in(sock) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(2.0)  # warm-up: threads started, buffers at their working size
        rss_before = rss_bytes()
        f0, t0 = frames_in(sock), time.monotonic()
        rss_max = rss_before
        samples = [rss_before]
        end = t0 + seconds
        next_sample = t0 + 10.0
        while time.monotonic() < end:
            time.sleep(min(1.0, max(0.0, end - time.monotonic())))
            rss = rss_bytes()
            rss_max = max(rss_max, rss)
            if time.monotonic() >= next_sample:
                samples.append(rss)
                next_sample += 10.0
            if sample is not None:
                sample()
        f1, t1 = frames_in(sock), time.monotonic()
        rss_after = rss_bytes()
    finally:
        subscription.dispose()
    return {
        "seconds": round(t1 - t0, 2),
        "socket_frames": f1 - f0,
        "socket_frames_per_s": round((f1 - f0) / (t1 - t0), 1),
        "rss_before_mb": round(rss_before / 2**20, 2),
        "rss_after_mb": round(rss_after / 2**20, 2),
        "rss_max_mb": round(rss_max / 2**20, 2),
        "rss_growth_mb": round((rss_after - rss_before) / 2**20, 2),
        "rss_every_10s_mb": [round(r / 2**20, 2) for r in samples],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="main phase length, s (default 60)")
    parser.add_argument("--rate", type=float, default=10_000.0, help="frames/s the simulator sends")
    parser.add_argument("--sleep", type=float, default=0.05, help="subscriber's time per item, s")
    parser.add_argument("--baseline", type=float, default=5.0, help="length of each baseline phase, s")
    args = parser.parse_args()

    with PacedTradeSim(args.rate) as sim:
        # a fresh connection per phase so each starts from an empty pipe
        def socket() -> SocketSubject:
            return SocketSubject(sim.url, BinanceSpotCodec(), venue="binance-spot")

        # the frames really decode to trades (proof the pipeline is the real one)
        first = BinanceSpotCodec().decode(trade_messages(1)[0], 0.0)[0]
        assert isinstance(first.events[0], Trade)  # type: ignore[union-attr]

        sock = socket()
        fast_count = [0]

        def count(_: Any) -> None:
            fast_count[0] += 1

        baseline_fast = phase(sock, sock.multiplex(KEY), args.baseline, count)
        sock.close()

        sock = socket()
        conflate = latest()
        delivered = [0]
        threads: set[str] = set()
        last_value: list[Any] = [None]

        def slow(value: Any) -> None:
            threads.add(threading.current_thread().name)
            delivered[0] += 1
            last_value[0] = value
            time.sleep(args.sleep)

        max_pending = [0]

        def sample() -> None:
            max_pending[0] = max(max_pending[0], conflate.stats().pending)

        main_phase = phase(sock, sock.multiplex(KEY).pipe(conflate), args.duration, slow, sample)
        stats = conflate.stats()
        main_phase.update(
            {
                "delivered": delivered[0],
                "delivered_per_s": round(delivered[0] / (main_phase["seconds"] + 2.0), 1),
                "conflated": stats.dropped,
                "max_pending": max(max_pending[0], stats.max_pending),
                "delivery_threads": len(threads),
            }
        )
        sock.close()

        sock = socket()
        blocked = [0]

        def slow_inline(_: Any) -> None:
            blocked[0] += 1
            time.sleep(args.sleep)

        baseline_blocking = phase(sock, sock.multiplex(KEY), args.baseline, slow_inline)
        sock.close()

    result = {
        "benchmark": "slow_consumer",
        "rate_target_frames_per_s": args.rate,
        "subscriber_sleep_s": args.sleep,
        "baseline_fast": baseline_fast,
        "latest_slow": main_phase,
        "baseline_blocking": baseline_blocking,
        "socket_rate_kept": round(
            main_phase["socket_frames_per_s"] / max(baseline_fast["socket_frames_per_s"], 1e-9), 3
        ),
        "simulator_skipped_frames": sim.skipped,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
