"""One rule for order arguments (sizes and prices) on every venue's trading calls.

:func:`order_decimal` checks a size or price once and returns it as an exact :class:`~decimal.Decimal`;
:func:`order_text` gives the plain decimal text every venue is sent.  The same value gets the same
outcome on every venue:

* accepted: ``Decimal``, ``int``, ``str`` (``"0.5"``, ``"20000"``, ``"1e-5"``), and ``float`` taken
  as the decimal it prints as (``0.1`` is ``"0.1"``, never ``0.1000000000000000055...``); pass a
  string or a ``Decimal`` to say exactly what you mean;
* sent as plain decimal text, never in scientific notation: ``"1e-5"`` goes out as ``"0.00001"``;
  the digits given are kept (``"0.50"`` stays ``"0.50"``), no rounding happens;
* refused with :class:`~rxfeeds.errors.InvalidArgument`: ``bool``, other types, malformed text,
  NaN and infinities, zero and negatives (zero is allowed where a call says so), and values with
  more than :data:`MAX_DIGITS` digits once written out (bounded text for hostile input).

Example:
    >>> order_text("volume", "1e-5"), order_text("price", 0.1), order_text("qty", Decimal("0.50"))
    ('0.00001', '0.1', '0.50')
    >>> order_decimal("volume", 3)
    Decimal('3')
    >>> order_text("volume", "-1")
    Traceback (most recent call last):
    ...
    rxfeeds.errors.InvalidArgument: volume='-1': must be positive
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from ..errors import InvalidArgument

__all__ = ["MAX_DIGITS", "OrderNumber", "order_decimal", "order_text"]

#: what trading calls accept for sizes and prices
OrderNumber = Decimal | str | int | float

#: digits of the written-out value (before and after the point), far beyond any venue's precision
MAX_DIGITS: Final = 40

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,4})?")
_EXPECTED = "must be a decimal number: Decimal, int, or a string like '0.5'"


def order_decimal(name: str, value: Any, *, allow_zero: bool = False) -> Decimal:
    """``value`` as an exact positive ``Decimal`` (see the module docstring for the rule).

    Raises:
        InvalidArgument: a value the rule refuses, named ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str, float)):
        raise InvalidArgument(name, value, _EXPECTED)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the shortest text that reads back as this float
    elif isinstance(value, int):
        number = Decimal(value)
    else:
        text = value.strip()
        if len(text) > 2 * MAX_DIGITS or _NUMBER.fullmatch(text) is None:
            raise InvalidArgument(name, value, _EXPECTED)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise InvalidArgument(name, value, _EXPECTED) from None
    if not number.is_finite():
        raise InvalidArgument(name, value, "must be a finite number")
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    written = max(len(digits), -exponent, len(digits) + exponent)
    if written > MAX_DIGITS:
        raise InvalidArgument(name, value, f"has more than {MAX_DIGITS} digits written out")
    if number < 0 or (number == 0 and not allow_zero):
        raise InvalidArgument(name, value, "must be positive")
    return abs(number) if number == 0 else number  # no "-0"


def order_text(name: str, value: Any, *, allow_zero: bool = False) -> str:
    """``value`` checked by :func:`order_decimal`, as plain decimal text (never ``1e-05``)."""
    return format(order_decimal(name, value, allow_zero=allow_zero), "f")
