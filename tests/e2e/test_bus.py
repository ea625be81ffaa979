"""rxfeeds.bus over a real nats-server: round trips, start positions, groups, integrity, overflow."""

from __future__ import annotations

import doctest
import importlib
import threading
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import reactivex as rx
from hypothesis import given
from hypothesis import strategies as st

import rxfeeds
import rxfeeds.bus
import rxfeeds.bus.base
import rxfeeds.bus.batching
import rxfeeds.bus.channels
import rxfeeds.bus.envelope
import rxfeeds.bus.jetstream_cursor
import rxfeeds.bus.jetstream_publisher
import rxfeeds.bus.link
import rxfeeds.bus.publisher
import rxfeeds.bus.raw
import rxfeeds.bus.source
import rxfeeds.bus.subjects
from rxfeeds import ops
from rxfeeds.books.book import OrderBook
from rxfeeds.bus import (
    NatsBus,
    RawFrames,
    decode_batch,
    encode_batch,
    escape_token,
    raw_capture,
    subject,
    unescape_token,
)
from rxfeeds.errors import FrameError, InvalidArgument
from rxfeeds.events import (
    BookDelta,
    BookOrder,
    BookSnapshot,
    ConnectionState,
    ConnectionStatus,
    IntegrityEvent,
    Kline,
    OrderUpdate,
    Quote,
    StreamReset,
    Ticker,
    Trade,
    VenueEvent,
)
from rxfeeds.ops.stale_after import Stale
from rxfeeds.sim.hitbtc import HitBTCSim
from rxfeeds.sim.kraken import KrakenSim
from rxfeeds.venues.bitshares.codec import ObjectUpdate
from rxfeeds.venues.hitbtc.client import HitBTC
from rxfeeds.venues.kraken.client import Kraken
from tests.bus_support import bus, fresh_bus, nats_url, own_server  # noqa: F401
from tests.helpers import Collector, wait_until

ALL_EVENTS: list[Any] = [
    Trade("kraken", "XBT/USD", 1.0, 1.5, price=0.1 + 0.2, size=1e-9, side="buy", trade_id=12),
    Trade("hitbtc", "ETHBTC", 2.0, 2.5, price=123456.789, size=2.0, side=None, trade_id="a-1"),
    Quote("kraken", "XBT/USD", 1.0, 1.0, bid=99.5, bid_size=1.25, ask=100.5, ask_size=3.0),
    Ticker("kraken", "XBT/USD", 1.0, 1.0, last=100.0, vwap=99.99999999999999),
    Kline(
        "kraken",
        "XBT/USD",
        60.0,
        61.0,
        interval="1m",
        open_time=0.0,
        close_time=60.0,
        open=1.0,
        high=2.0,
        low=0.5,
        close=1.5,
        volume=3.0,
        trades=4,
        closed=False,
        revision=2,
    ),
    BookSnapshot(
        "kraken",
        "XBT/USD",
        1.0,
        1.0,
        bids=((99.0, 1.0, "99.00000", "1.00000000"),),
        asks=((101.0, 2.0, "101.00000", "2.00000000"),),
        sequence=None,
        checksum=None,
        depth=10,
    ),
    BookDelta(
        "binance-spot",
        "BTCUSDT",
        2.0,
        2.0,
        bids=(),
        asks=((101.0, 0.0, "101.0", "0.0"),),
        sequence=9,
        first_sequence=7,
        checksum=None,
    ),
    BookOrder(
        "bitshares", "1.3.0:1.3.121", 1.0, 1.0, order_id="1.7.5", side="sell", price=0.25, size=4.0, snapshot=True
    ),
    OrderUpdate("hitbtc", "ETHBTC", 1.0, 1.0, order_id="1", status="new", raw={"a": 1, "b": [1, 2]}),
    VenueEvent("bitshares", "", 1.0, 1.0, kind="block", data={"n": 5}),
    ObjectUpdate("bitshares", "2.1.0", 1.0, 1.0, kind="object", data={"id": "2.1.0"}, object_id="2.1.0"),
    StreamReset("kraken", "XBT/USD", 3.0, 3.0, channel="book-10", reason="reconnect"),
    IntegrityEvent("kraken", "XBT/USD", 3.0, 3.0, kind="gap", detail="expected 5, got 7"),
    ConnectionStatus("kraken", "wss://x", ConnectionState.OPEN, 1.0, attempt=2, delay=0.5),
    Stale("kraken", "XBT/USD", 10.0, 10.0, silent_for=5.0),
]


