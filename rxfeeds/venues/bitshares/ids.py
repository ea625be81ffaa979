"""Object ids, key symbols and market symbols of BitShares subscriptions."""

from __future__ import annotations

from ...errors import InvalidArgument

__all__ = ["check_object_ids", "is_object_id", "market_symbol", "parse_ids"]


def parse_ids(text: str) -> list[str]:
    """Split a comma-joined key symbol back into its parts (order kept, blanks dropped).

    Example:
        >>> parse_ids("1.2.0, 1.3.x")
        ['1.2.0', '1.3.x']
    """
    return [part.strip() for part in text.split(",") if part.strip()]


def is_object_id(text: str, wildcard: bool) -> bool:
    """Whether ``text`` is an object id ``a.b.c`` (or, with ``wildcard``, an ``a.b.x`` wildcard).

    Example:
        >>> is_object_id("1.7.x", wildcard=True), is_object_id("1.7.x", wildcard=False)
        (True, False)
    """
    parts = text.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return False
    return parts[2].isdigit() or (wildcard and parts[2] == "x")


def check_object_ids(ids: list[str], name: str = "ids") -> None:
    """Raise :class:`InvalidArgument` unless every id is ``a.b.c`` or an ``a.b.x`` wildcard."""
    if not ids:
        raise InvalidArgument(name, ids, "give at least one object id")
    for oid in ids:
        if not isinstance(oid, str) or not is_object_id(oid, wildcard=True):
            raise InvalidArgument(name, oid, "object ids look like '1.2.0', wildcards like '1.7.x'")


def market_symbol(base: str, quote: str) -> str:
    """The key symbol of a market: ``"BASE:QUOTE"`` (prices are in base per quote).

    Example:
        >>> market_symbol("BTS", "USD")
        'BTS:USD'
    """
    return f"{base}:{quote}"
