"""Books against hostile venues over real sockets (issue 16): a snapshot far ahead of the stream
(defect 8) and REST snapshots that fail (defect 13)."""

from __future__ import annotations

import socket
import urllib.error
from collections.abc import Iterator

import orjson
import pytest

from rxfeeds.errors import RequestError
from rxfeeds.ops.order_book import order_book
from rxfeeds.sim.binance_spot import BinanceSpotSim
from rxfeeds.sim.hitbtc import HitBTCSim
from rxfeeds.venues.base import urllib_get
from rxfeeds.venues.binance_spot import BinanceSpot
from rxfeeds.venues.hitbtc.client import HitBTC
from tests.helpers import Collector as Books
from tests.helpers import wait_until
from tests.support.books import equals_truth


def dead_port() -> int:
    """A loopback port nobody listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# --- defect 8: a snapshot far ahead of the stream -------------------------------------------------


@pytest.fixture
def hitbtc() -> Iterator[HitBTCSim]:
    with HitBTCSim(seed=21, tick_interval=None, resnapshot_after=None) as sim:
        yield sim
        assert sim.hook_errors == []


def test_hitbtc_snapshot_far_ahead_is_detected_and_the_book_recovers(hitbtc: HitBTCSim) -> None:
    symbol = "ETHBTC"
    client = HitBTC(hitbtc.public_url, trading_url=hitbtc.trading_url, ping_interval=None)
    with client:
        feed = client.orderbook(symbol)
        books = Books()
        sub = feed.pipe(order_book(integrity=True)).subscribe(books)  # the Feed's own resync hook
        wait_until(lambda: books.kinds(symbol) == ["synced"])
        hitbtc.step(3)
        # a well-formed snapshotOrderbook whose sequence is far ahead of the real stream
        truth = hitbtc.truth(symbol)
        real = hitbtc.call(lambda: hitbtc.sequences[symbol])
        params = {
            "ask": [{"price": lv[2], "size": lv[3]} for lv in truth.asks],
            "bid": [{"price": lv[2], "size": lv[3]} for lv in truth.bids],
            "symbol": symbol,
            "sequence": real + 1_000_000_000,
            "timestamp": "2026-01-01T00:00:00.000Z",
        }
        frame = orjson.dumps({"jsonrpc": "2.0", "method": "snapshotOrderbook", "params": params})
        hitbtc.faults.send_malformed(frame.decode())
        for _ in range(200):  # real updates now look stale; the operator must notice
            hitbtc.step(1)
            if "gap" in books.kinds(symbol):
                break
        wait_until(lambda: books.kinds(symbol)[-1:] == ["synced"] and "gap" in books.kinds(symbol))
        hitbtc.step(5)
        last = hitbtc.call(lambda: hitbtc.sequences[symbol])

        def caught_up() -> bool:
            book = books.book(symbol)
            return book is not None and book.synced and book.sequence == last

        wait_until(caught_up)
        assert equals_truth(books, symbol, hitbtc.truth(symbol))
        kinds = books.kinds(symbol)
        assert kinds.count("gap") == 1 and kinds.count("resync") == 1 and kinds.count("synced") == 2
        sub.dispose()
    assert books.errors == []


# --- defect 13: REST snapshots that fail ----------------------------------------------------------


def test_binance_spot_snapshot_raises_a_typed_error_naming_the_url() -> None:
    port = dead_port()
    client = BinanceSpot(url="ws://127.0.0.1:9/stream", rest_url=f"http://127.0.0.1:{port}")
    with pytest.raises(RequestError) as info:
        client.snapshot("BTCUSDT", limit=5)
    assert not isinstance(info.value, urllib.error.URLError)
    assert f"http://127.0.0.1:{port}/api/v3/depth" in str(info.value) and "failed" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_binance_spot_book_retries_when_the_first_rest_snapshot_fails() -> None:
    symbol = "BTCUSDT"
    with BinanceSpotSim(seed=24, listed=[symbol], tick_interval=0.05) as sim:
        dead = f"http://127.0.0.1:{dead_port()}"
        calls: list[str] = []

        def flaky_get(url: str, timeout: float) -> bytes:
            calls.append(url)
            if len(calls) == 1:  # the first fetch meets a refused connection (a real one)
                return urllib_get(url.replace(sim.http_url, dead), timeout)
            return urllib_get(url, timeout)

        client = BinanceSpot(url=sim.url, rest_url=sim.http_url, min_send_interval=0.0, http_get=flaky_get)
        with client:
            errors: list[Exception] = []
            client.errors.subscribe(errors.append)
            books = Books()
            sub = client.book(symbol).pipe(order_book(resync_timeout=1.0, integrity=True)).subscribe(books)
            wait_until(lambda: "synced" in books.kinds(symbol), timeout=20)
            # the fetch retries by itself (the book's own stale/resync path is the fallback)
            assert "synced" in books.kinds(symbol)[:3]
            assert len(calls) >= 2 and any(isinstance(e, RequestError) for e in errors)
            sim.freeze()
            try:
                last = sim.update_id(symbol)
                wait_until(lambda: (b := books.book(symbol)) is not None and b.sequence == last)
                assert equals_truth(books, symbol, sim.truth(symbol))
            finally:
                sim.unfreeze()
            sub.dispose()
        assert books.errors == [] and sim.hook_errors == []


def test_binance_spot_snapshot_fetch_retries_a_transient_failure_by_itself() -> None:
    # Before: one refused REST fetch left the book waiting for order_book's resync timeout.
    symbol = "BTCUSDT"
    with BinanceSpotSim(seed=25, listed=[symbol], tick_interval=0.05) as sim:
        dead = f"http://127.0.0.1:{dead_port()}"
        calls: list[str] = []

        def flaky_get(url: str, timeout: float) -> bytes:
            calls.append(url)
            if len(calls) == 1:
                return urllib_get(url.replace(sim.http_url, dead), timeout)
            return urllib_get(url, timeout)

        client = BinanceSpot(url=sim.url, rest_url=sim.http_url, min_send_interval=0.0, http_get=flaky_get)
        with client:
            books = Books()
            # a resync timeout far beyond the wait below: only the fetch's own retry can sync in time
            sub = client.book(symbol).pipe(order_book(resync_timeout=300.0, integrity=True)).subscribe(books)
            wait_until(lambda: "synced" in books.kinds(symbol), timeout=60)
            assert "stale" not in books.kinds(symbol) and len(calls) >= 2
            sub.dispose()