def subscribe(observable: Any) -> tuple[Collector, Any]:
    c = Collector()
    return c, observable.subscribe(c.on_next, c.on_error, c.on_completed)


def publish_all(b: NatsBus, events: list[Any], copies: int = 0, **options: Any) -> Any:
    op = ops.publish(b, **options)
    done = threading.Event()
    rx.from_iterable(events).pipe(op).subscribe(on_completed=done.set)
    assert done.wait(20)
    assert op.stats().published == len(events) + copies
    return op


# ----------------------------------------------------------------------------- without a server


def test_doctests_of_the_bus_modules() -> None:
    publish_module = importlib.import_module("rxfeeds.ops.publish")  # ops.publish is the function
    for module in (
        rxfeeds.bus,
        rxfeeds.bus.base,
        rxfeeds.bus.batching,
        rxfeeds.bus.channels,
        rxfeeds.bus.link,
        rxfeeds.bus.publisher,
        rxfeeds.bus.source,
        rxfeeds.bus.jetstream_cursor,
        rxfeeds.bus.jetstream_publisher,
        rxfeeds.bus.envelope,
        rxfeeds.bus.subjects,
        rxfeeds.bus.raw,
        publish_module,
    ):
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__


def test_envelope_round_trips_every_event_type_as_the_same_class() -> None:
    publisher, seq, out = decode_batch(encode_batch("pub", 3, ALL_EVENTS))
    assert (publisher, seq) == ("pub", 3)
    assert out == ALL_EVENTS
    assert [type(e) for e in out] == [type(e) for e in ALL_EVENTS]
    assert isinstance(out[5].bids[0], tuple) and isinstance(out[5].bids, tuple)


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=20))
def test_envelope_floats_round_trip_exactly(values: list[float]) -> None:
    events = [Trade("v", "s", v, v, price=v, size=-v) for v in values]
    _, _, out = decode_batch(encode_batch("p", 1, events))
    assert [(e.price, e.size, e.time) for e in out] == [(v, -v, v) for v in values]


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b'[2, "p", 1, []]',
        b'{"v": 1}',
        b'[1, "p", 1, [["zz", 1]]]',
        b'[1, "p", 1, [["os:system", "x"]]]',
        b'[1, "p", 1, [["t", "v"]]]',
        b'[1, "p", 1, [["t", [["v"]]]]]',
        b'[1, "p", 1, [["d", [["v", "s", 1.0, 1.0, 5, []]]]]]',
        b'[1, "p", 1, [["t"]]]',
        b'[1, "p", 1, [["t", {"a": 1}]]]',
    ],
)
def test_envelope_rejects_bad_messages_with_frame_error(data: bytes) -> None:
    with pytest.raises(FrameError):
        decode_batch(data)


@given(st.text(max_size=30))
def test_subject_tokens_are_reversible_and_valid(text: str) -> None:
    token = escape_token(text)
    assert unescape_token(token) == text
    assert token and not any(ch in token for ch in ".*> \t\r\n")


def test_subject_escapes_bitshares_ids() -> None:
    assert subject("rxfeeds", "bitshares", "1.3.0", "book").count(".") == 3


def test_publish_and_source_check_their_arguments(bus: NatsBus) -> None:  # noqa: F811
    with pytest.raises(InvalidArgument, match="overflow"):
        ops.publish(bus, overflow="spill")
    with pytest.raises(InvalidArgument, match="capacity"):
        ops.publish(bus, capacity=0)
    with pytest.raises(InvalidArgument, match="start"):
        bus.source(start="yesterday")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="pace"):
        bus.source(pace="slow")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="group"):
        bus.source(group="a.b")


# ------------------------------------------------------------------------------- over the server


