"""OKX order books with checksums on: frames/s against the Kraken figure, in the same run.

One command::

    python benchmarks/okx.py                      # OKX and Kraken, rxfeeds core
    python benchmarks/okx.py --against cryptofeed # also cryptofeed 2.4.1's OKX feed (the `bench` extra)

What is measured (CPU time, ``--runs`` runs, median with the best beside it):

* ``rxfeeds``: the venue codec + ``ops.order_book(depth=--depth)`` in one Observable chain over the
  recorded book frames (a fresh codec and pipeline per pass; the capture is repeated to at least
  ``--frames`` frames).  Every OKX checksum is verified by the order book (CRC32 of the top 25 bids
  and asks interleaved); a first pass checks that all of them pass.  Kraken: the same on its
  book-1000 capture (every CRC32 verified), the figure ``benchmarks/books.py`` measures.
* ``cryptofeed`` (``--against cryptofeed``): its ``OKX`` feed's ``message_handler`` fed the same
  frames inside one event loop, with ``checksum_validation=True``, after ``subscribe`` on a
  stand-in connection (public API only: the symbol table is filled with
  ``cryptofeed.symbols.Symbols.set`` so no HTTP request is made).

OKX book frames come from ``../shared/captures/okx-v5-public.dev.capture`` (``RXFEEDS_CAPTURES``
overrides); without it, from a capture the OKX simulator makes on the spot (SPOT, SWAP, FUTURES).
Kraken frames: ``kraken-book-1000.dev.capture``, else the Kraken simulator recorder of
``benchmarks/book.py``.  Issue 22's target for OKX is >= 2x cryptofeed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import reactivex as rx  # noqa: E402

from rxfeeds.books.checksum import CRC32_IMPLEMENTATION  # noqa: E402
from rxfeeds.codec import Data  # noqa: E402
from rxfeeds.events import BookDelta, BookSnapshot, IntegrityEvent  # noqa: E402
from rxfeeds.ops.order_book import order_book  # noqa: E402
from rxfeeds.venues.kraken.codec import KrakenCodec  # noqa: E402
from rxfeeds.venues.okx.codec import OKXCodec  # noqa: E402

BOOK_TYPES = (BookSnapshot, BookDelta)
Frames = list[tuple[float, bytes]]


def read_frames(path: Path, marker: bytes) -> Frames:
    """Received frames holding ``marker`` of a capture (format: ../shared/captures/README.md)."""
    out: Frames = []
    with path.open("rb") as f:
        for raw in f:
            head, sep, payload = raw.rstrip(b"\r\n").partition(b": ")
            if sep and b" " not in head and marker in payload:
                out.append((float(head), payload))
    return out


def okx_simulated(
    instruments: tuple[str, ...] = ("BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-251226"), steps: int = 300
) -> Frames:
    """Book frames the OKX simulator sends for ``instruments`` over ``steps`` market steps."""
    import websocket

    from rxfeeds.sim.okx import OKXSim

    frames: Frames = []
    with OKXSim(seed=1, tick_interval=None) as sim:
        ws = websocket.create_connection(sim.url, timeout=30)
        ws.send(json.dumps({"op": "subscribe", "args": [{"channel": "books", "instId": i} for i in instruments]}))

        def receive() -> None:
            while len(frames) < sim.call(lambda: sim.connections[0].frames_out):
                frames.append((time.time(), ws.recv().encode()))

        while not sim.connections or sim.call(lambda: sim.connections[0].frames_out) < 2 * len(instruments):
            time.sleep(0.01)
        receive()
        for _ in range(steps):
            sim.step()
            receive()
        ws.close()
    return [f for f in frames if b'"channel":"books"' in f[1] and b'"data"' in f[1]]


def kraken_simulated() -> Frames:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from book import simulator_frames

    return [(i * 0.001, f) for i, f in enumerate(simulator_frames())]


def core(codec_factory: Callable[[], Any], frames: Frames, passes: int, depth: int, check: bool = False) -> float:
    """CPU seconds of ``passes`` passes of codec + order_book; ``check`` asserts every checksum passed."""
    total = 0.0
    for _ in range(passes):
        decode = codec_factory().decode
        seen: dict[str, int] = {"checksum": 0, "books": 0}

        def source(observer: Any, _scheduler: Any = None, decode: Any = decode) -> Any:
            on_next = observer.on_next
            for t, payload in frames:
                for message in decode(payload, t):
                    if type(message) is Data:
                        for ev in message.events:
                            if type(ev) in BOOK_TYPES:
                                on_next(ev)
            observer.on_completed()

        def sink(v: Any, seen: dict[str, int] = seen) -> None:
            if type(v) is IntegrityEvent:
                if v.kind == "checksum":
                    seen["checksum"] += 1
            else:
                seen["books"] += 1

        started = time.process_time()
        rx.create(source).pipe(order_book(depth=depth, integrity=check)).subscribe(sink)
        total += time.process_time() - started
        if check:
            assert seen["checksum"] == 0 and seen["books"] == len(frames), seen
    return total


class _Conn:
    uuid = "offline"

    def __init__(self, feed: Any) -> None:
        self.subscription = feed.subscription

    async def write(self, frame: str) -> None:
        pass


def cryptofeed_okx(frames: Frames, passes: int) -> float:
    from cryptofeed.defines import L2_BOOK
    from cryptofeed.exchanges import OKX
    from cryptofeed.symbols import Symbols

    texts = [(t, p.decode()) for t, p in frames]
    instruments = sorted({json.loads(p)["arg"]["instId"] for _, p in texts})

    async def one_pass() -> float:
        counted = [0]

        async def on_book(_book: Any, _ts: float) -> None:
            counted[0] += 1

        std = {i: i for i in instruments}
        Symbols.set(OKX.id, std, {"instrument_type": {i: "spot" for i in instruments}})
        feed = OKX(symbols=instruments, channels=[L2_BOOK], callbacks={L2_BOOK: on_book}, checksum_validation=True)
        conn = _Conn(feed)
        await feed.subscribe(conn)
        handler = feed.message_handler
        started = time.process_time()
        for t, payload in texts:
            await handler(payload, conn, t)
        elapsed = time.process_time() - started
        assert counted[0] == len(texts), "cryptofeed did not emit a book per frame"
        return elapsed

    return sum(asyncio.run(one_pass()) for _ in range(passes))


def levels_per_frame(codec_factory: Callable[[], Any], frames: Frames) -> float:
    """Book levels a frame carries on average (OKX updates carry tens, Kraken's one or two)."""
    decode = codec_factory().decode
    n = 0
    for t, payload in frames:
        for message in decode(payload, t):
            if type(message) is Data:
                n += sum(len(ev.bids) + len(ev.asks) for ev in message.events if type(ev) in BOOK_TYPES)
    return n / len(frames)


def measure(runs: int, fn: Callable[[], float], frames: int) -> tuple[float, float]:
    rates = sorted(frames / fn() for _ in range(runs))
    return statistics.median(rates), rates[-1]


def fmt(n: float) -> str:
    return f"{n / 1000:.1f}k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", choices=("cryptofeed", "none"), default="none")
    parser.add_argument("--frames", type=int, default=20_000, help="minimum frames per run and venue")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--depth", type=int, default=10, help="order_book(depth=...)")
    args = parser.parse_args()
    if args.against == "cryptofeed":
        try:
            import cryptofeed  # noqa: F401
        except ImportError:
            sys.exit("cryptofeed is not installed: pip install -e '.[bench]' (cryptofeed==2.4.1)")
    folder = Path(os.environ.get("RXFEEDS_CAPTURES", ROOT.parent / "shared" / "captures"))
    okx_path, kraken_path = folder / "okx-v5-public.dev.capture", folder / "kraken-book-1000.dev.capture"
    if okx_path.is_file():
        okx, okx_source = read_frames(okx_path, b'"action"'), okx_path.name
    else:
        print(f"no OKX capture in {folder}: using simulator-made frames", file=sys.stderr)
        okx, okx_source = okx_simulated(), "OKX simulator (BTC-USDT, BTC-USDT-SWAP, BTC-USD-251226)"
    if kraken_path.is_file():
        kraken, kraken_source = read_frames(kraken_path, b""), kraken_path.name
    else:
        print(f"no Kraken capture in {folder}: using simulator-made frames", file=sys.stderr)
        kraken, kraken_source = kraken_simulated(), "Kraken simulator"
    core(OKXCodec, okx, 1, args.depth, check=True)  # every checksum verifies before anything is timed
    gc.collect()
    print(f"# OKX books benchmark: CPU frames/s, {args.runs} runs, median (best); order_book(depth={args.depth})")
    print(f"# python {sys.version.split()[0]}, crc32: {CRC32_IMPLEMENTATION}, load {os.getloadavg()[0]:.2f}")
    print()
    print("| venue | library | capture | frames/run | levels/frame | frames/s | levels/s | vs Kraken (frames/s) |"
          " vs cryptofeed |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    rows: list[tuple[str, str, str, int, float, float]] = []
    per_frame = {"kraken": levels_per_frame(KrakenCodec, kraken), "okx": levels_per_frame(OKXCodec, okx)}
    for name, codec, frames, source in (
        ("kraken", KrakenCodec, kraken, kraken_source),
        ("okx", OKXCodec, okx, okx_source),
    ):
        passes = max(1, -(-args.frames // len(frames)))
        n = passes * len(frames)
        med, best = measure(args.runs, lambda c=codec, f=frames, p=passes: core(c, f, p, args.depth), n)
        rows.append((name, "rxfeeds", source, n, med, best))
    kraken_rate = rows[0][4]
    okx_row = rows[1]
    cf_rate = None
    if args.against == "cryptofeed":
        passes = max(1, -(-args.frames // len(okx)))
        n = passes * len(okx)
        cf_rate, cf_best = measure(args.runs, lambda: cryptofeed_okx(okx, passes), n)
        rows.append(("okx", "cryptofeed 2.4.1", okx_source, n, cf_rate, cf_best))
    for name, lib, source, n, med, best in rows:
        vs_kraken = f"{med / kraken_rate:.2f}x"
        vs_cf = f"{med / cf_rate:.2f}x" if cf_rate and lib == "rxfeeds" and name == "okx" else "-"
        lv = per_frame[name]
        print(
            f"| {name} | {lib} | {source} | {n} | {lv:.1f} | {fmt(med)} ({fmt(best)}) | {fmt(med * lv)} |"
            f" {vs_kraken} | {vs_cf} |"
        )
    if cf_rate:
        ratio = okx_row[4] / cf_rate
        print()
        print(f"OKX rxfeeds / cryptofeed: {ratio:.2f}x (issue 22 target >= 2x: {'yes' if ratio >= 2 else 'NO'})")


if __name__ == "__main__":
    main()
