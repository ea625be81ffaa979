"""The HTML view of an :class:`~rxfeeds.books.book.OrderBook` (what Jupyter shows for a book).

It lives with the book values so that a book renders itself without knowing about Jupyter;
the notebook helpers (:mod:`rxfeeds.notebook`) reuse the same table style for klines and trades
(:data:`TABLE_STYLE`, :func:`html_cell`, :func:`html_header`, :func:`number_text`).

Example:
    >>> html_cell("1 < 2", "#1a9850")
    '<td style="padding:1px 8px;text-align:right;color:#1a9850">1 &lt; 2</td>'
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .book import OrderBook

__all__ = ["TABLE_STYLE", "book_html", "html_cell", "html_header", "number_text"]

#: inline style of every rxfeeds HTML table (no stylesheet: it must render in any front end)
TABLE_STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px"
_CELL = "padding:1px 8px;text-align:right"


def number_text(x: float | None, places: int | None = None) -> str:
    """A number as table text: ``places`` decimals, else up to 10 significant digits; None is blank.

    Example:
        >>> number_text(0.1 + 0.2), number_text(2.5, 2), number_text(None)
        ('0.3', '2.50', '')
    """
    if x is None:
        return ""
    if places is not None:
        return f"{x:.{places}f}"
    return f"{x:.10g}"


def html_cell(text: str, color: str = "", bold: bool = False) -> str:
    """One right-aligned ``<td>`` with ``text`` escaped, optionally coloured and bold."""
    style = _CELL + (f";color:{color}" if color else "") + (";font-weight:bold" if bold else "")
    return f'<td style="{style}">{html.escape(text)}</td>'


def html_header(names: Sequence[str]) -> str:
    """A header row ``<tr><th>...</th></tr>`` with the names escaped.

    Example:
        >>> html_header(["bid", "ask"]).count("<th")
        2
    """
    return "<tr>" + "".join(f'<th style="{_CELL}">{html.escape(n)}</th>' for n in names) + "</tr>"


def book_html(book: OrderBook, depth: int = 10) -> str:
    """An HTML table of the best ``depth`` levels (bids left, asks right) with a summary caption.

    ``OrderBook._repr_html_`` uses it, so a book at the end of a cell renders as this table.

    Example:
        >>> from rxfeeds.books.book import OrderBook
        >>> from rxfeeds.books.side import BookSide
        >>> bids, asks = BookSide(descending=True), BookSide(descending=False)
        >>> bids.set(99.0, 1.0, "99.0", "1.0", ""); asks.set(101.0, 2.0, "101.0", "2.0", "")
        >>> "<table" in book_html(OrderBook("kraken", "XBT/USD", 1.0, 1.0, bids.freeze(), asks.freeze()))
        True
    """
    bids, asks = book.top(depth)
    state = "synced" if book.synced else "UNSYNCED"
    spread = number_text(book.spread) if book.spread is not None else "-"
    caption = (
        f"{book.venue} {book.symbol} — {state} — mid {number_text(book.mid) or '-'} — spread {spread} — "
        f"levels {book.bid_count}/{book.ask_count}" + (f" — seq {book.sequence}" if book.sequence is not None else "")
    )
    rows = [f'<table style="{TABLE_STYLE}">', f"<caption>{html.escape(caption)}</caption>"]
    rows.append(html_header(["bid size", "bid", "ask", "ask size"]))
    for i in range(max(len(bids), len(asks))):
        b = bids[i] if i < len(bids) else None
        a = asks[i] if i < len(asks) else None
        rows.append(
            "<tr>"
            + html_cell(number_text(b[1]) if b else "", "#1a9850")
            + html_cell(number_text(b[0]) if b else "", "#1a9850", bold=i == 0)
            + html_cell(number_text(a[0]) if a else "", "#d73027", bold=i == 0)
            + html_cell(number_text(a[1]) if a else "", "#d73027")
            + "</tr>"
        )
    rows.append("</table>")
    return "".join(rows)
