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

from ..books.html import book_html
from .bridge import collect, on_kernel
from .charts import CandlestickChart, DepthChart, candlestick_chart, depth_chart
from .formatting import kline_html, klines_html, trades_html
from .frames import book_to_dataframe, klines_to_dataframe, to_dataframe, trades_to_dataframe
from .ipython import load_ipython_extension, register_formatters
from .live import LiveView, run_for
from .trades_table import TradesTable, trades_table

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

# Importing the package in a notebook is enough to get the HTML views.
register_formatters()
