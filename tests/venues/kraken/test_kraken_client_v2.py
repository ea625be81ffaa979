"""Kraken v2 client end to end: real sockets against ``KrakenV2Sim`` on 127.0.0.1.

Same method as the v1 tests: independent book + CRC32 (on snapshots and updates), truth from the
simulator, ping/pong round trips as "everything has arrived".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rxfeeds.errors import InvalidArgument, RequestError, SubscriptionError
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
from rxfeeds.sim.kraken import DEFAULT_API_KEY, DEFAULT_API_SECRET
from rxfeeds.sim.kraken_v2 import KrakenV2Sim
from rxfeeds.venues.kraken.auth import KrakenToken
from rxfeeds.venues.kraken.client_v2 import KrakenV2
from tests.helpers import FAST, wait_until
from tests.helpers import Collector as Sink
from tests.support.kraken import rebuild, same_as_truth


@pytest.fixture
def frozen() -> Iterator[KrakenV2Sim]:
    with KrakenV2Sim(seed=31, tick_interval=None) as sim:
        yield sim
        assert sim.hook_errors == []


@pytest.fixture
def live() -> Iterator[KrakenV2Sim]:
    with KrakenV2Sim(seed=32, tick_interval=0.05) as sim:
        yield sim
        assert sim.hook_errors == []


def test_v2_public_channels_and_books_match_truth(frozen: KrakenV2Sim) -> None:
    with KrakenV2(url=frozen.url, auth_url=frozen.url, backoff=FAST) as kraken:
        books, trades, tickers, spreads, candles = Sink(), Sink(), Sink(), Sink(), Sink()
        books.subscribe(kraken.book(["BTC/USD", "ETH/BTC"], depth=25))
        trades.subscribe(kraken.trades("BTC/USD"))
        tickers.subscribe(kraken.ticker("BTC/USD"))
        spreads.subscribe(kraken.spread("BTC/USD"))
        candles.subscribe(kraken.ohlc("BTC/USD", 15))
        wait_until(lambda: len(books.of(BookSnapshot)) == 2 and tickers.items and spreads.items and candles.items)
        # ticker and spread share one subscription
        assert (
            frozen.call(lambda: [sorted(c.subscriptions) for c in frozen.connections])[0].count(("ticker", "BTC/USD"))
            == 1
        )
        for _ in range(4):
            frozen.step(25)
        assert kraken.ping().run()["method"] == "pong"
        rebuilt, verified = rebuild(books.items, 25)
        assert verified > 50
        for symbol, book in rebuilt.items():
            assert same_as_truth(book, frozen.truth((symbol, 25)))
        market = frozen.call(lambda: [(t.id, t.side) for t in frozen.market("BTC/USD").trades()])
        assert [(t.trade_id, t.side) for t in trades.of(Trade)] == market
        quote, ticker = spreads.of(Quote)[-1], tickers.of(Ticker)[-1]
        assert (quote.bid, quote.ask) == (ticker.bid, ticker.ask) and quote.bid < quote.ask
        kline = candles.of(Kline)[-1]
        assert kline.interval == "15m" and kline.close_time - kline.open_time == 900
        assert not (books.errors or trades.errors or tickers.errors or spreads.errors or candles.errors)


def test_v2_refused_subscriptions_fail_only_their_observable(live: KrakenV2Sim) -> None:
    with KrakenV2(url=live.url, auth_url=live.url, backoff=FAST) as kraken:
        trades = Sink()
        trades.subscribe(kraken.trades("BTC/USD"))
        wait_until(lambda: len(trades.items) > 3)
        live.faults.reject_subscriptions("ETH/USD")
        refused, bad_depth, bad_interval = Sink(), Sink(), Sink()
        refused.subscribe(kraken.book("ETH/USD"))
        public = kraken.connections["public"]
        bad_depth.subscribe(public.multiplex(("book-11", "BTC/USD")))
        bad_interval.subscribe(public.multiplex(("ohlc-7", "BTC/USD")))
        wait_until(lambda: refused.errors and bad_depth.errors and bad_interval.errors)
        for sink, text in ((refused, "Currency pair not supported"), (bad_depth, "depth"), (bad_interval, "interval")):
            [error] = sink.errors
            assert isinstance(error, SubscriptionError) and text in str(error)
        before = len(trades.items)
        wait_until(lambda: len(trades.items) > before + 3)
        assert not trades.errors
    with pytest.raises(InvalidArgument):
        KrakenV2().book("BTC/USD", depth=20)


def test_v2_private_channels_and_every_method(frozen: KrakenV2Sim) -> None:
    token = KrakenToken(DEFAULT_API_KEY, DEFAULT_API_SECRET, base_url=frozen.http_url)
    with KrakenV2(url=frozen.url, auth_url=frozen.url, backoff=FAST) as kraken:
        executions, balances = Sink(), Sink()
        executions.subscribe(kraken.executions(token))
        balances.subscribe(kraken.balances(token))
        wait_until(lambda: len(balances.items) == 3)
        assert {b.symbol: b.data["balance"] for b in balances.items} == frozen.balances
        resting = kraken.add_order(token, "BTC/USD", "buy", "limit", 0.25, limit_price=100, cl_ord_id="mine-1").run()
        assert resting["cl_ord_id"] == "mine-1" and frozen.orders[resting["order_id"]].status == "open"
        crossing = kraken.add_order(token, "BTC/USD", "buy", "market", "0.5").run()
        assert frozen.orders[crossing["order_id"]].status == "closed"
        amended = kraken.amend_order(token, resting["order_id"], limit_price=101).run()
        assert amended["order_id"] == resting["order_id"] and frozen.orders[resting["order_id"]].price == 101.0
        edited = kraken.edit_order(token, resting["order_id"], "BTC/USD", order_qty=0.3).run()
        assert edited["original_order_id"] == resting["order_id"] and frozen.orders[edited["order_id"]].volume == 0.3
        assert kraken.cancel_order(token, edited["order_id"]).run() == {"order_id": edited["order_id"]}
        batch = kraken.batch_add(
            token,
            "ETH/USD",
            [
                {"order_type": "limit", "side": "buy", "order_qty": 1, "limit_price": 1},
                {"order_type": "limit", "side": "sell", "order_qty": 1, "limit_price": 999999},
            ],
        ).run()
        ids = [o["order_id"] for o in batch]
        assert all(frozen.orders[i].status == "open" for i in ids)
        assert kraken.batch_cancel(token, ids).run() == {"count": 2}
        kraken.add_order(token, "ETH/USD", "sell", "limit", 1, limit_price=999999).run()
        assert kraken.cancel_all(token).run() == {"count": 1}
        assert kraken.cancel_all_orders_after(token, 0).run()["triggerTime"] == "0"
        with pytest.raises(RequestError, match="EOrder:Unknown order"):
            kraken.amend_order(token, "nope", order_qty=1).run()
        with pytest.raises(RequestError, match="EAPI:Invalid key") as info:
            kraken.cancel_all("stale").run()
        assert "stale" not in str(info.value)
        kraken.ping(connection="private").run()
        reports = executions.of(OrderUpdate)
        fills = [r for r in reports if r.raw.get("exec_type") == "trade"]
        assert [f.order_id for f in fills] == [crossing["order_id"]]
        assert fills[0].price == float(frozen.fills[0]["price"])
        statuses = {(r.order_id, r.status) for r in reports}
        assert (resting["order_id"], "new") in statuses and (edited["order_id"], "canceled") in statuses
        assert all((i, "canceled") in statuses for i in ids)
        assert not executions.errors and not balances.errors


def test_v2_sequence_gap_resubscribes(frozen: KrakenV2Sim) -> None:
    token = frozen.issue_token()
    with KrakenV2(url=frozen.url, auth_url=frozen.url, backoff=FAST) as kraken:
        kraken.add_order(token, "BTC/USD", "buy", "limit", 1, limit_price=10).run()
        executions = Sink()
        executions.subscribe(kraken.executions(token))
        wait_until(lambda: executions.of(OrderUpdate))
        frozen.faults.skip_sequence("executions")
        kraken.add_order(token, "BTC/USD", "buy", "limit", 2, limit_price=11).run()
        wait_until(lambda: executions.of(StreamReset) and len(executions.of(OrderUpdate)) >= 4)
        kinds = [type(e).__name__ for e in executions.items]
        gap = kinds.index("IntegrityEvent")
        assert executions.items[gap].kind == "gap" and kinds[gap + 1] == "StreamReset"
        assert isinstance(executions.items[gap], IntegrityEvent)
        snapshot = {e.order_id for e in executions.items[gap + 2 :] if isinstance(e, OrderUpdate)}
        assert snapshot == {o.txid for o in frozen.orders.values() if o.status == "open"}


def test_v2_reconnect_gives_a_fresh_snapshot(live: KrakenV2Sim) -> None:
    with KrakenV2(url=live.url, auth_url=live.url, backoff=FAST) as kraken:
        books = Sink()
        books.subscribe(kraken.book("BTC/USD"))
        wait_until(lambda: len(books.of(BookDelta)) > 3)
        live.faults.close_all(1001, "going away")

        def after_reset() -> list[Any]:
            with books.lock:
                resets = [i for i, e in enumerate(books.items) if isinstance(e, StreamReset)]
                return books.items[resets[0] :] if resets else []

        wait_until(lambda: len(after_reset()) > 5)
        items = after_reset()
        assert items[0].reason == "reconnect" and isinstance(items[1], BookSnapshot)
        _, verified = rebuild(items[1:], 10)
        assert verified >= 4 and not books.errors
