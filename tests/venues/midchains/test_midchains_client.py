"""Midchains client end to end over real sockets against MidchainsSim (books checked against its truth)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import reactivex

from rxfeeds import ops
from rxfeeds.errors import AuthError, FrameError, InvalidArgument, SubscriptionError
from rxfeeds.events import BookOrder, StreamReset, Trade
from rxfeeds.sim.midchains import MidchainsSim
from rxfeeds.venues.midchains.client import Midchains
from rxfeeds.venues.midchains.codec import MidchainsError
from tests.helpers import Collector, wait_until


@pytest.fixture
def sim() -> Iterator[MidchainsSim]:
    with MidchainsSim(seed=11, tick_interval=0.02, users={"carol": "pa55-w0rd"}) as srv:
        yield srv
        assert srv.hook_errors == []


@pytest.fixture
def client(sim: MidchainsSim) -> Iterator[Midchains]:
    mc = Midchains(sim.url)
    yield mc
    mc.close()


def aggregate(orders: list[BookOrder]) -> tuple[dict[float, float], dict[float, float]]:
    """Independent L3 -> L2 aggregation of a stream of order events."""
    live: dict[str, BookOrder] = {}
    for order in orders:
        if order.removed:
            live.pop(order.order_id, None)
        else:
            live[order.order_id] = order
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    for order in live.values():
        side = bids if order.side == "buy" else asks
        side[order.price] = side.get(order.price, 0.0) + order.size
    return bids, asks


def truth_levels(sim: MidchainsSim, security: str) -> tuple[dict[float, float], dict[float, float]]:
    truth = sim.truth(security)
    return {p: s for p, s, *_ in truth.bids}, {p: s for p, s, *_ in truth.asks}


def same_levels(a: dict[float, float], b: dict[float, float]) -> bool:
    return a.keys() == b.keys() and all(abs(a[p] - b[p]) < 1e-9 for p in a)


def test_book_orders_aggregate_to_the_simulators_truth(sim: MidchainsSim, client: Midchains) -> None:
    sink = Collector()
    client.book("LTCUSD").subscribe(sink.on_next, sink.on_error)
    wait_until(lambda: len(sink.of(BookOrder)) > 200)
    sim.freeze()

    def matches() -> bool:
        bids, asks = aggregate(sink.of(BookOrder))
        tb, ta = truth_levels(sim, "LTCUSD")
        return same_levels(bids, tb) and same_levels(asks, ta)

    wait_until(matches)
    orders = sink.of(BookOrder)
    first_update = next(i for i, o in enumerate(orders) if not o.snapshot)
    assert first_update > 10 and all(o.snapshot for o in orders[:first_update])
    assert not any(o.snapshot for o in orders[first_update:])
    assert any(o.removed for o in orders), "act R removals must arrive as removed orders"
    assert sink.error is None


def test_order_book_operator_matches_truth_top_levels(sim: MidchainsSim, client: Midchains) -> None:
    books: list[Any] = []
    client.book("BTCUSD").pipe(ops.order_book(depth=10)).subscribe(books.append)
    wait_until(lambda: sum(1 for b in books if hasattr(b, "bids")) > 30)
    sim.freeze()
    truth = sim.truth("BTCUSD", depth=10)
    want = ([(p, s) for p, s, *_ in truth.bids], [(p, s) for p, s, *_ in truth.asks])

    def top_matches() -> bool:
        book = [b for b in books if hasattr(b, "bids")][-1]
        got = ([(p, round(s, 9)) for p, s in book.bids], [(p, round(s, 9)) for p, s in book.asks])
        return book.synced and got == ([(p, round(s, 9)) for p, s in want[0]], [(p, round(s, 9)) for p, s in want[1]])

    wait_until(top_matches)


def test_trades_match_what_the_simulator_sent(sim: MidchainsSim, client: Midchains) -> None:
    sink = Collector()
    client.trades("ETHUSD").subscribe(sink.on_next, sink.on_error)
    wait_until(lambda: len(sink.of(Trade)) >= 20)
    sim.freeze()
    wait_until(lambda: len(sink.of(Trade)) == len(sim.call(lambda: list(sim.sent_trades["ETHUSD"]))))
    sent = sim.call(lambda: list(sim.sent_trades["ETHUSD"]))
    got = sink.of(Trade)
    assert [(t.trade_id, t.price, t.size) for t in got] == [
        (s["matchid"], float(s["price"]), float(s["qty"])) for s in sent
    ]
    # Taker side is the opposite of the documented maker_side.
    assert [t.side for t in got] == [{"B": "sell", "S": "buy"}[s["maker_side"]] for s in sent]
    assert all(t.time == int(s["time"]) / 1000 for t, s in zip(got, sent, strict=True))


def test_unknown_security_errors_that_stream_only(sim: MidchainsSim, client: Midchains) -> None:
    good, bad_book, bad_trades = Collector(), Collector(), Collector()
    client.book("BTCUSD").subscribe(good.on_next, good.on_error)
    client.book("NOTASEC1").subscribe(bad_book.on_next, bad_book.on_error)
    client.trades("QQQ").subscribe(bad_trades.on_next, bad_trades.on_error)
    wait_until(lambda: bad_book.error is not None and bad_trades.error is not None)
    assert isinstance(bad_book.error, SubscriptionError) and "unknown security" in str(bad_book.error)
    assert "NOTASEC1" in str(bad_book.error) and "QQQ" in str(bad_trades.error)
    n = len(good.items)
    wait_until(lambda: len(good.items) > n + 5)
    assert good.error is None


def test_rejected_subscription_fault_is_isolated(sim: MidchainsSim, client: Midchains) -> None:
    sim.faults.reject_subscriptions(["ETHUSD"])
    refused, fine = Collector(), Collector()
    client.trades("ETHUSD").subscribe(refused.on_next, refused.on_error)
    client.trades("BTCUSD").subscribe(fine.on_next, fine.on_error)
    wait_until(lambda: refused.error is not None and len(fine.items) > 3)
    assert isinstance(refused.error, SubscriptionError) and sim.faults.counts["reject_subscription"] == 1


def test_resync_sends_a_fresh_image(sim: MidchainsSim, client: Midchains) -> None:
    sink = Collector()
    feed = client.book("BCHUSD")
    feed.subscribe(sink.on_next, sink.on_error)
    wait_until(lambda: any(not o.snapshot for o in sink.of(BookOrder)))
    assert feed.resync("BCHUSD")

    def image_after_reset() -> list[BookOrder]:
        with sink.lock:
            items = list(sink.items)
        resets = [i for i, x in enumerate(items) if isinstance(x, StreamReset)]
        if not resets:
            return []
        return [x for x in items[resets[0] + 1 :] if isinstance(x, BookOrder) and x.snapshot]

    wait_until(lambda: len(image_after_reset()) > 10)
    assert sink.of(StreamReset)[0].reason == "resync"
    # The fresh image alone rebuilds the whole book: the orders after it aggregate to the truth.
    sim.freeze()

    def rebuilt() -> bool:
        with sink.lock:
            items = list(sink.items)
        start = next(i for i, x in enumerate(items) if isinstance(x, StreamReset))
        bids, asks = aggregate([x for x in items[start + 1 :] if isinstance(x, BookOrder)])
        tb, ta = truth_levels(sim, "BCHUSD")
        return same_levels(bids, tb) and same_levels(asks, ta)

    wait_until(rebuilt)


def test_login_and_order_entry_round_trip(sim: MidchainsSim, client: Midchains) -> None:
    with pytest.raises(MidchainsError, match="not logged in"):
        client.add_order("LTCUSD", "B", qty="1", price="180").run()
    assert client.login("carol", "pa55-w0rd").run() is True
    placed = client.add_order("LTCUSD", "buy", qty="2.5", price="180.25").run()
    assert placed["result"] == "OK" and placed["security"] == "LTCUSD" and len(placed["refno"]) == 14
    record = sim.call(lambda: sim.entered["carol"][placed["refno"]])
    assert (record["side"], record["qty"], record["price"]) == ("B", "2.5", "180.25")
    queried = client.query_order("LTCUSD", placed["refno"]).run()
    assert queried["data"]["refno"] == placed["refno"] and queried["data"]["liveqty"] == "2.5"
    assert client.cancel_order("LTCUSD", placed["refno"]).run()["result"] == "OK"
    assert sim.call(lambda: sim.entered["carol"][placed["refno"]]["live"]) is False
    with pytest.raises(MidchainsError, match="order not found"):
        client.cancel_order("LTCUSD", placed["refno"]).run()
    with pytest.raises(MidchainsError, match="order not found"):
        client.query_order("LTCUSD", "NOSUCHREFNO123").run()


def test_wrong_password_is_an_auth_error_and_feeds_keep_flowing(sim: MidchainsSim, client: Midchains) -> None:
    trades = Collector()
    client.trades("BTCUSD").subscribe(trades.on_next, trades.on_error)
    with pytest.raises(AuthError) as info:
        client.login("carol", "not-the-password").run()
    assert "invalid user/password" in str(info.value) and "not-the-password" not in str(info.value)
    n = len(trades.items)
    wait_until(lambda: len(trades.items) > n + 2)
    assert trades.error is None
    assert "pa55" not in repr(sim) and "not-the-password" not in repr(client)


def test_concurrent_requests_are_matched_without_ids(sim: MidchainsSim, client: Midchains) -> None:
    client.login("carol", "pa55-w0rd").run()
    orders = [
        ("BTCUSD", "B", "1", "100"),
        ("ETHUSD", "S", "2", "3100"),
        ("BTCUSD", "S", "3", "60000"),
        ("LTCUSD", "B", "4", "150"),
    ]
    results = (
        reactivex.merge(*(client.add_order(sec, side, qty=qty, price=price) for sec, side, qty, price in orders))
        .pipe(reactivex.operators.to_list())
        .run()
    )
    assert len(results) == 4
    entered = sim.call(lambda: dict(sim.entered["carol"]))
    for reply in results:
        record = entered[reply["refno"]]
        # The reply echoes the request it answers: same security, side, qty, price.
        assert (record["security"], record["side"], record["qty"], record["price"]) == (
            reply["security"],
            reply["side"],
            reply["qty"],
            reply["price"],
        )
    assert sorted((r["security"], r["qty"]) for r in results) == sorted((o[0], o[2]) for o in orders)


def test_bad_arguments_raise_before_sending(sim: MidchainsSim, client: Midchains) -> None:
    with pytest.raises(InvalidArgument, match="security"):
        client.book("btc usd")
    with pytest.raises(InvalidArgument, match="depth"):
        client.book("BTCUSD", depth=0)
    with pytest.raises(InvalidArgument, match="price"):
        client.add_order("BTCUSD", "B", qty="1")
    with pytest.raises(InvalidArgument, match="amount"):
        client.add_order("BTCUSD", "B", qty="1", ordertype="MKT", tif="IOC")
    with pytest.raises(InvalidArgument, match="side"):
        client.add_order("BTCUSD", "X", qty="1", price="1")
    with pytest.raises(InvalidArgument, match="qty"):
        client.add_order("BTCUSD", "S", qty="-1", price="1")
    assert client.connections == {}


def test_logout_releases_the_session(sim: MidchainsSim, client: Midchains) -> None:
    assert client.login("carol", "pa55-w0rd").run() is True
    sim.wait_for_connections(1)
    assert client.logout().run() is True
    wait_until(lambda: sim.connection_count == 0)  # the venue closes; nothing holds it open
    with pytest.raises(MidchainsError, match="not logged in"):
        client.add_order("LTCUSD", "B", qty="1", price="180").run()


def test_request_in_flight_fails_fast_when_the_connection_drops(sim: MidchainsSim, client: Midchains) -> None:
    client.login("carol", "pa55-w0rd").run()
    sim.faults.stall()
    failures: list[Exception] = []
    client.query_order("BTCUSD", "ABCDEFGHIJKLMN", timeout=20).subscribe(on_error=failures.append)
    sim.faults.reset_all()
    wait_until(lambda: failures, timeout=5)
    assert isinstance(failures[0], ConnectionError)
    sim.faults.resume()


def test_malformed_frames_are_frame_errors_and_streams_go_on(sim: MidchainsSim, client: Midchains) -> None:
    errors: list[Exception] = []
    client.errors.subscribe(errors.append)
    book = Collector()
    client.book("BTCUSD").subscribe(book.on_next, book.on_error)
    wait_until(lambda: len(book.items) >= 2)
    sim.faults.send_malformed("{broken")
    sim.faults.send_malformed('{"type":"book","security":"BTCUSD","books":[{"side":"B","price":"x"}]}')
    wait_until(lambda: len(errors) >= 2)
    assert all(isinstance(e, FrameError) for e in errors)
    n = len(book.items)
    wait_until(lambda: len(book.items) > n + 3)
    assert book.error is None
