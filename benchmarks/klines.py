"""Throughput of ``rxfeeds.ops.klines("1m")`` on synthetic trades, with a plain-loop baseline.

Run from the project root::

    python3 benchmarks/klines.py [--trades 1000000] [--symbols 4]

Prints one JSON object: trades/s through the operator (trades pushed by a source that calls
``on_next`` in a loop, as the socket subject does), trades/s of a plain Python loop computing the
same OHLCV bars with no Rx in between (the floor any Python implementation pays), and checks that
both give the same bars.  The trades are stamped from the current time on, one every millisecond
(1,000 per minute bar), so with the default scheduler the clock never closes a bar during the run.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import reactivex
from reactivex import abc

from rxfeeds import ops
from rxfeeds.events import Kline, Side, Trade


def make_trades(n: int, symbols: int, seed: int = 7) -> list[Trade]:
    rng = random.Random(seed)
    start = float(int(time.time()) // 60 * 60 + 60)
    names = [f"SYM{i}" for i in range(symbols)]
    prices = [100.0] * symbols
    trades = []
    for i in range(n):
        k = rng.randrange(symbols)
        prices[k] += rng.choice((-0.5, 0.0, 0.5))
        t = start + i * 0.001
        side: Side = "buy" if rng.random() < 0.5 else "sell"
        size = rng.randint(1, 100) / 8
        trades.append(Trade("bench", names[k], t, t, price=prices[k], size=size, side=side))
    return trades


def plain_loop(trades: list[Trade]) -> list[tuple[Any, ...]]:
    """The same 1-minute OHLCV bars by a plain loop (no Rx, no lock)."""
    bars: list[tuple[Any, ...]] = []
    state: dict[tuple[str, str], list[Any]] = {}
    for tr in trades:
        key = (tr.venue, tr.symbol)
        start = tr.time // 60 * 60
        b = state.get(key)
        if b is None or b[0] != start:
            if b is not None:
                bars.append(tuple(b))
            state[key] = [start, tr.price, tr.price, tr.price, tr.price, tr.size]
            continue
        p = tr.price
        if p > b[2]:
            b[2] = p
        elif p < b[3]:
            b[3] = p
        b[4] = p
        b[5] += tr.size
    return bars


def through_klines(trades: list[Trade]) -> list[Kline]:
    def source(observer: abc.ObserverBase[Trade], _scheduler: abc.SchedulerBase | None = None) -> Any:
        on_next = observer.on_next
        for tr in trades:
            on_next(tr)
        return None

    out: list[Kline] = []
    sub = reactivex.create(source).pipe(ops.klines("1m")).subscribe(out.append)
    sub.dispose()
    return [k for k in out if k.closed]


def best_rate(fn: Any, trades: list[Trade], repeat: int) -> tuple[float, Any]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(trades)
        best = min(best, time.perf_counter() - t0)
    return len(trades) / best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--symbols", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    trades = make_trades(args.trades, args.symbols)
    baseline, plain = best_rate(plain_loop, trades, args.repeat)
    rate, bars = best_rate(through_klines, trades, args.repeat)
    mine = sorted((k.symbol, k.open_time, k.open, k.high, k.low, k.close, k.volume) for k in bars)
    # the plain loop sees the same trades: its closed bars (all but each symbol's last) must agree
    theirs = sorted(plain, key=lambda b: (b[0],))
    same = len(mine) == len(theirs) and sorted(m[1:] for m in mine) == sorted(theirs)
    print(
        json.dumps(
            {
                "benchmark": "klines_1m",
                "trades": len(trades),
                "symbols": args.symbols,
                "bars_closed": len(bars),
                "klines_trades_per_s": round(rate),
                "plain_loop_trades_per_s": round(baseline),
                "ratio_to_plain_loop": round(rate / baseline, 3),
                "target_trades_per_s": 500_000,
                "meets_target": rate >= 500_000,
                "bars_match_plain_loop": same,
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
