"""SyntheticMarket: determinism, book invariants, trades at the touch, candles and ticker vs independent truth."""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxfeeds.errors import InvalidArgument
from rxfeeds.sim.market import SimTrade, SyntheticMarket, format_units

T0 = 1_700_000_000.0


def run(m: SyntheticMarket, steps: int, dt: float = 0.1) -> list:
    return [m.step(T0 + i * dt) for i in range(steps)]


def test_same_seed_same_stream_and_another_seed_differs() -> None:
    a = run(SyntheticMarket("XBT/USD", seed=42, mid="50000", tick_size="0.1"), 300)
    b = run(SyntheticMarket("XBT/USD", seed=42, mid="50000", tick_size="0.1"), 300)
    c = run(SyntheticMarket("XBT/USD", seed=43, mid="50000", tick_size="0.1"), 300)
    assert a == b
    assert a != c
    assert sum(len(s.trades) for s in a) > 0


def test_changes_replayed_on_the_previous_book_give_the_new_book_never_crossed() -> None:
    m = SyntheticMarket("ETHBTC", seed=1, mid="0.05", tick_size="0.000001", size_decimals=4, levels=200)
    book = {"bid": dict(m.bids()), "ask": dict(m.asks())}
    for i in range(1500):
        step = m.step(T0 + i)
        keys = [(c.side, c.price) for c in step.changes]
        assert len(keys) == len(set(keys)), "each level reported once per step"
        for c in step.changes:
            assert c.size >= 0
            assert book[c.side].get(c.price, 0) != c.size, "unchanged levels are not reported"
            if c.size:
                book[c.side][c.price] = c.size
            else:
                del book[c.side][c.price]
        assert sorted(book["bid"].items(), reverse=True) == m.bids()
        assert sorted(book["ask"].items()) == m.asks()
        assert max(book["bid"]) < min(book["ask"]), "crossed or locked book"
        assert all(s > 0 for s in book["bid"].values()) and all(s > 0 for s in book["ask"].values())
        assert 0.9 * m.levels <= len(book["bid"]) <= m.max_levels
        assert 0.9 * m.levels <= len(book["ask"]) <= m.max_levels


def test_trades_consume_liquidity_at_the_touch() -> None:
    # Trades only, so each step's trades can be replayed in order on the book before the step.
    m = SyntheticMarket("X", seed=9, arrival_weight=0, cancel_weight=0, trade_weight=1, levels=50)
    last_id = 0
    for i in range(300):
        bids, asks = dict(m.bids()), dict(m.asks())
        step = m.step(T0 + i)
        for t in step.trades:
            assert t.id == last_id + 1
            last_id = t.id
            resting = asks if t.side == "buy" else bids
            touch = min(resting) if t.side == "buy" else max(resting)
            assert t.price == touch, "trade away from the touch"
            assert 0 < t.size <= resting[touch]
            resting[touch] -= t.size
            if resting[touch] == 0:
                del resting[touch]
            assert t.time == T0 + i
        # what the trades left, before the refill, is what the step reports for those levels
        for c in step.changes:
            side = bids if c.side == "bid" else asks
            if c.price in side:
                assert c.size in (side[c.price], m.level(c.side, c.price))
    assert last_id > 100


def independent_candles(trades: list[SimTrade], interval: float) -> dict[float, tuple]:
    out: dict[float, list[SimTrade]] = {}
    for t in trades:
        out.setdefault(math.floor(t.time / interval) * interval, []).append(t)
    return {
        k: (v[0].price, max(x.price for x in v), min(x.price for x in v), v[-1].price, sum(x.size for x in v), len(v))
        for k, v in out.items()
    }


def test_candles_equal_an_independent_aggregation_of_the_returned_trades() -> None:
    m = SyntheticMarket("XBT/USD", seed=3, mid="50000", tick_size="0.1", trade_weight=1.0)
    trades = [t for s in run(m, 400, dt=0.13) for t in s.trades]
    for interval in (1.0, 5.0, 60.0):
        candles = m.candles(interval)
        expected = independent_candles(trades, interval)
        got = {c.open_time: (c.open, c.high, c.low, c.close, c.volume, c.count) for c in candles}
        assert got == expected
        assert sum(c.quote_volume for c in candles) == sum(t.price * t.size for t in trades)
        assert [c.open_time for c in candles] == sorted(expected)
        assert all(c.closed for c in candles[:-1])
        assert candles[-1].closed == (m.time >= candles[-1].close_time)
    per_second = sorted(independent_candles(trades, 1.0))
    assert [c.open_time for c in m.candles(1.0, since=T0 + 20)] == [k for k in per_second if k >= T0 + 20]


