"""Bus subjects: ``<prefix>.<venue>.<symbol>.<channel>`` with every token escaped.

NATS subject tokens are separated by dots and may not contain whitespace, ``*`` or ``>``;
symbols do (BitShares asset ids such as ``1.3.0``, Kraken pairs such as ``XBT/USD``).  Every
character outside ``[A-Za-z0-9_-]`` becomes ``~`` followed by two hex digits per UTF-8 byte,
and the empty string becomes ``~``; the escaping is reversible and keeps plain names readable.

Example:
    >>> escape_token("1.3.0"), escape_token("XBT/USD"), escape_token("")
    ('1~2E3~2E0', 'XBT~2FUSD', '~')
    >>> unescape_token("1~2E3~2E0")
    '1.3.0'
    >>> subject("rxfeeds", "bitshares", "1.3.0:1.3.121", "book")
    'rxfeeds.bitshares.1~2E3~2E0~3A1~2E3~2E121.book'
    >>> parse_subject("rxfeeds.bitshares.1~2E3~2E0~3A1~2E3~2E121.book")
    ('bitshares', '1.3.0:1.3.121', 'book')
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import InvalidArgument

__all__ = ["escape_token", "unescape_token", "subject", "parse_subject", "filter_subject"]

_SAFE = re.compile(r"[A-Za-z0-9_-]+")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_ESCAPED = re.compile(r"((?:~[0-9A-F]{2})+)")


def _escape_match(m: re.Match[str]) -> str:
    return "".join(f"~{b:02X}" for b in m.group().encode())


@lru_cache(maxsize=65536)
def escape_token(text: str) -> str:
    """``text`` as one subject token (see the module docstring)."""
    if not text:
        return "~"
    if _SAFE.fullmatch(text):
        return text
    return _UNSAFE.sub(_escape_match, text)


def unescape_token(token: str) -> str:
    """The text an :func:`escape_token` token stands for.

    Raises:
        InvalidArgument: not a token :func:`escape_token` makes.
    """
    if token == "~":
        return ""
    try:
        return _ESCAPED.sub(lambda m: bytes.fromhex(m.group().replace("~", "")).decode(), token)
    except UnicodeDecodeError:
        raise InvalidArgument("token", token, "is not an escaped subject token") from None


def subject(prefix: str, venue: str, symbol: str, channel: str) -> str:
    """The subject of ``(venue, symbol, channel)`` under ``prefix``."""
    return f"{prefix}.{escape_token(venue)}.{escape_token(symbol)}.{escape_token(channel)}"


def filter_subject(prefix: str, venue: str | None, symbol: str | None, channel: str | None) -> str:
    """A subject filter: ``None`` parts match any token (``*``)."""
    parts = [escape_token(p) if p is not None else "*" for p in (venue, symbol, channel)]
    return ".".join([prefix, *parts])


def parse_subject(name: str) -> tuple[str, str, str]:
    """``(venue, symbol, channel)`` of a subject made by :func:`subject`.

    Raises:
        InvalidArgument: the subject does not have four tokens.
    """
    parts = name.split(".")
    if len(parts) != 4:
        raise InvalidArgument("subject", name, "expected <prefix>.<venue>.<symbol>.<channel>")
    return unescape_token(parts[1]), unescape_token(parts[2]), unescape_token(parts[3])