def test_publish_passes_through_and_source_returns_the_same_events(bus: NatsBus) -> None:  # noqa: F811
    live, sub = subscribe(bus.source())
    passed: list[Any] = []
    op = ops.publish(bus, channel="all")
    done = threading.Event()
    rx.from_iterable(ALL_EVENTS).pipe(op).subscribe(passed.append, on_completed=done.set)
    assert done.wait(20)
    assert passed == ALL_EVENTS
    assert op.stats().published == len(ALL_EVENTS) and op.stats().dropped == 0
    wait_until(lambda: len(live.snapshot()) >= len(ALL_EVENTS))
    sub.dispose()
    # order is kept per subject (venue, symbol); across subjects it is not defined
    assert sorted(map(repr, live.snapshot())) == sorted(map(repr, ALL_EVENTS))
    assert live.of(Trade) == [e for e in ALL_EVENTS if type(e) is Trade]
    history, _ = subscribe(bus.source(start="first", follow=False))
    assert history.done.wait(20)
    assert sorted(map(repr, history.snapshot())) == sorted(map(repr, ALL_EVENTS)) and history.errors == []


def test_default_channels_and_filters(bus: NatsBus) -> None:  # noqa: F811
    trades = [Trade("bitshares", "1.3.0:1.3.121", float(i), float(i), price=float(i), size=1.0) for i in range(5)]
    book = [BookSnapshot("bitshares", "1.3.0:1.3.121", 1.0, 1.0, bids=(), asks=())]
    other = [Trade("kraken", "XBT/USD", 1.0, 1.0, price=1.0, size=1.0)]
    publish_all(bus, trades + book + other)
    got, _ = subscribe(bus.source("bitshares", "1.3.0:1.3.121", "trades", start="first", follow=False))
    assert got.done.wait(20)
    assert got.snapshot() == trades
    got, _ = subscribe(bus.source(symbol="1.3.0:1.3.121", start="first", follow=False))
    assert got.done.wait(20)
    assert sorted(map(repr, got.snapshot())) == sorted(map(repr, trades + book))
    got, _ = subscribe(bus.source("kraken", start="first", follow=False))
    assert got.done.wait(20)
    assert got.snapshot() == other


def test_start_variants(bus: NatsBus) -> None:  # noqa: F811
    def trade(i: int) -> Trade:
        return Trade("kraken", "XBT/USD", float(i), float(i), price=float(i), size=1.0)

    first = [trade(i) for i in range(3)]
    publish_all(bus, first, max_batch=1)  # three messages: positions 1, 2, 3
    time.sleep(0.01)  # a distinct storage time for the next part (message times are the broker's clock)
    middle = datetime.now(UTC)
    live, live_sub = subscribe(bus.source(start="new"))
    second = [trade(i) for i in range(3, 6)]
    publish_all(bus, second, max_batch=1)
    wait_until(lambda: len(live.snapshot()) == 3)
    live_sub.dispose()
    assert live.snapshot() == second

    got, _ = subscribe(bus.source(start="first", follow=False))
    assert got.done.wait(20) and got.snapshot() == first + second
    got, _ = subscribe(bus.source(start=2, follow=False))
    assert got.done.wait(20) and got.snapshot() == (first + second)[1:]
    got, _ = subscribe(bus.source(start=middle, follow=False))
    assert got.done.wait(20) and got.snapshot() == second
    # no snapshot on the trades subject: "last" is its newest message
    got, _ = subscribe(bus.source(start="last", follow=False))
    assert got.done.wait(20) and got.snapshot() == second[-1:]


def test_new_subscriber_sees_nothing_old_and_follow_false_completes(bus: NatsBus) -> None:  # noqa: F811
    publish_all(bus, ALL_EVENTS[:2])
    got, _ = subscribe(bus.source(start="new", follow=False))
    assert got.done.wait(20)
    assert got.snapshot() == [] and got.errors == []


def test_consumer_group_shares_the_load(bus: NatsBus) -> None:  # noqa: F811
    events = [Trade("kraken", f"S{i % 7}", float(i), float(i), price=float(i), size=1.0) for i in range(2000)]
    a, sub_a = subscribe(bus.source(group="workers", start="first", batch=4))
    b, sub_b = subscribe(bus.source(group="workers", start="first", batch=4))
    publish_all(bus, events, max_batch=10)
    wait_until(lambda: len(a.snapshot()) + len(b.snapshot()) >= len(events), timeout=30)
    sub_a.dispose()
    sub_b.dispose()
    got_a, got_b = a.snapshot(), b.snapshot()
    assert got_a and got_b, "both members got a share"
    assert sorted(e.time for e in got_a + got_b) == [e.time for e in events]  # all, none twice


