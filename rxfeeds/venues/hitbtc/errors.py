"""HitBTC error codes as typed exceptions (API v2 and v3 share the table).

Every error the venue returns becomes an instance of the class registered for its ``code``
(:func:`error_from`); the message carries the venue's own ``message`` and ``description``.
Authentication codes (1001-1004) derive from :class:`~rxfeeds.errors.AuthError`, the rest from
:class:`HitBTCError` (a :class:`~rxfeeds.errors.RequestError`).  A refused subscription is a
:class:`HitBTCSubscriptionError` (a :class:`~rxfeeds.errors.SubscriptionError`) whose ``error``
is the typed error and whose ``code`` is the venue's code.

Example:
    >>> e = error_from({"code": 2001, "message": "Symbol not found",
    ...                 "description": "Try get /api/2/public/symbol"})
    >>> isinstance(e, SymbolNotFound), e.code
    (True, 2001)
    >>> str(e)
    'hitbtc [2001]: Symbol not found (Try get /api/2/public/symbol)'
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

from ...errors import AuthError, RequestError, SubscriptionError

__all__ = [
    "HitBTCError",
    "HitBTCAuthError",
    "HitBTCSubscriptionError",
    "ActionForbidden",
    "TooManyRequests",
    "InternalServerError",
    "ServiceUnavailable",
    "GatewayTimeout",
    "ActionNotAllowed",
    "AuthorizationRequired",
    "AuthorizationFailed",
    "ForbiddenForApiKey",
    "UnsupportedAuthMethod",
    "SymbolNotFound",
    "CurrencyNotFound",
    "ValidationError",
    "UserDisabled",
    "InsufficientFunds",
    "OrderNotFound",
    "LimitExceeded",
    "TransactionNotFound",
    "PayoutNotFound",
    "PayoutAlreadyCommitted",
    "PayoutAlreadyRolledBack",
    "DuplicateClientOrderId",
    "ERRORS",
    "error_from",
]

VENUE = "hitbtc"


def _text(message: str, description: str) -> str:
    return f"{message} ({description})" if description else message


class HitBTCError(RequestError):
    """A HitBTC error reply: ``code``, ``message`` and ``description`` are the venue's."""

    code_number: ClassVar[int] = 0

    def __init__(self, message: str, code: int | None = None, description: str = "", venue: str = VENUE) -> None:
        self.description = description
        number = code if code is not None else (self.code_number or None)
        super().__init__(venue, _text(message, description), number)
        self.message = message


class HitBTCAuthError(AuthError):
    """A HitBTC authentication error (codes 1001-1004)."""

    code_number: ClassVar[int] = 0

    def __init__(self, message: str, code: int | None = None, description: str = "", venue: str = VENUE) -> None:
        self.description = description
        number = code if code is not None else (self.code_number or None)
        super().__init__(venue, _text(message, description), number)
        self.message = message


class HitBTCSubscriptionError(SubscriptionError):
    """The venue refused the subscription ``key``; ``error`` is the typed venue error.

    Example:
        >>> e = HitBTCSubscriptionError(("orderbook", "NOPE"), SymbolNotFound("Symbol not found"))
        >>> e.code, isinstance(e.error, SymbolNotFound)
        (2001, True)
    """

    def __init__(self, key: Hashable, error: RequestError) -> None:
        super().__init__(error.venue, key, f"[{error.code}] {error.message}" if error.code else error.message)
        self.error = error
        self.code = error.code
        self.__cause__ = error


# The documented table (protocols.md 3.8).


class ActionForbidden(HitBTCError):
    """403: Action is forbidden for the account."""

    code_number = 403


class TooManyRequests(HitBTCError):
    """429: Too many requests."""

    code_number = 429


class InternalServerError(HitBTCError):
    """500: Internal server error."""

    code_number = 500


class ServiceUnavailable(HitBTCError):
    """503: Service unavailable."""

    code_number = 503


class GatewayTimeout(HitBTCError):
    """504: Gateway timeout."""

    code_number = 504


class ActionNotAllowed(HitBTCError):
    """600: Action not allowed."""

    code_number = 600


class AuthorizationRequired(HitBTCAuthError):
    """1001: Authorisation required."""

    code_number = 1001


class AuthorizationFailed(HitBTCAuthError):
    """1002: Authorisation failed."""

    code_number = 1002


class ForbiddenForApiKey(HitBTCAuthError):
    """1003: Action forbidden for this API key."""

    code_number = 1003


class UnsupportedAuthMethod(HitBTCAuthError):
    """1004: Unsupported authorisation method."""

    code_number = 1004


class SymbolNotFound(HitBTCError):
    """2001: Symbol not found."""

    code_number = 2001


class CurrencyNotFound(HitBTCError):
    """2002: Currency not found."""

    code_number = 2002


class ValidationError(HitBTCError):
    """10001: Validation error."""

    code_number = 10001


class UserDisabled(HitBTCError):
    """10021: User disabled."""

    code_number = 10021


class InsufficientFunds(HitBTCError):
    """20001: Insufficient funds."""

    code_number = 20001


class OrderNotFound(HitBTCError):
    """20002: Order not found."""

    code_number = 20002


class LimitExceeded(HitBTCError):
    """20003: Limit exceeded."""

    code_number = 20003


class TransactionNotFound(HitBTCError):
    """20004: Transaction not found."""

    code_number = 20004


class PayoutNotFound(HitBTCError):
    """20005: Payout not found."""

    code_number = 20005


class PayoutAlreadyCommitted(HitBTCError):
    """20006: Payout already committed."""

    code_number = 20006


class PayoutAlreadyRolledBack(HitBTCError):
    """20007: Payout already rolled back."""

    code_number = 20007


class DuplicateClientOrderId(HitBTCError):
    """20008: Duplicate clientOrderId."""

    code_number = 20008


#: venue error code -> exception class
ERRORS: dict[int, type[HitBTCError] | type[HitBTCAuthError]] = {
    cls.code_number: cls
    for cls in (
        ActionForbidden,
        TooManyRequests,
        InternalServerError,
        ServiceUnavailable,
        GatewayTimeout,
        ActionNotAllowed,
        AuthorizationRequired,
        AuthorizationFailed,
        ForbiddenForApiKey,
        UnsupportedAuthMethod,
        SymbolNotFound,
        CurrencyNotFound,
        ValidationError,
        UserDisabled,
        InsufficientFunds,
        OrderNotFound,
        LimitExceeded,
        TransactionNotFound,
        PayoutNotFound,
        PayoutAlreadyCommitted,
        PayoutAlreadyRolledBack,
        DuplicateClientOrderId,
    )
}


def error_from(error: Any, venue: str = VENUE) -> HitBTCError | HitBTCAuthError:
    """The typed exception for a JSON-RPC ``error`` object (unknown codes -> :class:`HitBTCError`)."""
    if not isinstance(error, dict):
        return HitBTCError(str(error), venue=venue)
    raw_code = error.get("code")
    code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
    message = str(error.get("message") or "error")
    description = str(error.get("description") or "")
    cls = ERRORS.get(code, HitBTCError) if code is not None else HitBTCError
    return cls(message, code, description, venue)
