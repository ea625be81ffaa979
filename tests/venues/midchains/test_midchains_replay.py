"""A Midchains session recorded against the simulator replays to the same book and trades."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import rxfeeds
from rxfeeds import ops
from rxfeeds.books.book import OrderBook
from rxfeeds.capture import Recorder
from rxfeeds.events import Trade
from rxfeeds.sim.midchains import MidchainsSim
from rxfeeds.venues.midchains.client import Midchains
from tests.helpers import wait_until


def test_recorded_session_replays_to_the_same_book_and_trades(tmp_path: Path) -> None:
    path = tmp_path / "midchains.jsonl"
    live_books: list[Any] = []
    live_trades: list[Any] = []
    lock = threading.Lock()

    def keep(sink: list[Any]) -> Any:
        def on_next(x: Any) -> None:
            with lock:
                sink.append(x)

        return on_next

    with MidchainsSim(seed=8, tick_interval=0.02) as sim:
        client = Midchains(sim.url)
        recorder = Recorder(path, venue="midchains").attach(client)
        try:
            client.book("ETHUSD").pipe(ops.order_book()).subscribe(keep(live_books))
            client.trades("ETHUSD").subscribe(keep(live_trades))
            wait_until(lambda: len(live_trades) >= 10)
            sim.freeze()
            sent = sim.call(lambda: len(sim.sent_trades["ETHUSD"]))
            wait_until(lambda: len(live_trades) == sent)
            truth = sim.truth("ETHUSD")
        finally:
            client.close()
            recorder.close()

    session = rxfeeds.replay(path, venue="midchains")
    books: list[Any] = []
    trades: list[Any] = []
    session.book("ETHUSD").pipe(ops.order_book()).subscribe(books.append)
    session.trades("ETHUSD").subscribe(trades.append)
    session.run()
    assert [(t.trade_id, t.price, t.size, t.side) for t in trades if isinstance(t, Trade)] == [
        (t.trade_id, t.price, t.size, t.side) for t in live_trades
    ]
    last = [b for b in books if isinstance(b, OrderBook)][-1]
    assert last.synced
    assert [(p, round(s, 9)) for p, s in last.bids] == [(p, round(s, 9)) for p, s, *_ in truth.bids]
    assert [(p, round(s, 9)) for p, s in last.asks] == [(p, round(s, 9)) for p, s, *_ in truth.asks]
