"""HitBTC v2 codec throughput on real traffic, with a plain-JSON baseline and the ISO-time fast path.

Replays the received frames of ``hitbtc-v2-public.dev.capture`` (239 ``updateOrderbook``, 12
snapshots, 600 trades and 600 candles in 6 snapshots, 27 tickers) repeated to at least
``--frames`` frames through :class:`~rxfeeds.venues.hitbtc.codec.HitBTCCodec` and prints one
JSON object:

* ``update_frames_per_s``: ``updateOrderbook`` frames decoded into ``BookDelta`` events (the hot
  path of a live book);
* ``all_frames_per_s``: every received frame (snapshots of 100 trades/candles included);
* ``baseline_orjson_updates_per_s``: ``orjson.loads`` alone on the same update frames, the
  floor any decoder pays;
* ``iso_time_per_s`` vs ``fromisoformat_per_s``: the timestamp fast path against
  ``datetime.fromisoformat(...).timestamp()`` (same values, checked).

Run from the project root::

    python3 benchmarks/hitbtc_codec.py [--frames 200000]     # RXFEEDS_CAPTURES overrides ../shared/captures
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from rxfeeds.venues.hitbtc._common import iso_time  # noqa: E402
from rxfeeds.venues.hitbtc.codec import HitBTCCodec  # noqa: E402

CAPTURE = "hitbtc-v2-public.dev.capture"


def received(path: Path) -> list[bytes]:
    frames = []
    for line in path.read_text().splitlines():
        if line[:1].isdigit():
            frames.append(line.partition(": ")[2].encode())
    return frames


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")


def timed(fn: object, frames: list[bytes]) -> float:
    start = time.perf_counter()
    for f in frames:
        fn(f, 0.0)  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200_000)
    args = parser.parse_args()
    folder = Path(os.environ.get("RXFEEDS_CAPTURES", ROOT.parent / "shared" / "captures"))
    frames = received(folder / CAPTURE)
    updates = [f for f in frames if b'"updateOrderbook"' in f]
    update_run = updates * max(1, args.frames // len(updates))
    all_run = frames * max(1, args.frames // len(frames) // 4)

    codec = HitBTCCodec()
    events = sum(len(getattr(m, "events", ())) for f in frames for m in codec.decode(f, 0.0))
    t_updates = timed(codec.decode, update_run)
    t_all = timed(codec.decode, all_run)
    t_base = timed(lambda f, _: orjson.loads(f), update_run)

    stamps = [json.loads(f)["params"]["timestamp"] for f in updates]
    assert all(iso_time(s) == dt.datetime.fromisoformat(s).timestamp() for s in stamps)
    stamp_run = stamps * max(1, 200_000 // len(stamps))
    start = time.perf_counter()
    for s in stamp_run:
        iso_time(s)
    t_fast = time.perf_counter() - start
    start = time.perf_counter()
    for s in stamp_run:
        dt.datetime.fromisoformat(s).timestamp()
    t_slow = time.perf_counter() - start

    print(
        json.dumps(
            {
                "benchmark": "hitbtc_codec",
                "python": platform.python_version(),
                "capture_frames": len(frames),
                "capture_events": events,
                "update_frames": len(update_run),
                "update_frames_per_s": rate(len(update_run), t_updates),
                "all_frames": len(all_run),
                "all_frames_per_s": rate(len(all_run), t_all),
                "baseline_orjson_updates_per_s": rate(len(update_run), t_base),
                "iso_time_per_s": rate(len(stamp_run), t_fast),
                "fromisoformat_per_s": rate(len(stamp_run), t_slow),
            }
        )
    )


if __name__ == "__main__":
    main()
