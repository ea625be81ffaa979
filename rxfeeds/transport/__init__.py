"""Transport layer: the shared socket subject and what it is built from.

Example::

    from rxfeeds.transport import SocketSubject, Backoff
    sock = SocketSubject("wss://ws.kraken.com", codec, backoff=Backoff(initial=1, max_delay=30))
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Protocol

from reactivex import Observable
from reactivex.disposable import Disposable

from ..codec import Codec, Key
from ..events import ConnectionStatus, Event
from ..timing import Backoff
from .multiplexer import FrameSpec, FrameTap, Multiplexer
from .socket_subject import SocketSubject
from .stats import StatsSnapshot

__all__ = [
    "Backoff",
    "FrameSpec",
    "FrameTap",
    "Multiplexer",
    "SocketSubject",
    "StatsSnapshot",
    "Transport",
    "TransportFactory",
]


class Transport(Protocol):
    """What venue clients need from a transport (live socket or replay)."""

    venue: str
    url: str
    codec: Codec

    def multiplex(self, key: Key, subscribe: FrameSpec = None, unsubscribe: FrameSpec = None) -> Observable[Event]: ...
    def request(self, frame: Any, request_id: Hashable, timeout: float = 10.0) -> Observable[Any]: ...
    def send(self, frame: str) -> None: ...
    def resubscribe(self, key: Key, reason: str = "resync") -> bool: ...
    def inject(self, key: Key, event: Event) -> bool: ...
    def hold(self) -> Disposable: ...
    def stats(self) -> StatsSnapshot: ...
    def add_tap(self, tap: FrameTap) -> Any: ...
    def remove_tap(self, tap: FrameTap) -> None: ...
    def all_events(self) -> Observable[Event]: ...
    def close(self) -> None: ...

    @property
    def state(self) -> Observable[ConnectionStatus]: ...
    @property
    def errors(self) -> Observable[Exception]: ...
    @property
    def notices(self) -> Observable[Any]: ...


class TransportFactory(Protocol):
    """Builds a transport for ``url`` and ``codec`` (``SocketSubject`` by default)."""

    def __call__(self, url: str | Sequence[str], codec: Codec, **options: Any) -> Transport: ...
