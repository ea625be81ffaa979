"""Wire time formats, written from the venues' documentation (the simulators' own, not the codecs').

Example:
    >>> epoch_ms(1626318403.0955)
    1626318403096
    >>> iso_ms(1626318403.095)
    '2021-07-15T03:06:43.095Z'
    >>> parse_iso("2021-07-15T03:06:43.095Z"), parse_iso("2021-07-15T03:06:43")
    (1626318403.095, 1626318403.0)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["epoch_ms", "iso_ms", "parse_iso"]


def epoch_ms(t: float) -> int:
    """Epoch milliseconds (rounded) of epoch seconds ``t``."""
    return round(t * 1000)


def iso_ms(t: float) -> str:
    """ISO 8601 UTC with milliseconds and a ``Z`` (``2021-07-15T03:06:43.095Z``)."""
    seconds, ms = divmod(epoch_ms(t), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"


def parse_iso(text: str) -> float:
    """Epoch seconds of an ISO 8601 time as a client sends it (``Z``, an offset, or none = UTC).

    Raises ``ValueError`` for anything else.
    """
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
