"""The errors of the asyncio door besides the source's own: nothing in time, nothing at all.

Example:
    >>> str(AwaitTimeout("no value", 5.0))
    'no value within 5.0 s'
"""

from __future__ import annotations

from ..errors import RxfeedsError

__all__ = ["AwaitTimeout", "EmptyStream"]


class AwaitTimeout(RxfeedsError, TimeoutError):
    """No value (or no completion) within the ``timeout`` given to :func:`first` / :func:`last`."""

    def __init__(self, what: str, timeout: float) -> None:
        self.timeout = timeout
        super().__init__(f"{what} within {timeout} s")


class EmptyStream(RxfeedsError, LookupError):
    """The Observable completed without any value where one was awaited."""
