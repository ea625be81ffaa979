"""Order books per venue against a peer library, on the same recorded frames, in the same run.

For every book-capable venue with a capture (Kraken v1 book-1000 with checksums, Binance spot
depth diffs + REST snapshots, HitBTC v2 book frames, OKX v5 ``books`` with checksums) the book
frames (what a book subscription receives: all of Kraken's, Binance's ``@depth`` stream frames
plus the recorded REST snapshots, HitBTC's ``snapshotOrderbook``/``updateOrderbook``, OKX's
``books`` snapshot/update frames) are replayed through

* ``rxfeeds core``: the venue codec + ``ops.order_book(depth=--depth)`` in one Observable chain
  (only book events reach the operator, as the client's routing gives them); every Kraken
  checksum verified;
* ``cryptofeed`` (with ``--against cryptofeed``; install the ``bench`` extra): the venue feed's own
  ``message_handler(msg, conn, timestamp)`` coroutine called frame by frame inside one event loop,
  the way cryptofeed's playback tests drive a feed offline, Kraken and OKX with
  ``checksum_validation=True``.

Each figure is CPU frames per second over at least ``--frames`` frames (the capture repeated,
a fresh pipeline per pass so sequences restart cleanly); ``--runs`` runs (default 7), the median
is reported (the best beside it).  Kraken also gets the user-facing paths on the same capture:
``rxfeeds.replay(...).run()`` and the CLI's ``replay --book`` summary path (in process, and the
whole ``python -m rxfeeds replay FILE --book --json`` process on a capture repeated to
``--frames``), each as a fraction of the core figure (target: within 15%), timed in rounds
with the core path so that a slow spell of a shared machine weighs on both alike.  For the
same reason the rxfeeds and cryptofeed runs alternate.

Also reported: snapshot load time of a 1,000-level snapshot (Kraken websocket snapshot and
Binance REST snapshot, decode + first book) and memory per 1,000-level book (tracemalloc),
against cryptofeed's when it runs.

How cryptofeed is driven offline (public API only, no private modules): its symbol table is
filled with ``cryptofeed.symbols.Symbols.set`` (the cache its ``symbol_mapping`` reads first, so
no HTTP request is made), feeds are built with ``symbols``/``channels``/``callbacks``, the
Binance REST snapshot is answered by replacing the feed's ``http_conn`` attribute with an object
whose ``read(url)`` returns the recorded body for that symbol (the latest one recorded before the
current frame), and ``conn`` is a stand-in object (the book handlers do not use it).

Run from the project root::

    pip install -e '.[bench]'
    python benchmarks/books.py --against cryptofeed

Without ``../shared/captures`` (``RXFEEDS_CAPTURES`` overrides) it says so and records captures
from the project's simulators instead.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import reactivex as rx  # noqa: E402

import rxfeeds  # noqa: E402
from rxfeeds.capture.records import merge_timed  # noqa: E402
from rxfeeds.cli.replay import replay_summary  # noqa: E402
from rxfeeds.codec import Data  # noqa: E402
from rxfeeds.events import BookDelta, BookSnapshot  # noqa: E402
from rxfeeds.ops.order_book import order_book  # noqa: E402
from rxfeeds.venues.binance_spot.codec import BinanceSpotCodec, decode_depth_snapshot  # noqa: E402
from rxfeeds.venues.hitbtc.codec import HitBTCCodec  # noqa: E402
from rxfeeds.venues.kraken.codec import KrakenCodec  # noqa: E402
from rxfeeds.venues.okx.codec import OKXCodec  # noqa: E402

BOOK_TYPES = (BookSnapshot, BookDelta)

# (kind, time, url, payload): kind "in" a received frame, "rest" a recorded REST reply
Record = tuple[str, float, str, bytes]


@dataclass
class Venue:
    name: str
    venue: str  # rxfeeds venue name
    files: tuple[str, ...]
    codec: Callable[[], Any]
    target: float
    min_fps: int = 0
    marker: bytes = b""  # only received frames holding it are the venue's book frames
    records: list[Record] = field(default_factory=list)
    source: str = ""
    paths: list[Path] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return sum(1 for r in self.records if r[0] == "in")


VENUES = (
    Venue("kraken", "kraken", ("kraken-book-1000.dev.capture",), KrakenCodec, 3.0, 150_000),
    Venue(
        "binance",
        "binance",
        ("binance-spot-depth.dev.capture", "binance-spot-depth-snapshots.dev.capture"),
        BinanceSpotCodec,
        2.0,
        marker=b"@depth",
    ),
    Venue("hitbtc", "hitbtc", ("hitbtc-v2-public.dev.capture",), HitBTCCodec, 2.0, marker=b"Orderbook"),
    Venue("okx", "okx", ("okx-v5-public.dev.capture",), OKXCodec, 2.0, marker=b'"channel":"books"'),
)


# ---------------------------------------------------------------------------------------- captures


def read_records(path: Path) -> Iterator[Record]:
    """Received frames and REST replies of a capture file (format: ../shared/captures/README.md)."""
    with path.open("rb") as f:
        for raw in f:
            head, sep, payload = raw.rstrip(b"\r\n").partition(b": ")
            if not sep:
                continue
            parts = head.split(b" ")
            if len(parts) == 1:
                yield ("in", float(parts[0]), "", payload)
            elif len(parts) == 3 and parts[1] == b"->":
                yield ("rest", float(parts[2]), parts[0].decode(), payload)


def load(venue: Venue, folder: Path) -> None:
    paths = [folder / f for f in venue.files]
    if not all(p.is_file() for p in paths):
        raise FileNotFoundError(paths[0])
    venue.paths = paths
    records = [r for p in paths for r in read_records(p) if r[0] == "rest" or venue.marker in r[3]]
    venue.records = sorted(records, key=lambda r: r[1])
    venue.source = ", ".join(venue.files)


def simulate(venue: Venue, folder: Path) -> bool:
    """Record a capture of ``venue`` from the project's simulator instead of the shared one.

    Kraken: book depth 1000, checksummed (benchmarks/book.py's recorder); HitBTC v2: the
    orderbook notifications of two symbols (re-snapshots included); Binance spot: ``@depth@100ms``
    diffs of two symbols plus a REST depth snapshot per symbol fetched after the first diff.
    """
    path = folder / f"{venue.name}-sim.capture"
    if venue.name == "kraken":
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from book import simulator_frames

        lines = [f"{i * 0.001:.3f}: ".encode() + frame for i, frame in enumerate(simulator_frames())]
    elif venue.name == "hitbtc":
        lines = _hitbtc_sim_lines()
    elif venue.name == "binance":
        lines = _binance_sim_lines()
    elif venue.name == "okx":
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from okx import okx_simulated

        lines = [f"{t:.6f}: ".encode() + frame for t, frame in okx_simulated()]
    else:
        return False
    with path.open("wb") as f:
        f.write(b"ws://127.0.0.1/ <-> 0.0\n")
        for line in lines:
            f.write(line + b"\n")
    venue.paths = [path]
    venue.records = sorted(
        (r for r in read_records(path) if r[0] == "rest" or venue.marker in r[3]), key=lambda r: r[1]
    )
    venue.source = f"{venue.name} simulator ({venue.frames} frames, seed 1)"
    return True


SIM_FRAMES = 3_000


def _hitbtc_sim_lines() -> list[bytes]:
    import websocket

    from rxfeeds.sim.hitbtc import HitBTCSim

    lines: list[bytes] = []
    with HitBTCSim(seed=1, symbols=["ETHBTC", "LTCBTC"], tick_interval=0.002, resnapshot_after=0.5) as sim:
        ws = websocket.create_connection(sim.public_url, timeout=10)
        try:
            for i, symbol in enumerate(("ETHBTC", "LTCBTC"), 1):
                ws.send(f'{{"method":"subscribeOrderbook","params":{{"symbol":"{symbol}"}},"id":{i}}}')
            deadline = time.monotonic() + 120
            while len(lines) < SIM_FRAMES and time.monotonic() < deadline:
                frame = ws.recv()
                data = frame.encode() if isinstance(frame, str) else frame
                if b"Orderbook" in data:
                    lines.append(f"{len(lines) * 0.001:.3f}: ".encode() + data)
        finally:
            ws.close()
    return lines


def _binance_sim_lines() -> list[bytes]:
    import urllib.request

    import websocket

    from rxfeeds.sim.binance_spot import BinanceSpotSim

    symbols = ("btcusdt", "ethusdt")
    lines: list[bytes] = []
    with BinanceSpotSim(seed=1, symbols=list(symbols), tick_interval=0.002, max_messages_per_second=None) as sim:
        ws = websocket.create_connection(sim.url, timeout=10)
        try:
            streams = [f"{s}@depth@100ms" for s in symbols]
            ws.send(f'{{"method":"SUBSCRIBE","params":{list(streams)!r},"id":1}}'.replace("'", '"'))
            fetched: set[str] = set()
            deadline = time.monotonic() + 120
            while len(lines) < SIM_FRAMES and time.monotonic() < deadline:
                frame = ws.recv()
                data = frame.encode() if isinstance(frame, str) else frame
                if b"@depth" not in data:
                    continue
                t = len(lines) * 0.001
                lines.append(f"{t:.3f}: ".encode() + data)
                for symbol in symbols:
                    if symbol not in fetched and f'"{symbol}@depth'.encode() in data:
                        fetched.add(symbol)
                        url = f"{sim.http_url}/api/v3/depth?symbol={symbol.upper()}&limit=1000"
                        body = urllib.request.urlopen(url, timeout=10).read()
                        lines.append(f"{url} -> {t + 0.0005:.4f}: ".encode() + body)
        finally:
            ws.close()
    return lines


# ---------------------------------------------------------------------------------------- rxfeeds


def rest_symbol(url: str) -> str:
    return parse_qs(urlparse(url).query)["symbol"][0]


def rxfeeds_core(venue: Venue, passes: int, depth: int | None) -> float:
    """Seconds for ``passes`` passes of codec + order_book (fresh pipeline per pass)."""
    records = venue.records
    books = [0]

    def sink(_: Any) -> None:
        books[0] += 1

    total = 0.0
    for _ in range(passes):
        codec = venue.codec()
        decode = codec.decode

        def source(observer: Any, _scheduler: Any = None, decode: Any = decode) -> Any:
            on_next = observer.on_next
            for kind, t, url, payload in records:
                if kind == "in":
                    for message in decode(payload, t):
                        if type(message) is Data:
                            for ev in message.events:
                                if type(ev) in BOOK_TYPES:
                                    on_next(ev)
                else:
                    on_next(decode_depth_snapshot(payload, rest_symbol(url), t))
            observer.on_completed()

        started = time.process_time()
        rx.create(source).pipe(order_book(depth=depth)).subscribe(sink)
        total += time.process_time() - started
    return total


def book_symbols(venue: Venue) -> list[str]:
    codec = venue.codec()
    seen: dict[str, None] = {}
    for kind, t, _, payload in venue.records:
        if kind == "in":
            for m in codec.decode(payload, t):
                if type(m) is Data:
                    for ev in m.events:
                        if type(ev) in BOOK_TYPES:
                            seen[ev.symbol] = None
    return list(seen)


def rxfeeds_session(venue: Venue, passes: int, depth: int | None, symbols: list[str], run_only: bool) -> float:
    """``rxfeeds.replay(files).book(...).pipe(order_book()) ; run()``: seconds over ``passes``.

    ``run_only``: only ``run()`` is timed (the capture was read when the session was made).
    """
    total = 0.0
    count = [0]

    def sink(_: Any) -> None:
        count[0] += 1

    for _ in range(passes):
        started = time.process_time()
        session = rxfeeds.replay(venue.paths, venue=venue.venue)
        session.book(symbols, depth=1000).pipe(order_book(depth=depth)).subscribe(sink)  # Kraken
        if run_only:
            started = time.process_time()
        session.run()
        total += time.process_time() - started
    return total


def capture_reading(venue: Venue, passes: int) -> float:
    """Seconds to read and merge the capture files (what the replay paths do before decoding)."""
    started = time.process_time()
    for _ in range(passes):
        list(merge_timed([str(p) for p in venue.paths]))
    return time.process_time() - started


def rxfeeds_cli_summary(venue: Venue, passes: int, depth: int | None) -> float:
    total = 0.0
    for _ in range(passes):
        started = time.process_time()
        summary = replay_summary([str(p) for p in venue.paths], venue.venue, book=True, depth=depth)
        total += time.process_time() - started
        assert summary["checksum_failed"] == 0, summary
    return total


def repeated_capture(venue: Venue, passes: int, folder: Path) -> Path:
    """The capture file repeated ``passes`` times, later passes shifted in time after the first."""
    text = venue.paths[0].read_bytes().splitlines()
    times = [r[1] for r in read_records(venue.paths[0])]
    span = (max(times) - min(times)) + 1.0
    out = folder / f"{venue.name}-x{passes}.capture"
    with out.open("wb") as f:
        for n in range(passes):
            shift = n * span
            for line in text:
                f.write(shift_line(line, shift) + b"\n")
    return out


def shift_line(line: bytes, shift: float) -> bytes:
    head, sep, payload = line.partition(b": ")
    parts = (head if sep else line).split(b" ")
    parts[-1] = repr(float(parts[-1]) + shift).encode()
    return b" ".join(parts) + (sep + payload if sep else b"")


def rxfeeds_cli_process(path: Path, venue: str) -> float:
    """CPU seconds of a whole ``python -m rxfeeds replay FILE --book --json`` process."""
    before = os.times()
    subprocess.run(
        [sys.executable, "-m", "rxfeeds", "replay", str(path), "--venue", venue, "--book", "--json"],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


# ---------------------------------------------------------------------------------------- cryptofeed


class _Conn:
    """Stands in for cryptofeed's websocket connection: ``subscribe`` writes to it (dropped)."""

    uuid = "offline"

    def __init__(self, feed: Any) -> None:
        self.subscription = feed.subscription
        self.sent: list[str] = []

    async def write(self, frame: str) -> None:
        self.sent.append(frame)


class _RecordedHTTP:
    """Answers a feed's ``http_conn.read(url)`` with the latest REST body recorded for the symbol.

    A request made before the first recorded reply gets that first reply (the one the venue sent).
    """

    def __init__(self, venue: Venue | None = None) -> None:
        self.latest: dict[str, bytes] = {}
        for kind, _, url, payload in venue.records if venue else ():
            if kind == "rest":
                self.latest.setdefault(rest_symbol(url).upper(), payload)

    async def read(self, url: str, *args: Any, **kwargs: Any) -> str:
        return self.latest[rest_symbol(url).upper()].decode()

    async def close(self) -> None:
        return None


def cryptofeed_feed(venue: Venue, symbols: list[str]) -> tuple[Any, list[int]]:
    from cryptofeed.defines import L2_BOOK
    from cryptofeed.exchanges import OKX, Binance, HitBTC, Kraken
    from cryptofeed.symbols import Symbols

    counted = [0]

    async def on_book(_book: Any, _ts: float) -> None:
        counted[0] += 1

    if venue.name == "kraken":
        cls, std = Kraken, {s.replace("/", "-"): s for s in symbols}
        options: dict[str, Any] = {"checksum_validation": True, "max_depth": 1000}
    elif venue.name == "binance":
        cls, std = Binance, {s: s for s in symbols}
        options = {}
    elif venue.name == "okx":
        cls, std = OKX, {s: s for s in symbols}
        options = {"checksum_validation": True}
    else:
        cls, std = HitBTC, {s: s for s in symbols}
        options = {}
    Symbols.set(cls.id, std, {"instrument_type": {s: "spot" for s in std}})
    feed = cls(symbols=list(std), channels=[L2_BOOK], callbacks={L2_BOOK: on_book}, **options)
    return feed, counted


def cryptofeed_run(venue: Venue, passes: int, symbols: list[str]) -> float:
    async def one_pass() -> float:
        feed, counted = cryptofeed_feed(venue, symbols)
        http = _RecordedHTTP(venue)
        feed.http_conn = http
        conn = _Conn(feed)
        await feed.subscribe(conn)  # what a live connection does first; resets the feed's book state
        handler = feed.message_handler
        records = [(kind, t, url, payload.decode()) for kind, t, url, payload in venue.records]
        started = time.process_time()
        for kind, t, url, payload in records:
            if kind == "in":
                await handler(payload, conn, t)
            else:
                http.latest[rest_symbol(url).upper()] = payload.encode()
        elapsed = time.process_time() - started
        assert counted[0] > 0, "cryptofeed emitted no book"
        return elapsed

    return sum(asyncio.run(one_pass()) for _ in range(passes))


# ---------------------------------------------------------------------------------------- snapshot / memory


def kraken_snapshot_frame(venue: Venue) -> tuple[bytes, float]:
    """The largest snapshot frame (1,000 levels in the shared capture)."""
    snapshots = [(len(p), p, t) for kind, t, _, p in venue.records if kind == "in" and b'"as"' in p]
    if not snapshots:
        raise LookupError("no Kraken book snapshot in the capture")
    _, payload, t = max(snapshots)
    return payload, t


def binance_rest_body(venue: Venue) -> tuple[str, bytes, float]:
    best = max((r for r in venue.records if r[0] == "rest"), key=lambda r: len(r[3]))
    return rest_symbol(best[2]), best[3], best[1]


def time_best(fn: Callable[[], Any], n: int = 50) -> float:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return statistics.median(out)


def rxfeeds_snapshot_load(kind: str, venue: Venue) -> Callable[[], Any]:
    if kind == "kraken":
        frame, t = kraken_snapshot_frame(venue)

        def run() -> Any:
            codec = KrakenCodec()
            books: list[Any] = []
            events = [ev for m in codec.decode(frame, t) if type(m) is Data for ev in m.events]
            rx.from_iterable(events).pipe(order_book()).subscribe(books.append)
            return books[-1]

        return run
    symbol, body, t = binance_rest_body(venue)

    def run_rest() -> Any:
        books: list[Any] = []
        rx.of(decode_depth_snapshot(body, symbol, t)).pipe(order_book()).subscribe(books.append)
        return books[-1]

    return run_rest


async def _subscribe_then(feed: Any, frame: str, t: float) -> None:
    conn = _Conn(feed)
    await feed.subscribe(conn)
    await feed.message_handler(frame, conn, t)


def cryptofeed_snapshot_load(kind: str, venue: Venue, symbols: list[str]) -> Callable[[], Any]:
    if kind == "kraken":
        frame, t = kraken_snapshot_frame(venue)
        text = frame.decode()

        def run() -> Any:
            feed, _ = cryptofeed_feed(venue, symbols)
            asyncio.run(_subscribe_then(feed, text, t))
            return feed

        return run
    symbol, body, t = binance_rest_body(venue)
    first_diff = next(
        r[3].decode() for r in venue.records if r[0] == "in" and f'"{symbol.lower()}@depth'.encode() in r[3]
    )

    def run_rest() -> Any:
        feed, _ = cryptofeed_feed(venue, symbols)
        http = _RecordedHTTP()
        http.latest[symbol] = body
        feed.http_conn = http
        asyncio.run(_subscribe_then(feed, first_diff, t))  # the first diff fetches the snapshot
        return feed

    return run_rest


def memory(build: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del kept
    return used


# ---------------------------------------------------------------------------------------- breakdown


def breakdown(venue: Venue, runs: int, depth: int | None) -> str:
    """Where one pass over the capture spends its time (ms, medians of ``runs``).

    Snapshot frames (and REST snapshots) and update frames apart: JSON parsing alone (orjson),
    the codec's decode (orjson included), and ``SymbolBook`` applying the events (the book state
    machine without the Observable chain).  The core figure minus these sums is the Observable
    plumbing, the operator and the events' routing.  The core and orjson columns are process
    time; the per-call decode and book columns use ``perf_counter`` (cheaper to read than the
    process clock, but wall time: run on a quiet machine).
    """
    import orjson

    from rxfeeds.books.sync import SymbolBook

    clock = time.perf_counter

    def decoded(kind: str, t: float, url: str, payload: bytes, codec: Any) -> list[Any]:
        if kind != "in":
            return [decode_depth_snapshot(payload, rest_symbol(url), t)]
        return [ev for m in codec.decode(payload, t) if type(m) is Data for ev in m.events if type(ev) in BOOK_TYPES]

    codec = venue.codec()
    groups: dict[bool, list[Record]] = {True: [], False: []}  # is a snapshot
    events: list[Any] = []
    for record in venue.records:
        out = decoded(*record, codec)
        groups[any(type(e) is BookSnapshot for e in out)].append(record)
        events.extend(out)

    def timed(fn: Callable[[], None]) -> float:
        samples = []
        for _ in range(runs):
            started = time.process_time()
            fn()
            samples.append(time.process_time() - started)
        return statistics.median(samples) * 1e3

    def parse(records: list[Record]) -> Callable[[], None]:
        def run() -> None:
            for r in records:
                orjson.loads(r[3])

        return run

    snapshot_ids = {id(r) for r in groups[True]}
    is_snapshot = [id(r) in snapshot_ids for r in venue.records]

    def decode_group(snapshots: bool) -> float:
        # a fresh codec decoding every frame, timing only one group (the codec keeps state)
        total = []
        for _ in range(runs):
            codec = venue.codec()
            spent = 0.0
            for record, snapshot in zip(venue.records, is_snapshot, strict=True):
                started = clock()
                decoded(*record, codec)
                elapsed = clock() - started
                if snapshot == snapshots:
                    spent += elapsed
            total.append(spent)
        return statistics.median(total) * 1e3

    def books(snapshots: bool) -> float:
        total = []
        for _ in range(runs):
            kept: dict[str, SymbolBook] = {}
            spent = 0.0
            for ev in events:
                sb = kept.get(ev.symbol)
                if sb is None:
                    sb = kept[ev.symbol] = SymbolBook(ev.venue, ev.symbol, depth)
                snapshot = type(ev) is BookSnapshot
                started = clock()
                sb.on_snapshot(ev) if snapshot else sb.on_delta(ev)
                elapsed = clock() - started
                if snapshot == snapshots:
                    spent += elapsed
                sb.notes.clear()
            total.append(spent)
        return statistics.median(total) * 1e3

    core = statistics.median(rxfeeds_core(venue, 3, depth) / 3 for _ in range(runs)) * 1e3
    n_snap, n_upd = len(groups[True]), len(groups[False])
    return (
        f"| {venue.name} | {core:.2f} | {n_snap} | {timed(parse(groups[True])):.2f} | {decode_group(True):.2f} |"
        f" {books(True):.2f} | {n_upd} | {timed(parse(groups[False])):.2f} | {decode_group(False):.2f} |"
        f" {books(False):.2f} |"
    )


# ---------------------------------------------------------------------------------------- main


def fmt(n: float) -> str:
    return f"{n / 1000:.1f}k"


def measure(runs: int, fn: Callable[[], float], frames: int) -> tuple[float, float]:
    rates = sorted(frames / fn() for _ in range(runs))
    return statistics.median(rates), rates[-1]


def measure_pair(
    runs: int, ours: Callable[[], float], peer: Callable[[], float], frames: int
) -> tuple[tuple[float, float], tuple[float, float], float]:
    """Both sides' (median, best) frames/s, runs interleaved (ours, peer, ours, ...), and the
    median of the per-pair ratios: a slow spell of a shared machine hits both sides alike."""
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(runs):
        mine.append(frames / ours())
        theirs.append(frames / peer())
    pairs = sorted(a / b for a, b in zip(mine, theirs, strict=True))
    mine.sort()
    theirs.sort()
    return (statistics.median(mine), mine[-1]), (statistics.median(theirs), theirs[-1]), statistics.median(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", choices=("cryptofeed", "none"), default="none")
    parser.add_argument("--frames", type=int, default=50_000, help="minimum frames per run and venue")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--depth", type=int, default=10, help="order_book(depth=...) of rxfeeds")
    parser.add_argument("--venues", default="kraken,binance,hitbtc,okx")
    parser.add_argument("--no-cli-process", action="store_true", help="skip the whole-process CLI figure")
    parser.add_argument(
        "--breakdown", action="store_true", help="only print where one pass spends its time, per venue (ms)"
    )
    args = parser.parse_args()
    peer = args.against == "cryptofeed"
    if peer:
        try:
            import cryptofeed  # noqa: F401
        except ImportError:
            sys.exit("cryptofeed is not installed: pip install -e '.[bench]' (cryptofeed==2.4.1)")

    folder = Path(os.environ.get("RXFEEDS_CAPTURES", ROOT.parent / "shared" / "captures"))
    tmp = Path(tempfile.mkdtemp(prefix="rxfeeds-books-"))
    wanted = args.venues.split(",")
    venues = [v for v in VENUES if v.name in wanted]
    for v in list(venues):
        try:
            load(v, folder)
        except FileNotFoundError:
            print(f"capture not found in {folder} for {v.name}: using simulator-made frames", file=sys.stderr)
            if not simulate(v, tmp):
                print(f"  no simulator recorder for {v.name}: skipped", file=sys.stderr)
                venues.remove(v)
            elif not v.frames:
                print(f"  the {v.name} simulator sent no book frame: skipped", file=sys.stderr)
                venues.remove(v)
    gc.collect()
    if args.breakdown:
        print(f"# one pass per venue, ms, medians of {args.runs}; order_book(depth={args.depth})")
        print("# core and orjson: process time; decode and book: perf_counter per call (wall time, about")
        print("# 0.1 us per frame of timer overhead included): run on a quiet machine")
        print()
        print("| venue | core pass | snapshots | orjson | decode | book | updates | orjson | decode | book |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for v in venues:
            print(breakdown(v, args.runs, args.depth))
        return
    print(f"# books benchmark: CPU frames/s, {args.runs} runs, median (best); order_book(depth={args.depth})")
    print("# rxfeeds and cryptofeed runs alternate; ratio = median over median (median of the per-pair ratios)")
    print(f"# python {sys.version.split()[0]}, load {os.getloadavg()[0]:.2f}")
    print()
    print("| venue | capture | frames/run | rxfeeds | cryptofeed | ratio | target | ok |")
    print("|---|---|---|---|---|---|---|---|")
    replay_rows: list[str] = []
    extra_rows: list[str] = []
    for v in venues:
        passes = max(1, -(-args.frames // v.frames))
        n = passes * v.frames
        symbols = book_symbols(v)
        if peer:
            (rx_med, rx_best), (cf_med, cf_best), paired = measure_pair(
                args.runs,
                lambda v=v, p=passes: rxfeeds_core(v, p, args.depth),
                lambda v=v, p=passes, s=symbols: cryptofeed_run(v, p, s),
                n,
            )
            ratio = rx_med / cf_med
            ok = ratio >= v.target and rx_med >= v.min_fps
            cf = f"{fmt(cf_med)} ({fmt(cf_best)})"
            r = f"{ratio:.2f}x ({paired:.2f}x)"
        else:
            rx_med, rx_best = measure(args.runs, lambda v=v, p=passes: rxfeeds_core(v, p, args.depth), n)
            cf, r, ok = "-", "-", rx_med >= v.min_fps
        target = f">= {v.target:g}x" + (f", >= {fmt(v.min_fps)}/s" if v.min_fps else "")
        print(
            f"| {v.name} | {v.source} | {n} | {fmt(rx_med)} ({fmt(rx_best)}) | {cf} | {r} | {target} |"
            f" {'yes' if ok else 'NO'} |"
        )
        if v.name == "kraken":
            # each round times the core and every replay path back to back, so a slow spell of
            # a shared machine weighs on all of them alike; "of core" is the median of the
            # per-round ratios
            rounds: list[tuple[float, float, float, float, float]] = []
            for _ in range(args.runs):
                core = rxfeeds_core(v, passes, args.depth)
                with_reading = rxfeeds_session(v, passes, args.depth, symbols, False)
                run_alone = rxfeeds_session(v, passes, args.depth, symbols, True)
                summary = rxfeeds_cli_summary(v, passes, args.depth)
                reading = capture_reading(v, passes)
                rounds.append((core, with_reading, run_alone, summary, summary - reading))
            reading_med = statistics.median(capture_reading(v, passes) for _ in range(3))
            core_med = statistics.median(r[0] for r in rounds)
            replay_rows.append(
                f"| {v.name} | core decode + order_book (frames in memory), timed in the same rounds |"
                f" {fmt(n / core_med)} | 1.00 | |"
            )
            replay_rows.append(f"| {v.name} | reading the capture file alone | {fmt(n / reading_med)} | | |")
            for i, label in (
                (1, "`rxfeeds.replay(...)` + `run()`, capture reading included"),
                (2, "`rxfeeds.replay(...).run()`, the run alone"),
                (3, "`replay --book` summary (in process), capture reading included"),
                (4, "`replay --book` summary (in process), less the capture reading"),
            ):
                value = n / statistics.median(r[i] for r in rounds)
                of_core = statistics.median(r[0] / r[i] for r in rounds)
                ok = of_core >= 0.85
                replay_rows.append(f"| {v.name} | {label} | {fmt(value)} | {of_core:.2f} | {'yes' if ok else 'NO'} |")
            if not args.no_cli_process:
                big = repeated_capture(v, passes, tmp)
                rates = sorted(n / rxfeeds_cli_process(big, v.venue) for _ in range(min(args.runs, 3)))
                value = statistics.median(rates)
                replay_rows.append(
                    f"| {v.name} | `python -m rxfeeds replay FILE --book --json` (whole process, {n} frames) |"
                    f" {fmt(value)} | {value / (n / core_med):.2f} | (startup included) |"
                )
        if v.name in ("kraken", "binance"):
            kind = "kraken" if v.name == "kraken" else "binance"
            what = "Kraken websocket snapshot" if kind == "kraken" else "Binance REST snapshot"
            load_rx = rxfeeds_snapshot_load(kind, v)
            rx_ms = time_best(load_rx) * 1e3
            rx_mem = memory(load_rx)
            if peer:
                load_cf = cryptofeed_snapshot_load(kind, v, symbols)
                cf_ms = time_best(load_cf) * 1e3
                cf_mem = memory(load_cf)
                extra_rows.append(
                    f"| {what} | {rx_ms:.2f} ms | {cf_ms:.2f} ms | {rx_mem / 1024:.0f} KB | {cf_mem / 1024:.0f} KB |"
                )
            else:
                extra_rows.append(f"| {what} | {rx_ms:.2f} ms | - | {rx_mem / 1024:.0f} KB | - |")
    if replay_rows:
        print()
        print("| venue | path | frames/s (median) | of core (median per round) | within 15% |")
        print("|---|---|---|---|---|")
        print("\n".join(replay_rows))
    if extra_rows:
        print()
        print("| 1,000-level snapshot | rxfeeds load | cryptofeed load | rxfeeds memory | cryptofeed memory |")
        print("|---|---|---|---|---|")
        print("\n".join(extra_rows))
        print("(memory: the whole book object kept after loading, feed/decoder state included, tracemalloc)")


if __name__ == "__main__":
    main()
