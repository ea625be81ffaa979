"""Real data: 1-minute klines from HitBTC's own ``snapshotTrades`` reproduce its M1 ``snapshotCandles``.

``hitbtc-v2-public.dev.capture`` holds, per symbol, a snapshot of the last 100 trades and of the last
100 M1 candles (taken within a second of each other).  Both are decoded by the HitBTC v2 codec; the
trades are replayed through ``ops.klines("1m")`` in virtual time at their exchange times, and the
clock is then run to the snapshot time, so bars close on the clock as they would live.  Every
bucket *fully covered* by the trade snapshot must equal the venue's candle in open, high, low,
close and volume (volume: the float sum of the quantities, equal to the venue's decimal total
within 1e-12 relative).

Fully covered bucket ``[start, start + 60)`` of a symbol:

* ``start`` is after the bucket of the oldest snapshot trade (that bucket may have older trades
  the 100-trade snapshot cut off),
* ``start + 60 <=`` both snapshots' receive times (the bucket had ended, so neither side can
  still be accumulating), and
* ``start >=`` the oldest candle of the candle snapshot (the venue sent a candle for it if it
  had trades).

In that range the set of buckets with trades must equal the set of venue candles, both ways.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.support.klines import klines_of, read_snapshots

pytestmark = pytest.mark.captures


def test_trade_snapshot_klines_equal_hitbtc_m1_candles(capture_file: Any) -> None:
    trades, candles, snapshot_time = read_snapshots(capture_file("hitbtc-v2-public.dev.capture"))
    assert sorted(trades) == sorted(candles) and len(trades) == 6

    compared = 0
    for symbol, symbol_trades in trades.items():
        assert len(symbol_trades) == 100
        venue = {k.open_time: k for k in candles[symbol]}
        ours = {k.open_time: k for k in klines_of(symbol_trades, snapshot_time[symbol])}
        oldest_bucket = min(math.floor(t.time / 60) * 60 for t in symbol_trades)
        first_candle = min(venue)
        end_before = snapshot_time[symbol]

        def covered(start: float, low: float = max(oldest_bucket + 60, first_candle), high: float = end_before) -> bool:
            return low <= start and start + 60 <= high

        ours_covered = {start for start, k in ours.items() if covered(start) and k.volume > 0}
        venue_covered = {start for start in venue if covered(start)}
        assert ours_covered == venue_covered, symbol
        assert ours_covered, symbol
        for start in sorted(ours_covered):
            mine, theirs = ours[start], venue[start]
            assert mine.closed  # closed by the virtual clock passing the bucket end + grace
            where = f"{symbol} {start}"
            assert (mine.open, mine.high, mine.low, mine.close) == (
                theirs.open,
                theirs.high,
                theirs.low,
                theirs.close,
            ), where
            # float sum of the quantities vs the venue's decimal total: equal to the last bits
            assert math.isclose(mine.volume, theirs.volume, rel_tol=1e-12, abs_tol=0.0), where
            compared += 1

    print(f"\nHitBTC M1 buckets fully covered by snapshot trades and reproduced exactly: {compared}")
    assert compared == 243  # every covered bucket of the six symbols (31+53+14+42+52+51)
