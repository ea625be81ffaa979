"""Exception types.

Everything the library raises or emits as an error derives from :class:`RxfeedsError`, so a
single ``except RxfeedsError`` catches it.  Wrong user arguments raise :class:`InvalidArgument`,
which is also a :class:`ValueError`.

Messages never contain secrets: credentials are not passed to these constructors.

Example:
    >>> try:
    ...     raise InvalidArgument("depth", -1, "must be one of 10, 25, 100, 500, 1000")
    ... except ValueError as e:
    ...     print(e)
    depth=-1: must be one of 10, 25, 100, 500, 1000
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

__all__ = [
    "RxfeedsError",
    "InvalidArgument",
    "FrameError",
    "UnknownMessage",
    "SubscriptionError",
    "RequestError",
    "RequestTimeout",
    "AuthError",
    "ConnectionFailed",
    "IntegrityError",
    "BufferOverflow",
]

_RAW_SHOWN = 200


def _shorten(raw: str | bytes | None) -> str:
    if raw is None:
        return ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else str(raw)
    return text if len(text) <= _RAW_SHOWN else text[:_RAW_SHOWN] + f"... ({len(text)} chars)"


class RxfeedsError(Exception):
    """Base class of every rxfeeds error."""


class InvalidArgument(RxfeedsError, ValueError):
    """A user argument is wrong; the message names the argument.

    Raised before anything is sent to a venue.
    """

    def __init__(self, name: str, value: Any, why: str, *, secret: bool = False) -> None:
        # secret=True: the value may hold a credential (an unknown keyword, a header): never shown
        self.name = name
        self.value = "***" if secret else value
        super().__init__(f"{name}=***: {why}" if secret else f"{name}={value!r}: {why}")


class FrameError(RxfeedsError, ValueError):
    """A received frame could not be decoded.

    ``raw`` is the frame as received (bytes or str); ``str(error)`` shows at most 200
    characters of it.
    """

    def __init__(self, reason: str, raw: str | bytes | None = None, venue: str = "") -> None:
        self.reason = reason
        self.raw = raw
        self.venue = venue
        where = f"{venue}: " if venue else ""
        super().__init__(f"{where}{reason}: {_shorten(raw)}" if raw is not None else f"{where}{reason}")


class UnknownMessage(FrameError):
    """Well-formed JSON, but not a message this codec knows."""


class SubscriptionError(RxfeedsError):
    """The venue refused a subscription (unknown pair, bad depth...).

    Delivered as ``on_error`` to that subscription's observers only.
    """

    def __init__(self, venue: str, key: Hashable, message: str) -> None:
        self.venue = venue
        self.key = key
        self.message = message
        super().__init__(f"{venue} refused subscription {key!r}: {message}")


class RequestError(RxfeedsError):
    """A request (order entry, RPC call) failed; ``code`` and ``message`` are the venue's."""

    def __init__(self, venue: str, message: str, code: int | str | None = None) -> None:
        self.venue = venue
        self.code = code
        self.message = message
        tag = f" [{code}]" if code is not None else ""
        super().__init__(f"{venue}{tag}: {message}")


class RequestTimeout(RequestError, TimeoutError):
    """No reply to a request within its timeout."""


class AuthError(RequestError):
    """Authentication failed or credentials are missing."""


class ConnectionFailed(RxfeedsError, ConnectionError):
    """The socket could not (re)connect within the configured number of attempts."""


class IntegrityError(RxfeedsError):
    """A book could not be brought back in sync after repeated resync attempts."""


class BufferOverflow(RxfeedsError, BufferError):
    """A bounded buffer (``ops.buffer_bounded``, ``aio``, bus publishing) with ``overflow="error"`` was full.

    ``capacity`` is the number of values that were already queued.

    Example:
        >>> BufferOverflow(10).capacity
        10
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        super().__init__(f"subscriber too slow: {capacity} values already queued")
