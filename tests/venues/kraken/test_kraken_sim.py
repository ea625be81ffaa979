"""Kraken v1/v2 simulators over raw websockets (websocket-client), checked independently.

Books are rebuilt with the independent book + CRC32 implementation the codec's capture tests use
(``tests/support/kraken.py``): every checksum the simulators send must match it, and the
rebuilt book must equal the simulator's truth.  The simulators are driven by hand (no automatic
ticks) and a ping/pong round trip marks "everything sent so far has arrived".
"""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from rxfeeds.errors import AuthError, InvalidArgument
from rxfeeds.sim.kraken import DEFAULT_API_KEY, DEFAULT_API_SECRET, KrakenSim
from rxfeeds.sim.kraken_v2 import KrakenV2Sim
from rxfeeds.venues.kraken.auth import KrakenToken, api_sign, get_websockets_token
from tests.support.kraken import IndependentBook, RawClient, v1_books, v2_books


@pytest.fixture
def sim() -> Iterator[KrakenSim]:
    with KrakenSim(seed=11, tick_interval=None) as server:
        yield server
        assert server.hook_errors == []


@pytest.fixture
def sim2() -> Iterator[KrakenV2Sim]:
    with KrakenV2Sim(seed=12, tick_interval=None) as server:
        yield server
        assert server.hook_errors == []


def test_v1_status_and_connection_id_above_2_63(sim: KrakenSim) -> None:
    client = RawClient(sim.url)
    status = json.loads(client.ws.recv())
    assert status["event"] == "systemStatus" and status["status"] == "online"
    assert status["connectionID"] > 2**63
    client.close()


def test_v1_book_checksums_and_truth(sim: KrakenSim) -> None:
    client = RawClient(sim.url)
    client.recv()
    client.send({"event": "subscribe", "pair": ["XBT/USD", "ETH/XBT"], "subscription": {"name": "book", "depth": 10}})
    client.send({"event": "subscribe", "pair": ["XBT/USD"], "subscription": {"name": "book", "depth": 25}})
    books: dict[tuple[str, str], IndependentBook] = {}
    depths = {"book-10": 10, "book-25": 25}
    first = client.sync()
    acks = [m for m in first if isinstance(m, dict)]
    assert [(a["channelName"], a["pair"], a["status"]) for a in acks] == [
        ("book-10", "XBT/USD", "subscribed"),
        ("book-10", "ETH/XBT", "subscribed"),
        ("book-25", "XBT/USD", "subscribed"),
    ]
    assert len({a["channelID"] for a in acks}) == 3
    verified = v1_books(first, books, depths)
    for _ in range(6):
        sim.step(20)
        verified += v1_books(client.sync(), books, depths)
    assert verified > 100
    for (channel, pair), book in books.items():
        truth = sim.truth((pair, depths[channel]))
        assert [(lv[2], lv[3]) for lv in truth.bids] == [book.bids[p] for p in sorted(book.bids, reverse=True)]
        assert [(lv[2], lv[3]) for lv in truth.asks] == [book.asks[p] for p in sorted(book.asks)]
        assert len(truth.bids) == len(truth.asks) == depths[channel]
    # Fixed precision on the wire: every XBT/USD price has exactly 5 decimals.
    assert all(len(t[0].split(".")[1]) == 5 for t in books[("book-10", "XBT/USD")].asks.values())
    client.close()


def test_v1_book_frames_never_leave_a_crossed_book() -> None:
    # seed 5 moves the touch through the other side often: a level crossing the opposite best
    # must go out after that side's delete (v1_books asserts no crossed book after any frame)
    with KrakenSim(seed=5, tick_interval=None, symbols=["XBT/USD"]) as server:
        client = RawClient(server.url)
        client.recv()
        client.send({"event": "subscribe", "pair": ["XBT/USD"], "subscription": {"name": "book", "depth": 10}})
        books: dict[tuple[str, str], IndependentBook] = {}
        verified = v1_books(client.sync(), books, {"book-10": 10})
        for _ in range(20):
            server.step(20)
            verified += v1_books(client.sync(), books, {"book-10": 10})
        assert verified > 300
        client.close()


