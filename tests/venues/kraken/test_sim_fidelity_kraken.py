"""Kraken v1/v2 simulators: message *shapes* like the real venue (issue 21, items 4, 6, 7).

The real book capture (``kraken-book-1000.dev.capture``) is the reference: almost every update
carries one side and one level, two-part frames are rare, snapshots carry no ``c``, and a
heartbeat arrives about once a second even on a busy connection.  The simulator's distribution
is compared with the capture's within a tolerance; books are rebuilt independently and every
checksum verified, so splitting a tick into many frames must keep each frame's checksum right.
"""

from __future__ import annotations

import collections
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rxfeeds.sim.kraken import KrakenSim
from rxfeeds.sim.kraken_v2 import KrakenV2Sim
from tests.support.kraken import IndependentBook, RawClient, v1_books, v2_books

_RECV = re.compile(r"^([0-9.]+): (.*)$")


def v1_update_shape(frame: list[Any]) -> tuple[int, int] | None:
    """(dict parts, levels) of a v1 book update frame; None for snapshots and other frames."""
    if not isinstance(frame, list) or not str(frame[-2]).startswith("book-"):
        return None
    parts = frame[1:-2]
    if "as" in parts[0] or "bs" in parts[0]:
        return None
    return len(parts), sum(len(p.get("a", [])) + len(p.get("b", [])) for p in parts)


def shape_counts(frames: list[Any]) -> collections.Counter[tuple[int, int]]:
    return collections.Counter(s for f in frames if (s := v1_update_shape(f)) is not None)


def one_level_share(counts: collections.Counter[tuple[int, int]]) -> float:
    return counts[(1, 1)] / sum(counts.values())


@pytest.fixture
def capture_book_shapes(capture_file: Any) -> collections.Counter[tuple[int, int]]:
    path: Path = capture_file("kraken-book-1000.dev.capture")
    frames = []
    for line in path.read_text().splitlines():
        m = _RECV.match(line)
        if m:
            frames.append(json.loads(m.group(2)))
    return shape_counts(frames)


@pytest.fixture
def sim() -> Iterator[KrakenSim]:
    with KrakenSim(seed=21, tick_interval=None) as server:
        yield server
        assert server.hook_errors == []


