"""Feeds in Jupyter: live charts and tables, pandas helpers, HTML views — without event-loop fights.

Install the extra: ``pip install "rxfeeds[notebook]"`` (JupyterLab, pandas, matplotlib, ipywidgets).

Why no loop conflicts
---------------------
rxfeeds sockets run in their own threads; Jupyter's kernel runs an asyncio loop on the main
thread.  Nothing here touches the kernel's loop from the socket thread: every live view keeps a
small **conflating holder** that the socket thread updates under a lock (only a reference swap
or a deque append: it never blocks the feed), and all drawing happens on the kernel's thread,
at most ``fps`` times a second and only when something changed.  Figures are
``matplotlib.figure.Figure`` objects rendered to PNG (no pyplot, no GUI backend: it works
headless) and shown through one display handle that is updated in place.

Two ways to drive a view:

* ``view.run_for(seconds)`` (or ``seconds=`` in the one-call helpers) blocks the cell, redraws,
  then stops the subscription: the cell finishes, the last picture stays.
* ``view.start()`` returns at once; while the kernel is idle, its asyncio loop redraws the view
  in the background (Jupyter only).  ``view.stop()`` ends it.

Example::

    import rxfeeds
    from rxfeeds import notebook as nb, ops
    from rxfeeds.sim.kraken import KrakenSim

    sim = KrakenSim(symbols=["XBT/USD"], tick_interval=0.05).start()
    kraken = rxfeeds.Kraken(url=sim.url)
    nb.depth_chart(kraken.book("XBT/USD", depth=25), seconds=10)        # a moving depth chart
    nb.candlestick_chart(kraken.trades("XBT/USD"), interval="1s", seconds=10)
    trades = nb.collect(kraken.trades("XBT/USD"), seconds=3)
    nb.to_dataframe(trades).tail()

Callbacks you write yourself still run on the socket thread; to run them on the kernel's
thread, pipe through :func:`on_kernel` (``observe_on`` the kernel's asyncio loop).
"""

from __future__ import annotations

import asyncio
import html
import importlib
import io
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self, TypeVar

from reactivex import Observable, abc

from .books.book import OrderBook
from .errors import InvalidArgument
from .events import IntegrityEvent, Kline, Trade
from .feed import Feed

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger("rxfeeds.notebook")

__all__ = [
    "CandlestickChart",
    "DepthChart",
    "LiveView",
    "TradesTable",
    "book_html",
    "book_to_dataframe",
    "candlestick_chart",
    "collect",
    "depth_chart",
    "kline_html",
    "klines_html",
    "klines_to_dataframe",
    "load_ipython_extension",
    "on_kernel",
    "register_formatters",
    "run_for",
    "trades_html",
    "trades_table",
    "trades_to_dataframe",
    "to_dataframe",
]


# ------------------------------------------------------------------------------------- helpers


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _ipython() -> Any:
    """The running IPython shell, or None (plain Python, tests)."""
    try:
        ipython: Any = importlib.import_module("IPython")
    except ImportError:
        return None
    return ipython.get_ipython()


def _ipython_display() -> Any:
    """``IPython.display`` (untyped: imported as a plain module object)."""
    return importlib.import_module("IPython.display")


def _check_seconds(name: str, value: Any, *, allow_none: bool = True) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidArgument(name, value, "must be a positive number of seconds")
    return float(value)


