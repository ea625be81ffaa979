"""Fault-injection acceptance: real clients against real simulators on 127.0.0.1.

Skipped sequence (HitBTC, Binance spot), corrupted checksum (Kraken), dropped connection and
stall (HitBTC): each
leads to exactly one resync of the affected symbol, the other symbol keeps flowing, and once
the stream is quiet the operator's book equals the simulator's truth (the book it has sent).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import reactivex as rx

from rxfeeds.books.book import OrderBook
from rxfeeds.ops.order_book import order_book
from rxfeeds.sim.binance_spot import BinanceSpotSim
from rxfeeds.sim.hitbtc import HitBTCSim
from rxfeeds.sim.kraken import KrakenSim
from rxfeeds.sim.kraken_v2 import KrakenV2Sim
from rxfeeds.venues.binance_spot import BinanceSpot
from rxfeeds.venues.hitbtc.client import HitBTC
from rxfeeds.venues.kraken.client import Kraken
from rxfeeds.venues.kraken.client_v2 import KrakenV2
from tests.helpers import Collector as Books
from tests.helpers import wait_until
from tests.support.books import equals_truth

# --- HitBTC: sequence books ----------------------------------------------------------------------

SYMBOLS = ("ETHBTC", "LTCBTC")


@pytest.fixture
def hitbtc() -> Iterator[HitBTCSim]:
    with HitBTCSim(seed=21, tick_interval=None, resnapshot_after=None) as sim:
        yield sim
        assert sim.hook_errors == []


def hitbtc_books(sim: HitBTCSim, **client_options: Any) -> tuple[HitBTC, Books, list[str], Any]:
    client = HitBTC(sim.public_url, trading_url=sim.trading_url, ping_interval=None, **client_options)
    feeds = {s: client.orderbook(s) for s in SYMBOLS}
    asked: list[str] = []

    def resync(symbol: str) -> None:
        asked.append(symbol)
        feeds[symbol].resync(symbol)

    books = Books()
    sub = rx.merge(*feeds.values()).pipe(order_book(integrity=True, resync=resync)).subscribe(books)
    wait_until(lambda: all(books.kinds(s) == ["synced"] for s in SYMBOLS))
    return client, books, asked, sub


def caught_up(sim: HitBTCSim, books: Books, symbol: str) -> bool:
    book = books.book(symbol)
    last = sim.call(lambda: sim.sequences.get(symbol))
    return book is not None and book.synced and book.sequence == last


def test_hitbtc_skipped_sequence_resyncs_that_symbol_once(hitbtc: HitBTCSim) -> None:
    client, books, asked, sub = hitbtc_books(hitbtc)
    with client:
        hitbtc.step(3)
        wait_until(lambda: all(caught_up(hitbtc, books, s) for s in SYMBOLS))
        other_before = books.count_books("LTCBTC")
        hitbtc.faults.skip_sequence("ETHBTC")
        for _ in range(30):  # until ETHBTC has sent an update after the skipped number
            hitbtc.step(1)
            if "gap" in books.kinds("ETHBTC"):
                break
        wait_until(lambda: books.kinds("ETHBTC")[-1:] == ["synced"] and "gap" in books.kinds("ETHBTC"))
        hitbtc.step(5)
        wait_until(lambda: all(caught_up(hitbtc, books, s) for s in SYMBOLS))
        assert asked == ["ETHBTC"]
        kinds = books.kinds("ETHBTC")
        assert kinds.count("gap") == 1 and kinds.count("resync") == 1 and kinds.count("synced") == 2
        assert books.kinds("LTCBTC") == ["synced"]
        assert books.count_books("LTCBTC") > other_before  # kept flowing
        for symbol in SYMBOLS:
            assert equals_truth(books, symbol, hitbtc.truth(symbol))
        sub.dispose()
    assert books.errors == []


def test_hitbtc_dropped_connection_resyncs_each_symbol_once(hitbtc: HitBTCSim) -> None:
    client, books, asked, sub = hitbtc_books(hitbtc)
    with client:
        hitbtc.step(2)
        assert hitbtc.faults.close_all() == 1
        wait_until(lambda: all(books.kinds(s) == ["synced", "reset", "synced"] for s in SYMBOLS))
        hitbtc.step(4)
        wait_until(lambda: all(caught_up(hitbtc, books, s) for s in SYMBOLS))
        assert asked == []  # the transport resubscribed; the operator asked for nothing more
        for symbol in SYMBOLS:
            assert books.kinds(symbol) == ["synced", "reset", "synced"]
            assert equals_truth(books, symbol, hitbtc.truth(symbol))
        sub.dispose()
    assert books.errors == []


def test_hitbtc_stall_is_detected_and_books_recover() -> None:
    with HitBTCSim(seed=22, tick_interval=0.05, resnapshot_after=None) as sim:
        client, books, asked, sub = hitbtc_books(sim, stale_timeout=1.0)
        with client:
            wait_until(lambda: all(books.count_books(s) > 3 for s in SYMBOLS))
            sim.faults.stall()
            # the client notices the silence, reconnects (the new socket is stalled too) ...
            wait_until(lambda: all("reset" in books.kinds(s) for s in SYMBOLS))
            sim.faults.resume()  # ... and once the venue talks again, books come back
            wait_until(lambda: all(books.kinds(s)[-2:] == ["reset", "synced"] for s in SYMBOLS))
            sim.freeze()
            wait_until(lambda: all(caught_up(sim, books, s) for s in SYMBOLS))
            assert asked == []
            for symbol in SYMBOLS:
                assert books.kinds(symbol).count("gap") == 0
                assert books.kinds(symbol) == ["synced", "reset", "synced"]
                assert equals_truth(books, symbol, sim.truth(symbol))
            sub.dispose()
        assert books.errors == [] and sim.hook_errors == []


# --- Kraken: checksum books -----------------------------------------------------------------------

PAIRS = ("XBT/USD", "ETH/USD")


def test_kraken_corrupted_checksum_resyncs_that_pair_once() -> None:
    with KrakenSim(seed=23, tick_interval=None) as sim:
        client = Kraken(url=sim.url, auth_url=sim.url, ping_interval=None)
        with client:
            feed = client.book(list(PAIRS), depth=10)
            asked: list[str] = []
            hook = feed.resync

            def resync(pair: str) -> None:
                asked.append(pair)
                hook(pair)

            books = Books()
            sub = feed.pipe(order_book(integrity=True, resync=resync)).subscribe(books)
            wait_until(lambda: all(books.kinds(p) == ["synced"] for p in PAIRS))
            for _ in range(4):
                sim.step(1)
            wait_until(lambda: all(equals_truth(books, p, sim.truth((p, 10))) for p in PAIRS))
            other_before = books.count_books("ETH/USD")
            sim.faults.corrupt_checksum("XBT/USD")
            for _ in range(30):  # until XBT/USD has sent an update (carrying the bad checksum)
                sim.step(1)
                if "checksum" in books.kinds("XBT/USD"):
                    break
            wait_until(lambda: books.kinds("XBT/USD")[-1:] == ["synced"] and "checksum" in books.kinds("XBT/USD"))
            for _ in range(5):
                sim.step(1)
            wait_until(lambda: all(equals_truth(books, p, sim.truth((p, 10))) for p in PAIRS))
            assert asked == ["XBT/USD"]
            kinds = books.kinds("XBT/USD")
            assert kinds.count("checksum") == 1 and kinds.count("resync") == 1 and kinds.count("synced") == 2
            assert books.kinds("ETH/USD") == ["synced"]
            assert books.count_books("ETH/USD") > other_before
            sub.dispose()
        assert books.errors == [] and sim.hook_errors == []


# --- Binance spot: REST-snapshot books ------------------------------------------------------------


def test_binance_spot_gap_refetches_that_symbols_snapshot_once() -> None:
    symbols = ("BTCUSDT", "ETHBTC")
    with BinanceSpotSim(seed=24, listed=list(symbols), tick_interval=0.05) as sim:
        client = BinanceSpot(url=sim.url, rest_url=sim.http_url, min_send_interval=0.0)
        with client:
            feed = client.book(list(symbols))
            asked: list[str] = []
            hook = feed.resync

            def resync(symbol: str) -> None:
                asked.append(symbol)
                hook(symbol)

            books = Books()
            sub = feed.pipe(order_book(integrity=True, resync=resync)).subscribe(books)
            wait_until(lambda: all(books.count_books(s) > 2 for s in symbols))
            other_before = books.count_books("ETHBTC")
            sim.faults.skip_sequence("BTCUSDT")
            wait_until(lambda: books.kinds("BTCUSDT")[-1:] == ["synced"] and "gap" in books.kinds("BTCUSDT"))
            wait_until(lambda: books.count_books("ETHBTC") > other_before + 2)  # kept flowing
            sim.freeze()
            try:
                last = {s: sim.update_id(s) for s in symbols}
                wait_until(lambda: all((b := books.book(s)) and b.sequence == last[s] for s in symbols))
                for symbol in symbols:
                    assert equals_truth(books, symbol, sim.truth(symbol))
            finally:
                sim.unfreeze()
            assert asked == ["BTCUSDT"]
            kinds = books.kinds("BTCUSDT")
            assert kinds.count("gap") == 1 and kinds.count("resync") == 1 and kinds.count("synced") == 2
            assert books.kinds("ETHBTC") == ["synced"]
            sub.dispose()
        assert books.errors == [] and sim.hook_errors == []


# --- Kraken v2: checksummed snapshots and updates (exact Decimal texts) -----------------------------


def test_kraken_v2_books_verify_every_checksum_and_equal_truth() -> None:
    pairs = ("BTC/USD", "ETH/USD")
    with KrakenV2Sim(seed=25, tick_interval=None) as sim:
        with KrakenV2(url=sim.url, auth_url=sim.url, ping_interval=None) as client:
            books = Books()
            sub = client.book(list(pairs), depth=10).pipe(order_book(integrity=True)).subscribe(books)
            wait_until(lambda: all(books.kinds(p) == ["synced"] for p in pairs))
            for _ in range(20):
                sim.step(1)
            wait_until(lambda: all(equals_truth(books, p, sim.truth((p, 10))) for p in pairs))
            for pair in pairs:
                assert books.kinds(pair) == ["synced"]  # snapshot and every update verified
                verified = [b for b in books.items if isinstance(b, OrderBook) and b.symbol == pair]
                assert len(verified) > 5 and all(b.synced and b.checksum is not None for b in verified)
            sim.faults.corrupt_checksum("ETH/USD")
            for _ in range(30):
                sim.step(1)
                if "checksum" in books.kinds("ETH/USD"):
                    break
            wait_until(lambda: books.kinds("ETH/USD")[-1:] == ["synced"] and "checksum" in books.kinds("ETH/USD"))
            assert books.kinds("ETH/USD").count("resync") == 1 and books.kinds("BTC/USD") == ["synced"]
            for _ in range(3):
                sim.step(1)
            wait_until(lambda: all(equals_truth(books, p, sim.truth((p, 10))) for p in pairs))
            sub.dispose()
        assert books.errors == [] and sim.hook_errors == []
