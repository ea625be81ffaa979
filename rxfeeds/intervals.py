"""Bar intervals: parsing the common spellings and mapping a timestamp to its bucket.

Shared by the kline operators and the venue clients (to validate a venue's candle period).

Accepted spellings (``N`` a positive integer):

* ``Ns`` ``Nm`` ``Nh`` ``Nd`` ``Nw`` ``NM`` -- seconds, minutes, hours, days, weeks, months.  Lower-case
  ``m`` is minutes and upper-case ``M`` (after the number) is months; ``S``/``H``/``D``/``W`` may be
  upper case.
* long units: ``1sec``, ``5min``, ``4hour``, ``1day``, ``1week``, ``1mon``, ``1month`` (plural and
  ``-`` / space separators are fine: ``"15 minutes"``).
* venue forms with the unit first: ``M1`` ``M5`` ``M15`` ``M30`` ``H1`` ``H4`` ``D1`` ``D7`` (HitBTC);
  a leading ``M`` is minutes.
* an ``int`` is a number of **minutes** (Kraken's OHLC spelling: ``1``, ``60``, ``1440``, ``10080``);
  a ``datetime.timedelta`` is its length.  A string of digits only is refused as ambiguous.

Canonical names use the largest unit that divides evenly: ``"60m"`` -> ``"1h"``, ``"1440"`` minutes
-> ``"1d"``, ``"90s"`` stays ``"90s"``.  Any whole number of weeks (``D7``, ``7d``, ``10080``) becomes
weeks.

Alignment (exchange time, UTC):

* fixed intervals (seconds to days): multiples of the length since the Unix epoch;
* weeks: calendar weeks starting Monday 00:00 UTC (``Nw`` counts from Monday 1970-01-05);
* months: calendar months starting on the 1st at 00:00 UTC (``NM`` counts from January 1970, so
  ``3M`` are calendar quarters).

Example:
    >>> iv = parse_interval("M5")
    >>> iv.name, iv.seconds
    ('5m', 300)
    >>> iv.bucket(125.5)
    (0.0, 300.0)
    >>> parse_interval("1w").bucket(0.0)   # 1970-01-01 was a Thursday
    (-259200.0, 345600.0)
    >>> parse_interval("1M").bucket(86400.0 * 40)
    (2678400.0, 5097600.0)
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Final, Literal, TypeAlias

from rxfeeds.errors import InvalidArgument

__all__ = ["Interval", "IntervalLike", "parse_interval"]

Unit: TypeAlias = Literal["s", "m", "h", "d", "w", "M"]

_SECOND: Final = 1
_MINUTE: Final = 60
_HOUR: Final = 3600
_DAY: Final = 86400
_WEEK: Final = 7 * _DAY
#: Monday 1970-01-05 00:00 UTC: the origin of week buckets.
_MONDAY0: Final = 4 * _DAY

_FIXED_UNITS: Final[tuple[tuple[int, Unit], ...]] = (
    (_DAY, "d"),
    (_HOUR, "h"),
    (_MINUTE, "m"),
    (_SECOND, "s"),
)

_UNIT_WORDS: Final[dict[str, Unit]] = {
    "s": "s", "S": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "H": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "d", "D": "d", "day": "d", "days": "d",
    "w": "w", "W": "w", "wk": "w", "week": "w", "weeks": "w",
    "M": "M", "mon": "M", "month": "M", "months": "M", "mo": "M",
}  # fmt: skip

_UNIT_SECONDS: Final[dict[str, int]] = {"s": _SECOND, "m": _MINUTE, "h": _HOUR, "d": _DAY, "w": _WEEK}

_NUMBER_FIRST = re.compile(r"^\s*(\d+)\s*[- ]?\s*([A-Za-z]+)\s*$")
_UNIT_FIRST = re.compile(r"^\s*([SMHDW])(\d+)\s*$")

_ACCEPTED = "use e.g. 1s 1m 5m 15m 1h 4h 1d 1w 1M, venue forms M1 H4 D1 D7, or an int number of minutes"

_KIND_FIXED: Final = 0
_KIND_WEEK: Final = 1
_KIND_MONTH: Final = 2


@dataclass(frozen=True, slots=True)
class Interval:
    """A bar length with its calendar alignment; build it with :func:`parse_interval`.

    Attributes:
        count: how many units (``4`` for ``4h``).
        unit: ``"s" "m" "h" "d"`` (fixed length), ``"w"`` (calendar weeks) or ``"M"`` (months).
        name: canonical spelling (``"4h"``, ``"1w"``, ``"1M"``), used as :attr:`Kline.interval`.
        seconds: fixed length in seconds, ``None`` for months (their length varies).

    Example:
        >>> h4 = parse_interval("H4")
        >>> h4.name, h4.seconds, h4.bucket_start(3600 * 5 + 1.5)
        ('4h', 14400, 14400.0)
        >>> parse_interval("1m").divides(h4)
        True
    """

    count: int
    unit: Unit
    name: str = field(init=False)
    seconds: int | None = field(init=False)
    _kind: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.count <= 0:
            raise InvalidArgument("interval", self.count, "count must be a positive integer")
        object.__setattr__(self, "name", f"{self.count}{self.unit}")
        if self.unit == "M":
            object.__setattr__(self, "seconds", None)
            object.__setattr__(self, "_kind", _KIND_MONTH)
        else:
            object.__setattr__(self, "seconds", self.count * _UNIT_SECONDS[self.unit])
            object.__setattr__(self, "_kind", _KIND_WEEK if self.unit == "w" else _KIND_FIXED)

    def __str__(self) -> str:
        return self.name

    @property
    def calendar(self) -> bool:
        """``True`` for weeks and months (aligned by the calendar, not to epoch multiples)."""
        return self._kind != _KIND_FIXED

    def bucket_start(self, t: float) -> float:
        """Start (epoch seconds, UTC) of the bucket that contains time ``t``.

        Example:
            >>> parse_interval("1h").bucket_start(7300.0)
            7200.0
        """
        kind = self._kind
        if kind == _KIND_FIXED:
            seconds = self.seconds
            assert seconds is not None
            return float((t // seconds) * seconds)
        if kind == _KIND_WEEK:
            length = self.count * _WEEK
            return float(((t - _MONDAY0) // length) * length + _MONDAY0)
        index = _month_index(t)
        return _month_start(index - index % self.count)

    def bucket_end(self, t: float) -> float:
        """End (exclusive) of the bucket that contains time ``t``.

        Example:
            >>> parse_interval("1M").bucket_end(0.0)   # 1970-02-01
            2678400.0
        """
        return self.bucket(t)[1]

    def bucket(self, t: float) -> tuple[float, float]:
        """``(start, end)`` of the bucket containing ``t``: ``start <= t < end``.

        Example:
            >>> parse_interval("5m").bucket(301.0)
            (300.0, 600.0)
        """
        kind = self._kind
        if kind == _KIND_MONTH:
            index = _month_index(t)
            first = index - index % self.count
            return _month_start(first), _month_start(first + self.count)
        start = self.bucket_start(t)
        seconds = self.seconds
        assert seconds is not None
        return start, start + seconds

    def divides(self, coarser: Interval) -> bool:
        """``True`` when every bucket of ``coarser`` is a union of whole buckets of this interval.

        That is the condition for resampling bars of this interval into ``coarser`` bars.

        Example:
            >>> m1, m7, w1, mo = (parse_interval(v) for v in ("1m", "7m", "1w", "1M"))
            >>> m1.divides(w1), m1.divides(mo), w1.divides(mo), m7.divides(parse_interval("1h"))
            (True, True, False, False)
        """
        if self._kind == _KIND_MONTH:
            return coarser._kind == _KIND_MONTH and coarser.count % self.count == 0
        seconds = self.seconds
        assert seconds is not None
        if coarser._kind == _KIND_MONTH:
            # month boundaries are day boundaries, and every day is a whole number of our buckets
            return self._kind == _KIND_FIXED and _DAY % seconds == 0
        coarse_seconds = coarser.seconds
        assert coarse_seconds is not None
        if coarse_seconds % seconds:
            return False
        # the coarse origin (epoch, or Monday 1970-01-05) must be one of our bucket boundaries
        fine_origin = _MONDAY0 if self._kind == _KIND_WEEK else 0
        coarse_origin = _MONDAY0 if coarser._kind == _KIND_WEEK else 0
        return (coarse_origin - fine_origin) % seconds == 0


IntervalLike: TypeAlias = str | int | _dt.timedelta | Interval


def parse_interval(value: IntervalLike, name: str = "interval") -> Interval:
    """Parse an interval spelling into an :class:`Interval`.

    ``name`` is the argument name used in the :class:`~rxfeeds.errors.InvalidArgument` message.

    Example:
        >>> [parse_interval(v).name for v in ("1m", "M15", "H1", "D7", "1M", 240, "1 day")]
        ['1m', '15m', '1h', '1w', '1M', '4h', '1d']
        >>> try:
        ...     parse_interval("7x", "period")
        ... except ValueError as e:
        ...     print(str(e)[:34])
        period='7x': unknown interval; use
    """
    if isinstance(value, Interval):
        return value
    if isinstance(value, bool):
        raise InvalidArgument(name, value, f"not an interval; {_ACCEPTED}")
    if isinstance(value, int):
        if value <= 0:
            raise InvalidArgument(name, value, "an int interval is a number of minutes and must be positive")
        return _normalise(value * _MINUTE, name, value)
    if isinstance(value, _dt.timedelta):
        total = value.total_seconds()
        if total <= 0 or total != int(total):
            raise InvalidArgument(name, value, "a timedelta interval must be a positive whole number of seconds")
        return _normalise(int(total), name, value)
    if not isinstance(value, str):
        raise InvalidArgument(name, value, f"not an interval; {_ACCEPTED}")
    match = _UNIT_FIRST.match(value)
    if match is not None:
        letter, digits = match.groups()
        if letter == "M":
            unit: Unit = "m"  # HitBTC M1/M5: minutes (months are "1M")
        else:
            unit = _UNIT_WORDS[letter]
        count = int(digits)
    else:
        match = _NUMBER_FIRST.match(value)
        if match is None:
            why = "a bare number is ambiguous; add a unit" if value.strip().isdigit() else "unknown interval"
            raise InvalidArgument(name, value, f"{why}; {_ACCEPTED}")
        digits, word = match.groups()
        found = _UNIT_WORDS.get(word) or _UNIT_WORDS.get(word.lower())
        if found is None:
            raise InvalidArgument(name, value, f"unknown interval; {_ACCEPTED}")
        unit, count = found, int(digits)
    if count <= 0:
        raise InvalidArgument(name, value, "the count must be positive")
    if unit == "M":
        return Interval(count, "M")
    if unit == "w":
        return Interval(count, "w")
    return _normalise(count * _UNIT_SECONDS[unit], name, value)


def _normalise(seconds: int, name: str, value: object) -> Interval:
    if seconds % _WEEK == 0:
        return Interval(seconds // _WEEK, "w")
    for size, unit in _FIXED_UNITS:
        if seconds % size == 0:
            return Interval(seconds // size, unit)
    raise InvalidArgument(name, value, f"not an interval; {_ACCEPTED}")  # pragma: no cover - size 1 divides


def _month_index(t: float) -> int:
    """Months since January 1970 of the UTC month containing ``t``."""
    day = int(t // _DAY)
    date = _dt.date(1970, 1, 1) + _dt.timedelta(days=day)
    return (date.year - 1970) * 12 + date.month - 1


def _month_start(index: int) -> float:
    year, month = divmod(index, 12)
    return float(calendar.timegm((1970 + year, month + 1, 1, 0, 0, 0)))