def test_v1_corrupt_checksum_fault(sim: KrakenSim) -> None:
    client = RawClient(sim.url)
    client.recv()
    client.send({"event": "subscribe", "pair": ["XBT/USD"], "subscription": {"name": "book", "depth": 10}})
    books: dict[tuple[str, str], IndependentBook] = {}
    v1_books(client.sync(), books, {"book-10": 10})
    sim.faults.corrupt_checksum("XBT/USD")
    with pytest.raises(AssertionError):
        for _ in range(20):
            sim.step(5)
            v1_books(client.sync(), books, {"book-10": 10})
    assert sim.faults.counts["corrupt_checksum"] == 1
    client.close()


def test_v1_channels_and_unsubscribe(sim: KrakenSim) -> None:
    client = RawClient(sim.url)
    client.recv()
    for sub in ({"name": "trade"}, {"name": "ticker"}, {"name": "spread"}, {"name": "ohlc", "interval": 5}):
        client.send({"event": "subscribe", "pair": ["XBT/USD"], "subscription": sub})
    messages = client.sync()  # subscriptions are in place before the market moves
    sim.step(30)
    messages += client.sync()
    data = [m for m in messages if isinstance(m, list)]
    channels = {m[-2] for m in data}
    assert channels == {"trade", "ticker", "spread", "ohlc-5"}
    trades = [t for m in data if m[-2] == "trade" for t in m[1]]
    market_trades = sim.call(lambda: sim.market("XBT/USD").trades())
    assert [(t[0], t[3]) for t in trades] == [
        (sim.call(lambda t=t: sim.price_text(sim.market("XBT/USD"), t.price)), "b" if t.side == "buy" else "s")
        for t in market_trades
    ]
    spread = [m for m in data if m[-2] == "spread"][-1][1]
    best_bid, best_ask = sim.call(lambda: (sim.market("XBT/USD").best_bid(), sim.market("XBT/USD").best_ask()))
    assert best_bid is not None and best_ask is not None
    assert Decimal(spread[0]) < Decimal(spread[1])
    assert spread[0] == sim.call(lambda: sim.price_text(sim.market("XBT/USD"), best_bid[0]))
    assert spread[1] == sim.call(lambda: sim.price_text(sim.market("XBT/USD"), best_ask[0]))
    ohlc = [m for m in data if m[-2] == "ohlc-5"][-1][1]
    assert Decimal(ohlc[3]) >= max(Decimal(ohlc[2]), Decimal(ohlc[5])) and Decimal(ohlc[1]) % 300 == 0
    client.send({"event": "unsubscribe", "pair": ["XBT/USD"], "subscription": {"name": "trade"}})
    [unsub] = [m for m in client.sync() if isinstance(m, dict)]
    assert unsub["status"] == "unsubscribed" and unsub["channelName"] == "trade"
    sim.step(30)
    assert all(m[-2] != "trade" for m in client.sync() if isinstance(m, list))
    client.close()


@pytest.mark.parametrize(
    ("request_", "text"),
    [
        (
            {"event": "subscribe", "pair": ["NOPE/USD"], "subscription": {"name": "trade"}},
            "Currency pair not supported",
        ),
        ({"event": "subscribe", "pair": ["xbtusd"], "subscription": {"name": "trade"}}, "ISO 4217-A3"),
        ({"event": "subscribe", "pair": ["XBT/USD"], "subscription": {"name": "book", "depth": 11}}, "depth"),
        ({"event": "subscribe", "pair": ["XBT/USD"], "subscription": {"name": "ohlc", "interval": 7}}, "interval"),
        ({"event": "subscribe", "pair": ["XBT/USD"], "subscription": {"name": "pizza"}}, "name invalid"),
        ({"event": "subscribe", "pair": [], "subscription": {"name": "trade"}}, "Pair(s) not found"),
        ({"event": "unsubscribe", "pair": ["XBT/USD"], "subscription": {"name": "trade"}}, "Not Found"),
        ({"event": "subscribe", "subscription": {"name": "ownTrades", "token": "wrong"}}, "Invalid session"),
        ({"event": "fly"}, "Event(s) not found"),
        ("not json at all", "Malformed request"),
        ([1, 2, 3], "Malformed request"),
        ({"event": "addOrder", "token": "wrong", "reqid": 9}, "Permission denied"),
    ],
)
def test_v1_errors_are_replies_not_crashes(sim: KrakenSim, request_: Any, text: str) -> None:
    client = RawClient(sim.url)
    client.recv()
    client.send(request_)
    [reply] = client.sync()
    assert text in reply["errorMessage"]
    assert reply.get("status", "error") == "error"
    client.close()


