"""ccxt (pro, asyncio websocket clients) pointed at the simulators by overriding its ``urls``.

Binance spot: ccxt connects to ``/ws/<n>`` and sends ``SUBSCRIBE``, takes the REST snapshot
(``exchangeInfo`` and ``depth`` served by the simulator), applies ccxt's own ``U``/``u`` sequence
check (a skipped update id is caught and the book resynced), and survives a disconnect.

HitBTC v3: ``orderbook/full`` equals the truth (ccxt has no sequence check of its own; its
``nonce`` must follow the simulator's ``s``), the partial ``orderbook/D5/100ms`` channel
works, a disconnect is survived, and ``create_order_ws`` logs in (HS256) and places an order.

Kraken v2: ``watch_order_book`` builds a book equal to the simulator's truth, survives an
injected disconnect, and ``create_order_ws`` authenticates (REST token from the simulator,
signature checked) and places an order.  ccxt's own Kraken v2 checksum check is off by default
(and in ccxt 4.5.90 fails on its own float prices when switched on), so the book is checked
against the truth only.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from rxfeeds.sim.binance_spot import BinanceSpotSim
from rxfeeds.sim.hitbtc_v3 import HitBTCV3Sim
from rxfeeds.sim.kraken import DEFAULT_API_KEY, DEFAULT_API_SECRET
from rxfeeds.sim.kraken_v2 import KrakenV2Sim
from tests.peers.support import run, until

ccxtpro = pytest.importorskip("ccxt.pro")
ccxt = pytest.importorskip("ccxt")


def book_side(side: Any, depth: int = 10) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(str(p)), Decimal(str(q))) for p, q, *_ in side[:depth]]


def truth_side(levels: Any) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(lv[2]), Decimal(lv[3])) for lv in levels]


async def watch_until_equal(
    exchange: Any, sim: Any, symbol: str, truth_key: Any, what: str, limit: int | None = 10
) -> None:
    """Step the (manually ticked) market and watch until ccxt's book equals the simulator's truth.

    ccxt updates the book object it returned in place as later frames arrive, so after a step
    the check waits for the rest of the step's frames on that same object.
    """

    def equal(book: Any) -> bool:
        truth = sim.truth(truth_key)
        return bool(
            book_side(book["asks"]) == truth_side(truth.asks)[:10]
            and book_side(book["bids"]) == truth_side(truth.bids)[:10]
        )

    for _ in range(50):
        sim.step(1)
        try:
            book = await asyncio.wait_for(exchange.watch_order_book(symbol, limit), 5)
            await until(lambda book=book: equal(book), timeout=3, what=what)
            return
        except (TimeoutError, AssertionError, ccxt.NetworkError, ccxt.InvalidNonce):
            continue  # a step without book change, or the connection dropped: the next watch reconnects
    raise AssertionError(f"ccxt's book never equalled the truth: {what}")


def kraken_client(sim: KrakenV2Sim) -> Any:
    exchange = ccxtpro.kraken({"apiKey": DEFAULT_API_KEY, "secret": DEFAULT_API_SECRET})
    exchange.urls["api"]["ws"].update(publicV2=sim.url, privateV2=sim.url)
    exchange.urls["api"]["public"] = sim.http_url
    exchange.urls["api"]["private"] = sim.http_url
    return exchange


def test_ccxt_kraken_v2_book_reconnect_and_order() -> None:
    async def scenario() -> None:
        with KrakenV2Sim(seed=41, tick_interval=None) as sim:
            exchange = kraken_client(sim)
            try:
                updates = 0
                while updates < 30:  # connected, subscribed, data flowing
                    sim.step(1)
                    await exchange.watch_order_book("BTC/USD", 10)
                    updates += 1
                await watch_until_equal(exchange, sim, "BTC/USD", ("BTC/USD", 10), "after 30 updates")
                assert sim.faults.close_all() == 1
                await watch_until_equal(exchange, sim, "BTC/USD", ("BTC/USD", 10), "after a reconnect")
                assert sim.connection_count == 1
                order = await exchange.create_order_ws("BTC/USD", "limit", "buy", 0.01, 1000.0)
                assert order["id"] in sim.call(lambda: dict(sim.orders))
                placed = sim.call(lambda: sim.orders[order["id"]])
                assert (placed.pair, placed.side, placed.volume, placed.price) == ("BTC/USD", "buy", 0.01, 1000.0)
            finally:
                await exchange.close()
            assert sim.hook_errors == []

    run(scenario())


def binance_client(sim: BinanceSpotSim) -> Any:
    exchange = ccxtpro.binance({"options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False}})
    exchange.urls["api"]["ws"]["spot"] = sim.url.rsplit("/", 1)[0] + "/ws"
    exchange.urls["api"]["public"] = sim.http_url + "/api/v3"
    return exchange


def test_ccxt_binance_spot_book_sequence_check_and_reconnect() -> None:
    async def scenario() -> None:
        with BinanceSpotSim(seed=42, tick_interval=None, max_messages_per_second=None) as sim:
            exchange = binance_client(sim)
            try:
                updates = 0
                while updates < 30:
                    sim.step(1)
                    book = await exchange.watch_order_book("BTC/USDT")
                    updates += 1
                assert book["nonce"] <= sim.update_id("BTCUSDT")  # ccxt tracks Binance's update ids
                await watch_until_equal(exchange, sim, "BTC/USDT", "BTCUSDT", "after 30 updates", limit=None)
                # a lost update id: ccxt's own U/u check must refuse the book
                sim.faults.skip_sequence("BTCUSDT")
                sim.step(1)
                with pytest.raises(ccxt.InvalidNonce):
                    for _ in range(20):
                        await asyncio.wait_for(exchange.watch_order_book("BTC/USDT"), 5)
                        sim.step(1)
                await watch_until_equal(exchange, sim, "BTC/USDT", "BTCUSDT", "after the resync", limit=None)
                assert sim.faults.close_all() == 1
                await watch_until_equal(exchange, sim, "BTC/USDT", "BTCUSDT", "after a reconnect", limit=None)
                assert sim.connection_count == 1
            finally:
                await exchange.close()
            assert sim.hook_errors == []

    run(scenario())


def hitbtc_client(sim: HitBTCV3Sim) -> Any:
    exchange = ccxtpro.hitbtc({"apiKey": "sim-key", "secret": "sim-secret"})
    exchange.urls["api"]["ws"].update(public=sim.public_url, private=sim.trading_url)
    exchange.urls["api"]["public"] = exchange.urls["api"]["private"] = sim.rest_url
    return exchange


def test_ccxt_hitbtc_v3_books_reconnect_and_order() -> None:
    async def scenario() -> None:
        with HitBTCV3Sim(seed=43, tick_interval=None, resnapshot_after=None,
                         listed_symbols=["ETHBTC", "BTCUSDT"]) as sim:  # fmt: skip
            exchange = hitbtc_client(sim)
            try:
                await exchange.load_markets()  # ccxt's hitbtc watch_order_book needs the markets first
                for _ in range(30):
                    sim.step(1)
                    book = await exchange.watch_order_book("ETH/BTC")
                    assert book["nonce"] == sim.call(lambda: sim.sequences["ETHBTC"])
                await watch_until_equal(exchange, sim, "ETH/BTC", "ETHBTC", "orderbook/full", limit=None)
                # the partial channel (issue 21 item 3: the sim used to refuse it)
                params = {"method": "orderbook/{depth}/{speed}", "depth": "5"}
                task = asyncio.ensure_future(exchange.watch_order_book("BTC/USDT", None, params))
                key = ("orderbook/D5/100ms", "BTCUSDT")
                await until(lambda: sim.call(lambda: any(key in c.subscriptions for c in sim.connections)),
                            what="the D5 subscription")  # fmt: skip
                sim.step(1)
                partial = await asyncio.wait_for(task, 5)
                top = sim.call(lambda: sim.market("BTCUSDT").asks(5))
                assert len(partial["asks"]) == 5
                assert [Decimal(str(p)) for p, *_ in partial["asks"]] == [
                    Decimal(sim.call(lambda p=p: sim.market("BTCUSDT").price_text(p))) for p, _ in top
                ]
                assert sim.faults.close_all() >= 1
                await watch_until_equal(exchange, sim, "ETH/BTC", "ETHBTC", "after a reconnect", limit=None)
                order = await exchange.create_order_ws("ETH/BTC", "limit", "sell", 2, 0.07)
                assert order["status"] == "open" and order["side"].lower() == "sell"
                placed = sim.call(lambda: [o for orders in sim.orders.values() for o in orders.values()])
                assert [(o["symbol"], o["side"], o["quantity"]) for o in placed] == [("ETHBTC", "sell", "2")]
            finally:
                await exchange.close()
            assert sim.hook_errors == []

    run(scenario())
