"""Kraken v1 client end to end: real websocket-client sockets against ``KrakenSim`` on 127.0.0.1.

Books are rebuilt from the client's events with the independent book + CRC32 of the capture
tests and compared with the simulator's truth; fills and orders are compared with the
simulator's account.  "Everything sent so far has arrived" is a ping/pong round trip on the same
socket (``client.ping().run()``), never a sleep.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rxfeeds import ops
from rxfeeds.errors import InvalidArgument, RequestError, RequestTimeout, SubscriptionError
from rxfeeds.events import (
    BookDelta,
    BookSnapshot,
    IntegrityEvent,
    Kline,
    OrderUpdate,
    Quote,
    StreamReset,
    Ticker,
    Trade,
)
from rxfeeds.sim.kraken import DEFAULT_API_KEY, DEFAULT_API_SECRET, KrakenSim
from rxfeeds.venues.kraken.auth import KrakenToken
from rxfeeds.venues.kraken.client import Kraken
from rxfeeds.venues.kraken.codec import KrakenStatus, OwnTrade
from tests.helpers import FAST, wait_until
from tests.helpers import Collector as Sink
from tests.support.kraken import rebuild, same_as_truth


@pytest.fixture
def frozen() -> Iterator[KrakenSim]:
    with KrakenSim(seed=21, tick_interval=None) as sim:
        yield sim
        assert sim.hook_errors == []


@pytest.fixture
def live() -> Iterator[KrakenSim]:
    with KrakenSim(seed=22, tick_interval=0.05) as sim:
        yield sim
        assert sim.hook_errors == []


def test_every_public_channel_and_books_match_truth(frozen: KrakenSim) -> None:
    with Kraken(url=frozen.url, auth_url=frozen.url, backoff=FAST) as kraken:
        books, trades, tickers, spreads, candles = Sink(), Sink(), Sink(), Sink(), Sink()
        notices = Sink()
        notices.subscribe(kraken.notices)
        books.subscribe(kraken.book(["XBT/USD", "ETH/XBT"], depth=10))
        trades.subscribe(kraken.trades("XBT/USD"))
        tickers.subscribe(kraken.ticker(["XBT/USD"]))
        spreads.subscribe(kraken.spread("XBT/USD"))
        candles.subscribe(kraken.ohlc("XBT/USD", "5m"))
        wait_until(lambda: len(books.of(BookSnapshot)) == 2 and tickers.items and spreads.items and candles.items)
        for _ in range(4):
            frozen.step(25)
        assert kraken.ping().run()["event"] == "pong"
        rebuilt, verified = rebuild(books.items, 10)
        assert verified > 50
        for pair, book in rebuilt.items():
            assert same_as_truth(book, frozen.truth(pair))
        market_trades = frozen.call(lambda: frozen.market("XBT/USD").trades())
        got = trades.of(Trade)
        assert [(t.price, t.size, t.side) for t in got] == [
            (frozen.call(lambda t=t: frozen.market("XBT/USD").price(t.price)), frozen.call(
                lambda t=t: frozen.market("XBT/USD").size(t.size)), t.side)
            for t in market_trades
        ]  # fmt: skip
        assert all(t.symbol == "XBT/USD" for t in got)
        quote = spreads.of(Quote)[-1]
        best_bid, best_ask = frozen.call(
            lambda: (frozen.market("XBT/USD").best_bid(), frozen.market("XBT/USD").best_ask())
        )
        assert best_bid is not None and best_ask is not None
        assert (quote.bid, quote.ask) == (
            frozen.call(lambda: frozen.market("XBT/USD").price(best_bid[0])),
            frozen.call(lambda: frozen.market("XBT/USD").price(best_ask[0])),
        )
        ticker = tickers.of(Ticker)[-1]
        assert (ticker.bid, ticker.ask) == (quote.bid, quote.ask)
        kline = candles.of(Kline)[-1]
        assert kline.interval == "5m" and kline.closed is False and kline.low <= kline.close <= kline.high
        assert kline.close == got[-1].price
        [status] = notices.of(KrakenStatus)
        assert status.status == "online" and status.connection_id is not None and status.connection_id > 2**63
        assert not (books.errors or trades.errors or tickers.errors or spreads.errors or candles.errors)


def test_refused_subscriptions_fail_only_their_observable(live: KrakenSim) -> None:
    with Kraken(url=live.url, auth_url=live.url, backoff=FAST) as kraken:
        trades = Sink()
        trades.subscribe(kraken.trades("XBT/USD"))
        wait_until(lambda: len(trades.items) > 3)
        unknown, bad_depth, bad_interval = Sink(), Sink(), Sink()
        unknown.subscribe(kraken.book("NOPE/USD"))
        # Server-side checks, bypassing the client's own validation:
        public = kraken.connections["public"]
        bad_depth.subscribe(public.multiplex(("book-11", "XBT/USD")))
        bad_interval.subscribe(public.multiplex(("ohlc-7", "XBT/USD")))
        wait_until(lambda: unknown.errors and bad_depth.errors and bad_interval.errors)
        for sink, text in ((unknown, "Currency pair not supported"), (bad_depth, "depth not supported"),
                           (bad_interval, "interval not supported")):  # fmt: skip
            [error] = sink.errors
            assert isinstance(error, SubscriptionError) and text in str(error)
        before = len(trades.items)
        wait_until(lambda: len(trades.items) > before + 3)
        assert trades.errors == [] and not trades.done


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda k: k.book("XBT/USD", depth=11), "depth"),
        (lambda k: k.book("XBT/USD", depth=True), "depth"),
        (lambda k: k.ohlc("XBT/USD", 7), "interval"),
        (lambda k: k.ohlc("XBT/USD", "2h"), "interval"),
        (lambda k: k.trades([]), "pairs"),
        (lambda k: k.trades("xbtusd"), "pairs"),
        (lambda k: k.trades(["XBT/USD", 5]), "pairs"),  # repeats collapse instead (one rule on every venue)
        (lambda k: k.own_trades(""), "token"),
        (lambda k: k.add_order("t", "XBT/USD", "hold", "limit", "1", price="1"), "type"),
        (lambda k: k.add_order("t", "XBT/USD", "buy", "limit", "1"), "price"),
        (lambda k: k.add_order("t", "XBT/USD", "buy", "limit", "-1", price="1"), "volume"),
        (lambda k: k.add_order("t", "XBT/USD", "buy", "limit", "1,5", price="1"), "volume"),
        (lambda k: k.cancel_order("t", []), "txid"),
        (lambda k: k.cancel_all_orders_after("t", -5), "timeout"),
        (lambda k: k.trades("XBT/USD", connection=""), "connection"),
    ],
)
def test_bad_arguments_raise_before_anything_is_sent(frozen: KrakenSim, call: Any, name: str) -> None:
    with Kraken(url=frozen.url, auth_url=frozen.url) as kraken:
        with pytest.raises(InvalidArgument) as info:
            call(kraken)
        assert info.value.name == name
        assert frozen.connection_count == 0


def test_private_channels_and_every_order_method(frozen: KrakenSim) -> None:
    token = frozen.issue_token()
    with Kraken(url=frozen.url, auth_url=frozen.url, backoff=FAST) as kraken:
        fills, orders = Sink(), Sink()
        fills.subscribe(kraken.own_trades(token))
        orders.subscribe(kraken.open_orders(token))
        resting = kraken.add_order(token, "XBT/USD", "buy", "limit", "0.25", price="100", userref=7).run()
        assert resting["status"] == "ok" and resting["txid"] in frozen.orders
        crossing = kraken.add_order(token, "XBT/USD", "buy", "limit", 0.5, price=10_000_000).run()
        assert frozen.orders[crossing["txid"]].status == "closed"
        edited = kraken.edit_order(token, resting["txid"], "XBT/USD", price="101").run()
        assert edited["originaltxid"] == resting["txid"] and frozen.orders[edited["txid"]].price == 101.0
        assert kraken.cancel_order(token, edited["txid"]).run()["status"] == "ok"
        kraken.add_order(token, "ETH/USD", "sell", "limit", "1", price="999999").run()
        assert kraken.cancel_all(token).run()["count"] == 1
        after = kraken.cancel_all_orders_after(token, 60).run()
        assert after["triggerTime"] > after["currentTime"]
        with pytest.raises(RequestError, match="EOrder:Unknown order"):
            kraken.cancel_order(token, "O-NOT-THERE").run()
        with pytest.raises(RequestError, match="EGeneral:Permission denied") as info:
            kraken.cancel_all("not-a-token").run()
        assert "not-a-token" not in str(info.value)
        assert kraken.ping(connection="private").run()["event"] == "pong"
        # the fill
        wait_until(lambda: fills.of(OwnTrade))
        [fill] = fills.of(OwnTrade)
        [sim_fill] = frozen.fills
        assert (fill.trade_id, fill.order_id, fill.price, fill.size, fill.side) == (
            sim_fill["id"], crossing["txid"], float(sim_fill["price"]), 0.5, "buy",
        )  # fmt: skip
        # open orders: every status change of every order, in order
        statuses = [(u.order_id, u.status) for u in orders.of(OrderUpdate)]
        assert statuses[:2] == [(resting["txid"], "open"), (crossing["txid"], "open")]
        assert (crossing["txid"], "closed") in statuses
        assert (resting["txid"], "canceled") in statuses and (edited["txid"], "canceled") in statuses
        assert not fills.errors and not orders.errors
        assert token not in repr(kraken)


def test_private_subscription_with_a_bad_token_is_a_clear_error(frozen: KrakenSim) -> None:
    with Kraken(url=frozen.url, auth_url=frozen.url) as kraken:
        sink = Sink()
        sink.subscribe(kraken.own_trades("expired-token"))
        wait_until(lambda: sink.errors)
        assert isinstance(sink.errors[0], SubscriptionError) and "ESession:Invalid session" in str(sink.errors[0])
        assert "expired-token" not in str(sink.errors[0])


def test_request_times_out_with_a_clear_error(frozen: KrakenSim) -> None:
    token = frozen.issue_token()
    with Kraken(url=frozen.url, auth_url=frozen.url) as kraken:
        assert kraken.ping(connection="private").run()
        frozen.faults.stall()
        try:
            with pytest.raises(RequestTimeout, match="no reply"):
                kraken.cancel_all(token, timeout=0.3).run()
        finally:
            frozen.faults.resume()


def test_sequence_gap_resubscribes_with_a_fresh_snapshot(frozen: KrakenSim) -> None:
    token = frozen.issue_token()
    with Kraken(url=frozen.url, auth_url=frozen.url, backoff=FAST) as kraken:
        kraken.add_order(token, "XBT/USD", "buy", "limit", "1", price="10").run()
        orders = Sink()
        orders.subscribe(kraken.open_orders(token))
        wait_until(lambda: orders.of(OrderUpdate))
        frozen.faults.skip_sequence("openOrders")
        kraken.add_order(token, "XBT/USD", "buy", "limit", "2", price="11").run()
        wait_until(lambda: len(orders.of(OrderUpdate)) >= 4)
        kinds = [type(i).__name__ for i in orders.items]
        gap = kinds.index("IntegrityEvent")
        assert orders.items[gap].kind == "gap" and "expected" in orders.items[gap].detail
        assert kinds[gap - 1] == "OrderUpdate"  # the update that revealed the gap is still delivered
        assert kinds[gap + 1] == "StreamReset" and orders.items[gap + 1].reason == "gap"
        snapshot = [u.order_id for u in orders.items[gap + 2 :] if isinstance(u, OrderUpdate)]
        assert sorted(snapshot) == sorted(o.txid for o in frozen.orders.values() if o.status == "open")
        assert not orders.errors


def test_reconnect_resubscribes_and_the_new_snapshot_replaces_the_book(live: KrakenSim) -> None:
    with Kraken(url=live.url, auth_url=live.url, backoff=FAST) as kraken:
        books, trades = Sink(), Sink()
        books.subscribe(kraken.book("XBT/USD", depth=25))
        trades.subscribe(kraken.trades("XBT/USD"))
        wait_until(lambda: len(books.of(BookDelta)) > 5)
        live.faults.reset_all()

        def after_reset() -> list[Any]:
            with books.lock:
                resets = [i for i, e in enumerate(books.items) if isinstance(e, StreamReset)]
                return books.items[resets[0] :] if resets else []

        wait_until(lambda: len(after_reset()) > 6)
        items = after_reset()
        reset = items[0]
        assert reset.reason == "reconnect" and reset.channel == "book-25" and reset.symbol == "XBT/USD"
        assert isinstance(items[1], BookSnapshot)
        # the new book is built from the new snapshot alone and every later checksum holds
        _, verified = rebuild(items[1:], 25)
        assert verified >= 5
        assert trades.of(StreamReset) and not books.errors and not trades.errors
        wait_until(lambda: live.connection_count == 1)


def test_resync_and_order_book_operator_recover_from_a_bad_checksum(live: KrakenSim) -> None:
    with Kraken(url=live.url, auth_url=live.url, backoff=FAST) as kraken:
        out = Sink()
        out.subscribe(kraken.book("XBT/USD", depth=10).pipe(ops.order_book(depth=10, integrity=True)))
        wait_until(lambda: any(isinstance(i, IntegrityEvent) and i.kind == "synced" for i in out.items))
        live.faults.corrupt_checksum("XBT/USD")

        def kinds() -> list[str]:
            return [i.kind for i in out.of(IntegrityEvent)]

        wait_until(lambda: "checksum" in kinds() and kinds()[-1] == "synced" and kinds().count("synced") >= 2)
        k = kinds()
        assert k.index("checksum") < len(k) - 1 - k[::-1].index("synced")
        assert "resync" in k and not out.errors


def test_named_connections_are_separate_sockets(live: KrakenSim) -> None:
    with Kraken(url=live.url, auth_url=live.url) as kraken:
        a, b = Sink(), Sink()
        a.subscribe(kraken.trades("XBT/USD", connection="first"))
        b.subscribe(kraken.trades("ETH/USD", connection="second"))
        wait_until(lambda: a.items and b.items)
        assert set(kraken.connections) == {"first", "second"}
        assert live.connection_count == 2
        assert {t.symbol for t in a.of(Trade)} == {"XBT/USD"} and {t.symbol for t in b.of(Trade)} == {"ETH/USD"}


def test_unsubscribe_on_last_dispose_and_close_when_idle(live: KrakenSim) -> None:
    with Kraken(url=live.url, auth_url=live.url) as kraken:
        trades = kraken.trades("XBT/USD")
        one, two = Sink(), Sink()
        d1, d2 = one.subscribe(trades), two.subscribe(trades)
        wait_until(lambda: one.items and two.items)
        assert live.call(lambda: [list(c.subscriptions) for c in live.connections]) == [[("trade", "XBT/USD")]]
        d1.dispose()
        assert live.call(lambda: [list(c.subscriptions) for c in live.connections]) == [[("trade", "XBT/USD")]]
        d2.dispose()
        wait_until(lambda: live.connection_count == 0)


def test_env_and_urls() -> None:
    assert Kraken().url == "wss://ws.kraken.com" and Kraken().auth_url == "wss://ws-auth.kraken.com"
    beta = Kraken(env="beta")
    assert (beta.url, beta.auth_url) == ("wss://beta-ws.kraken.com", "wss://beta-ws-auth.kraken.com")
    with pytest.raises(InvalidArgument):
        Kraken(env="staging")


def test_tokens_never_reach_logs_reprs_or_errors(frozen: KrakenSim, caplog: pytest.LogCaptureFixture) -> None:
    token = frozen.issue_token()
    caplog.set_level("DEBUG")
    with Kraken(url=frozen.url, auth_url=frozen.url) as kraken:
        orders = Sink()
        orders.subscribe(kraken.open_orders(lambda: token))
        kraken.add_order(token, "XBT/USD", "buy", "limit", "1", price="5").run()
        with pytest.raises(RequestError) as info:
            kraken.cancel_order(token, "O-MISSING").run()
        wait_until(lambda: orders.of(OrderUpdate))
        shown = [repr(kraken), str(info.value), caplog.text, *(repr(t) for t in kraken.connections.values())]
        assert all(token not in text for text in shown)


def test_private_channel_resubscribes_after_reconnect_with_a_fresh_token(live: KrakenSim) -> None:
    token = KrakenToken(DEFAULT_API_KEY, DEFAULT_API_SECRET, base_url=live.http_url, max_age=0.0)
    with Kraken(url=live.url, auth_url=live.url, backoff=FAST) as kraken:
        fills = Sink()
        fills.subscribe(kraken.own_trades(token))
        wait_until(
            lambda: live.call(lambda: [list(c.subscriptions) for c in live.connections]) == [[("ownTrades", "")]]
        )
        issued = len(live.tokens)
        live.faults.reset_all()
        wait_until(lambda: fills.of(StreamReset))
        wait_until(
            lambda: live.call(lambda: [list(c.subscriptions) for c in live.connections]) == [[("ownTrades", "")]]
        )
        assert len(live.tokens) > issued  # the provider was asked again for the new subscription
        ack = kraken.add_order(token, "XBT/USD", "sell", "market", "0.1").run()
        wait_until(lambda: any(f.order_id == ack["txid"] for f in fills.of(OwnTrade)))
        assert not fills.errors


# --- merge_streams: the per-pair streams of one transport, passed on without rx.merge ---------------


def test_merge_streams_completes_after_every_stream_and_stops_at_the_first_error() -> None:
    import reactivex
    from reactivex.subject import Subject

    from rxfeeds.venues.kraken.client import merge_streams

    a: Subject[int] = Subject()
    b: Subject[int] = Subject()
    got: list[Any] = []
    merge_streams([a, b]).subscribe(got.append, lambda e: got.append(f"error {e}"), lambda: got.append("end"))
    a.on_next(1)
    b.on_next(2)
    a.on_completed()
    b.on_next(3)
    assert got == [1, 2, 3]  # one stream done: the merged one goes on
    b.on_completed()
    assert got == [1, 2, 3, "end"]

    c: Subject[int] = Subject()
    d: Subject[int] = Subject()
    seen: list[Any] = []
    merge_streams([c, d]).subscribe(seen.append, lambda e: seen.append(f"error {e}"))
    c.on_error(ValueError("x"))
    d.on_next(9)  # after the error: the other stream was disposed
    assert seen == ["error x"] and not d.observers

    single = reactivex.of(1)
    assert merge_streams([single]) is single
