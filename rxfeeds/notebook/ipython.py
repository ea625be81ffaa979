"""IPython integration: the running shell, its display module, and the HTML formatters.

Importing :mod:`rxfeeds.notebook` inside IPython registers the formatters
(:func:`register_formatters`); ``%load_ext rxfeeds.notebook`` does the same
(:func:`load_ipython_extension`).  IPython is imported on demand: plain Python never needs it.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..events import Kline, Trade
from .formatting import kline_html, klines_html, trades_html

__all__ = ["display_module", "load_ipython_extension", "register_formatters", "running_shell"]


def running_shell() -> Any:
    """The running IPython shell, or None (plain Python, tests)."""
    try:
        ipython: Any = importlib.import_module("IPython")
    except ImportError:
        return None
    return ipython.get_ipython()


def display_module() -> Any:
    """``IPython.display`` (untyped: imported as a plain module object)."""
    return importlib.import_module("IPython.display")


def register_formatters(shell: Any = None) -> bool:
    """Render ``Kline`` and ``Trade`` values (and lists of them) as HTML tables in IPython.

    Done automatically when this module is imported inside IPython; ``OrderBook`` has its own
    ``_repr_html_``.  Returns False outside IPython.

    Example::

        %load_ext rxfeeds.notebook
    """
    shell = shell if shell is not None else running_shell()
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
