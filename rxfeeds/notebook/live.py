"""The live-view runtime: a conflating holder fed by the socket thread, redrawn on the kernel's.

Every live view keeps what it shows in a small holder that the socket thread updates under a
lock (a reference swap or a deque append: it never blocks the feed); drawing happens on the
kernel's thread at most ``fps`` times a second and only when something changed, through one
display handle updated in place.  :meth:`LiveView.run_for` blocks a cell, :meth:`LiveView.start`
redraws in the background while the kernel is idle; :func:`run_for` drives several views.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
import time
from typing import Any, Self, TypeVar

from reactivex import Observable, abc

from ..errors import InvalidArgument
from . import ipython
from ._common import check_seconds

# the package's logger: users and tests filter on "rxfeeds.notebook"
log = logging.getLogger("rxfeeds.notebook")

__all__ = ["LiveView", "run_for", "show"]


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
        if not self._display or ipython.running_shell() is None:
            return
        if self._handle is None:
            self._handle = ipython.display_module().display(output, display_id=True)
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
        limit = check_seconds("seconds", seconds, allow_none=False)
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


_View = TypeVar("_View", bound=LiveView)


def run_for(seconds: float, *views: LiveView, keep_running: bool = False) -> None:
    """Show several live views together for ``seconds`` (blocking), then stop them.

    Each view redraws at its own ``fps`` when it has news.  Ctrl-C ends it quietly.

    Example::

        depth = nb.DepthChart(kraken.book("XBT/USD", depth=25))
        candles = nb.CandlestickChart(kraken.trades("XBT/USD"), interval="1s")
        nb.run_for(10, depth, candles)
    """
    limit = check_seconds("seconds", seconds, allow_none=False)
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


def show(view: _View, seconds: float | None) -> _View:
    """Run ``view`` for ``seconds`` (blocking), or start it in the background when None."""
    if seconds is None:
        view.start()
    else:
        view.run_for(seconds)
    return view
