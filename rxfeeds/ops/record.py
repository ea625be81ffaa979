"""``record``: write the events passing through to a JSON-lines event log, unchanged.

Marble sketch::

    source:  --a--b--c--|
             record("events.jsonl")
    output:  --a--b--c--|        (events.jsonl: one line per event, written as they pass)

Each line is ``{"type": "<EventClass>", ...fields}``; book levels become lists.  This records
*events* (what a pipeline saw, for debugging and sharing results); to record the raw *frames*
of a connection, for replay through the codecs, attach a :class:`rxfeeds.capture.Recorder` to
the client (``Recorder(path).attach(client)``).  The file is flushed at least once a second and
closed when the stream completes, errors or is disposed.

Example:
    >>> import reactivex as rx, tempfile, os
    >>> from rxfeeds.events import Trade
    >>> path = os.path.join(tempfile.mkdtemp(), "log.jsonl")
    >>> out = []
    >>> _ = rx.of(Trade("k", "X", 1.0, 2.0, price=3.0, size=4.0)).pipe(record(path)).subscribe(out.append)
    >>> len(out), open(path).read().count('"type":"Trade"')
    (1, 1)
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable

from ..errors import InvalidArgument

__all__ = ["record"]

_T = TypeVar("_T")


def _line(value: Any) -> bytes:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        obj = {"type": type(value).__name__}
        for f in dataclasses.fields(value):
            obj[f.name] = getattr(value, f.name)
    else:
        obj = {"type": type(value).__name__, "value": repr(value)}
    return orjson.dumps(obj, default=repr) + b"\n"


def record(path: str | Path, *, flush_interval: float = 1.0) -> Callable[[Observable[_T]], Observable[_T]]:
    """Pass events through unchanged while appending each one to the event log ``path``.

    Raises:
        InvalidArgument: ``flush_interval`` not positive.
    """
    if not flush_interval > 0:
        raise InvalidArgument("flush_interval", flush_interval, "must be a positive number of seconds")
    target = Path(path)

    def operator(source: Observable[_T]) -> Observable[_T]:
        def subscribe(observer: abc.ObserverBase[_T], scheduler: abc.SchedulerBase | None = None) -> abc.DisposableBase:
            f = open(target, "ab")  # noqa: SIM115 - closed when the subscription ends
            lock = threading.Lock()
            last_flush = [time.monotonic()]
            closed = [False]

            def close() -> None:
                with lock:
                    if not closed[0]:
                        closed[0] = True
                        f.close()

            def on_next(value: _T) -> None:
                with lock:
                    if not closed[0]:
                        f.write(_line(value))
                        now = time.monotonic()
                        if now - last_flush[0] >= flush_interval:
                            f.flush()
                            last_flush[0] = now
                observer.on_next(value)

            def on_error(exc: Exception) -> None:
                close()
                observer.on_error(exc)

            def on_completed() -> None:
                close()
                observer.on_completed()

            sub = source.subscribe(on_next, on_error, on_completed, scheduler=scheduler)
            return CompositeDisposable(sub, Disposable(close))

        return Observable(subscribe)

    return operator
