"""Order-book throughput: Kraken v1 decode + ``ops.order_book`` with checksum validation on.

Replays the received frames of ``kraken-book-1000.dev.capture`` (6 pairs, depth 1000: 6
snapshots and 2,779 checksummed updates per pass) repeated to at least ``--frames`` frames,
through the real :class:`~rxfeeds.venues.kraken.codec.KrakenCodec` and ``order_book()``, and
prints one JSON object:

* ``frames_per_s``: decode + order_book, every update's CRC32 verified (the figure that counts);
* ``book_only_per_s``: the same events already decoded, through order_book alone;
* ``decode_only_per_s``: decoding alone;
* ``baseline_dict_per_s``: decode + a plain-dict apply loop (no sorting, no checksum, no
  immutable values), the floor any book implementation is compared with;
* ``checksum_ok`` / ``checksum_failed``: proof that validation really ran;
* ``crc32``: the CRC-32 in use (``isal`` with the ``fast`` extra, else ``zlib``; ``--crc zlib``
  forces the stdlib one, to see what the extra buys);
* ``bytes_per_1000_level_book``: memory of one book holding 1,000 levels (500 bids + 500 asks,
  wire texts and checksum fragments included), measured with tracemalloc.

Run from the project root::

    python benchmarks/book.py            # RXFEEDS_CAPTURES overrides ../shared/captures
    python benchmarks/book.py --crc zlib # the same without ISA-L's CRC-32

Without the capture (a fresh clone has no ``../shared/captures``) it says so on stderr and
measures frames recorded from the Kraken simulator instead (the same 6 pairs at depth 1000,
checksummed, seeded); ``capture`` in the output names which source was used.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import reactivex as rx  # noqa: E402

from rxfeeds.books import sync as book_sync  # noqa: E402
from rxfeeds.books.checksum import CRC32_IMPLEMENTATION  # noqa: E402
from rxfeeds.books.sync import SymbolBook  # noqa: E402
from rxfeeds.codec import Data  # noqa: E402
from rxfeeds.events import BookDelta, BookSnapshot, Level  # noqa: E402
from rxfeeds.ops.order_book import OrderBook, order_book  # noqa: E402
from rxfeeds.venues.kraken.codec import KrakenCodec  # noqa: E402

CAPTURE = "kraken-book-1000.dev.capture"
PAIRS = ("XBT/USD", "ETH/USD", "XBT/EUR", "ETH/XBT", "LTC/USD", "XRP/USD")


def simulator_frames(count: int = 3_000, seed: int = 1, timeout: float = 120.0) -> list[bytes]:
    """``count`` frames a Kraken v1 client receives from the simulator: book depth 1000 of PAIRS."""
    import websocket

    from rxfeeds.sim.kraken import KrakenSim

    subscribe = {"event": "subscribe", "pair": list(PAIRS), "subscription": {"name": "book", "depth": 1000}}
    frames: list[bytes] = []
    with KrakenSim(symbols=list(PAIRS), seed=seed, tick_interval=0.002) as sim:
        ws = websocket.create_connection(sim.url, timeout=10)
        try:
            ws.send(json.dumps(subscribe))
            deadline = time.monotonic() + timeout
            while len(frames) < count and time.monotonic() < deadline:
                frame = ws.recv()
                frames.append(frame.encode() if isinstance(frame, str) else frame)
        finally:
            ws.close()
    return frames


def received_frames(path: Path) -> list[bytes]:
    """The frames the client received, in order ("TS: FRAME" lines)."""
    frames = []
    with path.open("rb") as f:
        for line in f:
            head, sep, frame = line.partition(b": ")
            if sep and b" " not in head:
                frames.append(frame.rstrip(b"\r\n"))
    return frames


def run_pipeline(frames: list[bytes]) -> tuple[float, dict[str, int]]:
    """Decode + order_book through a real Observable chain; returns (seconds, counts)."""
    counts = {"books": 0, "integrity": 0}

    def frames_source(observer: Any, _scheduler: Any = None) -> Any:
        codec = KrakenCodec()
        decode = codec.decode
        on_next = observer.on_next
        for frame in frames:
            for message in decode(frame, 0.0):
                if type(message) is Data:
                    for event in message.events:
                        on_next(event)
        observer.on_completed()

    def sink(value: Any) -> None:
        if type(value) is OrderBook:
            counts["books"] += 1
        else:
            counts["integrity"] += 1

    op = order_book(depth=10)
    started = time.perf_counter()
    rx.create(frames_source).pipe(op).subscribe(sink)
    return time.perf_counter() - started, counts


def run_book_only(events: list[Any]) -> tuple[float, dict[str, int]]:
    """order_book alone on already decoded events (same Observable chain)."""
    books = [0]

    def source(observer: Any, _scheduler: Any = None) -> Any:
        on_next = observer.on_next
        for event in events:
            on_next(event)
        observer.on_completed()

    def sink(value: Any) -> None:
        books[0] += 1

    started = time.perf_counter()
    rx.create(source).pipe(order_book(depth=10)).subscribe(sink)
    return time.perf_counter() - started, {"values": books[0]}


def run_decode_only(frames: list[bytes]) -> float:
    codec = KrakenCodec()
    decode = codec.decode
    started = time.perf_counter()
    for frame in frames:
        decode(frame, 0.0)
    return time.perf_counter() - started


def run_dict_baseline(frames: list[bytes]) -> float:
    """Decode + apply to plain dicts (what a naive client does, without validation)."""
    codec = KrakenCodec()
    decode = codec.decode
    books: dict[str, tuple[dict[float, float], dict[float, float]]] = {}
    started = time.perf_counter()
    for frame in frames:
        for message in decode(frame, 0.0):
            if type(message) is not Data:
                continue
            for ev in message.events:
                if type(ev) is BookSnapshot:
                    books[ev.symbol] = ({p: s for p, s, _, _ in ev.bids}, {p: s for p, s, _, _ in ev.asks})
                elif type(ev) is BookDelta:
                    bids, asks = books[ev.symbol]
                    for p, s, _, _ in ev.bids:
                        if s == 0:
                            bids.pop(p, None)
                        else:
                            bids[p] = s
                    for p, s, _, _ in ev.asks:
                        if s == 0:
                            asks.pop(p, None)
                        else:
                            asks[p] = s
    return time.perf_counter() - started


def _levels(start: float, step: float, size: float) -> tuple[Level, ...]:
    return tuple((start + i * step, size + i, f"{start + i * step:.5f}", f"{size + i:.8f}") for i in range(500))


def memory_per_1000_level_book() -> dict[str, int]:
    """Bytes held by a book of 500 bids + 500 asks, wire texts included (tracemalloc).

    ``as_loaded``: right after the snapshot and the first checksum (fragments only for the top
    levels); ``all_fragments``: after every level was updated once, so each carries its checksum
    fragment (the steady state of a busy checksummed book); ``plain_dicts``: the same levels as
    two ``{price: (size, price_text, size_text)}`` dicts, for scale.  Each figure counts the
    level values (floats, strings) too, as the book keeps the decoded ones alive.
    """
    out: dict[str, int] = {}
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    sb = SymbolBook("kraken", "XBT/USD")
    snap = BookSnapshot(
        "kraken", "XBT/USD", 0.0, 0.0, _levels(100.0, -0.01, 1.5), _levels(100.01, 0.01, 2.5), depth=1000
    )
    sb.on_snapshot(snap)
    sb.on_delta(BookDelta("kraken", "XBT/USD", 0.0, 0.0, bids=(), asks=(), checksum=0))  # fragments on
    del snap
    gc.collect()
    out["as_loaded"] = tracemalloc.get_traced_memory()[0] - before
    sb.bids.clear()
    sb.asks.clear()
    sb.synced = True
    touch = BookDelta("kraken", "XBT/USD", 0.0, 0.0, _levels(100.0, -0.01, 1.5), _levels(100.01, 0.01, 2.5))
    sb.on_delta(touch)  # every level set by a delta: each carries its fragment
    del touch
    gc.collect()
    out["all_fragments"] = tracemalloc.get_traced_memory()[0] - before
    assert sb.bids.count + sb.asks.count == 1000
    del sb
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    plain = tuple(
        {p: (s, pt, st) for p, s, pt, st in _levels(a, b, c)} for a, b, c in ((100.0, -0.01, 1.5), (100.01, 0.01, 2.5))
    )
    gc.collect()
    out["plain_dicts"] = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del plain
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000, help="minimum frames to replay")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs; the best one is reported")
    parser.add_argument("--crc", choices=("auto", "zlib"), default="auto", help="zlib: force the stdlib CRC-32")
    args = parser.parse_args()
    crc_name = CRC32_IMPLEMENTATION
    if args.crc == "zlib":
        book_sync.crc32 = zlib.crc32  # type: ignore[attr-defined]  # the name SymbolBook calls
        crc_name = "zlib"

    captures = Path(os.environ.get("RXFEEDS_CAPTURES", ROOT.parent / "shared" / "captures"))
    path = captures / CAPTURE
    if path.is_file():
        one_pass = received_frames(path)
        source = CAPTURE
    else:
        print(
            f"capture not found: {path} (set RXFEEDS_CAPTURES to the folder holding {CAPTURE});"
            " measuring frames recorded from the Kraken simulator instead",
            file=sys.stderr,
        )
        one_pass = simulator_frames()
        source = f"kraken simulator (seed 1, {len(one_pass)} frames, depth 1000, {len(PAIRS)} pairs)"
    passes = -(-args.frames // len(one_pass))
    frames = one_pass * passes

    codec = KrakenCodec()
    events = [ev for frame in frames for m in codec.decode(frame, 0.0) if type(m) is Data for ev in m.events]

    gc.collect()
    gc.freeze()  # the pre-decoded events are not part of the measured work: keep them out of GC scans
    best: dict[str, float] = {}
    counts: dict[str, int] = {}
    for _ in range(args.repeat):
        seconds, counts = run_pipeline(frames)
        best["pipeline"] = min(best.get("pipeline", seconds), seconds)
        seconds, _ = run_book_only(events)
        best["book_only"] = min(best.get("book_only", seconds), seconds)
        seconds = run_decode_only(frames)
        best["decode"] = min(best.get("decode", seconds), seconds)
        seconds = run_dict_baseline(frames)
        best["baseline"] = min(best.get("baseline", seconds), seconds)

    # an independent count of validated checksums over the same frames
    checker: dict[str, SymbolBook] = {}
    for ev in events:
        sb = checker.get(ev.symbol) or checker.setdefault(ev.symbol, SymbolBook(ev.venue, ev.symbol))
        if isinstance(ev, BookSnapshot):
            sb.on_snapshot(ev)
        elif isinstance(ev, BookDelta):
            sb.on_delta(ev)

    n = len(frames)
    result = {
        "capture": source,
        "frames": n,
        "events": len(events),
        "passes": passes,
        "frames_per_s": round(n / best["pipeline"]),
        "book_only_per_s": round(n / best["book_only"]),
        "decode_only_per_s": round(n / best["decode"]),
        "baseline_dict_per_s": round(n / best["baseline"]),
        "target_frames_per_s": 150_000,
        # what order_book adds to each frame on top of decoding it (best runs, microseconds)
        "order_book_us_per_frame": round((best["pipeline"] - best["decode"]) / n * 1e6, 2),
        "decode_us_per_frame": round(best["decode"] / n * 1e6, 2),
        "crc32": crc_name,
        "load_average": round(os.getloadavg()[0], 2),
        "books_emitted": counts["books"],
        "integrity_events": counts["integrity"],
        "checksum_ok": sum(sb.checksum_ok for sb in checker.values()),
        "checksum_failed": sum(sb.checksum_failed for sb in checker.values()),
        "bytes_per_1000_level_book": memory_per_1000_level_book(),
        "python": sys.version.split()[0],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
