"""ops.of_channel: selecting one stream type out of a mixed stream by channel name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from reactivex.testing import ReactiveTest, TestScheduler

from rxfeeds.errors import InvalidArgument
from rxfeeds.events import Event, IntegrityEvent, OrderUpdate, StreamReset, Trade, VenueEvent
from rxfeeds.ops.of_channel import channels_of, of_channel

on_next = ReactiveTest.on_next
on_completed = ReactiveTest.on_completed


@dataclass(frozen=True, slots=True)
class ChannelOrder(OrderUpdate):
    """An order update that names its channel, as venue codecs do for account streams."""

    channel: str = "orders"


ADDR = "bnb1m4m9etgf3ca5wpgkqe5nr6r33a4ynxfln3yz4v"
ORDER = ChannelOrder("binance-dex", "ETH_BTC", 1.0, 1.0, order_id="1", status="Ack")
ACCOUNT = VenueEvent("binance-dex", "", 1.0, 1.0, kind="accounts", data={"B": []})
TRANSFER = VenueEvent("binance-dex", "", 1.0, 1.0, kind="transfers", data={"H": "x"})
RESET_ORDERS = StreamReset("binance-dex", ADDR, 1.0, 1.0, channel="orders", reason="reconnect")
RESET_ACCOUNTS = StreamReset("binance-dex", ADDR, 1.0, 1.0, channel="accounts", reason="reconnect")
TRADE = Trade("binance-dex", "ETH_BTC", 1.0, 1.0, price=1.0, size=1.0)
GAP = IntegrityEvent("binance-dex", "ETH_BTC", 1.0, 1.0, kind="gap")
ACCOUNT_STREAM = [RESET_ORDERS, RESET_ACCOUNTS, ORDER, ACCOUNT, TRANSFER, ORDER, TRADE, GAP, ACCOUNT]


def run(events: list[Any], *names: str, **options: Any) -> list[tuple[float, Any]]:
    sched = TestScheduler()
    messages = [on_next(210 + 10 * i, e) for i, e in enumerate(events)]
    end = 210 + 10 * len(events)
    source = sched.create_hot_observable(*messages, on_completed(end))
    result = sched.start(lambda: source.pipe(of_channel(*names, **options)))
    assert result.messages[-1] == on_completed(end)
    return [(m.time, m.value.value) for m in result.messages[:-1]]


def test_orders_out_of_an_account_stream_with_their_reset_markers() -> None:
    #  source:              -R-r-o-a-t-o-T-g-a-|
    #  of_channel("orders"): -R---o-----o-------|
    assert run(ACCOUNT_STREAM, "orders") == [(210, RESET_ORDERS), (230, ORDER), (260, ORDER)]


def test_venue_event_kind_is_its_channel_and_several_names_combine() -> None:
    assert run(ACCOUNT_STREAM, "accounts") == [(220, RESET_ACCOUNTS), (240, ACCOUNT), (290, ACCOUNT)]
    assert run(ACCOUNT_STREAM, "transfers", "orders") == [
        (210, RESET_ORDERS),
        (230, ORDER),
        (250, TRANSFER),
        (260, ORDER),
    ]
    assert run(ACCOUNT_STREAM, "trades") == []


def test_channels_of_documents_what_counts() -> None:
    assert channels_of(ORDER) == ("orders",)
    assert channels_of(ACCOUNT) == ("accounts",)
    assert channels_of(RESET_ACCOUNTS) == ("accounts",)
    assert channels_of(TRADE) == ()
    assert channels_of(GAP) == ()  # IntegrityEvent.kind is not a channel

    @dataclass(frozen=True, slots=True)
    class Both(VenueEvent):
        channel: str = "account"

    both = Both("x", "", 1.0, 1.0, kind="orders")
    assert channels_of(both) == ("account", "orders")
    assert run([both], "account") == run([both], "orders") == [(210, both)]


def test_custom_channel_function() -> None:
    def by_symbol(e: Event) -> str | None:
        return e.symbol or None

    assert run(ACCOUNT_STREAM, "ETH_BTC", channel_of=by_symbol) == [
        (230, ORDER),
        (260, ORDER),
        (270, TRADE),
        (280, GAP),
    ]


def test_odd_channel_attributes_do_not_break_the_stream() -> None:
    class Weird:
        def __init__(self) -> None:
            self.channel = ["not", "hashable"]

    weird = Weird()
    assert run([weird, ORDER], "orders") == [(220, ORDER)]


@pytest.mark.parametrize("names", [(), ("",), ("orders", 3)])
def test_bad_names_raise_invalid_argument(names: tuple[Any, ...]) -> None:
    with pytest.raises(InvalidArgument) as info:
        of_channel(*names)
    assert info.value.name == "names" and isinstance(info.value, ValueError)
