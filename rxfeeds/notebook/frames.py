"""pandas conversions: klines, trades, book levels and any event list as ``DataFrame`` s."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from typing import Any

from ..books.book import OrderBook
from ..events import Kline, Trade
from ._common import check_count

__all__ = ["book_to_dataframe", "klines_to_dataframe", "to_dataframe", "trades_to_dataframe"]


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('pandas is needed here: pip install "rxfeeds[notebook]"') from exc


def klines_to_dataframe(klines: Iterable[Kline]) -> Any:
    """Klines as a pandas ``DataFrame`` indexed by ``open_time`` (UTC), one row per bar.

    Several versions of one bar (``emit="update"`` streams, amended bars) keep the last one.
    Columns: ``venue, symbol, interval, open, high, low, close, volume, quote_volume, trades,
    vwap, buy_volume, sell_volume, closed, revision, close_time``.

    Example::

        df = nb.klines_to_dataframe(bars)
        df["close"].plot()
    """
    pd = _pandas()
    latest: dict[tuple[str, str, float], Kline] = {}
    for k in klines:
        if isinstance(k, Kline):
            latest[(k.venue, k.symbol, k.open_time)] = k
    columns = [
        "venue",
        "symbol",
        "interval",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "quote_volume",
        "trades",
        "vwap",
        "buy_volume",
        "sell_volume",
        "closed",
        "revision",
        "close_time",
    ]
    rows = [
        {**{c: getattr(k, c) for c in columns}, "open_time": k.open_time}
        for k in sorted(latest.values(), key=lambda k: (k.open_time, k.venue, k.symbol))
    ]
    frame = pd.DataFrame(rows, columns=["open_time", *columns])
    frame["open_time"] = pd.to_datetime(frame["open_time"], unit="s", utc=True)
    frame["close_time"] = pd.to_datetime(frame["close_time"], unit="s", utc=True)
    return frame.set_index("open_time")


def trades_to_dataframe(trades: Iterable[Trade]) -> Any:
    """Trades as a ``DataFrame`` indexed by exchange ``time`` (UTC), in arrival order.

    Columns: ``venue, symbol, price, size, side, trade_id, recv_time``.

    Example::

        df = nb.trades_to_dataframe(nb.collect(kraken.trades("XBT/USD"), seconds=5))
        df.groupby("side")["size"].sum()
    """
    pd = _pandas()
    columns = ["venue", "symbol", "price", "size", "side", "trade_id", "recv_time"]
    rows = [{"time": t.time, **{c: getattr(t, c) for c in columns}} for t in trades if isinstance(t, Trade)]
    frame = pd.DataFrame(rows, columns=["time", *columns])
    frame["time"] = pd.to_datetime(frame["time"], unit="s", utc=True)
    frame["recv_time"] = pd.to_datetime(frame["recv_time"], unit="s", utc=True)
    return frame.set_index("time")


def book_to_dataframe(book: OrderBook, depth: int | None = None) -> Any:
    """Book levels as a ``DataFrame``: ``side, level, price, size, cumulative`` (best first per side).

    ``depth`` limits the levels per side (default: the book's own ``depth``, else all kept); a
    book emitted with a view depth holds only that many levels, so a larger ``depth`` gives no
    more rows.

    Example::

        df = nb.book_to_dataframe(book, depth=10)
        df[df.side == "bid"].cumulative.iloc[-1]
    """
    pd = _pandas()
    depth = check_count("depth", depth)
    if depth is None:
        bids, asks = book.bids, book.asks
    else:
        bids, asks = book.top(depth)
    rows: list[dict[str, Any]] = []
    for side, levels in (("bid", bids), ("ask", asks)):
        total = 0.0
        for i, (price, size) in enumerate(levels):
            total += size
            rows.append({"side": side, "level": i, "price": price, "size": size, "cumulative": total})
    return pd.DataFrame(rows, columns=["side", "level", "price", "size", "cumulative"])


def to_dataframe(values: Any, **options: Any) -> Any:
    """A ``DataFrame`` from what a feed gave: an ``OrderBook``, klines, trades, or any events.

    Dispatches to :func:`book_to_dataframe`, :func:`klines_to_dataframe` or
    :func:`trades_to_dataframe`; other event lists become one row per event (dataclass fields).

    Example::

        nb.to_dataframe(nb.collect(kraken.ticker("XBT/USD"), count=3))
    """
    if isinstance(values, OrderBook):
        return book_to_dataframe(values, **options)
    items = list(values)
    if items and all(isinstance(v, Kline) for v in items):
        return klines_to_dataframe(items)
    if items and all(isinstance(v, Trade) for v in items):
        return trades_to_dataframe(items)
    pd = _pandas()
    rows = [
        {"type": type(v).__name__, **asdict(v)} if is_dataclass(v) and not isinstance(v, type) else {"value": v}
        for v in items
    ]
    return pd.DataFrame(rows)
