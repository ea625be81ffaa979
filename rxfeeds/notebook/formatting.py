"""HTML tables of klines and trades (the style of :mod:`rxfeeds.books.html`, which renders books)."""

from __future__ import annotations

import html
from collections.abc import Iterable

from ..books.html import TABLE_STYLE, html_cell, html_header, number_text
from ..events import Kline, Trade
from ._common import utc

__all__ = ["kline_html", "klines_html", "trades_html"]


def klines_html(klines: Iterable[Kline], caption: str = "") -> str:
    """An HTML table of klines (one row per bar, in the given order).

    Example:
        >>> k = Kline("kraken", "XBT/USD", 60.0, 61.0, interval="1m", open_time=0.0,
        ...           close_time=60.0, open=1.0, high=2.0, low=0.5, close=1.5, volume=3.0)
        >>> "<td" in klines_html([k])
        True
    """
    names = ["open time (UTC)", "symbol", "interval", "open", "high", "low", "close", "volume", "trades", "state"]
    rows = [f'<table style="{TABLE_STYLE}">']
    if caption:
        rows.append(f"<caption>{html.escape(caption)}</caption>")
    rows.append(html_header(names))
    for k in klines:
        color = "#1a9850" if k.close >= k.open else "#d73027"
        state = ("closed" if k.closed else "open") + (f" rev {k.revision}" if k.revision else "")
        rows.append(
            "<tr>"
            + html_cell(utc(k.open_time).strftime("%Y-%m-%d %H:%M:%S"))
            + html_cell(k.symbol)
            + html_cell(k.interval)
            + "".join(html_cell(number_text(x), color) for x in (k.open, k.high, k.low, k.close))
            + html_cell(number_text(k.volume))
            + html_cell("" if k.trades is None else str(k.trades))
            + html_cell(state)
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
    rows = [f'<table style="{TABLE_STYLE}">']
    if caption:
        rows.append(f"<caption>{html.escape(caption)}</caption>")
    rows.append(html_header(["time (UTC)", "symbol", "side", "price", "size"]))
    for t in trades:
        color = {"buy": "#1a9850", "sell": "#d73027"}.get(t.side or "", "")
        rows.append(
            "<tr>"
            + html_cell(utc(t.time).strftime("%H:%M:%S.%f")[:-3])
            + html_cell(t.symbol)
            + html_cell(t.side or "?", color)
            + html_cell(number_text(t.price), color)
            + html_cell(number_text(t.size))
            + "</tr>"
        )
    rows.append("</table>")
    return "".join(rows)
