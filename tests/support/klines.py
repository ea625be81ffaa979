"""Klines from real data: HitBTC's trade and M1 candle snapshots, and ``ops.klines`` in virtual time."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from reactivex.subject import Subject
from reactivex.testing import TestScheduler

from rxfeeds import ops
from rxfeeds.codec import Data
from rxfeeds.events import Kline, Trade
from rxfeeds.venues.hitbtc.codec import HitBTCCodec


def read_snapshots(path: Path) -> tuple[dict[str, list[Trade]], dict[str, list[Kline]], dict[str, float]]:
    """Trades and M1 candles per symbol from the snapshot frames, and the earliest snapshot time."""
    codec = HitBTCCodec()
    trades: dict[str, list[Trade]] = defaultdict(list)
    candles: dict[str, list[Kline]] = defaultdict(list)
    snapshot_time: dict[str, float] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line[:1].isdigit():
                continue  # connection, sent-frame and REST lines
            stamp, _, frame = line.rstrip("\n").partition(": ")
            if '"snapshotTrades"' not in frame and '"snapshotCandles"' not in frame:
                continue
            recv_time = float(stamp)
            for message in codec.decode(frame.encode(), recv_time):
                assert isinstance(message, Data)
                channel, symbol = message.key
                if channel == "trades":
                    trades[symbol].extend(e for e in message.events if isinstance(e, Trade))
                elif channel == "candles-M1":
                    candles[symbol].extend(e for e in message.events if isinstance(e, Kline))
                else:
                    continue
                snapshot_time[symbol] = min(snapshot_time.get(symbol, recv_time), recv_time)
    return trades, candles, snapshot_time


def klines_of(trades: list[Trade], until: float) -> list[Kline]:
    """Replay the trades in virtual time at their exchange times, then run the clock to ``until``."""
    scheduler = TestScheduler()
    subject: Subject[Trade] = Subject()
    out: list[Kline] = []
    subject.pipe(ops.klines("1m", scheduler=scheduler)).subscribe(out.append)
    for t in trades:
        scheduler.schedule_absolute(t.time, lambda _s, _st, t=t: subject.on_next(t))
    scheduler.advance_to(until)
    return out
