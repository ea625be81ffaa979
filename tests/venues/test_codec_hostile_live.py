"""Hostile frames from a live simulator: the codec refuses them, the book subscription goes on.

End to end over real sockets (issue 16: 1, 4, 5, 12): the simulator injects one hostile frame
into a running book subscription; it must show up on ``client.errors`` as a FrameError, quickly,
and the subscription must keep receiving book updates on the same connection (no reset, no
error, no reconnect).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from rxfeeds.errors import FrameError
from rxfeeds.events import BookDelta, BookSnapshot, StreamReset
from rxfeeds.sim import simulator_class
from tests.helpers import Collector as Sink
from tests.helpers import wait_until
from tests.support.venues import client_for

CASES: list[tuple[str, str, str, str]] = [
    (
        "kraken",
        "XBT/USD",
        "price as a JSON number",
        '[0,{"a":[[5541.3,"2.5","1534614248.4"]],"c":"1"},"book-10","XBT/USD"]',
    ),
    (
        "kraken-v2",
        "BTC/USD",
        "exponent of a billion",
        '{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1e999999999,'
        '"qty":1.0}],"asks":[],"checksum":7}]}',
    ),
    (
        "kraken-v2",
        "BTC/USD",
        "ohlc symbol is a list",
        '{"channel":"ohlc","type":"update","data":[{"symbol":["BTC/USD"],"open":1,"high":1,"low":1,"close":1,'
        '"trades":1,"volume":1,"vwap":1,"interval_begin":"2023-10-04T16:25:00.000000000Z","interval":5}]}',
    ),
    (
        "hitbtc",
        "ETHBTC",
        "updateOrderbook symbol is a list",
        '{"jsonrpc":"2.0","method":"updateOrderbook","params":{"ask":[],"bid":[{"price":"0.05","size":"1"}],'
        '"symbol":["ETHBTC"],"sequence":7}}',
    ),
    (
        "binance-spot",
        "BTCUSDT",
        "depthUpdate symbol is a list",
        '{"e":"depthUpdate","E":1633998512068,"s":["BTCUSDT"],"U":1,"u":2,"b":[["1","1"]],"a":[]}',
    ),
]


@pytest.mark.parametrize(("venue", "symbol", "why", "frame"), CASES, ids=[f"{c[0]}: {c[2]}" for c in CASES])
def test_hostile_frame_is_reported_and_the_book_goes_on(venue: str, symbol: str, why: str, frame: str) -> None:
    with simulator_class(venue)(seed=7, tick_interval=None) as sim:
        client: Any = client_for(venue, sim)
        book, errors = Sink(), Sink()
        client.errors.subscribe(errors)
        subscription = client.book(symbol).subscribe(book)
        try:
            wait_until(lambda: (sim.step(1), book.of(BookSnapshot))[1], timeout=20)
            wait_until(lambda: (sim.step(1), book.of(BookDelta))[1], timeout=20)
            resets = len(book.of(StreamReset))
            deltas = len(book.of(BookDelta))
            start = time.perf_counter()
            sim.faults.send_malformed(frame)
            wait_until(lambda: errors.items, timeout=20)
            elapsed = time.perf_counter() - start
            wait_until(lambda: (sim.step(1), len(book.of(BookDelta)) > deltas)[1], timeout=20)
            assert [type(e) for e in errors.items if not isinstance(e, FrameError)] == [], errors.items
            assert elapsed < 5.0, f"{why}: the hostile frame took {elapsed:.1f} s to be refused"
            assert not book.errors, book.errors
            assert len(book.of(StreamReset)) == resets, "the connection was reset"
        finally:
            subscription.dispose()
            client.close()