def test_ticker_summarises_the_window_of_trades() -> None:
    m = SyntheticMarket("X", seed=5, ticker_window=10.0, trade_weight=1.0)
    steps = run(m, 200, dt=0.25)  # 50 s of trades, the window keeps the last 10 s
    trades = [t for s in steps for t in s.trades]
    window = [t for t in trades if t.time >= m.time - 10.0]
    s = m.ticker()
    assert s.count == len(window)
    assert (s.open, s.last) == (window[0].price, window[-1].price)
    assert (s.high, s.low) == (max(t.price for t in window), min(t.price for t in window))
    assert s.volume == sum(t.size for t in window)
    assert s.quote_volume == sum(t.size * t.price for t in window)
    assert s.bid == m.best_bid() and s.ask == m.best_ask()


def test_prices_and_sizes_format_exactly() -> None:
    m = SyntheticMarket("XBT/USD", seed=1, mid="50000", tick_size="0.1", size_decimals=8)
    for ticks, units in m.bids(50) + m.asks(50):
        assert Decimal(m.price_text(ticks)) == ticks * Decimal("0.1")
        assert len(m.price_text(ticks, decimals=5).split(".")[1]) == 5
        assert Decimal(m.price_text(ticks, decimals=5)) == Decimal(m.price_text(ticks))
        assert Decimal(m.size_text(units)) == Decimal(units).scaleb(-8)
        assert m.price(ticks) == float(m.price_text(ticks))
    assert m.ticks("50000.3") == 500003
    half = SyntheticMarket("Y", mid="100", tick_size="0.5", size_decimals=0)
    assert {half.price_text(p)[-2:] for p, _ in half.bids(40)} <= {".0", ".5"}
    assert half.size_text(12) == "12"
    with pytest.raises(InvalidArgument):
        m.price_text(1, decimals=0)


@given(st.integers(-(10**20), 10**20), st.integers(0, 12), st.integers(0, 6))
def test_format_units_matches_decimal(units: int, scale: int, extra: int) -> None:
    text = format_units(units, scale, scale + extra)
    assert Decimal(text) == Decimal(units).scaleb(-scale)
    assert len(text.partition(".")[2]) == scale + extra


def test_bad_arguments_are_named() -> None:
    with pytest.raises(InvalidArgument, match="tick_size"):
        SyntheticMarket("X", tick_size="0")
    with pytest.raises(InvalidArgument, match="mid"):
        SyntheticMarket("X", mid="abc")
    with pytest.raises(InvalidArgument, match="levels"):
        SyntheticMarket("X", levels=0)
    with pytest.raises(InvalidArgument, match="interval"):
        SyntheticMarket("X").candles(0)


def test_full_depth_book_with_a_thousand_levels() -> None:
    m = SyntheticMarket("BTCUSDT", seed=2, mid="30000", tick_size="0.01", levels=1000)
    run(m, 50)
    assert len(m.bids()) >= 900 and len(m.asks()) >= 900
    assert m.bids(10) == m.bids()[:10] and m.asks(10) == m.asks()[:10]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    tick=st.sampled_from(["1", "0.5", "0.1", "0.01", "0.000001", "25"]),
    levels=st.integers(1, 40),
    weights=st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0.01, 1)),
    volatility=st.floats(0, 20),
)
def test_book_is_never_crossed_for_any_configuration(
    seed: int, tick: str, levels: int, weights: tuple[float, float, float], volatility: float
) -> None:
    m = SyntheticMarket(
        "X",
        seed,
        mid="3",  # near zero: the walk must not push bids to or below 0
        tick_size=tick,
        levels=levels,
        volatility=volatility,
        arrival_weight=weights[0],
        cancel_weight=weights[1],
        trade_weight=weights[2],
    )
    for i in range(60):
        step = m.step(T0 + i)
        bid, ask = m.best_bid(), m.best_ask()
        assert bid is not None and ask is not None
        assert 1 <= bid[0] < ask[0]
        assert all(t.size > 0 for t in step.trades)
        assert len(m.bids()) <= m.max_levels and len(m.asks()) <= m.max_levels


def test_trades_are_stamped_in_whole_milliseconds_so_candles_match_the_wire_time() -> None:
    # a step in the last half millisecond of a second: venues stamp the trade in whole ms
    # (rounded, ``epoch_ms``), so the market's own candles must bucket it by that stamp
    from rxfeeds.sim.kit.clock import epoch_ms

    m = SyntheticMarket("X", seed=5, trade_weight=20)
    times = [1000.0 + i + 0.9996 for i in range(40)] + [2000.0 + i * 0.0004 for i in range(40)]
    trades = [t for now in times for t in m.step(now).trades]
    assert trades
    for t in trades:
        assert t.time == epoch_ms(t.time) / 1000  # a whole millisecond
        assert epoch_ms(t.time) // 1000 == int(t.time // 1)  # the wire's second is the candle's
    wire_buckets = Counter(float(epoch_ms(t.time) // 1000) for t in trades)
    assert {c.open_time: c.count for c in m.candles(1.0)} == wire_buckets
