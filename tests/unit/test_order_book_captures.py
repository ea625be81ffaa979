"""ops.order_book on real recorded traffic, decoded by the real venue codecs.

Truth comes from the venues themselves: Kraken's CRC32 on every update, HitBTC's unsolicited
re-snapshots, Binance's REST snapshots and ``bookTicker`` best bid/ask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson
import pytest
from reactivex import Subject

from rxfeeds.books.book import OrderBook
from rxfeeds.codec import Data
from rxfeeds.events import BookDelta, BookSnapshot, Event, IntegrityEvent
from rxfeeds.ops.order_book import order_book
from rxfeeds.venues.binance_spot.codec import BinanceSpotCodec, decode_depth_snapshot
from rxfeeds.venues.hitbtc.codec import HitBTCCodec
from rxfeeds.venues.kraken.codec import KrakenCodec

pytestmark = pytest.mark.captures

Record = tuple[str, float, str, bytes]  # (kind "recv"|"rest", time, url, payload)


def records(path: Path) -> Iterator[Record]:
    """Received frames and REST replies of a capture file, in file order."""
    with path.open("rb") as f:
        for raw in f:
            line = raw.rstrip(b"\r\n")
            head, sep, payload = line.partition(b": ")
            if not sep:
                continue  # "URL <-> TS" connection line
            parts = head.split(b" ")
            if len(parts) == 1:
                yield ("recv", float(parts[0]), "", payload)
            elif len(parts) == 3 and parts[1] == b"->":
                yield ("rest", float(parts[2]), parts[0].decode(), payload)


def book_events(codec: Any, path: Path) -> list[Event]:
    out: list[Event] = []
    for kind, ts, _, payload in records(path):
        if kind == "recv":
            for message in codec.decode(payload, ts):
                if isinstance(message, Data):
                    out.extend(e for e in message.events if isinstance(e, BookSnapshot | BookDelta))
    return out


class Run:
    def __init__(self, **kw: Any) -> None:
        self.subject: Subject[Any] = Subject()
        self.values: list[Any] = []
        self.latest: dict[str, OrderBook] = {}
        self.error: Exception | None = None
        self.subject.pipe(order_book(integrity=True, **kw)).subscribe(self._on_next, self._on_error)

    def _on_next(self, value: Any) -> None:
        self.values.append(value)
        if isinstance(value, OrderBook):
            self.latest[value.symbol] = value

    def _on_error(self, error: Exception) -> None:
        self.error = error

    def send(self, event: Any) -> list[Any]:
        start = len(self.values)
        self.subject.on_next(event)
        return self.values[start:]

    def kinds(self, kind: str) -> list[IntegrityEvent]:
        return [v for v in self.values if isinstance(v, IntegrityEvent) and v.kind == kind]


# --- Kraken v1: every update's CRC32 ------------------------------------------------------------------


def test_kraken_every_update_checksum_verified(capture_file: Callable[[str], Path]) -> None:
    events = book_events(KrakenCodec(), capture_file("kraken-book-1000.dev.capture"))
    run = Run()
    held: dict[str, tuple[OrderBook, Any]] = {}
    verified = 0
    for ev in events:
        new = run.send(ev)
        if isinstance(ev, BookDelta):
            books = [v for v in new if isinstance(v, OrderBook)]
            assert len(books) == 1 and books[0].synced, ev
            assert ev.checksum is not None and books[0].checksum == ev.checksum
            verified += 1
        elif ev.symbol not in held:
            book = run.latest[ev.symbol]
            held[ev.symbol] = (book, book.levels())
    deltas = sum(isinstance(e, BookDelta) for e in events)
    assert deltas == 2779  # the shared capture's subset (README); protocols.md ran 4,269 on the full file
    assert verified == deltas
    assert run.kinds("checksum") == [] and run.kinds("crossed") == []
    assert len(run.kinds("synced")) == 6 and run.error is None
    # the first book of every pair, held through all later updates, did not change
    for book, levels in held.values():
        assert book.levels() == levels
    assert any(run.latest[s].levels() != levels for s, (_, levels) in held.items())  # they did move on


def test_kraken_depth_limited_books_are_the_full_books_best_levels(capture_file: Callable[[str], Path]) -> None:
    # a view depth publishes a cached copy of the best levels only (reused while changes stay
    # deeper): on real 1,000-level traffic every such book equals the full book's best 10, and
    # every one held keeps its content after all later updates
    events = book_events(KrakenCodec(), capture_file("kraken-book-1000.dev.capture"))
    full, top = Run(), Run(depth=10)
    held: list[tuple[OrderBook, Any]] = []
    reused = 0
    for ev in events:
        wide = [v for v in full.send(ev) if isinstance(v, OrderBook)]
        narrow = [v for v in top.send(ev) if isinstance(v, OrderBook)]
        assert len(wide) == len(narrow) == 1, ev
        bids, asks = wide[0].levels()
        assert narrow[0].levels() == (bids[:10], asks[:10]) and narrow[0].checksum == wide[0].checksum
        if held and narrow[0].levels()[0] is held[-1][0].levels()[0]:
            reused += 1  # an update deeper than the best 10 bids: the published bids were reused
        held.append((narrow[0], narrow[0].levels()))
    assert all(book.levels() == levels for book, levels in held)
    assert reused > 100 and top.kinds("checksum") == [] and full.kinds("checksum") == []


def test_kraken_corrupted_checksum_is_caught_and_other_pairs_flow(capture_file: Callable[[str], Path]) -> None:
    events = book_events(KrakenCodec(), capture_file("kraken-book-1000.dev.capture"))
    index = next(i for i, e in enumerate(events) if isinstance(e, BookDelta) and e.symbol == "ETH/CHF")
    bad = events[index]
    assert isinstance(bad, BookDelta) and bad.checksum is not None
    events[index] = BookDelta(
        bad.venue, bad.symbol, bad.time, bad.recv_time, bids=bad.bids, asks=bad.asks, checksum=bad.checksum ^ 1
    )
    run = Run()
    for ev in events:
        run.send(ev)
    failures = run.kinds("checksum")
    assert [f.symbol for f in failures] == ["ETH/CHF"]
    assert run.latest["ETH/CHF"].synced is False
    others = [v for v in run.values if isinstance(v, OrderBook) and v.symbol != "ETH/CHF" and v.time > bad.time]
    assert others and all(b.synced for b in others)


# --- HitBTC v2: contiguous sequences, re-snapshots equal the book ---------------------------------------


def as_dicts(levels_bids: Any, levels_asks: Any) -> tuple[dict[float, float], dict[float, float]]:
    return ({lv[0]: lv[1] for lv in levels_bids}, {lv[0]: lv[1] for lv in levels_asks})


def test_hitbtc_contiguous_and_resnapshots_equal_the_book(capture_file: Callable[[str], Path]) -> None:
    events = book_events(HitBTCCodec(), capture_file("hitbtc-v2-public.dev.capture"))
    run = Run()
    seen: set[str] = set()
    resnapshots = updates = 0
    for ev in events:
        if isinstance(ev, BookSnapshot) and ev.symbol in seen:
            book = run.latest[ev.symbol]
            assert book.synced and book.sequence == ev.sequence
            assert book.copy() == as_dicts(ev.bids, ev.asks)  # the venue's own image of the book
            resnapshots += 1
        new = run.send(ev)
        if isinstance(ev, BookDelta):
            books = [v for v in new if isinstance(v, OrderBook)]
            assert len(books) == 1 and books[0].synced and books[0].sequence == ev.sequence
            updates += 1
        seen.add(ev.symbol)
    assert resnapshots == 6 and len(seen) == 6
    assert updates == 239
    assert run.kinds("gap") == [] and run.kinds("crossed") == [] and run.error is None


# --- Binance spot: REST snapshot bridging, contiguous diffs, bookTicker agreement ---------------------


def test_binance_spot_bridges_rest_snapshots_and_matches_book_ticker(capture_file: Callable[[str], Path]) -> None:
    stream = list(records(capture_file("binance-spot-depth.dev.capture")))
    rest = list(records(capture_file("binance-spot-depth-snapshots.dev.capture")))
    timeline = sorted([r for r in stream if r[0] == "recv"] + [r for r in rest if r[0] == "rest"], key=lambda r: r[1])
    codec = BinanceSpotCodec()
    run = Run()
    by_sequence: dict[tuple[str, int], OrderBook] = {}
    tickers: list[tuple[str, int, float, float, float, float]] = []
    snapshot_ids: dict[str, int] = {}
    deltas: dict[str, list[BookDelta]] = {}
    for kind, ts, url, payload in timeline:
        if kind == "rest":
            symbol = parse_qs(urlparse(url).query)["symbol"][0]
            snapshot = decode_depth_snapshot(payload, symbol, ts)
            assert snapshot.sequence is not None
            snapshot_ids[snapshot.symbol] = snapshot.sequence
            run.send(snapshot)
            continue
        raw = orjson.loads(payload)["data"]
        if "bookTicker" in orjson.loads(payload)["stream"]:
            tickers.append((raw["s"], raw["u"], float(raw["b"]), float(raw["B"]), float(raw["a"]), float(raw["A"])))
        for message in codec.decode(payload, ts):
            if not isinstance(message, Data):
                continue
            for ev in message.events:
                if isinstance(ev, BookDelta):
                    deltas.setdefault(ev.symbol, []).append(ev)
                    for value in run.send(ev):
                        if isinstance(value, OrderBook) and value.sequence is not None:
                            by_sequence[(value.symbol, value.sequence)] = value
    assert set(snapshot_ids) == {"NKNUSDT", "BLZETH"}
    assert run.kinds("gap") == [] and run.kinds("crossed") == [] and run.error is None
    assert sorted(e.symbol for e in run.kinds("synced")) == ["BLZETH", "NKNUSDT"]
    for symbol, last_update_id in snapshot_ids.items():
        after = [d for d in deltas[symbol] if d.sequence is not None and d.sequence > last_update_id]
        first = after[0]
        assert first.first_sequence is not None and first.first_sequence <= last_update_id + 1
        # contiguous after the bridge, and the book followed every one of them
        for prev, nxt in pairwise(after):
            assert nxt.first_sequence == (prev.sequence or 0) + 1
        book = run.latest[symbol]
        assert book.synced and book.sequence == after[-1].sequence
    checked = 0
    for symbol, update_id, bid, bid_size, ask, ask_size in tickers:
        at = by_sequence.get((symbol, update_id))
        if at is None:
            continue
        assert at.best_bid == (bid, bid_size) and at.best_ask == (ask, ask_size)
        checked += 1
    assert checked == 20  # every bookTicker whose update id ends a diff in this capture
