"""Coinbase ``l2_data`` book path throughput, against baselines measured in the same run.

Builds ``--frames`` ``l2_data`` update frames from a seeded synthetic market (the changes of one
market step per frame, as the simulator sends them) and the same changes as HitBTC v3
``orderbook/full`` updates, then times, on this machine and in this run:

* ``orjson_per_s``: ``orjson.loads`` alone on the Coinbase frames (the floor any decoder pays);
* ``codec_per_s``: :class:`~rxfeeds.venues.coinbase.codec.CoinbaseCodec` decoding them into
  ``BookDelta`` events (sequence bookkeeping included);
* ``hitbtc_v3_codec_per_s``: the HitBTC v3 codec on the same changes in its own format (a
  per-symbol ``sequence`` venue whose levels are ``[price, size]`` pairs, not objects);
* ``book_per_s``: Coinbase decoding plus :class:`~rxfeeds.books.sync.SymbolBook` applying each
  delta (what ``ops.order_book`` does per frame, without the Rx plumbing);

and prints one JSON object with the rates and the ratios ``codec / orjson`` and
``codec / hitbtc_v3``.  Each rate is the best of ``--repeats`` runs (the machine may be shared).

Run from the project root::

    python3 benchmarks/coinbase_book.py [--frames 20000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from rxfeeds.books.sync import SymbolBook  # noqa: E402
from rxfeeds.events import BookDelta, BookSnapshot  # noqa: E402
from rxfeeds.sim.market import SyntheticMarket  # noqa: E402
from rxfeeds.venues.coinbase.codec import CoinbaseCodec  # noqa: E402
from rxfeeds.venues.hitbtc.codec_v3 import HitBTCV3Codec  # noqa: E402

STAMP = "2023-02-09T20:32:50.714964855Z"


def frames(count: int) -> tuple[bytes, list[bytes], list[bytes], int]:
    """Coinbase snapshot, Coinbase updates, HitBTC v3 updates (same changes), levels in all updates."""
    m = SyntheticMarket("BTC-USD", seed=5, mid="50000", tick_size="0.01", size_decimals=8, levels=200)
    snap = [
        {"side": "bid", "event_time": STAMP, "price_level": m.price_text(p), "new_quantity": m.size_text(s)}
        for p, s in m.bids()
    ]
    snap += [
        {"side": "offer", "event_time": STAMP, "price_level": m.price_text(p), "new_quantity": m.size_text(s)}
        for p, s in m.asks()
    ]
    head = {"channel": "l2_data", "client_id": "", "timestamp": STAMP}
    snapshot = orjson.dumps(
        {**head, "sequence_num": 0, "events": [{"type": "snapshot", "product_id": "BTC-USD", "updates": snap}]}
    )
    coinbase: list[bytes] = []
    hitbtc: list[bytes] = []
    levels = 0
    t = 1_700_000_000.0
    while len(coinbase) < count:
        t += 0.05
        step = m.step(t)
        if not step.changes:
            continue
        seq = len(coinbase) + 1
        updates = [
            {
                "side": "bid" if c.side == "bid" else "offer",
                "event_time": STAMP,
                "price_level": m.price_text(c.price),
                "new_quantity": m.size_text(c.size),
            }
            for c in step.changes
        ]
        levels += len(updates)
        head["timestamp"] = f"2023-11-14T22:13:{int(t) % 60:02d}.{int(t * 1e9) % 10**9:09d}Z"  # one per frame
        coinbase.append(
            orjson.dumps(
                {
                    **head,
                    "sequence_num": seq,
                    "events": [{"type": "update", "product_id": "BTC-USD", "updates": updates}],
                }
            )
        )
        book = {
            "t": int(t * 1000),
            "s": seq,
            "a": [[m.price_text(c.price), m.size_text(c.size)] for c in step.changes if c.side == "ask"],
            "b": [[m.price_text(c.price), m.size_text(c.size)] for c in step.changes if c.side == "bid"],
        }
        hitbtc.append(orjson.dumps({"ch": "orderbook/full", "update": {"ETHBTC": book}}))
    return snapshot, coinbase, hitbtc, levels


def best(repeats: int, run: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    snapshot, coinbase, hitbtc, levels = frames(args.frames)
    n = len(coinbase)

    def run_orjson() -> None:
        loads = orjson.loads
        for f in coinbase:
            loads(f)

    def run_codec() -> None:
        codec = CoinbaseCodec()
        decode = codec.decode
        decode(snapshot, 0.0)
        for f in coinbase:
            decode(f, 0.0)

    def run_hitbtc() -> None:
        decode = HitBTCV3Codec().decode
        for f in hitbtc:
            decode(f, 0.0)

    def run_book() -> None:
        codec = CoinbaseCodec()
        decode = codec.decode
        book = SymbolBook("coinbase", "BTC-USD")
        (msg,) = decode(snapshot, 0.0)
        first = msg.events[0]
        assert type(first) is BookSnapshot
        book.on_snapshot(first)
        on_delta = book.on_delta
        for f in coinbase:
            for m in decode(f, 0.0):
                for e in m.events:
                    on_delta(e)
        assert book.synced and book.gaps == 0

    # the codec's output is what the book needs: every frame one delta with continuous numbering
    codec = CoinbaseCodec()
    codec.decode(snapshot, 0.0)
    deltas = [m.events[0] for f in coinbase[:100] for m in codec.decode(f, 0.0)]
    assert all(type(d) is BookDelta and d.first_sequence == d.sequence for d in deltas)

    t_orjson = best(args.repeats, run_orjson)
    t_codec = best(args.repeats, run_codec)
    t_hitbtc = best(args.repeats, run_hitbtc)
    t_book = best(args.repeats, run_book)
    print(
        json.dumps(
            {
                "benchmark": "coinbase_book",
                "python": platform.python_version(),
                "frames": n,
                "levels_per_frame": round(levels / n, 2),
                "orjson_per_s": round(n / t_orjson),
                "codec_per_s": round(n / t_codec),
                "codec_levels_per_s": round(levels / t_codec),
                "hitbtc_v3_codec_per_s": round(n / t_hitbtc),
                "book_per_s": round(n / t_book),
                "codec_vs_orjson": round(t_orjson / t_codec, 3),
                "codec_vs_hitbtc_v3": round(t_hitbtc / t_codec, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
