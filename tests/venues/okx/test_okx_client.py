"""The OKX client against the OKX simulator, over real sockets: books of every instrument type
converge on the venue's book, injected integrity faults are seen and repaired per instrument, the
text keep-alive holds a connection the venue would otherwise drop, and refusals are typed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import websocket

from rxfeeds.errors import SubscriptionError
from rxfeeds.events import Kline, Quote, Ticker, Trade
from rxfeeds.ops.order_book import order_book
from rxfeeds.sim.okx import OKXSim
from rxfeeds.venues.okx import OKX
from tests.helpers import Collector as Books
from tests.helpers import wait_until
from tests.support.books import equals_truth

pytestmark = pytest.mark.timeout(120)

#: SPOT, SWAP and FUTURES instruments
INSTRUMENTS = ("BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-251226")


@pytest.fixture
def sim() -> Iterator[OKXSim]:
    with OKXSim(seed=5, tick_interval=None) as server:
        yield server
        assert server.hook_errors == []


def client_for(sim: OKXSim, **options: Any) -> OKX:
    return OKX(url=sim.url, business_url=sim.business_url, ping_interval=None, **options)


def test_books_of_every_instrument_type_match_the_venue(sim: OKXSim) -> None:
    with client_for(sim) as okx:
        books = Books()
        sub = okx.book(list(INSTRUMENTS)).pipe(order_book(integrity=True)).subscribe(books)
        try:
            wait_until(lambda: all(books.kinds(i) == ["synced"] for i in INSTRUMENTS), timeout=30)
            sim.step(40)
            for inst in INSTRUMENTS:
                wait_until(lambda inst=inst: equals_truth(books, inst, sim.truth(inst)), timeout=30)
                assert books.kinds(inst) == ["synced"]  # no integrity event on a clean stream
                book = books.book(inst)
                assert book is not None and len(book.bids) == 400 and book.checksum is not None
        finally:
            sub.dispose()
    assert not books.errors


def test_the_common_notation_reaches_the_spot_instrument(sim: OKXSim) -> None:
    trades: list[Trade] = []
    with client_for(sim) as okx:
        books = Books()
        subs = [
            okx.book("BTC/USDT").pipe(order_book(integrity=True)).subscribe(books),
            okx.trades("BTC/USDT").subscribe(trades.append),
        ]
        try:
            wait_until(lambda: books.kinds("BTC-USDT") == ["synced"], timeout=30)
            wait_until(lambda: trades or sim.step(), timeout=30, interval=0.02)
            assert trades[0].symbol == "BTC-USDT" and trades[0].instrument == "BTC/USDT"
        finally:
            for s in subs:
                s.dispose()


def test_every_injected_integrity_fault_is_seen_and_followed_by_a_correct_book(sim: OKXSim) -> None:
    corrupted, gapped, clean = INSTRUMENTS
    with client_for(sim) as okx:
        books = Books()
        sub = okx.book(list(INSTRUMENTS)).pipe(order_book(integrity=True)).subscribe(books)
        try:
            wait_until(lambda: all(books.kinds(i) == ["synced"] for i in INSTRUMENTS), timeout=30)
            for faults in range(1, 4):  # several faults in a row, each repaired

                def seen(inst: str, kind: str, n: int) -> Any:
                    return lambda: books.kinds(inst).count(kind) == n

                sim.faults.corrupt_checksum(corrupted)
                sim.faults.skip_sequence(gapped)
                sim.step(2)
                wait_until(seen(corrupted, "checksum", faults), timeout=30)
                wait_until(seen(gapped, "gap", faults), timeout=30)
                # each failure resubscribes that instrument only, and its fresh snapshot syncs it again
                wait_until(seen(corrupted, "synced", faults + 1), timeout=30)
                wait_until(seen(gapped, "synced", faults + 1), timeout=30)
                sim.step(5)
                for inst in INSTRUMENTS:
                    wait_until(lambda inst=inst: equals_truth(books, inst, sim.truth(inst)), timeout=30)
            assert sim.faults.counts["corrupt_checksum"] == 3 and sim.faults.counts["skip_sequence"] == 3
            assert books.kinds(clean) == ["synced"]  # the other instrument never noticed
            assert "resync" in books.kinds(corrupted) and "resync" in books.kinds(gapped)
        finally:
            sub.dispose()
    assert not books.errors


def test_trades_tickers_candles_book5_and_bbo_on_derivatives(sim: OKXSim) -> None:
    inst = "BTC-USDT-SWAP"
    got: dict[str, list[Any]] = {}
    lock = threading.Lock()

    def keep(name: str) -> Any:
        def on_next(e: Any) -> None:
            with lock:
                got.setdefault(name, []).append(e)

        return on_next

    with client_for(sim) as okx:
        subs = [
            okx.trades(inst).subscribe(keep("trades")),
            okx.ticker(inst).subscribe(keep("ticker")),
            okx.klines(inst, "1m").subscribe(keep("klines")),
            okx.book5(inst).subscribe(keep("book5")),
            okx.bbo(inst).subscribe(keep("bbo")),
        ]
        try:
            wait_until(lambda: sim.call(lambda: sum(len(c.subscriptions) for c in sim.connections)) == 5, timeout=30)
            wait_until(lambda: len(got) == 5 or sim.step(), timeout=60, interval=0.02)
        finally:
            for s in subs:
                s.dispose()
        assert set(okx.connections) == {"public", "business"}  # candles live on /business
    with lock:
        assert all(type(e) is Trade and e.size == int(e.size) for e in got["trades"])  # whole contracts
        assert all(type(e) is Ticker for e in got["ticker"])
        assert all(type(e) is Kline and e.interval == "1m" for e in got["klines"])
        assert all(len(e.bids) <= 5 and e.depth == 5 for e in got["book5"])
        assert all(type(e) is Quote and e.bid < e.ask for e in got["bbo"])


def test_a_refused_instrument_ends_its_stream_with_a_subscription_error(sim: OKXSim) -> None:
    sim.faults.reject_subscriptions("ETH-USDT")
    errors: list[BaseException] = []
    with client_for(sim) as okx:
        okx.trades("ETH-USDT").subscribe(on_error=errors.append)
        wait_until(lambda: errors, timeout=30)
    assert isinstance(errors[0], SubscriptionError) and "60018" in str(errors[0])


def test_ping_is_answered_with_pong(sim: OKXSim) -> None:
    with client_for(sim) as okx:
        assert okx.ping(timeout=10).run() == "pong"


def test_the_venue_drops_an_idle_connection_and_the_keep_alive_prevents_it() -> None:
    with OKXSim(seed=1, tick_interval=None, idle_timeout=2.0) as sim:
        # a client that never pings and gets no data is closed with OKX's 4004
        ws = websocket.create_connection(sim.url, timeout=20)
        opcode, data = ws.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert int.from_bytes(data[:2], "big") == 4004 and b"No data received" in data
        ws.close()
        # the client's text ping keeps its quiet connection (trades, market frozen) open
        with client_for(sim, keep_alive=0.2) as okx:
            sub = okx.trades("BTC-USDT").subscribe()
            wait_until(lambda: [c for c in sim.connections if c.subscriptions], timeout=30)
            first = {c.id for c in sim.connections if c.subscriptions}
            # 25 pings at 0.2 s: 5 s, two and a half idle timeouts (a 10x margin per ping on a loaded machine)
            wait_until(lambda: sim.call(lambda: sum(c.frames_in for c in sim.connections)) >= 25, timeout=30)
            assert {c.id for c in sim.connections if not c.closed} == first  # the same connection all along
            sub.dispose()
        assert sim.hook_errors == []


@pytest.mark.parametrize(
    "options",
    [{"url": "http://127.0.0.1:1"}, {"url": ["ws://127.0.0.1:1"]}, {"business_url": "ftp://x"}, {"keep_alive": 30}],
)
def test_bad_options_are_refused_at_construction(options: dict[str, Any]) -> None:
    from rxfeeds.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match=next(iter(options))):
        OKX(**options)


def test_the_business_endpoint_follows_the_public_one() -> None:
    assert OKX().business_url == "wss://ws.okx.com:8443/ws/v5/business"
    assert OKX(url="ws://127.0.0.1:9/ws/v5/public").business_url == "ws://127.0.0.1:9/ws/v5/business"
    assert OKX(url="ws://127.0.0.1:9/x").business_url == "ws://127.0.0.1:9/x"  # no /public: the same endpoint


def test_book_takes_the_depth_other_venues_take_and_keeps_the_400_levels(sim: OKXSim) -> None:
    # book(symbol, depth=10), as on Kraken and Coinbase, used to be a TypeError on OKX
    from rxfeeds.errors import InvalidArgument

    with client_for(sim) as okx:
        books = Books()
        sub = okx.book("BTC-USDT", depth=10).pipe(order_book(depth=10, integrity=True)).subscribe(books)
        try:
            wait_until(lambda: books.kinds("BTC-USDT") == ["synced"], timeout=30)
            sim.step(10)

            def top_matches() -> bool:
                book, truth = books.book("BTC-USDT"), sim.truth("BTC-USDT")
                if book is None:
                    return False
                bids, asks = book.top(10)
                return (list(bids), list(asks)) == (
                    [(p, s) for p, s, *_ in truth.bids[:10]],
                    [(p, s) for p, s, *_ in truth.asks[:10]],
                )

            wait_until(top_matches, timeout=30)
            assert books.kinds("BTC-USDT") == ["synced"]  # the checksum still verifies over the top 25
        finally:
            sub.dispose()
        for bad in (0, 401, 2.5, True):
            with pytest.raises(InvalidArgument, match="depth"):
                okx.book("BTC-USDT", depth=bad)  # type: ignore[arg-type]
