"""Argument checks of the Kraken clients (v1 and v2): depths, intervals, amounts, timeouts, tokens.

Each raises :class:`~rxfeeds.errors.InvalidArgument` before anything is sent; a token is never
echoed in an error.

Example:
    >>> check_depth(25), check_interval("1h"), check_timeout(60)
    (25, 60, 60)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from ...errors import InvalidArgument
from ...intervals import parse_interval
from ..orders import order_text
from .frames import BOOK_DEPTHS, OHLC_INTERVALS

__all__ = [
    "ORDER_TYPES",
    "Token",
    "check_connection",
    "check_depth",
    "check_interval",
    "check_timeout",
    "check_token",
    "decimal_text",
    "oflags_text",
    "resolve_token",
]

#: A websocket token, or a zero-argument callable returning one (asked at each use).
Token = str | Callable[[], str]

#: Order types ``add_order`` accepts.
ORDER_TYPES: Final = (
    "market",
    "limit",
    "stop-loss",
    "take-profit",
    "stop-loss-limit",
    "take-profit-limit",
    "settle-position",
    "iceberg",
    "trailing-stop",
    "trailing-stop-limit",
)


def check_depth(depth: Any, allowed: Sequence[int] = BOOK_DEPTHS) -> int:
    """A supported book depth.

    Example:
        >>> check_depth(25)
        25
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth not in allowed:
        raise InvalidArgument("depth", depth, f"must be one of {', '.join(map(str, allowed))}")
    return depth


def check_interval(interval: Any) -> int:
    """An OHLC interval in minutes, from ``5``, ``"5m"``, ``"1h"``, ``"1d"``, ``"1w"``, ``"15d"``...

    Example:
        >>> check_interval(60), check_interval("4h"), check_interval("1w")
        (60, 240, 10080)
    """
    allowed = ", ".join(f"{m} ({n})" for m, n in OHLC_INTERVALS.items())
    if isinstance(interval, bool):
        raise InvalidArgument("interval", interval, f"must be one of {allowed}")
    try:
        seconds = parse_interval(interval).seconds
    except (InvalidArgument, TypeError, ValueError, AttributeError):
        raise InvalidArgument("interval", interval, f"must be one of {allowed}") from None
    minutes = (seconds or 0) / 60
    if minutes not in OHLC_INTERVALS:
        raise InvalidArgument("interval", interval, f"must be one of {allowed}")
    return int(minutes)


def decimal_text(name: str, value: Any, *, allow_zero: bool = False) -> str:
    """A positive size or price as the plain decimal string Kraken v1 wants (the shared order rule,
    :func:`rxfeeds.venues.orders.order_text`).

    Example:
        >>> decimal_text("volume", 0.5), decimal_text("price", "20000"), decimal_text("volume", "1e-5")
        ('0.5', '20000', '0.00001')
    """
    return order_text(name, value, allow_zero=allow_zero)


def check_timeout(timeout: Any) -> int:
    """A dead-man's-switch timeout: whole seconds 0..86400 (0 disables).

    Example:
        >>> check_timeout(60)
        60
    """
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 0 <= timeout <= 86400:
        raise InvalidArgument("timeout", timeout, "must be whole seconds between 0 and 86400 (0 disables)")
    return timeout


def resolve_token(token: Token) -> str:
    """The token string (calling a provider); never echoed in errors."""
    value = token() if callable(token) else token
    if not isinstance(value, str) or not value:
        raise InvalidArgument("token", "<hidden>", "must be a non-empty websocket token (or a callable giving one)")
    return value


def oflags_text(oflags: Any) -> str | None:
    """Order flags as Kraken's comma-separated text (a string or a list of strings).

    Example:
        >>> oflags_text(["post", "fciq"]), oflags_text(None)
        ('post,fciq', None)
    """
    if oflags is None or isinstance(oflags, str):
        return oflags
    if isinstance(oflags, (list, tuple)) and all(isinstance(f, str) for f in oflags):
        return ",".join(oflags)
    raise InvalidArgument("oflags", oflags, "must be a string or a list of flag strings (e.g. ['post', 'fciq'])")


def check_token(token: Any) -> Token:
    """Accept a non-empty string or a callable; checked before anything is sent."""
    if callable(token) or (isinstance(token, str) and token):
        return token  # type: ignore[no-any-return]
    raise InvalidArgument("token", "<hidden>", "must be a non-empty websocket token (or a callable giving one)")


def check_connection(connection: Any) -> str:
    """A connection name: a non-empty string.

    Example:
        >>> check_connection("public")
        'public'
    """
    if not isinstance(connection, str) or not connection:
        raise InvalidArgument("connection", connection, "must be a non-empty connection name")
    return connection
