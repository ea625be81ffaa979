"""``rxfeeds replay --bus URL``: summarise the history a message bus holds for a venue.

Reads every event the broker still holds for VENUE (``bus.source(venue, start="first",
follow=False)``) and, with ``--book``, rebuilds and re-verifies the books.  The summary has the
keys of a capture replay where they apply (``frames`` counts bus messages).  The stream and
subject prefix can be given in the URL's query: ``nats://host:4222?stream=RXFEEDS&prefix=rxfeeds``.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from ..events import BookDelta, BookSnapshot, IntegrityEvent

__all__ = ["bus_replay_summary"]


def bus_replay_summary(bus_url: str, venue: str, *, book: bool = False, depth: int | None = None) -> dict[str, Any]:
    """Replay the bus history of ``venue`` and return the summary dictionary."""
    import threading

    from reactivex import operators as rx_ops

    from ..bus import connect
    from ..ops import order_book

    parts = urlsplit(bus_url)
    options = dict(parse_qsl(parts.query))
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    started = time.perf_counter()
    bus = connect(url, **{k: v for k, v in options.items() if k in ("stream", "prefix")})
    counts: Counter[str] = Counter()
    stats: Counter[str] = Counter()
    failures: list[str] = []
    checksummed = {"pending": False}

    def count(e: Any) -> None:
        counts[type(e).__name__] += 1
        checksummed["pending"] = isinstance(e, BookDelta | BookSnapshot) and e.checksum is not None
        if checksummed["pending"]:
            stats["checksummed_updates"] += 1

    def count_book(v: Any) -> None:
        if isinstance(v, IntegrityEvent):
            stats[f"integrity_{v.kind}"] += 1
            return
        stats["book_updates"] += 1
        if getattr(v, "synced", False) and checksummed["pending"]:
            checksummed["pending"] = False
            stats["checksum_ok"] += 1

    done = threading.Event()

    def on_error(exc: Exception) -> None:
        failures.append(f"{type(exc).__name__}: {exc}")
        done.set()

    source = bus.source(venue, start="first", follow=False)
    try:
        # one subscription: each event is counted, then (with --book) goes into the book
        pipeline = source.pipe(rx_ops.do_action(count))
        if book:
            pipeline = pipeline.pipe(order_book(depth=depth))
        subscription = pipeline.subscribe(count_book if book else None, on_error, done.set)
        done.wait()
        subscription.dispose()
    finally:
        bus.close()
    bus_stats: Any = getattr(source, "stats", None)
    return {
        "venue": venue,
        "bus": url,
        "frames": getattr(bus_stats, "messages", 0),
        "events": dict(sorted(counts.items())),
        "book_updates": stats["book_updates"],
        "checksummed_updates": stats["checksummed_updates"],
        "checksum_ok": stats["checksum_ok"],
        "checksum_failed": stats["integrity_checksum"],
        "gaps": stats["integrity_gap"],
        "resets": stats["integrity_reset"],
        "resyncs": stats["integrity_resync"],
        "klines": 0,
        "duplicates": getattr(bus_stats, "duplicates", 0),
        "errors": getattr(bus_stats, "errors", 0) + len(failures),
        "problems": failures,
        "elapsed_s": round(time.perf_counter() - started, 3),
    }