def _check_count(name: str, value: Any, *, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(name, value, "must be a positive integer")
    return value


def _number(x: float | None, places: int | None = None) -> str:
    if x is None:
        return ""
    if places is not None:
        return f"{x:.{places}f}"
    return f"{x:.10g}"


# ------------------------------------------------------------------------------------- collect


def collect(
    source: Observable[Any],
    *,
    seconds: float | None = None,
    count: int | None = None,
    where: Callable[[Any], bool] | None = None,
) -> list[Any]:
    """Subscribe, gather values for ``seconds`` or until ``count`` of them arrived, then dispose.

    Blocks the calling thread (a notebook cell) while the socket thread delivers; values are
    appended under a lock.  Completion ends the wait early; an error is raised here.  ``where``
    keeps only matching values (counted towards ``count``).

    Example::

        trades = nb.collect(kraken.trades("XBT/USD"), seconds=5)
        books = nb.collect(kraken.book("XBT/USD").pipe(ops.order_book()), count=1,
                           where=lambda b: isinstance(b, OrderBook))
    """
    limit_s = _check_seconds("seconds", seconds)
    limit_n = _check_count("count", count)
    if limit_s is None and limit_n is None:
        raise InvalidArgument("seconds", seconds, "give seconds or count (or both)")
    values: list[Any] = []
    lock = threading.Lock()
    done = threading.Event()
    failure: list[Exception] = []

    def on_next(value: Any) -> None:
        if where is not None and not where(value):
            return
        with lock:
            if limit_n is not None and len(values) >= limit_n:
                return
            values.append(value)
            if limit_n is not None and len(values) >= limit_n:
                done.set()

    def on_error(exc: Exception) -> None:
        failure.append(exc)
        done.set()

    subscription = source.subscribe(on_next, on_error, done.set)
    try:
        done.wait(limit_s)
    finally:
        subscription.dispose()
    if failure:
        raise failure[0]
    with lock:
        return list(values)


def on_kernel(loop: asyncio.AbstractEventLoop | None = None) -> Callable[[Observable[Any]], Observable[Any]]:
    """Operator: deliver values on the kernel's asyncio loop thread (``observe_on`` that loop).

    Call it from a notebook cell (where the kernel's loop is running) or pass ``loop``.  While a
    cell blocks (``run_for``, ``collect``), values wait until the loop runs again.

    Example::

        kraken.trades("XBT/USD").pipe(nb.on_kernel()).subscribe(my_handler)  # handler on the kernel thread
    """
    from reactivex import operators as rx_ops
    from reactivex.scheduler.eventloop import AsyncIOThreadSafeScheduler

    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise InvalidArgument("loop", loop, "no asyncio loop is running here: pass the kernel's loop") from None
    return rx_ops.observe_on(AsyncIOThreadSafeScheduler(loop))


# ------------------------------------------------------------------------------------- live views


class LiveView:
    """Base of the live views: a conflating holder fed by the socket thread, drawn on yours.

    Subclasses implement ``_accept(value)`` (socket thread, under ``self._lock``: store, never
    block) and ``_render()`` (the drawing thread; returns what to display).

    Attributes:
        values: values received so far.
        frames: redraws done.
        error: the source's error, if it failed (shown in the view too).
        completed: whether the source completed.
    """

    def __init__(self, source: Observable[Any], *, fps: float = 4.0, display: bool = True) -> None:
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 60:
            raise InvalidArgument("fps", fps, "must be a number of redraws per second in (0, 60]")
        if not isinstance(source, Observable):
            raise InvalidArgument("source", source, "must be an Observable")
        self._source = source
        self._period = 1.0 / float(fps)
        self._display = display
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._version = 0
        self._drawn = -1
        self._subscription: abc.DisposableBase | None = None
        self._handle: Any = None
        self._timer: asyncio.TimerHandle | None = None
        self._stopped = False
        self.values = 0
        self.frames = 0
        self.error: Exception | None = None
        self.completed = False
        self.last_output: Any = None

    # -- socket thread ---------------------------------------------------------------------------

    def _on_next(self, value: Any) -> None:
        with self._lock:
            self.values += 1
            self._accept(value)
            self._version += 1

    def _on_error(self, exc: Exception) -> None:
        with self._lock:
            self.error = exc
            self._version += 1
        self._wake.set()

    def _on_completed(self) -> None:
        with self._lock:
            self.completed = True
            self._version += 1
        self._wake.set()

    def _accept(self, value: Any) -> None:
        raise NotImplementedError

    # -- drawing thread --------------------------------------------------------------------------

    def _render(self) -> Any:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        """Subscribed and not stopped."""
        return self._subscription is not None and not self._stopped

    def _subscribe(self) -> None:
        if self._subscription is None and not self._stopped:
            self._subscription = self._source.subscribe(self._on_next, self._on_error, self._on_completed)

    def refresh(self, force: bool = False) -> bool:
        """Redraw now if anything changed since the last frame (or ``force``); True if redrawn."""
        with self._lock:
            version = self._version
        if version == self._drawn and not force:
            return False
        output = self._render()
        self._drawn = version
        self.frames += 1
        self.last_output = output
        self._publish(output)
        return True

    def _publish(self, output: Any) -> None:
        if not self._display or _ipython() is None:
            return
        if self._handle is None:
            self._handle = _ipython_display().display(output, display_id=True)
        else:
            self._handle.update(output)

    def start(self) -> Self:
        """Subscribe and show the view; redraw in the background while the kernel's loop is idle.

        Outside a running asyncio loop (plain Python) nothing redraws by itself: call
        :meth:`refresh` or :meth:`run_for`.

        Example::

            chart = nb.depth_chart(kraken.book("XBT/USD"))   # seconds=None: calls start()
            ...                                              # other cells; the chart moves
            chart.stop()
        """
        self._subscribe()
        self.refresh(force=True)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return self
        if self._timer is None:
            self._timer = loop.call_later(self._period, self._background_tick, loop)
        return self

    def _background_tick(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        if self._stopped:
            return
        try:
            self.refresh()
        except Exception:
            # a drawing bug must not repeat itself on every tick of the kernel's loop
            log.exception("drawing %r failed; background redraws stopped", self)
            return
        if not self._stopped and self.error is None and not self.completed:
            self._timer = loop.call_later(self._period, self._background_tick, loop)

    def run_for(self, seconds: float, *, keep_running: bool = False) -> Self:
        """Show the view live for ``seconds`` (blocking), then stop it unless ``keep_running``.

        Returns early when the source completes or fails.  Ctrl-C / the notebook's stop button
        ends it quietly.

        Example::

            nb.DepthChart(kraken.book("XBT/USD").pipe(ops.order_book())).run_for(10)
        """
        limit = _check_seconds("seconds", seconds, allow_none=False)
        assert limit is not None
        self._subscribe()
        self.refresh(force=True)
        deadline = time.monotonic() + limit
        try:
            while not self._stopped:
                left = deadline - time.monotonic()
                if left <= 0 or self.error is not None or self.completed:
                    break
                self._wake.wait(min(self._period, left))
                self._wake.clear()
                self.refresh()
        except KeyboardInterrupt:
            pass
        if keep_running:
            self.refresh()
        else:
            self.stop()
        return self

    def stop(self) -> None:
        """Dispose the subscription, cancel background redraws, draw the final frame."""
        if self._stopped:
            return
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._subscription is not None:
            self._subscription.dispose()
        self._wake.set()
        try:
            self.refresh(force=True)  # the status changed to "stopped" even if no value came since
        except Exception:
            log.exception("drawing the final frame of %r failed", self)

    def stop_button(self, description: str = "stop") -> Any:
        """An ``ipywidgets.Button`` that stops this view when clicked (for background views).

        Example::

            chart = nb.depth_chart(kraken.book("XBT/USD"))   # keeps redrawing between cells
            chart.stop_button()                              # last expression: shows the button
        """
        widgets: Any = importlib.import_module("ipywidgets")
        button = widgets.Button(description=description, icon="stop", tooltip="stop this live view")

        def on_click(_: Any) -> None:
            self.stop()
            button.disabled = True

        button.on_click(on_click)
        return button

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.values} values, {self.frames} frames, {self._status()})"

    def _status(self) -> str:
        if self.error is not None:
            return f"error: {type(self.error).__name__}: {self.error}"
        if self.completed:
            return "completed"
        return "stopped" if self._stopped else "live"


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
        return _ipython_display().Image(data=self.png, format="png")

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
        self.depth = _check_count("depth", depth, allow_none=False) or 25
        if isinstance(source, Feed):
            # a venue book feed (snapshots + deltas): build the books, keeping the resync hook
            from .ops import order_book

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
            f"{book.venue} {book.symbol} {state} | mid {_number(book.mid)} {spread} | {books} books | "
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
        self.bars = _check_count("bars", bars, allow_none=False) or 60
        if interval is not None:
            # trades in: build the candles here, showing the open one as it grows
            from .ops import klines

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
        xs = [dates.date2num(_utc((k.open_time + k.close_time) / 2)) for k in shown]
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
            f"{last.venue} {last.symbol} {last.interval} klines | last {_number(last.close)} | "
            f"{len(shown)} bars | {self._status()}",
            fontsize="small",
        )
        price_ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        price_ax.set_ylabel("price")
        price_ax.grid(alpha=0.3)
        volume_ax.set_ylabel("volume")
        volume_ax.grid(alpha=0.3)
        volume_ax.tick_params(axis="x", labelrotation=30, labelsize="small")


