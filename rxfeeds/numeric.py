"""Numeric and type sanity shared by every codec: cheap checks for the per-frame hot path.

A venue frame is untrusted input.  Before a number becomes part of an event, a codec checks it
here, so that no ``NaN``, infinite, negative or absurdly long number reaches a book, and one
frame costs bounded time and memory:

* a number's wire text is at most :data:`MAX_TEXT` characters, checked **before** any
  conversion or expansion (``1e999999999`` is 11 characters, but exact decimal formatting of it
  would need a gigabyte: :func:`decimal_text` bounds the exponent before formatting);
* a price is finite and ``0 < price <`` :data:`MAX_PRICE`; a size (quantity, volume) is finite
  and ``0 <= size <`` :data:`MAX_SIZE`; a time in seconds is ``0 <= t <`` :data:`MAX_TIME`.
  One chained comparison does the range check and rejects ``NaN`` (every comparison with NaN is
  false) and infinities;
* a symbol (a routing key part) is a ``str`` of at most :data:`MAX_SYMBOL` characters.

The checks raise :class:`BadValue`, a :class:`ValueError`; each codec's ``decode`` turns it (and
every other error a malformed frame can cause, :data:`DECODE_ERRORS`) into a
:class:`~rxfeeds.errors.FrameError` carrying the raw frame.

Example:
    >>> price("101.5"), size("0"), level("101.5", "2")
    (101.5, 0.0, (101.5, 2.0, '101.5', '2'))
    >>> price("nan")
    Traceback (most recent call last):
    ...
    rxfeeds.numeric.BadValue: price out of range: 'nan'
    >>> size("-1")
    Traceback (most recent call last):
    ...
    rxfeeds.numeric.BadValue: size out of range: '-1'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any, Final

import orjson

from .events import Level

__all__ = [
    "MAX_TEXT",
    "MAX_PRICE",
    "MAX_SIZE",
    "MAX_TIME",
    "MAX_SYMBOL",
    "MAX_EXPONENT",
    "DECODE_ERRORS",
    "BadValue",
    "price",
    "size",
    "opt_size",
    "text_level_sides",
    "finite",
    "seconds",
    "ms_seconds",
    "level",
    "text_levels",
    "level_columns",
    "BATCH_LEVELS",
    "symbol",
    "decimal_text",
    "reject_constant",
]

#: Longest accepted wire text of one number (digits, sign, point, exponent).
MAX_TEXT: Final = 40
#: Prices are below this (and above zero).
MAX_PRICE: Final = 1e15
#: Sizes, quantities and volumes are below this (and at least zero).
MAX_SIZE: Final = 1e18
#: Times in epoch seconds are below this (about the year 5138).
MAX_TIME: Final = 1e11
#: Longest accepted symbol.
MAX_SYMBOL: Final = 64
#: Largest decimal exponent (adjusted, i.e. of the leading digit) accepted by :func:`decimal_text`.
MAX_EXPONENT: Final = 30

#: Everything a malformed frame can make decoding raise; codecs map these to FrameError.
#: ``ArithmeticError`` covers ``OverflowError``/``ZeroDivisionError``, ``ValueError`` covers
#: ``UnicodeError`` (lone surrogates), ``RecursionError`` deep nesting in the stdlib parser.
DECODE_ERRORS: Final = (
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)


class BadValue(ValueError):
    """A number or field of a frame is out of range or of the wrong type."""


def _number(value: Any, what: str) -> float:
    kind = type(value)
    if kind is str:
        if len(value) > MAX_TEXT:
            raise BadValue(f"{what} text longer than {MAX_TEXT} characters")
        return float(value)
    if kind is float:
        return value  # type: ignore[no-any-return]
    if kind is int:
        if -MAX_SIZE < value < MAX_SIZE:  # compared as int: a huge one never overflows a float
            return float(value)
        raise BadValue(f"{what} out of range: {value!r}"[:120])
    if kind is Decimal:
        return float(decimal_text(value))
    raise BadValue(f"{what} is a {kind.__name__}, not a number")


def price(value: Any) -> float:
    """A price: a number text (or JSON number), finite and ``0 < price < MAX_PRICE``.

    Example:
        >>> price("0.00012"), price(7)
        (0.00012, 7.0)
    """
    p = _number(value, "price")
    if 0.0 < p < MAX_PRICE:
        return p
    raise BadValue(f"price out of range: {value!r}")


def size(value: Any) -> float:
    """A size, quantity or volume: finite and ``0 <= size < MAX_SIZE``.

    Example:
        >>> size("1.5"), size(0)
        (1.5, 0.0)
    """
    s = _number(value, "size")
    if 0.0 <= s < MAX_SIZE:
        return s
    raise BadValue(f"size out of range: {value!r}")


def opt_size(value: Any) -> float | None:
    """:func:`size`, or ``None`` for a missing, ``null`` or empty value (optional ticker fields).

    Example:
        >>> opt_size(None), opt_size(""), opt_size("2")
        (None, None, 2.0)
    """
    if value is None or value == "":
        return None
    return size(value)


def finite(value: Any) -> float:
    """A signed amount (a fee, which may be a rebate): finite and ``-MAX_SIZE < x < MAX_SIZE``.

    Example:
        >>> finite("-0.25")
        -0.25
    """
    x = _number(value, "amount")
    if -MAX_SIZE < x < MAX_SIZE:
        return x
    raise BadValue(f"amount out of range: {value!r}"[:100])


def seconds(value: float) -> float:
    """An epoch time in seconds, checked: finite and ``0 <= t < MAX_TIME``.

    Example:
        >>> seconds(1700000000.5)
        1700000000.5
    """
    if 0.0 <= value < MAX_TIME:
        return value
    raise BadValue(f"time out of range: {value!r}")


def ms_seconds(value: Any) -> float:
    """Epoch seconds of an epoch-milliseconds number or digit text, range-checked first.

    Example:
        >>> ms_seconds(1700000000500), ms_seconds("1700000000500")
        (1700000000.5, 1700000000.5)
    """
    return seconds(_number(value, "time") / 1000.0)


def level(price_text: Any, size_text: Any) -> Level:
    """A book level ``(price, size, price_text, size_text)`` from two number **strings**.

    Example:
        >>> level("1e2", "0.5")
        (100.0, 0.5, '1e2', '0.5')
        >>> level(1.5, "1")
        Traceback (most recent call last):
        ...
        rxfeeds.numeric.BadValue: book price is a float, not a string
    """
    if type(price_text) is not str:
        raise BadValue(f"book price is a {type(price_text).__name__}, not a string")
    if type(size_text) is not str:
        raise BadValue(f"book size is a {type(size_text).__name__}, not a string")
    if len(price_text) > MAX_TEXT or len(size_text) > MAX_TEXT:
        raise BadValue(f"book number text longer than {MAX_TEXT} characters")
    p = float(price_text)
    s = float(size_text)
    if 0.0 < p < MAX_PRICE and 0.0 <= s < MAX_SIZE:
        return (p, s, price_text, size_text)
    raise BadValue(f"book level out of range: {price_text!r}, {size_text!r}")


#: Levels at or above this count are converted in one batch (:func:`level_columns`).
BATCH_LEVELS: Final = 12  # measured: below ~10 levels the per-level loop is faster
_LONG_SIDE: Final = 64  # two sides this long are converted apart (one batch gains nothing there)

_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
_loads = orjson.loads


def level_columns(prices: list[str], sizes: list[str], skip_zero: bool) -> tuple[Level, ...] | None:
    """Checked levels from parallel price and size text columns, converted in one batch.

    ``float()`` per text costs a Python call each; orjson parses one JSON array of all of them
    (correctly rounded, as ``float()``) several times faster, and the checks run as C loops.
    Each text gets an ``e0`` exponent so that every element is a float.  A text that is not one
    plain non-negative decimal number (``"1,2"``, ``"nan"``, ``"1e5"``, ``"-1"``, a quote, a
    non-str) makes the array invalid, changes the element count or adds a non-number; then, and
    when a level fails the checks, the result is None and the caller runs its per-level path,
    whose checks and precise :class:`BadValue` are the reference.  ``skip_zero`` drops zero
    sizes (snapshots).

    Example:
        >>> level_columns(["2.5", "2.4", "2.3", "2.2"], ["1", "0", "2", "3"], True)
        ((2.5, 1.0, '2.5', '1'), (2.3, 2.0, '2.3', '2'), (2.2, 3.0, '2.2', '3'))
        >>> level_columns(["2.5", "nan", "2.3", "2.2"], ["1", "1", "1", "1"], True) is None
        True
    """
    n = len(prices)
    if n == 0 or len(sizes) != n:
        return () if n == 0 and not sizes else None
    texts = prices + sizes
    try:
        inner = "e0,".join(texts)
    except TypeError:  # not all str
        return None
    if "-" in inner:  # negative numbers (or -0): the per-level path decides
        return None
    try:
        values = _loads("[" + inner + "e0]")
    except orjson.JSONDecodeError:  # not plain numbers (NaN, infinities, exponents, ...)
        return None
    if len(values) != len(texts):
        return None
    ps = values[:n]
    ss = values[n:]
    try:
        # all values are >= 0 here, so the sums bound every one of them (a sum over the bound
        # only sends the book to the per-level path); a non-number element raises TypeError
        ok = sum(ps) < MAX_PRICE and sum(ss) < MAX_SIZE and min(ps) > 0.0 and max(map(len, texts)) <= MAX_TEXT
    except TypeError:
        return None
    if not ok:
        return None
    if skip_zero and 0.0 in ss:
        return tuple([level for level in zip(ps, ss, prices, sizes, strict=True) if level[1] != 0.0])
    return tuple(zip(ps, ss, prices, sizes, strict=True))


def text_levels(raw: Iterable[Sequence[Any]]) -> tuple[Level, ...]:
    """Levels from ``[[price_text, size_text, ...], ...]`` (extra elements are ignored).

    Many levels (snapshots) are converted in one batch (:func:`level_columns`); a few, or any
    that the batch refuses, in one loop with the checks inline.

    Example:
        >>> text_levels([["2.5", "1", "x"], ["2.4", "0"]])
        ((2.5, 1.0, '2.5', '1'), (2.4, 0.0, '2.4', '0'))
    """
    if type(raw) is list and len(raw) >= BATCH_LEVELS:
        try:
            prices = list(map(_FIRST, raw))
            sizes = list(map(_SECOND, raw))
        except (TypeError, IndexError, KeyError):
            pass  # the per-level loop below reports it
        else:
            found = level_columns(prices, sizes, False)
            if found is not None:
                return found
    out: list[Level] = []
    append = out.append
    for item in raw:
        p, s = item[0], item[1]
        fp = float(p)
        fs = float(s)
        # float() and len() both succeed only for a str among JSON values: no explicit type check
        if not (0.0 < fp < MAX_PRICE and 0.0 <= fs < MAX_SIZE) or len(p) > MAX_TEXT or len(s) > MAX_TEXT:
            raise BadValue(f"book level out of range: {p!r:.60}, {s!r:.60}")
        append((fp, fs, p, s))
    return tuple(out)


def text_level_sides(bids: Any, asks: Any) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
    """:func:`text_levels` of both sides of one message, converted in one batch when wide.

    One :func:`level_columns` call for both sides costs one parse and one round of checks
    instead of two (a wide update, such as OKX's ``books`` with about 30 levels); sides that are
    both long (a REST snapshot) gain nothing from it and are converted apart.  Anything the
    batch refuses goes through :func:`text_levels` side by side.

    Example:
        >>> bids, asks = text_level_sides([["2.5", "1"]] * 6, [["2.6", "0"]] * 6)
        >>> bids[0], asks[-1], len(bids), len(asks)
        ((2.5, 1.0, '2.5', '1'), (2.6, 0.0, '2.6', '0'), 6, 6)
    """
    if (
        type(bids) is list
        and type(asks) is list
        and len(bids) + len(asks) >= BATCH_LEVELS
        and 0 < min(len(bids), len(asks)) < _LONG_SIDE
    ):
        try:
            prices = list(map(_FIRST, bids))
            prices += map(_FIRST, asks)
            sizes = list(map(_SECOND, bids))
            sizes += map(_SECOND, asks)
        except (TypeError, IndexError, KeyError):
            pass  # the per-side path reports it
        else:
            found = level_columns(prices, sizes, False)
            if found is not None:
                n = len(bids)
                return found[:n], found[n:]
    return text_levels(bids), text_levels(asks)


def symbol(value: Any) -> str:
    """A symbol (routing key part): a ``str`` of at most :data:`MAX_SYMBOL` characters.

    Example:
        >>> symbol("ETHBTC")
        'ETHBTC'
        >>> symbol(["ETHBTC"])
        Traceback (most recent call last):
        ...
        rxfeeds.numeric.BadValue: symbol is a list, not a string
    """
    if type(value) is not str:
        raise BadValue(f"symbol is a {type(value).__name__}, not a string")
    if len(value) > MAX_SYMBOL:
        raise BadValue(f"symbol longer than {MAX_SYMBOL} characters")
    return value


def decimal_text(value: Decimal | int) -> str:
    """Exact plain-notation text of a parsed JSON number, its size checked **before** formatting.

    ``format(Decimal("1e999999999"), "f")`` would build a string of a billion characters; here the
    exponent is bounded first (:data:`MAX_EXPONENT`), then the text length (:data:`MAX_TEXT`).
    ``NaN`` and infinities are refused (their text does not end in a digit).

    Example:
        >>> decimal_text(Decimal("2.5E-7")), decimal_text(12)
        ('0.00000025', '12')
        >>> decimal_text(Decimal("1e999999999"))
        Traceback (most recent call last):
        ...
        rxfeeds.numeric.BadValue: not a sane number: 1E+999999999
    """
    if type(value) is Decimal:
        # adjusted() is the leading digit's exponent; with the digits bounded by the frame, it
        # bounds what format() writes out
        if -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
            text = format(value, "f")
            if len(text) <= MAX_TEXT and text[-1] in _DIGITS:
                return text
    elif type(value) is int and -MAX_SIZE < value < MAX_SIZE:
        return str(value)
    shown = value if type(value) in (Decimal, int) else type(value).__name__
    raise BadValue(f"not a sane number: {shown}"[:100])


_DIGITS: Final = "0123456789"


def reject_constant(name: str) -> Any:
    """``parse_constant`` hook for :func:`json.loads`: ``NaN``/``Infinity`` are not JSON numbers.

    Example:
        >>> import json
        >>> json.loads("[NaN]", parse_constant=reject_constant)
        Traceback (most recent call last):
        ...
        rxfeeds.numeric.BadValue: NaN is not a number a venue may send
    """
    raise BadValue(f"{name} is not a number a venue may send")
