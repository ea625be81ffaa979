"""Bybit v5 book path throughput: frames from the simulator through the codec and the book.

Records ``orderbook.{depth}.BTCUSDT`` frames (one snapshot, then deltas) from
:class:`~rxfeeds.sim.bybit.BybitSim` over a real socket, then times on the same frames, best of
``--repeats`` runs:

* ``baseline_orjson_per_s``: ``orjson.loads`` alone, the floor any decoder pays;
* ``decode_per_s``: :class:`~rxfeeds.venues.bybit.codec.BybitCodec` ``decode`` (levels checked,
  wire texts kept);
* ``decode_and_book_per_s``: decode plus applying every event to the order book
  (:class:`~rxfeeds.books.sync.SymbolBook`, the state ``ops.order_book`` keeps), which checks
  ``u`` continuity and publishes an immutable book per frame.

``*_vs_orjson`` are the same-run ratios (1.0 = as fast as parsing the JSON alone).  Run from the
project root::

    python3 benchmarks/bybit_book.py [--frames 5000] [--depth 50] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import websocket  # noqa: E402

from rxfeeds.books.sync import SymbolBook  # noqa: E402
from rxfeeds.codec import Data  # noqa: E402
from rxfeeds.events import BookDelta, BookSnapshot, StreamReset  # noqa: E402
from rxfeeds.sim.bybit import BybitSim  # noqa: E402
from rxfeeds.venues.bybit.codec import BybitCodec  # noqa: E402


def sim_frames(count: int, depth: int) -> list[bytes]:
    """``count`` book frames (the snapshot first) as the simulator sends them."""
    with BybitSim(seed=5, tick_interval=None) as sim:
        ws = websocket.create_connection(sim.url)
        ws.send(orjson.dumps({"op": "subscribe", "req_id": "1", "args": [f"orderbook.{depth}.BTCUSDT"]}).decode())
        frames: list[bytes] = []
        while len(frames) < count:
            sim.step(50)
            ws.send('{"op":"ping"}')
            while True:
                text = str(ws.recv())
                if '"pong"' in text:
                    break
                if '"topic"' in text:
                    frames.append(text.encode())
        ws.close()
    return frames[:count]


def best_rate(frames: list[bytes], work: Callable[[list[bytes]], Any], repeats: int) -> float:
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        work(frames)
        best = max(best, len(frames) / (time.perf_counter() - start))
    return best


def parse_only(frames: list[bytes]) -> None:
    loads = orjson.loads
    for f in frames:
        loads(f)


def decode_only(frames: list[bytes]) -> None:
    decode = BybitCodec().decode
    for f in frames:
        decode(f, 0.0)


def decode_and_book(frames: list[bytes]) -> None:
    decode = BybitCodec().decode
    book = SymbolBook("bybit", "BTCUSDT")
    for f in frames:
        for message in decode(f, 0.0):
            if type(message) is not Data:
                continue
            for event in message.events:
                kind = type(event)
                if kind is BookDelta:
                    book.on_delta(event)
                elif kind is BookSnapshot:
                    book.on_snapshot(event)
                elif kind is StreamReset:
                    book.on_reset(event)
    assert book.synced and book.gaps == 0, book.last_problem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=5000)
    parser.add_argument("--depth", type=int, default=50, choices=(1, 50, 200))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    frames = sim_frames(args.frames, args.depth)
    deltas = [orjson.loads(f)["data"] for f in frames[1:]]
    levels = sum(len(d["b"]) + len(d["a"]) for d in deltas) / max(1, len(deltas))
    baseline = best_rate(frames, parse_only, args.repeats)
    decoded = best_rate(frames, decode_only, args.repeats)
    booked = best_rate(frames, decode_and_book, args.repeats)
    print(
        json.dumps(
            {
                "frames": len(frames),
                "depth": args.depth,
                "levels_per_delta": round(levels, 1),
                "baseline_orjson_per_s": round(baseline),
                "decode_per_s": round(decoded),
                "decode_and_book_per_s": round(booked),
                "decode_vs_orjson": round(decoded / baseline, 3),
                "decode_and_book_vs_orjson": round(booked / baseline, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