class TradesTable(LiveView):
    """Live HTML table of the latest trades (newest first) with running buy/sell volume.

    Attributes:
        trades: the last ``rows`` trades (oldest first).
        buy_volume / sell_volume: totals since the start (taker side; unknown side not counted).
        html: the last rendered table.
    """

    def __init__(self, source: Observable[Any], *, rows: int = 15, fps: float = 4.0, display: bool = True) -> None:
        super().__init__(source, fps=fps, display=display)
        self.rows = _check_count("rows", rows, allow_none=False) or 15
        self.trades: deque[Trade] = deque(maxlen=self.rows)
        self.count = 0
        self.buy_volume = 0.0
        self.sell_volume = 0.0
        self.html = ""

    def _accept(self, value: Any) -> None:
        if isinstance(value, Trade):
            self.trades.append(value)
            self.count += 1
            if value.side == "buy":
                self.buy_volume += value.size
            elif value.side == "sell":
                self.sell_volume += value.size

    def _render(self) -> Any:
        with self._lock:
            trades = list(self.trades)
            count, buys, sells = self.count, self.buy_volume, self.sell_volume
        caption = f"{count} trades | taker buy volume {buys:.8g} | sell volume {sells:.8g} | {self._status()}"
        self.html = trades_html(reversed(trades), caption=caption)
        return _ipython_display().HTML(self.html)

    def _repr_html_(self) -> str | None:
        if self._handle is not None:
            return None
        self.refresh()
        return self.html


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
    return _go(chart, seconds)


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
    return _go(chart, seconds)