def test_undecodable_message_is_skipped_and_counted(bus: NatsBus) -> None:  # noqa: F811
    source = bus.source(start="first")
    got, sub = subscribe(source)
    bus.send([(subject(bus.prefix, "kraken", "X", "trades"), b"garbage", "g1")], 5.0)
    publish_all(bus, ALL_EVENTS[:1])
    wait_until(lambda: len(got.snapshot()) == 1)
    sub.dispose()
    assert got.snapshot() == ALL_EVENTS[:1] and got.errors == []
    assert source.stats.errors == 1  # type: ignore[attr-defined]


def test_duplicate_publishes_are_stored_once_and_delivered_once(bus: NatsBus) -> None:  # noqa: F811
    data = encode_batch("pub", 1, ALL_EVENTS[:2])
    subj = subject(bus.prefix, "kraken", "XBT/USD", "trades")
    first = bus.send([(subj, data, "pub:1")], 5.0)
    again = bus.send([(subj, data, "pub:1")], 5.0)
    assert first == again  # the broker kept the first copy only
    # a copy with a new id (a publisher retry after the broker forgot the id) reaches the consumer ...
    bus.send([(subj, data, "pub:1:retry")], 5.0)
    got, _ = subscribe(bus.source(start="first", follow=False))
    assert got.done.wait(20)
    assert got.snapshot() == ALL_EVENTS[:2]  # ... which drops it by (publisher, subject, seq)


def test_lost_message_shows_as_a_gap_marker_and_the_book_waits_for_a_snapshot(bus: NatsBus) -> None:  # noqa: F811
    def level(p: float, s: float) -> tuple[float, float, str, str]:
        return (p, s, "", "")

    snap = BookSnapshot("demo", "X", 1.0, 1.0, bids=(level(99, 1),), asks=(level(101, 1),))
    deltas = [BookDelta("demo", "X", 2.0 + i, 2.0, bids=(level(99, 2 + i),), asks=()) for i in range(3)]
    op = publish_all(bus, [snap], channel="book")
    for d in deltas:  # one message each
        publish_all(bus, [d], channel="book")
    assert op.stats().messages == 1
    # four publishers, one message each: lose the second delta's message
    bus._call(bus._js.delete_msg(bus.stream, 3), 10)
    got, _ = subscribe(bus.source(start="first", follow=False).pipe(ops.order_book(integrity=True)))
    assert got.done.wait(20)
    # separate publishers number separately: no gap is visible, the book just applies what arrived
    assert got.kinds("X") == ["synced"]

    # one publisher: its numbering shows the hole
    b2 = fresh_bus(bus.url)
    try:
        publisher = b2.publisher(channel="book", max_batch=1)
        for ev in [snap, *deltas]:
            publisher.put(ev)
            assert publisher.flush(10)
        b2._call(b2._js.delete_msg(b2.stream, 3), 10)
        raw, _ = subscribe(b2.source(start="first", follow=False))
        assert raw.done.wait(20)
        resets = raw.of(StreamReset)
        assert len(resets) == 1 and resets[0].reason.startswith("bus gap: messages 3..3")
        assert resets[0].channel == "book" and resets[0].symbol == "X"
        books, _ = subscribe(b2.source(start="first", follow=False).pipe(ops.order_book(integrity=True)))
        assert books.done.wait(20)
        assert books.kinds("X") == ["synced", "reset"]
        last = books.book("X")
        assert last is not None and not last.synced
    finally:
        b2.delete()
        b2.close()


def test_source_events_are_decoded_on_the_delivery_thread(bus: NatsBus) -> None:  # noqa: F811
    names: list[str] = []
    sub = bus.source(start="first").subscribe(lambda _: names.append(threading.current_thread().name))
    publish_all(bus, ALL_EVENTS[:1])
    wait_until(lambda: names)
    sub.dispose()
    assert names == ["rxfeeds-bus-source"]


def test_pace_original_keeps_the_recorded_spacing(bus: NatsBus) -> None:  # noqa: F811
    now = time.time()
    events = [Trade("kraken", "X", now + i * 0.2, now + i * 0.2, price=1.0, size=1.0) for i in range(3)]
    publish_all(bus, events)
    stamps: list[float] = []
    done = threading.Event()
    bus.source(start="first", pace="original", follow=False).subscribe(
        lambda _: stamps.append(time.monotonic()), on_completed=done.set
    )
    assert done.wait(20)
    assert len(stamps) == 3 and stamps[2] - stamps[0] >= 0.39


