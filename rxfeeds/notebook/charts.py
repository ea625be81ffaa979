"""Live matplotlib charts: a depth chart of a book stream and candlesticks with volume.

Figures are ``matplotlib.figure.Figure`` objects rendered to PNG (Agg, no pyplot, no GUI
backend: it works headless) and shown through the view's display handle.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reactivex import Observable

from ..books.book import OrderBook
from ..books.html import number_text
from ..events import IntegrityEvent, Kline
from ..feed import Feed
from . import ipython
from ._common import check_count, utc
from .live import LiveView, show

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CandlestickChart", "DepthChart", "candlestick_chart", "depth_chart"]


class _FigureView(LiveView):
    """A live view drawn into one matplotlib ``Figure`` (Agg, no pyplot) shown as PNG."""

    def __init__(
        self, source: Observable[Any], *, fps: float, display: bool, figsize: tuple[float, float], dpi: int
    ) -> None:
        super().__init__(source, fps=fps, display=display)
        from matplotlib.figure import Figure

        self.figure: Figure = Figure(figsize=figsize, dpi=dpi)
        self.png: bytes = b""

    def _render(self) -> Any:
        self._draw()
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", facecolor="white")
        self.png = buffer.getvalue()
        return ipython.display_module().Image(data=self.png, format="png")

    def _draw(self) -> None:
        raise NotImplementedError

    def save(self, path: str) -> None:
        """Write the current picture to ``path`` (format from the suffix: png, svg, pdf)."""
        self.refresh()
        self.figure.savefig(path, facecolor="white")

    def _repr_png_(self) -> bytes | None:
        # already on screen (and updated in place): a cell ending in the view must not repeat it
        if self._handle is not None:
            return None
        self.refresh()
        return self.png


class DepthChart(_FigureView):
    """Live depth chart (cumulative size against price) of an ``OrderBook`` stream.

    The holder keeps only the newest book (conflation: a burst of 1000 updates costs one
    redraw).  ``IntegrityEvent`` s are counted and shown in the title (a book ``Feed`` given
    here gets them; pipe your own books through ``ops.order_book(integrity=True)`` to have them
    counted); an unsynced book is drawn with a warning.

    Attributes:
        book: the newest ``OrderBook`` received (None before the first).
        books: number of books received.
        integrity: count of integrity events by kind.
    """

    def __init__(
        self,
        source: Observable[Any],
        *,
        depth: int = 25,
        symbol: str | None = None,
        fps: float = 4.0,
        display: bool = True,
        figsize: tuple[float, float] = (8.0, 3.6),
        dpi: int = 90,
    ) -> None:
        self.depth = check_count("depth", depth, allow_none=False) or 25
        if isinstance(source, Feed):
            # a venue book feed (snapshots + deltas): build the books, keeping the resync hook
            from ..ops import order_book

            source = source.pipe(order_book(depth=self.depth, integrity=True))
        super().__init__(source, fps=fps, display=display, figsize=figsize, dpi=dpi)
        self.symbol = symbol
        self.book: OrderBook | None = None
        self.books = 0
        self.integrity: dict[str, int] = {}

    def _accept(self, value: Any) -> None:
        if isinstance(value, OrderBook):
            if self.symbol is None:
                self.symbol = value.symbol
            if value.symbol == self.symbol:
                self.book = value
                self.books += 1
        elif isinstance(value, IntegrityEvent) and value.kind != "synced":
            self.integrity[value.kind] = self.integrity.get(value.kind, 0) + 1

    def _draw(self) -> None:
        with self._lock:
            book, books, integrity = self.book, self.books, dict(self.integrity)
        fig = self.figure
        fig.clear()
        bids, asks = book.top(self.depth) if book is not None else ((), ())
        most = max(sum(size for _, size in bids), sum(size for _, size in asks), 1.0)
        # fixed margins (constrained layout would cost a third of every frame), wide enough for
        # the widest size label
        fig.subplots_adjust(left=_left_margin(fig, _tick_chars(0.0, most * 1.05)), right=0.98, top=0.9, bottom=0.17)
        ax = fig.add_subplot()
        if book is None:
            ax.text(0.5, 0.5, f"waiting for the first book... ({self._status()})", ha="center", va="center")
            ax.set_axis_off()
            return
        _plot_side(ax, bids, "#1a9850", "bids")
        _plot_side(ax, asks, "#d73027", "asks")
        if book.mid is not None:
            ax.axvline(book.mid, color="#555555", linewidth=0.8, linestyle=":")
        ax.ticklabel_format(axis="x", useOffset=False, style="plain")
        ax.set_xlabel("price")
        ax.set_ylabel("cumulative size")
        ax.legend(loc="upper center", ncols=2, fontsize="small", frameon=False)
        ax.grid(alpha=0.3)
        state = "synced" if book.synced else "UNSYNCED"
        spread = f"spread {book.spread:.10g}" if book.spread is not None else "one-sided"
        problems = ", ".join(f"{k} {n}" for k, n in sorted(integrity.items())) or "clean"
        ax.set_title(
            f"{book.venue} {book.symbol} {state} | mid {number_text(book.mid)} {spread} | {books} books | "
            f"integrity: {problems} | {self._status()}",
            fontsize="small",
            color="black" if book.synced else "#b2182b",
        )


def _tick_chars(low: float, high: float, ticks: int = 5) -> int:
    """Characters of the widest plain tick label on an axis from ``low`` to ``high`` (an estimate)."""
    import math

    step = (high - low) / ticks
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 and math.isfinite(step) else 1
    return max(len(f"{v:.{decimals}f}") for v in (low, high))


def _left_margin(fig: Any, chars: int, fontsize: float = 10.0) -> float:
    """Left margin (figure fraction) holding ``chars`` tick characters plus the axis label."""
    width_px = fig.get_figwidth() * fig.dpi
    points = chars * 0.62 * fontsize + 1.3 * fontsize + 14.0  # tick texts, label, paddings
    return float(min(0.35, max(0.06, points * fig.dpi / 72.0 / width_px)))


def _rgba(colour: str, alpha: float) -> tuple[float, float, float, float]:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return (r, g, b, alpha)


def _plot_side(ax: Any, levels: Sequence[tuple[float, float]], color: str, label: str) -> None:
    if not levels:
        return
    prices = [p for p, _ in levels]
    cumulative: list[float] = []
    total = 0.0
    for _, size in levels:
        total += size
        cumulative.append(total)
    # from the touch outwards: between level i and level i+1 the size available is cumulative[i]
    ax.step(prices, cumulative, where="post", color=color, label=label)
    ax.fill_between(prices, cumulative, step="post", color=color, alpha=0.25)


class CandlestickChart(_FigureView):
    """Live candlestick chart with a volume panel, from a ``Kline`` stream.

    Klines are kept by ``open_time`` (an updated open bar replaces the previous version, so
    ``ops.klines(..., emit="update")`` animates the current candle); the last ``bars`` are drawn.
    Open bars are drawn lighter.

    Attributes:
        klines: ``{open_time: Kline}`` of the shown symbol.
    """

    def __init__(
        self,
        source: Observable[Any],
        *,
        interval: str | None = None,
        bars: int = 60,
        symbol: str | None = None,
        fps: float = 4.0,
        display: bool = True,
        figsize: tuple[float, float] = (8.0, 4.2),
        dpi: int = 90,
    ) -> None:
        self.bars = check_count("bars", bars, allow_none=False) or 60
        if interval is not None:
            # trades in: build the candles here, showing the open one as it grows
            from ..ops import klines

            source = source.pipe(klines(interval, emit="update"))
        super().__init__(source, fps=fps, display=display, figsize=figsize, dpi=dpi)
        self.symbol = symbol
        self.klines: dict[float, Kline] = {}

    def _accept(self, value: Any) -> None:
        if not isinstance(value, Kline):
            return
        if self.symbol is None:
            self.symbol = value.symbol
        if value.symbol != self.symbol:
            return
        self.klines[value.open_time] = value
        if len(self.klines) > 2 * self.bars:
            for key in sorted(self.klines)[: len(self.klines) - self.bars]:
                del self.klines[key]

    def _draw(self) -> None:
        with self._lock:
            shown = [self.klines[k] for k in sorted(self.klines)[-self.bars :]]
        fig = self.figure
        fig.clear()
        if shown:
            low, high = min(k.low for k in shown), max(k.high for k in shown)
            pad = (high - low) * 0.08 or abs(high) * 1e-4 or 1.0
            widest = max(_tick_chars(low - pad, high + pad), _tick_chars(0.0, max(k.volume for k in shown) * 1.1))
        else:
            widest = 4
        # fixed margins (a layout engine would cost a third of every frame), wide enough for the
        # widest tick label so the axis labels stay inside the picture
        fig.subplots_adjust(left=_left_margin(fig, widest), right=0.98, top=0.92, bottom=0.16, hspace=0.08)
        if not shown:
            ax = fig.add_subplot()
            ax.text(0.5, 0.5, f"waiting for the first kline... ({self._status()})", ha="center", va="center")
            ax.set_axis_off()
            return
        price_ax, volume_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
        # one collection per artist kind (not one patch per candle): 60 bars stay cheap to draw
        dates: Any = importlib.import_module("matplotlib.dates")
        collections: Any = importlib.import_module("matplotlib.collections")
        half = max(shown[-1].close_time - shown[-1].open_time, 1e-3) / 86400.0 * 0.35  # in days
        xs = [dates.date2num(utc((k.open_time + k.close_time) / 2)) for k in shown]
        colours = [_rgba("#1a9850" if k.close >= k.open else "#d73027", 1.0 if k.closed else 0.5) for k in shown]
        bodies = []
        for x, k in zip(xs, shown, strict=True):
            bottom = min(k.open, k.close)
            top = max(k.open, k.close)
            if top == bottom:  # a flat candle still shows as a line
                top = bottom + ((k.high - k.low) * 0.02 or abs(k.close) * 1e-6 or 1e-9)
            bodies.append([(x - half, bottom), (x + half, bottom), (x + half, top), (x - half, top)])
        volumes = [
            [(x - half, 0.0), (x + half, 0.0), (x + half, k.volume), (x - half, k.volume)]
            for x, k in zip(xs, shown, strict=True)
        ]
        price_ax.vlines(xs, [k.low for k in shown], [k.high for k in shown], colors=colours, linewidth=1.0)
        price_ax.add_collection(collections.PolyCollection(bodies, facecolors=colours, edgecolors="none"))
        volume_ax.add_collection(
            collections.PolyCollection(
                volumes, facecolors=[(r, g, b, a * 0.6) for r, g, b, a in colours], edgecolors="none"
            )
        )
        volume_ax.set_xlim(xs[0] - 2 * half, xs[-1] + 2 * half)
        volume_ax.set_ylim(0, max(k.volume for k in shown) * 1.1 or 1.0)
        volume_ax.xaxis_date()
        # bars stick to their bottom edge in autoscaling: set the price range with a margin
        price_ax.set_ylim(low - pad, high + pad)
        span = shown[-1].close_time - shown[0].open_time
        volume_ax.xaxis.set_major_formatter(dates.DateFormatter("%H:%M:%S" if span < 86400 else "%Y-%m-%d %H:%M"))
        last = shown[-1]
        price_ax.set_title(
            f"{last.venue} {last.symbol} {last.interval} klines | last {number_text(last.close)} | "
            f"{len(shown)} bars | {self._status()}",
            fontsize="small",
        )
        price_ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        price_ax.set_ylabel("price")
        price_ax.grid(alpha=0.3)
        volume_ax.set_ylabel("volume")
        volume_ax.grid(alpha=0.3)
        volume_ax.tick_params(axis="x", labelrotation=30, labelsize="small")


def depth_chart(
    source: Observable[Any],
    *,
    seconds: float | None = None,
    depth: int = 25,
    symbol: str | None = None,
    fps: float = 4.0,
    display: bool = True,
) -> DepthChart:
    """One call: a live depth chart of a book stream.

    ``source`` is an ``OrderBook`` stream (``feed.pipe(ops.order_book())``) or a venue book
    ``Feed`` (``client.book(...)``), which is piped through ``ops.order_book(depth)`` for you.
    With ``seconds`` it runs that long and stops (the cell finishes); without, it keeps
    redrawing in the background until ``chart.stop()``.

    Example::

        chart = nb.depth_chart(kraken.book("XBT/USD", depth=25), seconds=10)
        chart.book.spread
    """
    chart = DepthChart(source, depth=depth, symbol=symbol, fps=fps, display=display)
    return show(chart, seconds)


def candlestick_chart(
    source: Observable[Any],
    *,
    interval: str | None = None,
    seconds: float | None = None,
    bars: int = 60,
    symbol: str | None = None,
    fps: float = 4.0,
    display: bool = True,
) -> CandlestickChart:
    """One call: a live candlestick chart with volume.

    ``source`` emits ``Kline`` s; or give ``interval`` (``"1s"``, ``"1m"``...) and a ``Trade``
    stream, and the candles are built with ``ops.klines(interval, emit="update")``.

    Example::

        nb.candlestick_chart(kraken.trades("XBT/USD"), interval="1s", seconds=10)
    """
    chart = CandlestickChart(source, interval=interval, bars=bars, symbol=symbol, fps=fps, display=display)
    return show(chart, seconds)
