"""Over real sockets: klines built from the Kraken client's trades equal the simulator's own candles.

The Kraken v1 simulator (a real websocket server on 127.0.0.1) steps a seeded market on the wall
clock and sends its trades; the real client stack (websocket-client, socket subject, Kraken codec)
delivers them; ``ops.klines("1s")`` on the default (real-time) scheduler builds bars and closes
them on the clock.  The truth is the simulator market's own candles (``SyntheticMarket.candles``),
computed from the trades it printed, in integer ticks and units.

``late="amend"`` keeps the test exact on a loaded machine: a trade delivered more than ``grace``
after its second ended would re-emit its bar, and the last version of every bar is compared.  The
simulator clock is rounded to the millisecond so the ``%.6f`` wire time is the exact trade time
(no rounding across a bucket boundary).
"""

from __future__ import annotations

import math
import time

from rxfeeds import ops
from rxfeeds.events import Kline
from rxfeeds.sim.kraken import KrakenSim
from rxfeeds.venues.kraken.client import Kraken
from tests.helpers import wait_until

PAIR = "XBT/USD"


def test_klines_from_kraken_trades_match_the_simulator_candles() -> None:
    with KrakenSim(seed=91, tick_interval=0.02) as sim:
        sim.clock = lambda: round(time.time(), 3)
        market = sim.market(PAIR)
        bars: list[Kline] = []
        with Kraken(url=sim.url, auth_url=sim.url) as kraken:
            subscription = kraken.trades(PAIR).pipe(ops.klines("1s", late="amend", grace=0.5)).subscribe(bars.append)
            try:
                wait_until(lambda: len({k.open_time for k in bars if k.closed}) >= 6, timeout=20.0)
            finally:
                subscription.dispose()
        sim.freeze()
        candles = {c.open_time: c for c in sim.call(market.candles, 1.0)}

    latest: dict[float, Kline] = {}
    for k in bars:  # last revision of every bucket
        latest[k.open_time] = k
    first = min(latest)  # the subscription started inside this second: partial, not compared
    compared = 0
    for start, bar in sorted(latest.items()):
        if start == first:
            continue
        truth = candles[start]
        assert bar.closed and (bar.venue, bar.symbol, bar.interval) == ("kraken", PAIR, "1s")
        assert bar.close_time == truth.close_time
        assert [market.ticks(p) for p in (bar.open, bar.high, bar.low, bar.close)] == [
            truth.open,
            truth.high,
            truth.low,
            truth.close,
        ], start
        assert bar.trades == truth.count
        assert math.isclose(bar.volume, market.size(truth.volume), rel_tol=1e-9)
        assert bar.buy_volume is not None
        assert math.isclose(bar.buy_volume, market.size(truth.buy_volume), rel_tol=1e-9, abs_tol=1e-12)
        assert (bar.first_trade_time, bar.last_trade_time) == (truth.first_trade_time, truth.last_trade_time)
        compared += 1
    assert compared >= 5
    # every simulator candle between our first and last compared bucket is one of ours
    inside = [s for s in candles if first < s <= max(latest)]
    assert sorted(inside) == sorted(s for s in latest if s != first)
