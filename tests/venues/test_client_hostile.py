"""Venue clients under hostile arguments (issue 16: defects 13 and 15).

Wrong types and values fail in the constructor (or the method) with ``InvalidArgument`` naming
the argument; credentials never travel over plain ``ws://``/``http://`` to a remote host unless
the user opts in; a raising ``client.state`` observer breaks nothing.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from rxfeeds.errors import InvalidArgument
from rxfeeds.events import ConnectionState
from rxfeeds.sim.kraken import DEFAULT_API_KEY, DEFAULT_API_SECRET, KrakenSim
from rxfeeds.venues.base import check_secure_url, is_loopback_host
from rxfeeds.venues.binance_dex.client import BinanceDex
from rxfeeds.venues.binance_spot.client import BinanceSpot
from rxfeeds.venues.bitshares.client import BitShares
from rxfeeds.venues.hitbtc.client import HitBTC
from rxfeeds.venues.hitbtc.client_v3 import HitBTCV3
from rxfeeds.venues.kraken.auth import KrakenToken
from rxfeeds.venues.kraken.client import Kraken
from rxfeeds.venues.kraken.client_v2 import KrakenV2
from rxfeeds.venues.midchains.client import Midchains
from tests.helpers import FAST, wait_until

# ---------------------------------------------------------------------- 13: constructors

CONSTRUCTOR_CASES: list[tuple[Any, dict[str, Any], str]] = [
    # accepted at construction, failing only at the first subscription (or never)
    (BitShares, {"url": "ws://[::1"}, "url"),
    (BitShares, {"urls": ["http://node"]}, "urls"),
    (Kraken, {"url": "wss://h:99999"}, "url"),
    (BinanceDex, {"url": []}, "url"),
    # used to raise TypeError / AttributeError without the argument's name
    (Kraken, {"env": ["production"]}, "env"),
    (KrakenV2, {"env": {"a": 1}}, "env"),
    (HitBTC, {"request_timeout": "10"}, "request_timeout"),
    (HitBTCV3, {"url": ["wss://x"]}, "url"),
    (HitBTCV3, {"rest_url": 5}, "rest_url"),
    (HitBTCV3, {"ticker_speed": ["1s"]}, "ticker_speed"),
    (BinanceDex, {"url": 5}, "url"),
    (BinanceDex, {"keepalive_interval": "60"}, "keepalive_interval"),
    (BinanceSpot, {"min_send_interval": "0.1"}, "min_send_interval"),
    (BinanceSpot, {"rest_rate": None}, "rest_rate"),
    (BinanceSpot, {"rest_url": 5}, "rest_url"),
    (BitShares, {"backoff": "fast"}, "backoff"),
    (BitShares, {"urls": 5}, "urls"),
    # used to be accepted and to fail (or misbehave) at first use
    (BitShares, {"keep_alive": math.nan}, "keep_alive"),
    (Kraken, {"url": 5}, "url"),
    (Kraken, {"auth_url": "http://x"}, "auth_url"),
    (HitBTC, {"trading_url": "https://x"}, "trading_url"),
    (Midchains, {"url": "ws://"}, "url"),
    (Kraken, {"ping_interval": math.nan}, "ping_interval"),
    (HitBTC, {"stale_timeout": "5"}, "stale_timeout"),
    (Midchains, {"backoff": 5}, "backoff"),
    (BinanceSpot, {"backoff": object()}, "backoff"),
    (KrakenV2, {"ping_interval": 5, "ping_timeout": 9}, "ping_timeout"),
    (BinanceDex, {"header": "X: 1"}, "header"),
    (HitBTC, {"pingInterval": 5}, "pingInterval"),  # a misspelt option
    (Kraken, {"allow_insecure": "yes"}, "allow_insecure"),
]


@pytest.mark.parametrize(("cls", "kwargs", "name"), CONSTRUCTOR_CASES)
def test_bad_constructor_arguments_name_themselves(cls: Any, kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        cls(**kwargs)
    assert info.value.name == name


METHOD_CASES: list[tuple[Any, str, tuple[Any, ...], dict[str, Any], str]] = [
    (BinanceSpot, "trades", (5,), {}, "symbols"),
    (BinanceSpot, "depth", ([1, 2],), {}, "symbols"),
    (BinanceDex, "trades", (None,), {}, "symbols"),
    (BinanceDex, "ticker", ([7],), {}, "symbols"),
    (BitShares, "objects", (5,), {}, "ids"),
    (BitShares, "accounts", (None,), {}, "names_or_ids"),
    (HitBTC, "candles", ("ETHBTC", ["M1"]), {}, "period"),
    (HitBTCV3, "candles", ("ETHBTC", {"p": 1}), {}, "period"),
    (Midchains, "challenge", (), {"timeout": "10"}, "timeout"),
    (Midchains, "logout", (), {"timeout": None}, "timeout"),
]


@pytest.mark.parametrize(("cls", "method", "args", "kwargs", "name"), METHOD_CASES)
def test_bad_method_arguments_name_themselves(
    cls: Any, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], name: str
) -> None:
    client = cls()
    with pytest.raises(InvalidArgument) as info:
        getattr(client, method)(*args, **kwargs)
    assert info.value.name == name
    assert not client.connections  # refused before any connection was opened


def test_kraken_order_flags_must_be_strings() -> None:
    with Kraken(url="ws://127.0.0.1:1", auth_url="ws://127.0.0.1:1") as kraken:
        with pytest.raises(InvalidArgument) as info:
            kraken.add_order("tok", "XBT/USD", "buy", "limit", "1", price="1", oflags=[1, 2])
        assert info.value.name == "oflags"


def test_a_raising_state_observer_breaks_neither_book_nor_other_observers() -> None:
    with KrakenSim(seed=4, tick_interval=0.02) as sim:
        client = Kraken(url=sim.url, auth_url=sim.url, backoff=FAST)

        def bad(_: Any) -> None:
            raise RuntimeError("dashboard bug")

        seen: list[Any] = []
        client.state.subscribe(bad)
        client.state.subscribe(seen.append)
        got: list[Any] = []
        d = client.book("XBT/USD").subscribe(got.append)  # used to raise the observer's error
        wait_until(lambda: len(got) >= 2)
        assert any(st.state is ConnectionState.OPEN for st in seen)
        d.dispose()
        client.close()


# ---------------------------------------------------------------------- 15: plain-text credentials


def test_loopback_hosts() -> None:
    for host in ("localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "LOCALHOST"):
        assert is_loopback_host(host), host
    for host in ("example.com", "10.0.0.1", "::2", "", None, "localhost.example.com"):
        assert not is_loopback_host(host), host
    check_secure_url("url", "ws://[::1]:9000/ws")
    check_secure_url("url", "http://localhost:8080")
    with pytest.raises(InvalidArgument):
        check_secure_url("url", "http://api.example.com")


@pytest.mark.parametrize("cls", [HitBTC, HitBTCV3])
def test_hitbtc_login_over_plain_ws_to_a_remote_host_is_refused(cls: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        cls(url="wss://public.example.com", trading_url="ws://trade.example.com", key="k", secret="s")
    assert info.value.name == "trading_url"
    assert "s" not in str(info.value).split("'")[1:2]  # the URL, not the secret, is shown
    with pytest.raises(InvalidArgument) as info:
        cls(
            url="wss://public.example.com",
            trading_url="wss://trade.example.com",
            account_url="ws://account.example.com",
            key="k",
            secret="s",
        )
    assert info.value.name == "account_url"
    # Opt-in, loopback and no credentials are all fine.
    cls(
        trading_url="ws://trade.example.com",
        account_url="ws://trade.example.com",
        key="k",
        secret="s",
        allow_insecure=True,
    )
    cls(trading_url="ws://127.0.0.1:9000", account_url="ws://127.0.0.1:9000", key="k", secret="s")
    cls(url="ws://public.example.com", trading_url="ws://trade.example.com")


@pytest.mark.parametrize("cls", [Kraken, KrakenV2])
def test_kraken_token_over_plain_ws_to_a_remote_host_is_refused(cls: Any) -> None:
    client = cls(url="ws://public.example.com", auth_url="ws://auth.example.com")
    private = client.own_trades if cls is Kraken else client.executions
    with pytest.raises(InvalidArgument) as info:
        private("secret-token")
    assert info.value.name == "auth_url" and "secret-token" not in str(info.value)
    assert not client.connections  # nothing was opened, so nothing was sent
    assert cls(url="ws://public.example.com").trades("XBT/USD") is not None  # public data is not refused
    allowed = cls(auth_url="ws://auth.example.com", allow_insecure=True)
    assert (allowed.own_trades if cls is Kraken else allowed.executions)("tok") is not None
    allowed.close()


def test_kraken_rest_token_over_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(InvalidArgument) as info:
        KrakenToken(DEFAULT_API_KEY, DEFAULT_API_SECRET, base_url="http://api.example.com")
    assert info.value.name == "base_url"
    KrakenToken(DEFAULT_API_KEY, DEFAULT_API_SECRET, base_url="http://api.example.com", allow_insecure=True)
    with KrakenSim(seed=1, tick_interval=None) as sim:  # loopback http: allowed
        token = KrakenToken(DEFAULT_API_KEY, DEFAULT_API_SECRET, base_url=sim.http_url)
        assert token()


def test_midchains_login_over_plain_ws_to_a_remote_host_is_refused() -> None:
    client = Midchains("ws://midchains.example.com/ws")
    with pytest.raises(InvalidArgument) as info:
        client.login("me", "pw")
    assert info.value.name == "url"
    assert not client.connections
    Midchains("ws://midchains.example.com/ws", allow_insecure=True).login("me", "pw")  # builds, sends nothing yet
    Midchains("ws://127.0.0.1:1/ws").login("me", "pw")


def test_bitshares_credentials_over_plain_ws_to_a_remote_node_are_refused() -> None:
    with pytest.raises(InvalidArgument) as info:
        BitShares("ws://node.example.com/ws", user="alice", password="pw")
    assert info.value.name == "urls" and "pw" not in str(info.value)
    with pytest.raises(InvalidArgument):
        BitShares(["wss://a.example.com", "ws://b.example.com"], user="alice", password="pw")
    BitShares("ws://node.example.com/ws")  # no credentials: public data is fine
    BitShares("ws://node.example.com/ws", user="alice", password="pw", allow_insecure=True)
    BitShares("ws://127.0.0.1:8090", user="alice", password="pw")


# ---------------------------------------------------------------------- secrets in errors and reprs

SECRET = "TOPSECRET-9f2c"


@pytest.mark.parametrize(
    "make",
    [
        lambda: Kraken(secret=SECRET),  # a misspelt keyword may hold a credential
        lambda: Midchains(password=SECRET),
        lambda: Kraken(header=f"Authorization: Bearer {SECRET}"),
        lambda: Kraken(sslopt=f"certfile={SECRET}"),
        lambda: HitBTC(url=f"http://u:{SECRET}@h/?token={SECRET}"),
        lambda: Midchains(url=f"ws://bob:{SECRET}@example.com/").login("u", "p"),
    ],
)
def test_argument_errors_never_echo_a_secret(make: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        make()
    assert SECRET not in str(info.value) and SECRET not in repr(info.value.value)


def test_reprs_and_states_hide_credentials_in_urls() -> None:
    url = f"wss://u:{SECRET}@h.example/ws?token={SECRET}"
    kraken = Kraken(url=url)
    token = KrakenToken("key", "c2VjcmV0", base_url=f"https://u:{SECRET}@api.example")
    shown = [repr(kraken), repr(token), repr(HitBTC(url=url)), repr(Midchains(url=url)), repr(BitShares(urls=[url]))]
    transport: Any = kraken._public("public")  # built, not connected
    statuses: list[Any] = []
    transport.state.subscribe(statuses.append)
    shown += [repr(transport), str(transport.stats()), *map(str, statuses)]
    assert len(shown) == 8 and all(SECRET not in text for text in shown), shown


def test_a_short_ping_interval_fits_the_default_ping_timeout() -> None:
    # used to fail on ping_timeout=10.0, an option the user never passed
    Kraken(ping_interval=5)
    with pytest.raises(InvalidArgument) as info:
        Kraken(ping_interval=5, ping_timeout=6)
    assert info.value.name == "ping_timeout"
