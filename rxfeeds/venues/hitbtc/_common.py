"""Pieces shared by the HitBTC v2 and v3 codecs: time parsing, numbers, credentials.

Example:
    >>> iso_time("2021-07-15T03:06:43.095Z")
    1626318403.095
    >>> Credentials("my-key", "my-secret")
    Credentials(algo='HS256', key=<hidden>)
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
from typing import Any, Final, Literal

from ...errors import InvalidArgument
from ...intervals import Interval, parse_interval

__all__ = ["iso_time", "opt_float", "Credentials", "CANDLE_PERIODS", "candle_interval", "side_of"]

_fromisoformat = _dt.datetime.fromisoformat

#: HitBTC candle periods (v2 and v3 spell them the same way).
CANDLE_PERIODS: Final = ("M1", "M3", "M5", "M15", "M30", "H1", "H4", "D1", "D7", "1M")
_INTERVALS: dict[str, Interval] = {}


def iso_time(text: str) -> float:
    """Epoch seconds of a HitBTC ISO-8601 UTC time (``2021-07-15T03:06:43.095Z``).

    :meth:`datetime.fromisoformat` is C code and reads the ``Z`` suffix since Python 3.11: it
    measured several times faster than slicing the text in Python (``benchmarks/hitbtc_codec.py``).
    A time without an offset is taken as UTC.
    """
    parsed = _fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.UTC)
    return parsed.timestamp()


def opt_float(value: Any) -> float | None:
    """``float(value)``, or ``None`` for a missing/null/empty value."""
    if value is None or value == "":
        return None
    return float(value)


def side_of(value: Any) -> Literal["buy", "sell"] | None:
    """The side as the events spell it, or ``None`` for anything else."""
    if value == "buy":
        return "buy"
    if value == "sell":
        return "sell"
    return None


def candle_interval(period: str) -> Interval:
    """The :class:`~rxfeeds.intervals.Interval` of a HitBTC candle period (cached).

    Raises:
        InvalidArgument: when ``period`` is not one of :data:`CANDLE_PERIODS`.
    """
    found = _INTERVALS.get(period)
    if found is None:
        if period not in CANDLE_PERIODS:
            raise InvalidArgument("period", period, f"must be one of {', '.join(CANDLE_PERIODS)}")
        found = _INTERVALS[period] = parse_interval(period, "period")
    return found


class Credentials:
    """An API key pair; neither part ever shows in ``repr``/``str``.

    ``algo`` selects the login: ``"HS256"`` (default; the secret never leaves the process, only
    an HMAC-SHA256 signature of a nonce or timestamp) or ``"BASIC"`` (the secret is sent to the
    venue in the login frame, over TLS).

    Example:
        >>> c = Credentials("my-key", "my-secret", algo="BASIC")
        >>> c.algo, "my-" in repr(c)
        ('BASIC', False)
    """

    __slots__ = ("_key", "_secret", "algo")

    def __init__(self, key: str, secret: str, algo: str = "HS256") -> None:
        if not isinstance(key, str) or not key:
            raise InvalidArgument("key", "<hidden>", "the API key must be a non-empty string")
        if not isinstance(secret, str) or not secret:
            raise InvalidArgument("secret", "<hidden>", "the API secret must be a non-empty string")
        if algo not in ("HS256", "BASIC"):
            raise InvalidArgument("algo", algo, "must be 'HS256' or 'BASIC'")
        self._key = key
        self._secret = secret
        self.algo = algo

    def __repr__(self) -> str:
        return f"Credentials(algo={self.algo!r}, key=<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("Credentials are not picklable")

    @property
    def key(self) -> str:
        """The API (public) key."""
        return self._key

    def secret(self) -> str:
        """The API secret (a method, so attribute dumps do not show it)."""
        return self._secret

    def sign(self, message: str) -> str:
        """``hex(HMAC-SHA256(secret, message))``."""
        return hmac.new(self._secret.encode(), message.encode(), hashlib.sha256).hexdigest()