def trades_table(
    source: Observable[Any], *, seconds: float | None = None, rows: int = 15, fps: float = 4.0, display: bool = True
) -> TradesTable:
    """One call: a live table of the latest trades.

    Example::

        nb.trades_table(kraken.trades("XBT/USD"), seconds=5)
    """
    table = TradesTable(source, rows=rows, fps=fps, display=display)
    return _go(table, seconds)


_View = TypeVar("_View", bound=LiveView)


def run_for(seconds: float, *views: LiveView, keep_running: bool = False) -> None:
    """Show several live views together for ``seconds`` (blocking), then stop them.

    Each view redraws at its own ``fps`` when it has news.  Ctrl-C ends it quietly.

    Example::

        depth = nb.DepthChart(kraken.book("XBT/USD", depth=25))
        candles = nb.CandlestickChart(kraken.trades("XBT/USD"), interval="1s")
        nb.run_for(10, depth, candles)
    """
    limit = _check_seconds("seconds", seconds, allow_none=False)
    assert limit is not None
    if not views:
        raise InvalidArgument("views", views, "give at least one live view")
    for view in views:
        if not isinstance(view, LiveView):
            raise InvalidArgument("views", view, "must be live views (DepthChart, CandlestickChart, TradesTable)")
    for view in views:
        view._subscribe()
        view.refresh(force=True)
    period = min(view._period for view in views)
    deadline = time.monotonic() + limit
    due = dict.fromkeys(range(len(views)), 0.0)
    try:
        while any(v.running and v.error is None and not v.completed for v in views):
            now = time.monotonic()
            if now >= deadline:
                break
            for i, view in enumerate(views):
                if now >= due[i]:
                    view.refresh()
                    due[i] = now + view._period
            views[0]._wake.wait(min(period, max(deadline - time.monotonic(), 0.0)))
            views[0]._wake.clear()
    except KeyboardInterrupt:
        pass
    for view in views:
        if keep_running:
            view.refresh()
        else:
            view.stop()


def _go(view: _View, seconds: float | None) -> _View:
    if seconds is None:
        view.start()
    else:
        view.run_for(seconds)
    return view