def test_v1_heartbeat_when_idle() -> None:
    with KrakenSim(seed=1, tick_interval=0.05, heartbeat_interval=0.2) as server:
        client = RawClient(server.url)
        client.recv()
        token = server.issue_token()
        client.send({"event": "subscribe", "subscription": {"name": "ownTrades", "token": token}})
        seen = [client.recv() for _ in range(4)]
        assert seen[0]["status"] == "subscribed"
        assert {"event": "heartbeat"} in seen[2:]
        client.close()


def test_v1_private_sequence_and_order_flow(sim: KrakenSim) -> None:
    token = sim.issue_token()
    client = RawClient(sim.url)
    client.recv()
    client.send({"event": "subscribe", "subscription": {"name": "openOrders", "token": token}})
    client.send({"event": "subscribe", "subscription": {"name": "ownTrades", "token": token}})
    client.send({"event": "addOrder", "token": token, "reqid": 5, "pair": "XBT/USD", "type": "sell",
                 "ordertype": "limit", "volume": "0.1", "price": "1"})  # fmt: skip
    messages = client.sync()
    [status] = [m for m in messages if isinstance(m, dict) and m["event"] == "addOrderStatus"]
    assert status["status"] == "ok" and status["reqid"] == 5
    fills = [m for m in messages if isinstance(m, list) and m[1] == "ownTrades"]
    orders = [m for m in messages if isinstance(m, list) and m[1] == "openOrders"]
    assert [m[2]["sequence"] for m in orders] == list(range(1, len(orders) + 1))
    assert [m[2]["sequence"] for m in fills] == [1, 2]
    [entry] = fills[-1][0]
    assert next(iter(entry.values()))["ordertxid"] == status["txid"]
    sim.faults.skip_sequence("openOrders")
    client.send({"event": "addOrder", "token": token, "reqid": 6, "pair": "XBT/USD", "type": "buy",
                 "ordertype": "limit", "volume": "0.1", "price": "1"})  # fmt: skip
    later = [m[2]["sequence"] for m in client.sync() if isinstance(m, list) and m[1] == "openOrders"]
    assert later[0] == orders[-1][2]["sequence"] + 2
    client.close()


# --- v2 ---------------------------------------------------------------------------------------


def test_v2_book_checksums_on_snapshots_and_updates(sim2: KrakenV2Sim) -> None:
    client = RawClient(sim2.url)
    status = client.recv()
    assert status["channel"] == "status" and status["data"][0]["connection_id"] > 2**63
    client.send({"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD", "ETH/BTC"], "depth": 10},
                 "req_id": 3})  # fmt: skip
    books: dict[str, IndependentBook] = {}
    first = client.sync(v2=True)
    acks = [m for m in first if m.get("method") == "subscribe"]
    assert [(a["success"], a["req_id"], a["result"]["symbol"]) for a in acks] == [
        (True, 3, "BTC/USD"),
        (True, 3, "ETH/BTC"),
    ]
    verified = v2_books(first, books, 10)
    assert verified == 2  # the two snapshots
    for _ in range(5):
        sim2.step(20)
        verified += v2_books(client.sync(v2=True), books, 10)
    assert verified > 60
    for symbol, book in books.items():
        truth = sim2.truth((symbol, 10))
        assert [(lv[2], lv[3]) for lv in truth.bids] == [book.bids[p] for p in sorted(book.bids, reverse=True)]
    # trailing zeros survive on the wire (qty has 8 decimals)
    assert all(len(q.split(".")[1]) == 8 for _, q in books["BTC/USD"].asks.values())
    client.close()


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"channel": "book", "symbol": ["BTC/USD"], "depth": 11}, "depth"),
        ({"channel": "ohlc", "symbol": ["BTC/USD"], "interval": 7}, "interval"),
        ({"channel": "trade", "symbol": ["NOPE/USD"]}, "Currency pair not supported"),
        ({"channel": "spread", "symbol": ["BTC/USD"]}, "not supported"),
        ({"channel": "executions", "token": "bad"}, "Invalid key"),
    ],
)
def test_v2_subscription_errors(sim2: KrakenV2Sim, params: dict[str, Any], text: str) -> None:
    client = RawClient(sim2.url)
    client.recv()
    client.send({"method": "subscribe", "params": params, "req_id": 77})
    [reply] = client.sync(v2=True)
    assert reply["success"] is False and reply["req_id"] == 77 and text in reply["error"]
    client.close()


