"""Interval parsing and bucket alignment, checked against the calendar of :mod:`datetime`."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rxfeeds.errors import InvalidArgument
from rxfeeds.intervals import Interval, parse_interval

UTC = dt.UTC


def utc(t: float) -> dt.datetime:
    # whole seconds: fromtimestamp rounds microseconds, which can carry t = x.9999995 into the next month
    return dt.datetime.fromtimestamp(math.floor(t), tz=UTC)


@pytest.mark.parametrize(
    ("spelling", "name", "seconds"),
    [
        ("1s", "1s", 1),
        ("1m", "1m", 60),
        ("5m", "5m", 300),
        ("1h", "1h", 3600),
        ("4h", "4h", 14400),
        ("1d", "1d", 86400),
        ("1w", "1w", 604800),
        ("1M", "1M", None),
        ("M1", "1m", 60),
        ("M5", "5m", 300),
        ("M30", "30m", 1800),
        ("H1", "1h", 3600),
        ("H4", "4h", 14400),
        ("D1", "1d", 86400),
        ("D7", "1w", 604800),
        ("60m", "1h", 3600),
        ("90s", "90s", 90),
        ("1H", "1h", 3600),
        ("1D", "1d", 86400),
        ("1W", "1w", 604800),
        ("15 minutes", "15m", 900),
        ("4hour", "4h", 14400),
        ("1mon", "1M", None),
        ("3M", "3M", None),
        (1, "1m", 60),
        (240, "4h", 14400),
        (1440, "1d", 86400),
        (10080, "1w", 604800),
        (dt.timedelta(minutes=5), "5m", 300),
    ],
)
def test_common_and_venue_spellings(spelling: object, name: str, seconds: int | None) -> None:
    iv = parse_interval(spelling)  # type: ignore[arg-type]
    assert iv.name == name
    assert iv.seconds == seconds
    assert str(iv) == name
    assert parse_interval(iv) is iv
    assert parse_interval(name) == iv  # the canonical name parses back to the same interval


@pytest.mark.parametrize(
    "bad", ["", "x", "7x", "1.5m", "0m", "M0", "-1m", "1440", "m", "1 fortnight", 0, -5, True, 1.5]
)
def test_bad_spellings_raise_invalid_argument_naming_the_argument(bad: object) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_interval(bad, "period")  # type: ignore[arg-type]
    assert err.value.name == "period"
    assert str(err.value).startswith("period=")
    assert isinstance(err.value, ValueError)


def test_lower_m_is_minutes_and_upper_m_after_the_number_is_months() -> None:
    assert parse_interval("1m").seconds == 60
    assert parse_interval("1M").unit == "M"
    assert parse_interval("M1").seconds == 60  # HitBTC: unit first is minutes


times = st.floats(min_value=0.0, max_value=4_102_444_800.0, allow_nan=False)  # 1970 .. 2100


@given(times, st.sampled_from(["1s", "1m", "5m", "15m", "1h", "4h", "1d", "90s", "7m"]))
def test_fixed_buckets_are_epoch_multiples_containing_t(t: float, spelling: str) -> None:
    iv = parse_interval(spelling)
    start, end = iv.bucket(t)
    assert iv.seconds is not None
    assert start <= t < end
    assert end - start == iv.seconds
    assert start % iv.seconds == 0
    assert iv.bucket_start(t) == start and iv.bucket_end(t) == end


@given(times)
def test_week_buckets_start_monday_midnight_utc(t: float) -> None:
    start, end = parse_interval("1w").bucket(t)
    assert start <= t < end
    day = utc(start)
    assert day.weekday() == 0  # Monday
    assert (day.hour, day.minute, day.second, day.microsecond) == (0, 0, 0, 0)
    assert end - start == 7 * 86400
    assert utc(t).isocalendar()[:2] == day.isocalendar()[:2]  # same ISO week


@given(times)
def test_month_buckets_are_calendar_months(t: float) -> None:
    start, end = parse_interval("1M").bucket(t)
    assert start <= t < end
    when, first, nxt = utc(t), utc(start), utc(end)
    assert (first.year, first.month, first.day, first.hour, first.minute) == (when.year, when.month, 1, 0, 0)
    assert nxt.day == 1 and (nxt.year * 12 + nxt.month) == (when.year * 12 + when.month) + 1


@given(times)
def test_quarter_buckets(t: float) -> None:
    start, end = parse_interval("3M").bucket(t)
    assert start <= t < end
    first, nxt = utc(start), utc(end)
    assert first.month in (1, 4, 7, 10) and first.day == 1
    assert (nxt.year * 12 + nxt.month) - (first.year * 12 + first.month) == 3


@given(
    times,
    st.sampled_from([("1m", "5m"), ("1m", "1h"), ("5m", "1d"), ("1h", "1w"), ("1d", "1M"), ("1M", "3M")]),
)
def test_divides_means_coarse_buckets_are_unions_of_fine_buckets(t: float, pair: tuple[str, str]) -> None:
    fine, coarse = parse_interval(pair[0]), parse_interval(pair[1])
    assert fine.divides(coarse)
    start, end = coarse.bucket(t)
    # the fine buckets at both coarse edges start exactly there
    assert fine.bucket_start(start) == start
    assert fine.bucket_start(end) == end
    assert fine.bucket_end(end - 0.001) == end


@pytest.mark.parametrize(("fine", "coarse"), [("7m", "1h"), ("1w", "1M"), ("1h", "1m"), ("1M", "1w"), ("5h", "1d")])
def test_divides_is_false_when_buckets_would_straddle(fine: str, coarse: str) -> None:
    assert not parse_interval(fine).divides(parse_interval(coarse))


def test_interval_is_an_immutable_value() -> None:
    iv = parse_interval("5m")
    assert iv == Interval(5, "m") and hash(iv) == hash(Interval(5, "m"))
    with pytest.raises(AttributeError):
        iv.count = 3  # type: ignore[misc]
