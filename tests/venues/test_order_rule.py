"""One order-argument rule on every venue: same accept/reject outcome, exact plain decimal text sent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest

from rxfeeds.errors import InvalidArgument
from rxfeeds.sim.kraken import DEFAULT_API_KEY, DEFAULT_API_SECRET, KrakenSim
from rxfeeds.sim.kraken_v2 import KrakenV2Sim
from rxfeeds.transport import FrameTap
from rxfeeds.venues.hitbtc import client as hitbtc_client
from rxfeeds.venues.kraken import client as kraken_v1
from rxfeeds.venues.kraken import client_v2 as kraken_v2
from rxfeeds.venues.kraken.auth import KrakenToken
from rxfeeds.venues.midchains import client as midchains_client
from rxfeeds.venues.orders import MAX_DIGITS, order_decimal, order_text

pytestmark = pytest.mark.timeout(60)

ACCEPTED = [
    ("1e-5", "0.00001"),
    ("0.50", "0.50"),
    (Decimal("2.5E+3"), "2500"),
    (3, "3"),
    (0.1, "0.1"),
    (1e-7, "0.0000001"),
    (" 7.25 ", "7.25"),
]
REFUSED = [
    "0",
    "-1",
    "nan",
    "inf",
    "1,5",
    "0x10",
    "",
    True,
    None,
    [1],
    float("nan"),
    "1e" + "9" * 4,
    "1" * (MAX_DIGITS + 1),
]


def _kraken_v2_text(name: str, value: Any) -> str:
    return orjson.dumps({"v": kraken_v2._number(name, value)}).decode()[5:-1]


# every venue's own entry point to the rule (sizes in each client's request frames)
SENDERS = {
    "kraken": kraken_v1.decimal_text,
    "kraken-v2": _kraken_v2_text,
    "hitbtc": hitbtc_client.order_text,
    "midchains": midchains_client.order_text,
}


@pytest.mark.parametrize("venue", list(SENDERS))
@pytest.mark.parametrize(("value", "sent"), ACCEPTED)
def test_accepted_values_go_out_as_the_same_plain_text(venue: str, value: Any, sent: str) -> None:
    assert SENDERS[venue]("qty", value) == sent
    assert order_decimal("qty", value) == Decimal(sent)


@pytest.mark.parametrize("venue", list(SENDERS))
@pytest.mark.parametrize("value", REFUSED)
def test_refused_values_are_refused_by_every_venue(venue: str, value: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        SENDERS[venue]("qty", value)
    assert info.value.name == "qty"


def test_zero_only_where_allowed() -> None:
    assert order_text("price", "0", allow_zero=True) == "0"
    with pytest.raises(InvalidArgument, match="must be positive"):
        order_text("price", "0")


class _Out(FrameTap):
    def __init__(self) -> None:
        self.frames: list[str] = []

    def frame_out(self, url: str, data: str, t: float) -> None:
        self.frames.append(data)


def test_kraken_v1_and_v2_send_scientific_sizes_as_plain_decimals() -> None:
    """End to end over the simulators: ``"1e-5"`` reaches the venue as ``0.00001``."""
    with KrakenV2Sim(seed=5, tick_interval=None) as sim:
        token = KrakenToken(DEFAULT_API_KEY, DEFAULT_API_SECRET, base_url=sim.http_url)
        with kraken_v2.KrakenV2(url=sim.url, auth_url=sim.url) as client:
            out = _Out()
            client.add_tap(out)
            client.add_order(token, "BTC/USD", "buy", "limit", "1e-5", limit_price=Decimal("100.10")).run()
            [frame] = [f for f in out.frames if '"add_order"' in f]
            assert '"order_qty":0.00001' in frame and '"limit_price":100.10' in frame
    with KrakenSim(seed=5, tick_interval=None) as sim1:
        token = KrakenToken(DEFAULT_API_KEY, DEFAULT_API_SECRET, base_url=sim1.http_url)
        with kraken_v1.Kraken(url=sim1.url, auth_url=sim1.url) as client1:
            out = _Out()
            client1.add_tap(out)
            client1.add_order(token, "XBT/USD", "buy", "limit", "1e-5", price="100").run()
            [frame] = [f for f in out.frames if '"addOrder"' in f]
            assert '"volume":"0.00001"' in frame
