"""A BitShares session recorded against the simulator replays to the same streams (rxfeeds.replay)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import rxfeeds
from rxfeeds import ops
from rxfeeds.books.book import OrderBook
from rxfeeds.capture import Recorder
from rxfeeds.events import BookOrder
from rxfeeds.sim.bitshares import BitSharesSim
from rxfeeds.transport import Backoff
from rxfeeds.venues.bitshares.client import BitShares
from rxfeeds.venues.bitshares.codec import BlockApplied, ObjectUpdate
from tests.helpers import wait_until


def levels(book: OrderBook) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    return [(p, round(s, 6)) for p, s in book.bids], [(p, round(s, 6)) for p, s in book.asks]


def test_recorded_session_replays_to_the_same_book_blocks_and_objects(tmp_path: Path) -> None:
    path = tmp_path / "bitshares.jsonl"
    live_books: list[Any] = []
    live_blocks: list[Any] = []
    live_objects: list[Any] = []
    lock = threading.Lock()

    def keep(sink: list[Any]) -> Any:
        def on_next(x: Any) -> None:
            with lock:
                sink.append(x)

        return on_next

    with BitSharesSim(seed=4, tick_interval=0.02, credentials={"rec": "pw"}) as sim:
        client = BitShares(sim.url, user="rec", password="pw", backoff=Backoff(initial=0.05, max_delay=0.2))
        recorder = Recorder(path, venue="bitshares").attach(client)
        try:
            client.market("BTS", "USD").pipe(ops.order_book()).subscribe(keep(live_books))
            client.blocks().subscribe(keep(live_blocks))
            client.objects("2.1.0").subscribe(keep(live_objects))
            wait_until(lambda: len(live_blocks) >= 15)
            sim.freeze()
            last_block = sim.call(lambda: sim.sent_blocks[-1])
            wait_until(lambda: live_blocks[-1].block_id == last_block)
        finally:
            client.close()
            recorder.close()

    session = rxfeeds.replay(path, venue="bitshares")
    books: list[Any] = []
    blocks: list[Any] = []
    objects: list[Any] = []
    # Same streams, same order as recorded: the session and subscription ids line up.
    session.market("BTS", "USD").pipe(ops.order_book()).subscribe(books.append)
    session.blocks().subscribe(blocks.append)
    session.objects("2.1.0").subscribe(objects.append)
    session.run()
    assert [b.block_id for b in blocks if isinstance(b, BlockApplied)] == [
        b.block_id for b in live_blocks if isinstance(b, BlockApplied)
    ]
    assert [o.data for o in objects if isinstance(o, ObjectUpdate)] == [
        o.data for o in live_objects if isinstance(o, ObjectUpdate)
    ]
    live_last = [b for b in live_books if isinstance(b, OrderBook)][-1]
    replay_last = [b for b in books if isinstance(b, OrderBook)][-1]
    assert replay_last.synced and levels(replay_last) == levels(live_last)
    assert sum(1 for b in books if isinstance(b, BookOrder)) == 0  # order_book emits books only
