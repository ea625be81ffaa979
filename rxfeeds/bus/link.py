"""The adapter contract: what a broker adapter provides to the broker-neutral bus.

An adapter (:class:`~rxfeeds.bus.jetstream.NatsBus`) supplies a small :class:`Link`: store a
list of messages and report each one's position, open a :class:`Cursor` over a subject
filter, and tell where the newest snapshot of each subject is.  Everything else (publishing,
batching, de-duplication, sources) is broker-neutral, so a second broker (Redis Streams, say)
only has to implement those few calls.

Example:
    >>> BusMessage("rxfeeds.binance.BTCUSDT.trades", b"...", position=7, pending=0).position
    7
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = ["BusMessage", "Cursor", "Link", "Start"]

Start = Literal["new", "last", "first"] | int | datetime


@dataclass(slots=True)
class BusMessage:
    """One message fetched from the broker."""

    subject: str
    data: bytes
    position: int  # the broker's sequence of the message in its stream
    pending: int  # messages after this one the consumer has not fetched yet
    handle: Any = None  # the adapter's own message object (for acknowledgements)


class Cursor(ABC):
    """A consumer position in the broker: fetch messages in order, acknowledge them."""

    #: messages waiting for this cursor when it was made (None: the broker does not say)
    backlog: int | None = None

    @abstractmethod
    def fetch(self, max_messages: int, timeout: float) -> list[BusMessage]:
        """Up to ``max_messages``; ``[]`` after ``timeout`` seconds without any.  Survives broker restarts."""

    @abstractmethod
    def ack(self, messages: Sequence[BusMessage]) -> None:
        """Processed: a consumer group must not deliver them again."""

    @abstractmethod
    def release(self, messages: Sequence[BusMessage]) -> None:
        """Fetched but not delivered (the subscriber left): a group gives them to another member now."""

    @abstractmethod
    def close(self) -> None:
        """Release the consumer (a group's durable consumer stays in the broker)."""


class Link(ABC):
    """What a broker adapter provides (see the module docstring)."""

    prefix: str

    @abstractmethod
    def send(self, messages: Sequence[tuple[str, bytes, str]], timeout: float) -> list[int | Exception]:
        """Store ``(subject, data, message_id)`` messages; each one's stream position or the error.

        Messages whose id the broker has seen recently are not stored again (their position is
        the first copy's).
        """

    @abstractmethod
    def mark_snapshot(self, subject: str, position: int) -> None:
        """Remember that ``subject``'s newest snapshot starts at ``position``."""

    @abstractmethod
    def start_positions(self, filter_subject: str) -> dict[str, int]:
        """Per stored subject matching the filter: its newest snapshot's position, else its last message's."""

    @abstractmethod
    def open_cursor(self, filter_subject: str, start: Start, group: str | None, window: int = 256) -> Cursor:
        """A cursor over the filter from ``start`` (``int``: a stream position).

        ``window``: messages the broker may push ahead of the subscriber (the rest stays there).
        """
