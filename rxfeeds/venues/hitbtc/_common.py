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

_EPOCH_ORDINAL: Final = _dt.date(1970, 1, 1).toordinal()
_DAY_CACHE: dict[str, float] = {}

#: HitBTC candle periods (v2 and v3 spell them the same way).
CANDLE_PERIODS: Final = ("M1", "M3", "M5", "M15", "M30", "H1", "H4", "D1", "D7", "1M")
_INTERVALS: dict[str, Interval] = {}


def iso_time(text: str) -> float:
    """Epoch seconds of a HitBTC ISO-8601 UTC time (``2021-07-15T03:06:43.095Z``).

    The common ``...Z`` form is parsed by slicing, with the date part cached, because it runs
    once per book update; anything else goes through :meth:`datetime.fromisoformat`.
    """
    if len(text) >= 20 and text[10] == "T" and text[-1] == "Z" and text[13] == ":" and text[16] == ":":
        date = text[:10]
        day = _DAY_CACHE.get(date)
        if day is None:
            day = float((_dt.date.fromisoformat(date).toordinal() - _EPOCH_ORDINAL) * 86400)
            if len(_DAY_CACHE) > 4096:
                _DAY_CACHE.clear()
            _DAY_CACHE[date] = day
        hours = int(text[11:13])
        minutes = int(text[14:16])
        seconds = float(text[17:-1])
        if hours > 23 or minutes > 59 or not 0.0 <= seconds < 61.0:
            raise ValueError(f"bad time {text!r}")
        return round(day + hours * 3600 + minutes * 60 + seconds, 6)
    parsed = _dt.datetime.fromisoformat(text)
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