def test_message_bodies_are_the_documented_envelope(bus: NatsBus) -> None:  # noqa: F811
    publish_all(bus, ALL_EVENTS[:1], channel="trades")
    msg = bus._call(bus._js.get_msg(bus.stream, 1), 10)
    assert msg.subject == f"{bus.prefix}.kraken.XBT~2FUSD.trades"
    version, publisher, seq, items = orjson.loads(msg.data)
    assert (version, seq, items[0][0]) == (1, 1, "t")
    assert msg.headers and msg.headers["Nats-Msg-Id"] == f"{publisher}:1:{msg.subject}"


# ---------------------------------------------------------------------- books across the hop


def test_kraken_books_over_the_bus_equal_the_simulator_truth(bus: NatsBus) -> None:  # noqa: F811
    pairs = ("XBT/USD", "ETH/USD")
    with KrakenSim(seed=31, tick_interval=None) as sim:
        remote, remote_sub = subscribe(bus.source("kraken", None, "book").pipe(ops.order_book(integrity=True)))
        client = Kraken(url=sim.url, auth_url=sim.url, ping_interval=None)
        with client:
            op = ops.publish(bus, channel="book")
            pub_sub = client.book(list(pairs), depth=10).pipe(op).subscribe()
            for _ in range(20):
                sim.step(1)

            def caught_up() -> bool:
                for p in pairs:
                    book = remote.book(p)
                    truth = sim.truth((p, 10))
                    if (
                        book is None
                        or not book.synced
                        or book.copy()
                        != (
                            {lv[0]: lv[1] for lv in truth.bids},
                            {lv[0]: lv[1] for lv in truth.asks},
                        )
                    ):
                        return False
                return True

            wait_until(caught_up, timeout=20)
            for p in pairs:
                assert remote.kinds(p) == ["synced"]  # every checksum verified remotely
            # a late joiner starts at the newest snapshot and is synced at once
            late, late_sub = subscribe(
                bus.source("kraken", "XBT/USD", "book", start="last").pipe(ops.order_book(integrity=True))
            )
            wait_until(lambda: late.book("XBT/USD") is not None)
            assert late.kinds("XBT/USD")[0] == "synced"
            # a checksum corrupted at the venue is detected on the far side of the bus
            sim.faults.corrupt_checksum("XBT/USD")
            for _ in range(30):
                sim.step(1)
                if "checksum" in remote.kinds("XBT/USD"):
                    break
            wait_until(lambda: "checksum" in remote.kinds("XBT/USD"))
            wait_until(lambda: "checksum" in late.kinds("XBT/USD"))
            pub_sub.dispose()
            remote_sub.dispose()
            late_sub.dispose()
    assert remote.errors == [] and late.errors == []
    assert op.stats().dropped == 0


def test_hitbtc_late_joiner_skips_to_the_newest_snapshot(bus: NatsBus) -> None:  # noqa: F811
    symbols = ("ETHBTC", "LTCBTC")
    with HitBTCSim(seed=32, tick_interval=None, resnapshot_after=None) as sim:
        client = HitBTC(sim.public_url, trading_url=sim.trading_url, ping_interval=None)
        with client:
            raw = [client.orderbook(s) for s in symbols]
            subs = [f.pipe(ops.publish(bus, channel="book")).subscribe() for f in raw]
            eth = subject(bus.prefix, "hitbtc", "ETHBTC", "book")

            def positions() -> dict[str, int]:
                return bus.start_positions(f"{bus.prefix}.hitbtc.*.book")

            wait_until(lambda: len(positions()) == 2)
            first_snapshot = positions()[eth]
            sim.step(5)
            wait_until(lambda: sim.call(lambda: sim.sequences.get("ETHBTC")) is not None)
            # ETHBTC resyncs: a second snapshot on its subject, after a run of deltas
            resynced_at = sim.call(lambda: sim.sequences.get("ETHBTC"))
            raw[0].resync("ETHBTC")
            wait_until(lambda: positions()[eth] > first_snapshot)
            sim.step(3)
            late, late_sub = subscribe(
                bus.source("hitbtc", None, "book", start="last").pipe(ops.order_book(integrity=True))
            )

            def caught_up() -> bool:
                for s in symbols:
                    book = late.book(s)
                    if book is None or not book.synced or book.sequence != sim.call(lambda s=s: sim.sequences.get(s)):
                        return False
                return True

            wait_until(caught_up, timeout=20)
            first_eth = next(b for b in late.of(OrderBook) if b.symbol == "ETHBTC")
            assert first_eth.sequence is not None and resynced_at is not None
            assert first_eth.sequence >= resynced_at  # started at the newest snapshot, not the first
            for s in symbols:
                assert late.kinds(s) == ["synced"]
                truth = sim.truth(s)
                book = late.book(s)
                assert book is not None
                assert book.copy() == ({lv[0]: lv[1] for lv in truth.bids}, {lv[0]: lv[1] for lv in truth.asks})
            late_sub.dispose()
            for sub in subs:
                sub.dispose()


