"""Every channel takes one symbol or a list: one-symbol venues merge per-symbol subscriptions once."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from rxfeeds import ops
from rxfeeds.errors import InvalidArgument
from rxfeeds.feed import Feed
from rxfeeds.venues import load
from rxfeeds.venues.registry import spec
from tests.helpers import wait_until

pytestmark = pytest.mark.timeout(90)

#: venues whose protocol subscribes one symbol per message, with two symbols their simulators list
CASES = [
    ("hitbtc", ["ETHBTC", "LTCBTC"]),
    ("hitbtc-v3", ["ETHBTC", "LTC/BTC"]),
    ("midchains", ["BTCUSD", "ETH/USD"]),
    ("bitshares", ["BTS:USD", "BTS/CNY"]),
    ("bybit", ["BTCUSDT", "ETH/USDT"]),
    ("bybit-linear", ["BTC/USDT", "SOLUSDT"]),
]


@pytest.mark.parametrize(("venue", "symbols"), CASES)
def test_a_list_gives_synced_books_for_every_symbol_and_keeps_resync(venue: str, symbols: list[str]) -> None:
    declared = spec(venue)
    assert declared.simulator and declared.sim_client
    with load(declared.simulator)(seed=3, tick_interval=0.05) as sim:
        client = load(declared.sim_client)(sim)
        try:
            feed = client.book(symbols)
            assert isinstance(feed, Feed) and feed.can_resync
            synced: set[str] = set()
            lock = threading.Lock()

            def on_book(book: Any) -> None:
                if book.synced:
                    with lock:
                        synced.add(book.symbol)

            subscription = feed.pipe(ops.order_book()).subscribe(on_book)
            expected = {declared.symbol_notation.to_venue(s) for s in symbols}
            wait_until(lambda: synced >= expected, timeout=60)
            assert feed.resync(next(iter(expected)))
            trades: list[Any] = []
            trade_sub = client.trades(symbols).subscribe(trades.append)
            wait_until(lambda: {t.symbol for t in trades} >= expected, timeout=60)
            subscription.dispose()
            trade_sub.dispose()
        finally:
            client.close()


def test_an_empty_list_is_refused() -> None:
    client = load(spec("hitbtc").client)("ws://127.0.0.1:1")
    try:
        with pytest.raises(InvalidArgument, match="at least one symbol"):
            client.trades([])
    finally:
        client.close()