def run_v1_book(sim: KrakenSim, steps: int, depth: int = 1000) -> tuple[list[Any], int]:
    client = RawClient(sim.url)
    client.recv()
    client.send(
        {"event": "subscribe", "pair": ["XBT/USD", "ETH/XBT"], "subscription": {"name": "book", "depth": depth}}
    )
    books: dict[tuple[str, str], IndependentBook] = {}
    depths = {f"book-{depth}": depth}
    frames = client.sync()
    verified = v1_books(frames, books, depths)
    for _ in range(steps // 10):
        sim.step(10)
        batch = client.sync()
        verified += v1_books(batch, books, depths)
        frames += batch
    for (_, pair), book in books.items():
        truth = sim.truth((pair, depth))
        assert [(lv[2], lv[3]) for lv in truth.bids] == [book.bids[p] for p in sorted(book.bids, reverse=True)]
        assert [(lv[2], lv[3]) for lv in truth.asks] == [book.asks[p] for p in sorted(book.asks)]
    client.close()
    return frames, verified


def test_v1_book_update_shapes_match_the_capture(
    sim: KrakenSim, capture_book_shapes: collections.Counter[tuple[int, int]]
) -> None:
    frames, verified = run_v1_book(sim, 200)
    counts = shape_counts(frames)
    total = sum(counts.values())
    assert total == verified and total > 1000
    real = one_level_share(capture_book_shapes)
    assert real > 0.99  # the reference itself: 2,777 of 2,779
    # one side, one level per frame: within 2 percentage points of the real share
    assert abs(one_level_share(counts) - real) < 0.02, counts
    # never more than two levels in a frame (the capture's maximum), and the rare shapes exist
    assert max(levels for _, levels in counts) <= 2
    assert counts[(2, 2)] > 0, "no two-part frame ([id, {a}, {b, c}, name, pair])"
    assert counts[(1, 2)] > 0, "no two-level frame"


def test_v1_two_part_frames_carry_the_checksum_in_the_last_dict(sim: KrakenSim) -> None:
    frames, _ = run_v1_book(sim, 300, depth=10)
    two_part = [f for f in frames if v1_update_shape(f) == (2, 2)]
    assert two_part
    for f in two_part:
        assert "a" in f[1] and "c" not in f[1]
        assert "b" in f[2] and "c" in f[2]


def test_v1_heartbeat_about_once_a_second_on_a_busy_connection() -> None:
    # Like the capture: 31 heartbeats in 31 s while book updates stream.
    with KrakenSim(seed=2, tick_interval=0.02, heartbeat_interval=0.25) as server:
        client = RawClient(server.url)
        client.recv()
        client.send({"event": "subscribe", "pair": ["XBT/USD"], "subscription": {"name": "book", "depth": 10}})
        heartbeats = updates = 0
        while heartbeats < 3:
            message = client.recv()
            if message == {"event": "heartbeat"}:
                heartbeats += 1
            elif v1_update_shape(message) is not None:
                updates += 1
        assert updates > 10  # the heartbeats came amid traffic, not only when idle
        client.close()
        assert server.hook_errors == []


def test_v2_book_updates_are_mostly_one_level_with_valid_checksums() -> None:
    with KrakenV2Sim(seed=22, tick_interval=None) as sim2:
        client = RawClient(sim2.url)
        client.recv()
        client.send({"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 25}})
        books: dict[str, IndependentBook] = {}
        frames = client.sync(v2=True)
        verified = v2_books(frames, books, 25)
        for _ in range(10):
            sim2.step(10)
            batch = client.sync(v2=True)
            verified += v2_books(batch, books, 25)
            frames += batch
        updates = [f for f in frames if isinstance(f, dict) and f.get("type") == "update" and f["channel"] == "book"]
        levels = [len(u["data"][0]["bids"]) + len(u["data"][0]["asks"]) for u in updates]
        assert len(updates) > 200 and verified == len(updates) + 1
        assert levels.count(1) / len(levels) > 0.97
        assert max(levels) <= 2
        truth = sim2.truth(("BTC/USD", 25))
        book = books["BTC/USD"]
        assert [(lv[2], lv[3]) for lv in truth.asks] == [book.asks[p] for p in sorted(book.asks)]
        client.close()
        assert sim2.hook_errors == []


# --- v2 numbers and snapshots (items 6 and 7) -------------------------------------------------

_NUMBER = re.compile(rb'"(price|qty|bid|bid_qty|ask|ask_qty|last|volume|vwap|low|high|change|change_pct|open|close)"'
                     rb":(-?[0-9.eE+-]+)")  # fmt: skip


@pytest.fixture
def sim2() -> Iterator[KrakenV2Sim]:
    with KrakenV2Sim(seed=23, tick_interval=None) as server:
        yield server
        assert server.hook_errors == []


def raw_frames(client: RawClient) -> list[bytes]:
    """Every frame up to the pong of a ping, as raw text."""
    client.ping_id += 1
    client.send({"method": "ping", "req_id": client.ping_id})
    out: list[bytes] = []
    while True:
        text = client.ws.recv()
        raw = text.encode() if isinstance(text, str) else text
        if b'"pong"' in raw:
            return out
        out.append(raw)


def test_v2_numbers_use_the_pairs_fixed_decimals(sim2: KrakenV2Sim) -> None:
    client = RawClient(sim2.url)
    client.recv()
    for channel in ("ticker", "trade", "ohlc"):
        client.send({"method": "subscribe", "params": {"channel": channel, "symbol": ["BTC/USD", "ETH/BTC"]}})
    frames = raw_frames(client)
    for _ in range(10):
        sim2.step(10)
        frames += raw_frames(client)
    decimals = {"BTC/USD": 1, "ETH/BTC": 6}  # the pairs' price precision in the simulator
    checked = 0
    for raw in frames:
        if b'"channel":"heartbeat"' in raw or b'"method"' in raw or b'"status"' in raw:
            continue
        data = json.loads(raw)["data"]
        if not data:
            continue  # a trade snapshot of a market with no trades yet
        symbol = data[0]["symbol"]
        for field, text in _NUMBER.findall(raw):
            assert b"e" not in text.lower(), raw  # never exponent notation
            places = len(text.split(b".")[1]) if b"." in text else 0
            if field == b"change_pct":
                assert places == 2, raw
            elif field in (b"qty", b"bid_qty", b"ask_qty", b"volume"):
                assert places == 8, raw
            else:
                assert places == decimals[symbol], (field, text, raw)
            checked += 1
    assert checked > 100
    client.close()


def test_v2_snapshot_false_is_honoured(sim2: KrakenV2Sim) -> None:
    client = RawClient(sim2.url)
    client.recv()
    for channel in ("book", "ticker", "trade", "ohlc"):
        client.send({"method": "subscribe", "params": {"channel": channel, "symbol": ["BTC/USD"], "snapshot": False}})
    first = client.sync(v2=True)
    acks = [m for m in first if m.get("method") == "subscribe"]
    assert len(acks) == 4 and all(a["success"] and a["result"]["snapshot"] is False for a in acks)
    assert [m for m in first if m.get("type") == "snapshot"] == []
    sim2.step(20)
    later = client.sync(v2=True)
    assert [m for m in later if m.get("type") == "snapshot"] == []
    assert {m["channel"] for m in later if m.get("type") == "update"} >= {"book", "ticker", "trade"}
    client.close()


def test_v2_trade_and_ohlc_start_with_a_snapshot(sim2: KrakenV2Sim) -> None:
    sim2.market("BTC/USD")
    sim2.step(30)  # some history to show
    client = RawClient(sim2.url)
    client.recv()
    client.send({"method": "subscribe", "params": {"channel": "trade", "symbol": ["BTC/USD"]}})
    client.send({"method": "subscribe", "params": {"channel": "ohlc", "symbol": ["BTC/USD"], "interval": 1}})
    first = [m for m in client.sync(v2=True) if m.get("channel") in ("trade", "ohlc")]
    assert [(m["channel"], m["type"]) for m in first] == [("trade", "snapshot"), ("ohlc", "snapshot")]
    trades = first[0]["data"]
    market_trades = sim2.call(lambda: sim2.market("BTC/USD").trades()[-50:])
    assert [t["trade_id"] for t in trades] == [t.id for t in market_trades] and 0 < len(trades) <= 50
    assert first[1]["data"] and all(c["interval"] == 1 for c in first[1]["data"])
    client.close()