def test_v2_garbage_gets_error_reply(sim2: KrakenV2Sim) -> None:
    client = RawClient(sim2.url)
    client.recv()
    for junk in ("{{{", "[]", json.dumps({"method": "teleport", "req_id": 1})):
        client.send(junk)
        [reply] = client.sync(v2=True)
        assert reply["success"] is False and reply["error"]
    client.close()


# --- token endpoint ---------------------------------------------------------------------------


def test_api_sign_matches_krakens_published_example() -> None:
    # Example from Kraken's REST authentication guide.
    secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
    body = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
    assert (
        api_sign("/0/private/AddOrder", "1616492376594", body, secret)
        == "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
    )


def test_token_helper_against_the_sim_rest_endpoint(sim: KrakenSim) -> None:
    token, expires = get_websockets_token(DEFAULT_API_KEY, DEFAULT_API_SECRET, base_url=sim.http_url)
    assert expires == 900 and token in sim.tokens
    # the token opens a private subscription
    client = RawClient(sim.url)
    client.recv()
    client.send({"event": "subscribe", "subscription": {"name": "ownTrades", "token": token}})
    assert client.sync()[0]["status"] == "subscribed"
    client.close()
    wrong = base64.b64encode(b"another secret").decode()
    with pytest.raises(AuthError) as info:
        get_websockets_token(DEFAULT_API_KEY, wrong, base_url=sim.http_url)
    assert "EAPI:Invalid signature" in str(info.value) and wrong not in str(info.value)
    with pytest.raises(AuthError, match="EAPI:Invalid key"):
        get_websockets_token("nobody", DEFAULT_API_SECRET, base_url=sim.http_url)
    with pytest.raises(AuthError, match="EAPI:Invalid nonce"):
        get_websockets_token(DEFAULT_API_KEY, DEFAULT_API_SECRET, base_url=sim.http_url, nonce="1")
    with pytest.raises(InvalidArgument):
        get_websockets_token(DEFAULT_API_KEY, "not base64!", base_url=sim.http_url)


def test_sim_rejects_a_tampered_body(sim: KrakenSim) -> None:
    # Signature made for one nonce, body carrying another: the server's check must fail.
    nonce = "99999999999999"
    sign = api_sign("/0/private/GetWebSocketsToken", nonce, f"nonce={nonce}", DEFAULT_API_SECRET)
    request = urllib.request.Request(
        sim.http_url + "/0/private/GetWebSocketsToken",
        data=b"nonce=99999999999998",
        headers={"API-Key": DEFAULT_API_KEY, "API-Sign": sign},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["error"] == ["EAPI:Invalid signature"]


def test_token_provider_caches_and_hides_secrets(sim: KrakenSim) -> None:
    provider = KrakenToken(DEFAULT_API_KEY, DEFAULT_API_SECRET, base_url=sim.http_url)
    first = provider()
    assert provider() == first and first in sim.tokens
    assert DEFAULT_API_SECRET not in repr(provider) and DEFAULT_API_KEY not in repr(provider)
    assert first not in repr(provider)
    refreshing = KrakenToken(DEFAULT_API_KEY, DEFAULT_API_SECRET, base_url=sim.http_url, max_age=0.0)
    assert refreshing() != refreshing()
