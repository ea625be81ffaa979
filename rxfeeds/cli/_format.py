"""Numbers and events as the terminal shows them: as the venue sent them, never float noise.

Book levels carry the venue's own text (``"1.35412825"``) and are shown as is.  Other events
carry floats; a float is shown with the shortest text that reads back as the same float (what
the venue sent, for a number parsed from the wire), and derived numbers (a spread, a summed
volume) are computed or rounded in decimal so ``0.09999999999854481`` never reaches the user.

Example:
    >>> num(1.35412825), num(36.05017662000001), num(1e-05), num(None)
    ('1.35412825', '36.05017662', '0.00001', '')
    >>> difference(50000.2, 50000.1)
    '0.1'
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

__all__ = ["describe", "difference", "level_texts", "num"]

# a float has 15-17 significant digits; more than 15 in its shortest text is arithmetic noise
_DIGITS = 15


def num(value: float | int | None) -> str:
    """``value`` as plain decimal text: the shortest round-trip form, noise rounded away."""
    if value is None:
        return ""
    if isinstance(value, bool | int):
        return str(value)
    text = repr(float(value))
    if text in ("nan", "inf", "-inf"):
        return text
    mantissa = text.split("e")[0].replace("-", "").replace(".", "").strip("0")
    if len(mantissa) > _DIGITS:
        text = format(value, f".{_DIGITS}g")
    return _plain(Decimal(text))


def _plain(d: Decimal) -> str:
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
    return text


def difference(a: float | None, b: float | None) -> str:
    """``a - b`` computed in decimal from the texts of ``a`` and ``b`` ('' when one is None)."""
    if a is None or b is None:
        return ""
    return _plain(Decimal(num(a)) - Decimal(num(b)))


def level_texts(level: tuple[Any, ...]) -> tuple[str, str]:
    """``(price, size)`` of a book level: the venue's texts when the level carries them."""
    price = level[2] if len(level) > 2 and level[2] else num(level[0])
    size = level[3] if len(level) > 3 and level[3] else num(level[1])
    return price, size


_SKIP = {"venue", "symbol", "time", "recv_time", "raw"}


def describe(value: Any, limit: int = 200) -> str:
    """One line for an event without a table: its type and fields, cut between fields only.

    Example:
        >>> from rxfeeds.events import Trade
        >>> describe(Trade("kraken", "XBT/USD", 1.0, 1.0, price=50000.1, size=0.1 + 0.2))
        'Trade XBT/USD price=50000.1 size=0.3'
    """
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        text = str(value)
        return text if len(text) <= limit else text[: limit - 3] + "..."
    parts = [type(value).__name__]
    symbol = getattr(value, "symbol", "")
    if symbol:
        parts.append(symbol)
    for f in dataclasses.fields(value):
        if f.name in _SKIP:
            continue
        v = getattr(value, f.name)
        if v is None:
            continue
        shown = num(v) if isinstance(v, float) else str(v)
        parts.append(f"{f.name}={shown}")
    out = ""
    for part in parts:
        candidate = f"{out} {part}" if out else part
        if len(candidate) > limit:
            return out + " ..."
        out = candidate
    return out
