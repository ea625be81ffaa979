"""Raw frames on the bus: keep the venue's wire traffic so history can be re-decoded later.

:class:`RawFrames` is a frame tap (like the capture :class:`~rxfeeds.capture.Recorder`) that
publishes every frame in and out, connection opening and REST reply of a venue client to a bus
of its own (a separate stream, so event consumers never see frames).  After a codec fix,
:func:`raw_capture` writes that history as a capture file and :func:`rxfeeds.replay` decodes
it again with the current codec, books and all.  Frames sent are redacted by the transport
before any tap sees them (no secrets on the bus).

Subjects are ``<prefix>.<venue>.~.frames`` (symbol ``""``); each frame travels as a
:class:`RawFrame` event, so batching, acknowledgements and de-duplication are the bus's own.

Example::

    raw_bus = NatsBus(url, stream="RXFEEDS_RAW", prefix="rxfeeds-raw")
    tap = RawFrames(raw_bus, "kraken").attach(kraken)
    ...
    raw_capture(raw_bus, "kraken", "kraken-history.jsonl")
    session = rxfeeds.replay("kraken-history.jsonl", venue="kraken")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..events import Event, fast_init
from ..transport.multiplexer import FrameTap
from .base import Bus, Start

__all__ = ["RawFrame", "RawFrames", "raw_capture"]


@fast_init
@dataclass(frozen=True, slots=True)
class RawFrame(Event):
    """One piece of wire traffic: ``kind`` is ``open``, ``in``, ``out`` or ``http`` (capture kinds).

    Example:
        >>> RawFrame("kraken", "", 1.0, 1.0, kind="in", url="wss://ws.kraken.com", data="{}").kind
        'in'
    """

    kind: str
    url: str
    data: str


class RawFrames(FrameTap):
    """Publishes a client's raw traffic to ``bus`` (see the module docstring).

    Args:
        bus: the bus for raw frames (give it a stream and prefix of its own).
        venue: the venue name the frames are published under.
        capacity, overflow: the publisher's buffer and overflow policy (``ops.publish``'s).
    """

    def __init__(self, bus: Bus, venue: str, *, capacity: int = 100_000, overflow: Any = "drop_oldest") -> None:
        self.bus = bus
        self.venue = venue
        self.publisher = bus.publisher(channel="frames", capacity=capacity, overflow=overflow)
        self._detachers: list[Callable[[], None]] = []

    def _put(self, kind: str, url: str, t: float, data: bytes | str) -> None:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes | bytearray) else data
        self.publisher.put(RawFrame(self.venue, "", t, time.time(), kind=kind, url=url, data=text))

    def connected(self, url: str, t: float) -> None:
        self._put("open", url, t, "")

    def frame_in(self, url: str, data: bytes | str, t: float) -> None:
        self._put("in", url, t, data)

    def frame_out(self, url: str, data: str, t: float) -> None:
        self._put("out", url, t, data)

    def http(self, url: str, body: bytes | str, t: float) -> None:
        self._put("http", url, t, body)

    def attach(self, target: Any) -> RawFrames:
        """Tap a venue client or a transport (anything with ``add_tap``)."""
        self._detachers.append(target.add_tap(self))
        return self

    def close(self, timeout: float = 10.0) -> None:
        """Detach, then wait until the frames are acknowledged (up to ``timeout`` seconds)."""
        for detach in self._detachers:
            if callable(detach):
                detach()
        self._detachers.clear()
        self.publisher.close(timeout)
        forget = getattr(self.bus, "forget", None)
        if forget is not None:
            forget(self.publisher)


def raw_capture(bus: Bus, venue: str, path: str | Path, *, start: Start = "first", timeout: float = 300.0) -> int:
    """Write the raw history of ``venue`` on ``bus`` as a capture file; returns the records written.

    The file is rxfeeds capture JSON lines, replayable with :func:`rxfeeds.replay` and
    ``rxfeeds replay``.
    """
    done = threading.Event()
    failures: list[BaseException] = []
    count = 0
    with open(path, "wb") as out:

        def on_next(frame: Any) -> None:
            nonlocal count
            if isinstance(frame, RawFrame):
                out.write(orjson.dumps({"t": frame.time, "dir": frame.kind, "url": frame.url, "data": frame.data}))
                out.write(b"\n")
                count += 1

        def on_error(exc: Exception) -> None:
            failures.append(exc)
            done.set()

        subscription = bus.source(venue, "", "frames", start=start, follow=False).subscribe(on_next, on_error, done.set)
        finished = done.wait(timeout)
        subscription.dispose()
    if failures:
        raise failures[0]
    if not finished:
        raise TimeoutError(f"raw history of {venue} not read within {timeout:g} s")
    return count
