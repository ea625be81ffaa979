"""ops.of_type: filtering a mixed stream by event type, and the element type checkers infer."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from reactivex.testing import ReactiveTest, TestScheduler

from rxfeeds.errors import InvalidArgument
from rxfeeds.events import BookDelta, Event, IntegrityEvent, StreamReset, Trade, VenueEvent
from rxfeeds.ops.of_type import of_type

on_next = ReactiveTest.on_next
on_completed = ReactiveTest.on_completed

TRADE = Trade("kraken", "XBT/USD", 1.0, 1.0, price=100.0, size=1.0, side="buy")
DELTA = BookDelta("kraken", "XBT/USD", 1.0, 1.0, bids=((99.0, 1.0, "99.0", "1.0"),), asks=())
RESET = StreamReset("kraken", "XBT/USD", 1.0, 1.0, channel="book-10", reason="reconnect")
GAP = IntegrityEvent("kraken", "XBT/USD", 1.0, 1.0, kind="gap")


class BlockHeight(VenueEvent):
    """A venue-specific subclass, as venue codecs define them."""


BLOCK = BlockHeight("binance-dex", "", 1.0, 1.0, kind="block_height", data=7)


def run(source_events: list[Any], *types: type[Any]) -> list[Any]:
    sched = TestScheduler()
    messages = [on_next(210 + 10 * i, e) for i, e in enumerate(source_events)]
    source = sched.create_hot_observable(*messages, on_completed(210 + 10 * len(source_events)))
    result = sched.start(lambda: source.pipe(of_type(*types)))
    assert result.messages[-1] == on_completed(210 + 10 * len(source_events))
    return [(m.time, m.value.value) for m in result.messages[:-1]]


def test_keeps_only_the_requested_type_at_its_original_time() -> None:
    #  source: -t-d-r-t-g-|      of_type(Trade): -t-----t---|
    events = [TRADE, DELTA, RESET, TRADE, GAP]
    assert run(events, Trade) == [(210, TRADE), (240, TRADE)]


def test_several_types_and_subclasses() -> None:
    events = [TRADE, DELTA, BLOCK, RESET, GAP]
    assert run(events, BookDelta, StreamReset) == [(220, DELTA), (240, RESET)]
    # a base class keeps its subclasses
    assert run(events, VenueEvent) == [(230, BLOCK)]
    assert [e for _, e in run(events, Event)] == events
    assert run(events, BookDelta, StreamReset, VenueEvent, IntegrityEvent) == [
        (220, DELTA),
        (230, BLOCK),
        (240, RESET),
        (250, GAP),
    ]


def test_no_types_or_non_classes_raise_invalid_argument() -> None:
    with pytest.raises(InvalidArgument) as info:
        of_type()
    assert info.value.name == "event_types" and isinstance(info.value, ValueError)
    with pytest.raises(InvalidArgument) as info:
        of_type(Trade, "BookDelta")  # type: ignore[call-overload]
    assert info.value.name == "event_types" and "BookDelta" in str(info.value)


def test_type_checkers_narrow_the_element_type(tmp_path: Path) -> None:
    mypy_api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "narrowing.py"
    snippet.write_text(
        textwrap.dedent(
            """
            from typing import assert_type
            import reactivex as rx
            from reactivex import Observable
            from reactivex import operators as ops
            from rxfeeds.events import BookDelta, Event, Trade
            from rxfeeds.ops.of_type import of_type

            def price(trade: Trade) -> float:
                return trade.price

            mixed: Observable[Event] = rx.empty()
            assert_type(mixed.pipe(of_type(Trade)), Observable[Trade])
            assert_type(mixed.pipe(of_type(Trade, BookDelta)), Observable[Trade | BookDelta])
            prices: Observable[float] = mixed.pipe(of_type(Trade), ops.map(price))
            trades = mixed.pipe(of_type(Trade))
            wrong: Observable[BookDelta] = trades  # must be reported
            """
        )
    )
    out, err, _status = mypy_api.run(
        ["--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"), str(snippet)]
    )
    errors = [line for line in out.splitlines() if ": error:" in line]
    # exactly one error: the deliberately wrong assignment on the last line
    assert len(errors) == 1, out + err
    assert "narrowing.py:17:" in errors[0] and "Observable[Trade]" in errors[0]