def test_markers_follow_the_data_subjects_of_their_symbol_or_venue(bus: NatsBus) -> None:  # noqa: F811
    trade = Trade("v", "X", 1.0, 1.0, price=1.0, size=1.0)
    delta = BookDelta("v", "X", 1.0, 1.0, bids=(), asks=())
    other = Trade("v", "Y", 1.0, 1.0, price=1.0, size=1.0)
    block = VenueEvent("v", "", 1.0, 1.0, kind="block", data=1)
    obj = VenueEvent("v", "", 1.0, 1.0, kind="object", data=2)
    reset_x = StreamReset("v", "X", 2.0, 2.0, channel="book-10", reason="reconnect")
    reset_all = StreamReset("v", "", 3.0, 3.0, channel="", reason="reconnect")
    # reset_x goes to X's two subjects, reset_all to all five of the venue: 1 + 4 extra copies
    publish_all(bus, [trade, delta, other, block, obj, reset_x, reset_all], copies=5)

    def read(symbol: str | None, channel: str | None) -> list[Any]:
        got, _ = subscribe(bus.source("v", symbol, channel, start="first", follow=False))
        assert got.done.wait(20)
        return got.snapshot()

    assert read("X", "book") == [delta, reset_x, reset_all]
    assert read("X", "trades") == [trade, reset_x, reset_all]
    assert read("Y", "trades") == [other, reset_all]
    assert read("", "block") == [block, reset_all]
    assert read("", "object") == [obj, reset_all]


def test_raw_frames_on_the_bus_replay_into_the_same_books(nats_url: str, tmp_path: Any) -> None:  # noqa: F811
    raw_bus = fresh_bus(nats_url)
    try:
        with KrakenSim(seed=33, tick_interval=None) as sim:
            client = Kraken(url=sim.url, auth_url=sim.url, ping_interval=None)
            with client:
                tap = RawFrames(raw_bus, "kraken").attach(client)
                live, live_sub = subscribe(client.book("XBT/USD", depth=10).pipe(ops.order_book(integrity=True)))
                wait_until(lambda: live.kinds("XBT/USD") == ["synced"])
                for _ in range(10):
                    sim.step(1)

                def truth() -> tuple[dict[float, float], dict[float, float]]:
                    t = sim.truth(("XBT/USD", 10))
                    return {lv[0]: lv[1] for lv in t.bids}, {lv[0]: lv[1] for lv in t.asks}

                def live_caught_up() -> bool:
                    book = live.book("XBT/USD")
                    return book is not None and book.synced and book.copy() == truth()

                wait_until(live_caught_up)
                want = truth()
                live_sub.dispose()
                tap.close()
        path = tmp_path / "from-bus.jsonl"
        records = raw_capture(raw_bus, "kraken", path)
        assert records >= 3  # the open, the subscribe frame sent, the frames received
        session = rxfeeds.replay(path, venue="kraken")
        replayed, _ = subscribe(session.book("XBT/USD", depth=10).pipe(ops.order_book(integrity=True)))
        session.run()
        book = replayed.book("XBT/USD")
        assert book is not None and book.synced and book.copy() == want
        assert replayed.kinds("XBT/USD") == ["synced"]  # every checksum verified again
        assert [b.copy() for b in replayed.of(OrderBook)] == [b.copy() for b in live.of(OrderBook)]
    finally:
        raw_bus.delete()
        raw_bus.close()


