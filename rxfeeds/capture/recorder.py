"""``Recorder``: write every frame in and out (and REST replies) to a capture file.

The file is JSON lines (gzip when the name ends in ``.gz``), readable by
:func:`~rxfeeds.capture.records.read_capture` and replayable with :func:`rxfeeds.replay`.
Records are written in time order: one stamped before the record written last (threads stamp
before they write, or the clock stepped back) is written at that later time.  Writes are
buffered and flushed at least once a second (by a small daemon thread while the
recorder is open), so a crash loses at most the last second.  Safe to use from several socket
threads at once.

Credentials never reach the file (:mod:`rxfeeds.transport.redact`): frames sent are redacted by
the transport (with the codec's own ``redact`` for positional secrets) and again here; frames
received and REST bodies have tokens, secrets and passwords masked; URLs lose credential query
parameters and ``user:password@``.  A frame that cannot be parsed but looks like it might hold
one is replaced by a marker.

Example::

    kraken = rxfeeds.Kraken()
    with Recorder("kraken.jsonl.gz").attach(kraken):
        kraken.trades("XBT/USD").pipe(ops.take(100)).run()
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from ..transport.multiplexer import FrameTap
from ..transport.redact import redact, redact_received, redact_url

__all__ = ["Recorder"]


class Recorder(FrameTap):
    """Records traffic to ``path`` (see the module docstring).

    Args:
        path: file to write (``.gz`` suffix: gzip-compressed).
        venue: written to the header line, for tools that read the file.
        flush_interval: maximum seconds between flushes.
    """

    def __init__(self, path: str | Path, *, venue: str = "", flush_interval: float = 1.0) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._file: Any = (
            gzip.open(self.path, "wb", compresslevel=5)  # noqa: SIM115 - lives as long as the recorder
            if self.path.suffix == ".gz"
            else open(self.path, "wb")  # noqa: SIM115
        )
        self._dirty = False
        self._closed = False
        self.records = 0
        self._flush_interval = flush_interval
        self._detachers: list[Callable[[], Any]] = []
        self._urls: dict[str, str] = {}
        self._last_t = 0.0  # the latest time written (REST replies are kept in order after it)
        self._write({"rxfeeds_capture": 1, "venue": venue, "created": time.time()})
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="rxfeeds-recorder", daemon=True)
        self._flusher.start()

    # ------------------------------------------------------------------ FrameTap

    def connected(self, url: str, t: float) -> None:
        self._record("open", url, t, "")

    def frame_in(self, url: str, data: bytes | str, t: float) -> None:
        text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data
        self._record("in", url, t, redact_received(text))

    def frame_out(self, url: str, data: str, t: float) -> None:
        # the transport has redacted it already; again here for taps fed by other code
        self._record("out", url, t, redact(data))

    def http(self, url: str, body: bytes | str, t: float) -> None:
        """An HTTP response the client fetched (REST snapshot), requested at ``t``.

        The record keeps the request time as ``requested``; its ``t`` is never before the
        record written last, so the reply sits in time order after the frames received while
        it was in flight (a replay then delivers it where the live client got it).
        """
        text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
        self._record("http", url, t, redact_received(text), in_order=True)

    # ------------------------------------------------------------------ plumbing

    def _record(self, kind: str, url: str, t: float, data: str, *, in_order: bool = False) -> None:
        clean = self._urls.get(url)
        if clean is None:
            clean = redact_url(url)
            if len(self._urls) < 1024:  # a handful of URLs per client; bounded anyway
                self._urls[url] = clean
        obj = {"t": t, "dir": kind, "url": clean, "data": data}
        with self._lock:  # stamp and write together: nothing lands in between
            # Threads stamp before they take the lock (socket thread, sender, REST worker), so a
            # record can reach the file after a later one: written at the latest time instead,
            # the file stays in time order and replays without clock repairs.
            stamp = max(t, self._last_t)
            if in_order:
                obj["requested"] = t
            obj["t"] = stamp
            self._emit(orjson.dumps(obj) + b"\n", stamp)

    def _write(self, obj: dict[str, Any], t: float = 0.0) -> None:
        line = orjson.dumps(obj) + b"\n"
        with self._lock:
            self._emit(line, t)

    def _emit(self, line: bytes, t: float) -> None:
        """With ``_lock`` held."""
        if self._closed:
            return
        self._file.write(line)
        self._dirty = True
        self.records += 1
        if t > self._last_t:
            self._last_t = t

    def flush(self) -> None:
        """Write buffered records to disk now."""
        with self._lock:
            if self._dirty and not self._closed:
                self._file.flush()
                self._dirty = False

    def _flush_loop(self) -> None:
        while not self._stop.wait(self._flush_interval):
            self.flush()

    def attach(self, target: Any) -> Recorder:
        """Record the traffic of a venue client or a transport (anything with ``add_tap``)."""
        self._detachers.append(target.add_tap(self))
        return self

    def close(self) -> None:
        """Detach from everything, stop the flusher thread (joined), flush and close the file."""
        for detach in self._detachers:
            if callable(detach):
                detach()
        self._detachers.clear()
        self._stop.set()
        if threading.current_thread() is not self._flusher:
            self._flusher.join()  # returns at once: the loop ends when _stop is set
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._file.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Recorder({str(self.path)!r}, records={self.records})"
