"""A live HTML table of the latest trades with running buy/sell volume."""

from __future__ import annotations

from collections import deque
from typing import Any

from reactivex import Observable

from ..events import Trade
from . import ipython
from ._common import check_count
from .formatting import trades_html
from .live import LiveView, show

__all__ = ["TradesTable", "trades_table"]


class TradesTable(LiveView):
    """Live HTML table of the latest trades (newest first) with running buy/sell volume.

    Attributes:
        trades: the last ``rows`` trades (oldest first).
        buy_volume / sell_volume: totals since the start (taker side; unknown side not counted).
        html: the last rendered table.
    """

    def __init__(self, source: Observable[Any], *, rows: int = 15, fps: float = 4.0, display: bool = True) -> None:
        super().__init__(source, fps=fps, display=display)
        self.rows = check_count("rows", rows, allow_none=False) or 15
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
        return ipython.display_module().HTML(self.html)

    def _repr_html_(self) -> str | None:
        if self._handle is not None:
            return None
        self.refresh()
        return self.html


def trades_table(
    source: Observable[Any], *, seconds: float | None = None, rows: int = 15, fps: float = 4.0, display: bool = True
) -> TradesTable:
    """One call: a live table of the latest trades.

    Example::

        nb.trades_table(kraken.trades("XBT/USD"), seconds=5)
    """
    table = TradesTable(source, rows=rows, fps=fps, display=display)
    return show(table, seconds)
