"""One symbol notation on every venue: ``BASE/QUOTE`` (``BTC/USD``), mapped to the venue's spelling.

Each venue spec declares its :class:`SymbolNotation` (how a pair is written there, and which
asset codes differ, such as Kraken v1's ``XBT``).  Channel methods decorated with
:func:`common_symbols` accept both notations: a symbol with a ``/`` is read as ``BASE/QUOTE`` and
rewritten for the venue, any other symbol is the venue's own spelling and passes unchanged.

:func:`one_or_many` gives a channel whose venue subscribes one symbol per call the same
one-or-many signature as the others: a list is one subscription per symbol, merged (a book
feed stays a :class:`~rxfeeds.feed.Feed` whose ``resync(symbol)`` reaches that symbol's feed).

Example:
    >>> kraken = SymbolNotation("{base}/{quote}", {"BTC": "XBT"})
    >>> kraken.to_venue("BTC/USD"), kraken.to_venue("XBT/USD"), kraken.to_venue("eth/usd")
    ('XBT/USD', 'XBT/USD', 'ETH/USD')
    >>> SymbolNotation("{base}{quote}").to_venue("ETH/BTC"), SymbolNotation("{base}{quote}").to_venue("ETHBTC")
    ('ETHBTC', 'ETHBTC')
    >>> SymbolNotation("{base}_{quote}").to_venue("BNB/BTCB-1DE")
    'BNB_BTCB-1DE'
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar, cast

from ..errors import InvalidArgument

__all__ = ["QUOTE_ASSETS", "SymbolNotation", "check_symbol", "check_symbols", "common_symbols", "one_or_many"]

_ASSET: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_F = TypeVar("_F", bound=Callable[..., Any])

#: quote assets recognised at the end of a separator-less symbol (``BTCUSDT`` -> ``BTC/USDT``)
QUOTE_ASSETS: Final = (
    *("USDT", "USDC", "BUSD", "TUSD", "FDUSD", "DAI", "USD", "EUR", "GBP", "JPY", "AUD", "CAD", "CHF"),
    *("TRY", "BRL", "RUB", "KRW", "BTC", "ETH", "BNB", "XRP", "TRX", "EOS", "DOGE", "XBT"),
)


@functools.lru_cache(maxsize=64)
def _own_pattern(pattern: str, template: str) -> re.Pattern[str]:
    if pattern:
        return re.compile(pattern)
    return _template_pattern(template)


@functools.lru_cache(maxsize=64)
def _template_pattern(template: str) -> re.Pattern[str]:
    # "{base}_{quote}" -> base and quote around the literal separator; "{base}{quote}" puts the whole
    # symbol in "quote" with an empty "base" (split later at a known quote asset)
    head, _, rest = template.partition("{base}")
    sep, _, tail = rest.partition("{quote}")
    asset = r"[A-Z0-9][A-Z0-9.\-]*" if sep != "-" else r"[A-Z0-9][A-Z0-9.]*"
    if not sep:
        return re.compile(f"{re.escape(head)}(?P<base>)(?P<quote>[A-Z0-9]{{2,40}}){re.escape(tail)}")
    return re.compile(f"{re.escape(head)}(?P<base>{asset}){re.escape(sep)}(?P<quote>{asset}){re.escape(tail)}")


@dataclass(frozen=True)
class SymbolNotation:
    """How a venue writes the pair ``BASE/QUOTE``.

    Attributes:
        template: the venue spelling, with ``{base}`` and ``{quote}`` (``"{base}{quote}"``).
        assets: common asset code -> the venue's code where they differ (``{"BTC": "XBT"}``).
    """

    template: str = "{base}/{quote}"
    assets: Mapping[str, str] = field(default_factory=dict)
    quotes: tuple[str, ...] = QUOTE_ASSETS
    pattern: str = ""
    upper: bool = True

    def matches(self, symbol: str) -> bool:
        """Whether ``symbol`` is well formed in the venue's own spelling.

        :attr:`pattern` (a regular expression matched in full, upper-cased first when
        :attr:`upper`) defaults to the :attr:`template` with letter/digit asset codes.

        Example:
            >>> SymbolNotation("{base}{quote}", pattern="[A-Z0-9]{2,20}").matches("btcusdt")
            True
            >>> SymbolNotation("{base}/{quote}").matches("XBT/USD\\n")
            False
        """
        return _own_pattern(self.pattern, self.template).fullmatch(symbol.upper() if self.upper else symbol) is not None

    def from_venue(self, symbol: str) -> str | None:
        """The venue spelling ``symbol`` as ``BASE/QUOTE``, or None when it cannot be read.

        A template without a separator (``"{base}{quote}"``) is split at the longest known quote
        asset that ends the symbol (:attr:`quotes`).

        Example:
            >>> SymbolNotation("{base}/{quote}", {"BTC": "XBT"}).from_venue("XBT/USD")
            'BTC/USD'
            >>> plain = SymbolNotation("{base}{quote}")
            >>> plain.from_venue("ethbtc"), plain.from_venue("ABCXYZ")
            ('ETH/BTC', None)
        """
        match = _template_pattern(self.template).fullmatch(symbol.upper())
        if match is None:
            return None
        base, quote = match["base"], match["quote"]
        if not base:  # no separator: the quote asset is a known suffix
            quote = next((q for q in sorted(self.quotes, key=len, reverse=True) if quote.endswith(q)), "")
            base = match["quote"][: -len(quote)] if quote else ""
            if not base:
                return None
        common = {v: k for k, v in self.assets.items()}
        return f"{common.get(base, base)}/{common.get(quote, quote)}"

    def to_venue(self, symbol: Any, name: str = "symbol") -> Any:
        """``symbol`` in the venue's spelling (non-strings pass unchanged, for the client to refuse).

        Raises:
            InvalidArgument: a ``/`` symbol that is not ``BASE/QUOTE``.
        """
        if not isinstance(symbol, str) or "/" not in symbol:
            return symbol
        parts = symbol.split("/")
        if len(parts) != 2 or not all(_ASSET.fullmatch(p) for p in parts):
            raise InvalidArgument(
                name, symbol, "expected BASE/QUOTE such as 'BTC/USD', or the venue's own spelling of the pair"
            )
        base, quote = (self.assets.get(p.upper(), p.upper()) for p in parts)
        return self.template.format(base=base, quote=quote)

    def to_venue_many(self, symbols: Any, name: str = "symbols") -> Any:
        """:meth:`to_venue` on a symbol or on each symbol of a list or tuple."""
        if isinstance(symbols, (list, tuple)):
            return [self.to_venue(s, name) for s in symbols]
        return self.to_venue(symbols, name)


def _spec(venue: Any) -> Any:
    if isinstance(venue, str):
        from .registry import spec

        return spec(venue)
    return venue


def check_symbols(venue: Any, symbols: Any, name: str = "symbols") -> list[str]:
    """One symbol or a non-empty list of them, checked against the venue's declared spelling.

    The one symbol validator of every client: ``venue`` is a command-line venue name or a
    :class:`~rxfeeds.venues.spec.VenueSpec`.  Symbols are upper-cased when the venue's
    notation says so; repeats collapse (``["ETHBTC", "ethbtc"]`` is one subscription).

    Raises:
        InvalidArgument: not a string or list, an empty list, or a symbol the venue cannot spell
            (the message names the venue's spelling and the ``BASE/QUOTE`` notation).

    Example:
        >>> check_symbols("binance-spot", ["btcusdt", "ETHBTC", "BTCUSDT"])
        ['BTCUSDT', 'ETHBTC']
        >>> try:
        ...     check_symbols("kraken", "XBT-USD")
        ... except ValueError as e:
        ...     print(e.name, "|", str(e)[19:])
        symbols | not a Kraken (v1) symbol: expected 'XBT/USD' (the venue's spelling) or 'BTC/USD' (BASE/QUOTE)
    """
    spec = _spec(venue)
    notation: SymbolNotation = spec.symbol_notation
    if isinstance(symbols, str):
        items: list[Any] = [symbols]
    elif isinstance(symbols, (list, tuple, set, frozenset)):
        items = list(symbols)
    else:
        raise InvalidArgument(name, symbols, f"give one symbol such as {spec.symbol_example!r} or a list of them")
    if not items:
        raise InvalidArgument(name, symbols, "give at least one symbol")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not notation.matches(item):
            expected = f"expected {spec.symbol_example!r} (the venue's spelling)"
            if spec.pair_example:
                expected += f" or {spec.pair_example!r} (BASE/QUOTE)"
            raise InvalidArgument(name, item, f"not a {spec.title or spec.name} symbol: {expected}")
        symbol = item.upper() if notation.upper else item
        if symbol not in out:
            out.append(symbol)
    return out


def check_symbol(venue: Any, symbol: Any, name: str = "symbol") -> str:
    """:func:`check_symbols` for an argument that takes exactly one symbol (requests, orders).

    Example:
        >>> check_symbol("hitbtc", "ETHBTC")
        'ETHBTC'
    """
    if not isinstance(symbol, str):
        raise InvalidArgument(name, symbol, f"give one symbol such as {_spec(venue).symbol_example!r}")
    return check_symbols(venue, symbol, name)[0]


def common_symbols(method: _F) -> _F:
    """Let a channel method take ``BASE/QUOTE`` symbols too (its first argument after ``self``).

    The notation is the one declared in the venue's spec (looked up by the client's ``venue``).
    """
    first = list(inspect.signature(method).parameters)[1]

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        from .registry import specs

        venue = specs().get(getattr(self, "venue", ""))
        if venue is not None:
            if args:
                args = (venue.symbol_notation.to_venue_many(args[0], first), *args[1:])
            elif first in kwargs:
                kwargs[first] = venue.symbol_notation.to_venue_many(kwargs[first], first)
        return method(self, *args, **kwargs)

    return cast(_F, wrapper)


def one_or_many(method: _F) -> _F:
    """Let a one-symbol channel method take a list of symbols too (see the module docstring).

    Raises:
        InvalidArgument: an empty list.
    """
    first = list(inspect.signature(method).parameters)[1]

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not args or not isinstance(args[0], (list, tuple)):
            return method(self, *args, **kwargs)
        symbols = list(args[0])
        if not symbols:
            raise InvalidArgument(first, args[0], "needs at least one symbol")
        if len(symbols) == 1:
            return method(self, symbols[0], *args[1:], **kwargs)
        parts = [method(self, symbol, *args[1:], **kwargs) for symbol in symbols]
        return _merged(symbols, parts)

    return cast(_F, wrapper)


def _merged(symbols: list[Any], parts: list[Any]) -> Any:
    import reactivex

    from ..feed import Feed
    from .base import feed

    merged = reactivex.merge(*parts)
    if not all(isinstance(p, Feed) for p in parts):
        return merged
    feeds = {str(s).upper(): p for s, p in zip(symbols, parts, strict=True)}

    def resync(symbol: str) -> None:
        feed = feeds.get(symbol.upper())
        if feed is not None:
            feed.resync(symbol)

    return feed(merged, resync)
