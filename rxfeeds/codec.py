"""The codec contract: the sans-I/O core every venue implements.

A codec turns a channel key into the frames that subscribe and unsubscribe it, and turns one
received frame into a list of :data:`Message` values.  It has no sockets, threads or
reactivex inside, so it is tested with plain strings and replayed from captures unchanged.

Routing keys
------------
A :data:`Key` is ``(channel, symbol)``: ``channel`` is the venue's own channel name including
its parameters where the venue has them (Kraken ``"book-10"``, ``"ohlc-5"``; HitBTC
``"candles-M1"``), ``symbol`` is the venue's spelling, or ``""`` for channels without one.
The socket subject routes :class:`Data` to the observers of ``key`` with one dict lookup.

Messages
--------
``decode`` returns zero or more of:

* :class:`Data` - events for one key (the hot path);
* :class:`Ack` / :class:`Rejected` - the venue confirmed / refused a subscription;
* :class:`Reply` - the answer to a request, correlated by ``request_id``;
* :class:`Heartbeat`, :class:`Pong` - liveness only;
* :class:`Notice` - connection-wide news (system status), published on the notices stream.

A frame that cannot be decoded raises :class:`~rxfeeds.errors.FrameError` (or a subclass)
carrying the raw frame; the socket subject publishes it on its errors stream and goes on.

Hostile input
-------------
``decode`` raises **only** ``FrameError`` (or a subclass), whatever the input: wrong types,
lone surrogates, overflowing times or amounts, divisions by zero and deep nesting included
(:data:`rxfeeds.numeric.DECODE_ERRORS` lists what codecs map).  The events it returns hold
sane numbers: a price is finite and positive, a size finite and not negative, a symbol a
``str`` (:mod:`rxfeeds.numeric` has the shared checks).  **Numbers beyond a sane digit count
are rejected by the codec before any expansion; one frame costs bounded time and memory**
(at most a small constant times its length: no 170-byte frame can cost gigabytes).

Example:
    >>> from rxfeeds.events import Trade
    >>> m = Data(("trade", "XBT/USD"), [Trade("kraken", "XBT/USD", 1.0, 1.0, price=1.0, size=1.0)])
    >>> m.key
    ('trade', 'XBT/USD')
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, TypeAlias, runtime_checkable

from .errors import RequestError, SubscriptionError
from .events import Event

__all__ = [
    "Key",
    "Data",
    "Ack",
    "Rejected",
    "Reply",
    "Heartbeat",
    "Pong",
    "Notice",
    "Message",
    "Codec",
    "HEARTBEAT",
    "BaseCodec",
]

Key: TypeAlias = tuple[str, str]


class Data(NamedTuple):
    """Events for the subscription ``key``, in the order they must be delivered."""

    key: Key
    events: Sequence[Event]


@dataclass(frozen=True, slots=True)
class Ack:
    """The venue confirmed the subscription ``key``."""

    key: Key


@dataclass(frozen=True, slots=True)
class Rejected:
    """The venue refused the subscription ``key``; its observers get ``error`` as on_error."""

    key: Key
    error: SubscriptionError


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to the request ``request_id``: ``result`` on success, else ``error``."""

    request_id: Hashable
    result: Any = None
    error: RequestError | None = None


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A venue heartbeat (liveness only)."""


@dataclass(frozen=True, slots=True)
class Pong:
    """Answer to an application-level ping."""

    request_id: Hashable | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """Connection-wide news (system status, maintenance notices) for the notices stream."""

    event: Any


#: Shared instance: codecs may return it instead of allocating.
HEARTBEAT = Heartbeat()

Message: TypeAlias = Data | Ack | Rejected | Reply | Heartbeat | Pong | Notice


@runtime_checkable
class Codec(Protocol):
    """What the socket subject needs from a venue protocol.

    Implementations keep whatever per-connection state the protocol needs (request ids,
    channel-id maps); :meth:`reset` clears it when a new connection opens.

    Example (a codec for an imaginary echo venue)::

        class EchoCodec:
            venue = "echo"
            def subscribe_frames(self, key): return [f"sub {key[0]} {key[1]}"]
            def unsubscribe_frames(self, key): return [f"unsub {key[0]} {key[1]}"]
            def decode(self, frame, recv_time): return []
            def reset(self): pass
            def on_open_frames(self): return []
            def ping_frame(self): return None
            accepts_binary = False
            def redact(self, frame): return frame
            def decode_http(self, url, body, recv_time): return []

    Inherit :class:`BaseCodec` to get the optional hooks (the last six members) with their
    defaults.  The transport and the replay call every member directly: nothing is looked up
    by name at run time.
    """

    venue: str

    #: Whether binary websocket frames go to :meth:`decode` (as ``bytes``).  False: a binary
    #: frame is reported as a :class:`~rxfeeds.errors.FrameError` on the errors stream and never
    #: reaches ``decode``.
    accepts_binary: bool

    def subscribe_frames(self, key: Key) -> Sequence[str]:
        """Frames that subscribe ``key`` (usually one)."""
        ...

    def unsubscribe_frames(self, key: Key) -> Sequence[str]:
        """Frames that unsubscribe ``key`` (may be empty when the venue has no unsubscribe)."""
        ...

    def decode(self, frame: str | bytes, recv_time: float) -> Sequence[Message]:
        """Decode one received text frame; raise FrameError for bad input."""
        ...

    def reset(self) -> None:
        """Forget per-connection state; called before each (re)connection opens."""
        ...

    def on_open_frames(self) -> Sequence[str]:
        """Frames to send first on every new connection (login, API selection...)."""
        ...

    def ping_frame(self) -> str | None:
        """An application-level ping frame, or None when the venue has none."""
        ...

    def redact(self, frame: str) -> str:
        """``frame`` (one this codec built to send) with its secrets masked.

        Called before an outgoing frame reaches a frame tap (recorders, logs); the generic
        field masking of :func:`rxfeeds.transport.redact.redact` runs after it.  Must not
        change frames without secrets.  If it raises, the frame is hidden as a whole.
        """
        ...

    def decode_http(self, url: str, body: str | bytes, recv_time: float) -> Sequence[Message]:
        """Decode a REST reply from ``url`` (a recorded snapshot fetch) like a received frame.

        Replays feed the REST replies of a capture through it, so a venue whose book starts
        from a REST snapshot replays the same events as live.  Codecs without REST return no
        messages; bad input raises :class:`~rxfeeds.errors.FrameError` as :meth:`decode` does.
        """
        ...


class BaseCodec:
    """Convenience base with the optional hooks of :class:`Codec` defaulted.

    Subclasses set ``venue`` and implement ``subscribe_frames``, ``unsubscribe_frames`` and
    ``decode``; they override ``reset``, ``on_open_frames``, ``ping_frame``,
    ``accepts_binary``, ``redact`` and ``decode_http`` where their venue needs them.

    Example:
        >>> codec = BaseCodec()
        >>> (codec.accepts_binary, codec.redact('{"op":"ping"}'), codec.decode_http("https://x", "{}", 1.0))
        (False, '{"op":"ping"}', ())
    """

    venue: str = ""

    def subscribe_frames(self, key: Key) -> Sequence[str]:
        raise NotImplementedError

    def unsubscribe_frames(self, key: Key) -> Sequence[str]:
        raise NotImplementedError

    def decode(self, frame: str | bytes, recv_time: float) -> Sequence[Message]:
        raise NotImplementedError

    def reset(self) -> None:
        """No per-connection state by default."""

    def on_open_frames(self) -> Sequence[str]:
        return ()

    def ping_frame(self) -> str | None:
        return None

    #: Text frames only by default.
    accepts_binary: bool = False

    def redact(self, frame: str) -> str:
        """Nothing to mask by default (no credentials in this codec's frames)."""
        return frame

    def decode_http(self, url: str, body: str | bytes, recv_time: float) -> Sequence[Message]:
        """No REST replies by default."""
        return ()
