"""Argument checks and small value helpers shared by the notebook modules (private)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..errors import InvalidArgument

__all__ = ["check_count", "check_seconds", "utc"]


def utc(t: float) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(t, UTC)


def check_seconds(name: str, value: Any, *, allow_none: bool = True) -> float | None:
    """``value`` as seconds (> 0), or None when allowed; else InvalidArgument naming ``name``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidArgument(name, value, "must be a positive number of seconds")
    return float(value)


def check_count(name: str, value: Any, *, allow_none: bool = True) -> int | None:
    """``value`` as a positive int, or None when allowed; else InvalidArgument naming ``name``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(name, value, "must be a positive integer")
    return value
