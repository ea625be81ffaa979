"""The BitShares JSON-RPC error type and its decoding from an ``error`` member."""

from __future__ import annotations

from typing import Any

from ...errors import RequestError
from .constants import VENUE

__all__ = ["BitSharesRPCError", "rpc_error"]

_MESSAGE_SHOWN = 300


class BitSharesRPCError(RequestError):
    """A JSON-RPC error reply: ``code`` is the fc/JSON-RPC code, ``message`` the node's text.

    ``data`` keeps the node's structured exception (may be None).

    Example:
        >>> str(BitSharesRPCError("bitshares", "Method not found", -32601))
        'bitshares [-32601]: Method not found'
    """

    def __init__(self, venue: str, message: str, code: int | str | None = None, data: Any = None) -> None:
        super().__init__(venue, message, code)
        self.data = data


def rpc_error(error: Any) -> BitSharesRPCError:
    """The typed error of a JSON-RPC ``error`` member (message shortened to one screenful).

    Example:
        >>> rpc_error({"code": -32601, "message": "Method not found"}).code
        -32601
    """
    if not isinstance(error, dict):
        return BitSharesRPCError(VENUE, str(error)[:_MESSAGE_SHOWN])
    message = str(error.get("message", "error"))
    if len(message) > _MESSAGE_SHOWN:
        message = message[:_MESSAGE_SHOWN] + "..."
    code = error.get("code")
    return BitSharesRPCError(VENUE, message, code if isinstance(code, (int, str)) else None, error.get("data"))
