"""How fast could a fused decode + book path be? An optimistic bound against the core path and cryptofeed.

For HitBTC v2, Binance spot and Kraken v1 this runs a throw-away loop that does only what any
pure-Python book path must do on the shared captures: parse each frame with orjson, convert its
levels with the codecs' own conversion and checks (``numeric.text_levels``, HitBTC's ``book_levels``), apply
them to ``BookSide`` (or load a snapshot), verify Kraken's CRC32, and build the immutable
``OrderBook`` with the best 10 levels.  It skips everything else the product does: no event
objects, no Observable, no operator, no time parsing, no integrity events, no resync bookkeeping,
and for HitBTC a snapshot at the book's own sequence (the venue's repeat) is skipped without
converting its levels.  Whatever the product's design, its pure-Python book path cannot be much
faster than this loop.

Each round times the bound, the core path (``benchmarks/books.py``'s codec + ``order_book``) and
cryptofeed 2.4.1 on the same frames back to back; medians of ``--runs`` rounds.

Run from the project root (``pip install -e '.[bench]'`` for cryptofeed)::

    python benchmarks/books_bound.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import books as B

from rxfeeds.books.book import OrderBook
from rxfeeds.books.checksum import crc32
from rxfeeds.books.side import BookSide
from rxfeeds.numeric import text_levels
from rxfeeds.venues.hitbtc._common import book_levels

_loads = orjson.loads


def hitbtc_bound(frames: list[bytes], passes: int) -> float:
    started = time.process_time()
    for _ in range(passes):
        books: dict[str, list[Any]] = {}
        for frame in frames:
            message = _loads(frame)
            params = message["params"]
            symbol = params["symbol"]
            seq = params["sequence"]
            state = books.get(symbol)
            if message["method"] == "snapshotOrderbook":
                if state is not None and state[2] == seq:
                    continue  # the venue's repeat: not even converted (optimistic)
                bids, asks = BookSide(True), BookSide(False)
                bids.load(book_levels(params["bid"], True))
                asks.load(book_levels(params["ask"], True))
                state = books[symbol] = [bids, asks, seq]
            else:
                if state is None or seq != state[2] + 1:
                    continue
                state[2] = seq
                state[0].apply(book_levels(params["bid"], False))
                state[1].apply(book_levels(params["ask"], False))
            OrderBook("hitbtc", symbol, 0.0, 0.0, state[0].freeze(10), state[1].freeze(10), True, seq, None, 10)
    return time.process_time() - started


def binance_bound(records: list[tuple[str, str, bytes]], passes: int) -> float:
    started = time.process_time()
    for _ in range(passes):
        books: dict[str, list[Any]] = {}
        for kind, symbol, payload in records:
            message = _loads(payload)
            if kind == "rest":
                bids, asks = BookSide(True), BookSide(False)
                bids.load(text_levels(message["bids"]))
                asks.load(text_levels(message["asks"]))
                state = books[symbol] = [bids, asks, message["lastUpdateId"]]
            else:
                data = message["data"]
                symbol = data["s"]
                state = books.get(symbol)
                if state is None or data["u"] <= state[2]:
                    continue
                state[2] = data["u"]
                state[0].apply(text_levels(data["b"]))
                state[1].apply(text_levels(data["a"]))
            OrderBook("binance", symbol, 0.0, 0.0, state[0].freeze(10), state[1].freeze(10), True, state[2], None, 10)
    return time.process_time() - started


def _kraken_text(side: BookSide) -> str:
    try:
        return "".join(side.top_segments(10))  # type: ignore[arg-type]
    except TypeError:
        side.fill_segments(10, lambda p, s: p.replace(".", "").lstrip("0") + s.replace(".", "").lstrip("0"))
        return "".join(side.top_segments(10))  # type: ignore[arg-type]


def kraken_bound(frames: list[bytes], passes: int) -> float:
    started = time.process_time()
    for _ in range(passes):
        books: dict[str, BookSide] = {}
        for frame in frames:
            message = _loads(frame)
            if type(message) is not list:
                continue
            pair = message[-1]
            parts = message[1:-2]
            if "as" in parts[0] or "bs" in parts[0]:
                bids, asks = BookSide(True), BookSide(False)
                bids.track_segments(True)
                asks.track_segments(True)
                bids.load(text_levels(parts[0].get("bs", [])))
                asks.load(text_levels(parts[0].get("as", [])))
                books[pair] = (bids, asks)  # type: ignore[assignment]
                continue
            bids, asks = books[pair]  # type: ignore[misc]
            checksum = None
            for part in parts:
                raw = part.get("a")
                if raw is not None:
                    asks.apply(text_levels(raw))
                raw = part.get("b")
                if raw is not None:
                    bids.apply(text_levels(raw))
                if "c" in part:
                    checksum = int(part["c"])
            bids.truncate(1000)
            asks.truncate(1000)
            if crc32((_kraken_text(asks) + _kraken_text(bids)).encode()) != checksum:
                raise SystemExit(f"checksum mismatch in the bound loop: {frame[:120]!r}")
            OrderBook("kraken", pair, 0.0, 0.0, bids.freeze(10), asks.freeze(10), True, None, checksum, 10)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--frames", type=int, default=30_000, help="minimum frames per run and venue")
    parser.add_argument("--venues", default="kraken,binance,hitbtc")
    args = parser.parse_args()
    folder = Path(B.ROOT.parent / "shared" / "captures")
    print("# optimistic fused bound vs core path vs cryptofeed 2.4.1: CPU frames/s, medians of rounds")
    print()
    print("| venue | bound | core path | cryptofeed | bound / cryptofeed | core / cryptofeed | target |")
    print("|---|---|---|---|---|---|---|")
    for v in B.VENUES:
        if v.name not in args.venues.split(","):
            continue
        try:
            B.load(v, folder)
        except FileNotFoundError:
            print(f"| {v.name} | needs the shared captures in {folder} | | | | | |")
            continue
        passes = max(1, -(-args.frames // v.frames))
        n = passes * v.frames
        symbols = B.book_symbols(v)
        frames = [r[3] for r in v.records if r[0] == "in"]
        records = [(k, B.rest_symbol(u).upper() if k == "rest" else "", p) for k, _, u, p in v.records]
        bounds: dict[str, Callable[[], float]] = {
            "hitbtc": lambda f=frames, n=passes: hitbtc_bound(f, n),
            "binance": lambda r=records, n=passes: binance_bound(r, n),
            "kraken": lambda f=frames, n=passes: kraken_bound(f, n),
        }
        bound = bounds.get(v.name)
        if bound is None:
            continue
        rows = [
            (n / bound(), n / B.rxfeeds_core(v, passes, 10), n / B.cryptofeed_run(v, passes, symbols))
            for _ in range(args.runs)
        ]
        b, c, p = (statistics.median(r[i] for r in rows) for i in range(3))
        b_ratio = statistics.median(r[0] / r[2] for r in rows)
        c_ratio = statistics.median(r[1] / r[2] for r in rows)
        target = f">= {v.target:g}x" + (f", >= {v.min_fps / 1000:.0f}k/s" if v.min_fps else "")
        figures = f"{b / 1e3:.1f}k | {c / 1e3:.1f}k | {p / 1e3:.1f}k | {b_ratio:.2f}x | {c_ratio:.2f}x"
        print(f"| {v.name} | {figures} | {target} |")


if __name__ == "__main__":
    main()