class _SlowBrokerBus(rxfeeds.bus.Bus):
    """A broker adapter whose first fetch comes back empty (a loaded broker), then delivers."""

    prefix = "slow"

    def __init__(self, data: bytes) -> None:
        self.data = data

    def send(self, messages: Any, timeout: float) -> list[int | Exception]:
        raise NotImplementedError

    def mark_snapshot(self, subject: str, position: int) -> None:
        raise NotImplementedError

    def start_positions(self, filter_subject: str) -> dict[str, int]:
        return {}

    def open_cursor(self, filter_subject: str, start: Any, group: str | None, window: int = 256) -> Any:
        data = self.data

        class SlowCursor(rxfeeds.bus.base.Cursor):
            backlog = 1
            fetches = 0

            def fetch(self, max_messages: int, timeout: float) -> list[Any]:
                self.fetches += 1
                if self.fetches < 3:
                    return []
                return [rxfeeds.bus.base.BusMessage("slow.v.X.trades", data, 1, 0)]

            def ack(self, messages: Any) -> None:
                pass

            def release(self, messages: Any) -> None:
                pass

            def close(self) -> None:
                pass

        return SlowCursor()

    def close(self) -> None:
        pass


def test_history_replay_waits_for_a_slow_broker_instead_of_completing_empty() -> None:
    events = ALL_EVENTS[:2]
    got, _ = subscribe(_SlowBrokerBus(encode_batch("p", 1, events)).source(start="first", follow=False))
    assert got.done.wait(20)
    assert got.snapshot() == events


def test_a_slow_subscriber_leaves_its_backlog_in_the_broker(bus: NatsBus) -> None:  # noqa: F811
    gate = threading.Event()
    seen: list[Any] = []

    def slow(ev: Any) -> None:
        seen.append(ev)
        gate.wait(20)  # the subscriber is stuck on its first event

    sub = bus.source(start="first", batch=4).subscribe(slow)
    publish_all(
        bus, trades_list := [Trade("v", "X", float(i), float(i), price=1.0, size=1.0) for i in range(200)], max_batch=1
    )
    wait_until(lambda: len(seen) == 1)
    (run,) = list(bus._live_runs())
    cursor = run.cursor
    info = bus._call(bus._js.consumer_info(bus.stream, cursor.name), 10)
    # this process holds at most the batch in hand (4) and the window pushed ahead (4); the broker
    # holds the rest
    assert len(cursor.buffer) <= 4
    assert info.num_pending >= 200 - 8
    gate.set()
    wait_until(lambda: len(seen) == 200)
    sub.dispose()
    assert seen == trades_list


def test_order_level_images_are_snapshots_for_late_joiners(bus: NatsBus) -> None:  # noqa: F811
    market = "1.3.0:1.3.121"  # BitShares asset ids: dots in the symbol

    def order(oid: str, side: Any, price: float, size: float, *, snapshot: bool = False, end: bool = True) -> BookOrder:
        # end=False: more orders of the same venue message (image) follow
        return BookOrder(
            "bitshares",
            market,
            1.0,
            1.0,
            order_id=oid,
            side=side,
            price=price,
            size=size,
            snapshot=snapshot,
            frame_end=end,
        )

    first_image = [
        order("1.7.1", "buy", 0.9, 5.0, snapshot=True, end=False),
        order("1.7.2", "sell", 1.1, 5.0, snapshot=True),
    ]
    updates = [order("1.7.3", "buy", 0.95, 1.0), order("1.7.1", "buy", 0.9, 0.0)]
    second_image = [
        order("1.7.3", "buy", 0.95, 1.0, snapshot=True, end=False),
        order("1.7.4", "sell", 1.05, 2.0, snapshot=True),
    ]
    later = [order("1.7.5", "sell", 1.2, 3.0)]
    publish_all(bus, first_image + updates + second_image + later)  # one round: the images split messages
    subj = subject(bus.prefix, "bitshares", market, "book")
    positions = bus.start_positions(f"{bus.prefix}.bitshares.*.book")
    assert list(positions) == [subj] and positions[subj] > 1  # the newest image, not the first
    late, _ = subscribe(bus.source("bitshares", market, "book", start="last", follow=False))
    assert late.done.wait(20)
    assert late.snapshot() == second_image + later
    books, _ = subscribe(
        bus.source("bitshares", market, "book", start="last", follow=False).pipe(ops.order_book(integrity=True))
    )
    assert books.done.wait(20)
    book = books.book(market)
    assert book is not None and book.synced
    assert book.copy() == ({0.95: 1.0}, {1.05: 2.0, 1.2: 3.0})
