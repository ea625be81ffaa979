"""The reconnect policy, re-exported from :mod:`rxfeeds.timing`.

``from rxfeeds.transport.backoff import Backoff`` and ``from rxfeeds.transport import Backoff``
keep working; new code imports :mod:`rxfeeds.timing`, which the transport and the operators
share.

Example:
    >>> from rxfeeds.timing import Backoff as Shared
    >>> Backoff is Shared
    True
"""

from __future__ import annotations

from ..timing import Backoff, Jitter, check_backoff

__all__ = ["Backoff", "Jitter", "check_backoff"]