# ------------------------------------------------------------------------------------- pandas


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

    ``depth`` limits the levels per side (default: the book's own ``depth``, else all kept).

    Example::

        df = nb.book_to_dataframe(book, depth=10)
        df[df.side == "bid"].cumulative.iloc[-1]
    """
    pd = _pandas()
    depth = _check_count("depth", depth)
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


# ------------------------------------------------------------------------------------- HTML

_TABLE_STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px"
_CELL = "padding:1px 8px;text-align:right"


def _cell(text: str, color: str = "", bold: bool = False) -> str:
    style = _CELL + (f";color:{color}" if color else "") + (";font-weight:bold" if bold else "")
    return f'<td style="{style}">{html.escape(text)}</td>'


def _header(names: Sequence[str]) -> str:
    return "<tr>" + "".join(f'<th style="{_CELL}">{html.escape(n)}</th>' for n in names) + "</tr>"


def book_html(book: OrderBook, depth: int = 10) -> str:
    """An HTML table of the best ``depth`` levels (bids left, asks right) with a summary caption.

    ``OrderBook._repr_html_`` uses it, so a book at the end of a cell renders as this table.

    Example:
        >>> from rxfeeds.books.side import BookSide
        >>> bids, asks = BookSide(descending=True), BookSide(descending=False)
        >>> bids.set(99.0, 1.0, "99.0", "1.0", ""); asks.set(101.0, 2.0, "101.0", "2.0", "")
        >>> "<table" in book_html(OrderBook("kraken", "XBT/USD", 1.0, 1.0, bids.freeze(), asks.freeze()))
        True
    """
    bids, asks = book.top(depth)
    state = "synced" if book.synced else "UNSYNCED"
    spread = _number(book.spread) if book.spread is not None else "-"
    caption = (
        f"{book.venue} {book.symbol} — {state} — mid {_number(book.mid) or '-'} — spread {spread} — "
        f"levels {book.bid_count}/{book.ask_count}" + (f" — seq {book.sequence}" if book.sequence is not None else "")
    )
    rows = [f'<table style="{_TABLE_STYLE}">', f"<caption>{html.escape(caption)}</caption>"]
    rows.append(_header(["bid size", "bid", "ask", "ask size"]))
    for i in range(max(len(bids), len(asks))):
        b = bids[i] if i < len(bids) else None
        a = asks[i] if i < len(asks) else None
        rows.append(
            "<tr>"
            + _cell(_number(b[1]) if b else "", "#1a9850")
            + _cell(_number(b[0]) if b else "", "#1a9850", bold=i == 0)
            + _cell(_number(a[0]) if a else "", "#d73027", bold=i == 0)
            + _cell(_number(a[1]) if a else "", "#d73027")
            + "</tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def klines_html(klines: Iterable[Kline], caption: str = "") -> str:
    """An HTML table of klines (one row per bar, in the given order).

    Example:
        >>> k = Kline("kraken", "XBT/USD", 60.0, 61.0, interval="1m", open_time=0.0,
        ...           close_time=60.0, open=1.0, high=2.0, low=0.5, close=1.5, volume=3.0)
        >>> "<td" in klines_html([k])
        True
    """
    names = ["open time (UTC)", "symbol", "interval", "open", "high", "low", "close", "volume", "trades", "state"]
    rows = [f'<table style="{_TABLE_STYLE}">']
    if caption:
        rows.append(f"<caption>{html.escape(caption)}</caption>")
    rows.append(_header(names))
    for k in klines:
        color = "#1a9850" if k.close >= k.open else "#d73027"
        state = ("closed" if k.closed else "open") + (f" rev {k.revision}" if k.revision else "")
        rows.append(
            "<tr>"
            + _cell(_utc(k.open_time).strftime("%Y-%m-%d %H:%M:%S"))
            + _cell(k.symbol)
            + _cell(k.interval)
            + "".join(_cell(_number(x), color) for x in (k.open, k.high, k.low, k.close))
            + _cell(_number(k.volume))
            + _cell("" if k.trades is None else str(k.trades))
            + _cell(state)
            + "</tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def kline_html(kline: Kline) -> str:
    """HTML for one kline (a one-row :func:`klines_html` table with the venue as caption)."""
    return klines_html([kline], caption=kline.venue)


def trades_html(trades: Iterable[Trade], caption: str = "") -> str:
    """An HTML table of trades (time, symbol, side, price, size), buys green, sells red.

    Example:
        >>> t = Trade("kraken", "XBT/USD", 1.0, 1.0, price=100.5, size=0.2, side="buy")
        >>> "100.5" in trades_html([t])
        True
    """
    rows = [f'<table style="{_TABLE_STYLE}">']
    if caption:
        rows.append(f"<caption>{html.escape(caption)}</caption>")
    rows.append(_header(["time (UTC)", "symbol", "side", "price", "size"]))
    for t in trades:
        color = {"buy": "#1a9850", "sell": "#d73027"}.get(t.side or "", "")
        rows.append(
            "<tr>"
            + _cell(_utc(t.time).strftime("%H:%M:%S.%f")[:-3])
            + _cell(t.symbol)
            + _cell(t.side or "?", color)
            + _cell(_number(t.price), color)
            + _cell(_number(t.size))
            + "</tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def register_formatters(shell: Any = None) -> bool:
    """Render ``Kline`` and ``Trade`` values (and lists of them) as HTML tables in IPython.

    Done automatically when this module is imported inside IPython; ``OrderBook`` has its own
    ``_repr_html_``.  Returns False outside IPython.

    Example::

        %load_ext rxfeeds.notebook
    """
    shell = shell if shell is not None else _ipython()
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(Kline, kline_html)
    formatter.for_type(Trade, lambda t: trades_html([t]))

    def event_list_html(values: list[Any]) -> str | None:
        # only homogeneous, reasonably short lists: anything else keeps its plain repr
        if not values or len(values) > 500:
            return None
        if all(isinstance(v, Kline) for v in values):
            return klines_html(values)
        if all(isinstance(v, Trade) for v in values):
            return trades_html(values)
        return None

    formatter.for_type(list, event_list_html)
    return True


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext rxfeeds.notebook``: register the HTML formatters."""
    register_formatters(shell)


# Importing the module in a notebook is enough to get the HTML views.
register_formatters()
