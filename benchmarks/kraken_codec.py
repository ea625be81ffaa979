"""Kraken codec decode throughput (v1 and v2) on real and simulated book frames.

* ``v1_updates_per_s``: :class:`~rxfeeds.venues.kraken.codec.KrakenCodec` decoding the 2,779
  book updates of ``kraken-book-1000.dev.capture`` (levels with wire texts, checksum parsed);
* ``v1_baseline_orjson_per_s``: ``orjson.loads`` alone on the same frames (the floor: the
  codec's own work is the difference);
* ``v2_updates_per_s`` / ``v2_baseline_json_decimal_per_s``: the v2 codec on book updates
  recorded from the v2 simulator, against ``json.loads(parse_float=Decimal)`` alone.

Prints one JSON object.  Run from the project root::

    python benchmarks/kraken_codec.py      # RXFEEDS_CAPTURES overrides ../shared/captures
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import websocket  # noqa: E402

from rxfeeds.sim.kraken_v2 import KrakenV2Sim  # noqa: E402
from rxfeeds.venues.kraken.codec import KrakenCodec  # noqa: E402
from rxfeeds.venues.kraken.codec_v2 import KrakenV2Codec  # noqa: E402


def rate(frames: list[bytes], fn: Callable[[bytes], object], seconds: float = 1.5) -> float:
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for frame in frames:
            fn(frame)
        done += len(frames)
    return done / (time.perf_counter() - start)


def v1_frames() -> list[bytes]:
    captures = Path(os.environ.get("RXFEEDS_CAPTURES", ROOT.parent / "shared" / "captures"))
    out = []
    with (captures / "kraken-book-1000.dev.capture").open("rb") as handle:
        for line in handle:
            if line.startswith(b"wss://"):
                continue
            frame = line.rstrip(b"\n").partition(b": ")[2]
            if frame.startswith(b"[") and b'"as"' not in frame:
                out.append(frame)
    return out


def v2_frames(count: int = 3000) -> list[bytes]:
    with KrakenV2Sim(seed=5, tick_interval=None) as sim:
        ws = websocket.create_connection(sim.url)
        ws.recv()
        ws.send('{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10},"req_id":1}')
        frames: list[bytes] = []
        while len(frames) < count:
            sim.step(50)
            ws.send('{"method":"ping","req_id":2}')
            while True:
                text = str(ws.recv())
                if '"pong"' in text:
                    break
                if '"type":"update"' in text:
                    frames.append(text.encode())
        ws.close()
    return frames[:count]


def main() -> None:
    frames1 = v1_frames()
    codec1 = KrakenCodec()
    frames2 = v2_frames()
    codec2 = KrakenV2Codec()
    codec2.subscribe_frames(("book-10", "BTC/USD"))
    result = {
        "v1_frames": len(frames1),
        "v1_updates_per_s": round(rate(frames1, lambda f: codec1.decode(f, 0.0))),
        "v1_baseline_orjson_per_s": round(rate(frames1, orjson.loads)),
        "v2_frames": len(frames2),
        "v2_updates_per_s": round(rate(frames2, lambda f: codec2.decode(f, 0.0))),
        "v2_baseline_json_decimal_per_s": round(rate(frames2, lambda f: json.loads(f, parse_float=Decimal))),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
